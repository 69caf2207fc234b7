//! The `mpesa_refunds` table: a refund of an M-Pesa payment on its way back to the payer by B2C.

use crate::domain::money::Currency;
use crate::domain::payments::RefundTransferStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "mpesa_refunds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub payment_id: Uuid,
    pub amount_minor: i64,
    pub currency: Currency,
    pub phone: String,
    pub status: RefundTransferStatus,
    pub reference: String,
    pub gateway_reference: Option<String>,
    pub failure_reason: Option<String>,
    pub processed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
