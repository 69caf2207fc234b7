//! The `invoices` table: invoices of paid jobs and credit notes of refunds, with their lines as JSON.

use crate::domain::invoices::InvoiceKind;
use crate::domain::money::Currency;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub kind: InvoiceKind,
    pub source_key: String,
    pub booking_id: Uuid,
    pub payment_id: Option<Uuid>,
    pub seller_id: Option<Uuid>,
    pub buyer_id: Uuid,
    pub currency: Currency,
    pub lines: String,
    pub subtotal_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub tax_bp: i32,
    pub issued_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
