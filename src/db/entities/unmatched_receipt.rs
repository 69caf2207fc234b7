//! The `unmatched_receipts` table: money a provider reported that matched no payment, until staff
//! attach it to a booking or refund it.

use crate::domain::money::Currency;
use crate::domain::unmatched::{Provider, ReceiptStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "unmatched_receipts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub provider: Provider,
    pub provider_reference: String,
    pub phone: Option<String>,
    pub amount_minor: i64,
    pub currency: Currency,
    pub near_payment_id: Option<Uuid>,
    pub detail: Option<String>,
    pub received_at: DateTimeUtc,
    pub status: ReceiptStatus,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTimeUtc>,
    pub attached_booking_id: Option<Uuid>,
    pub attached_payment_id: Option<Uuid>,
    pub next_action: Option<String>,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
