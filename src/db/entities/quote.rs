//! The `quotes` table.

use crate::domain::money::Currency;
use crate::domain::quotes::QuoteStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "quotes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub booking_id: Uuid,
    pub technician_id: Uuid,
    pub status: QuoteStatus,
    pub line_items: String,
    pub subtotal_minor: i64,
    pub currency: Currency,
    pub valid_until: DateTimeUtc,
    pub note: Option<String>,
    pub responded_at: Option<DateTimeUtc>,
    pub response_note: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
