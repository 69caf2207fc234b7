//! The `earnings_holds` table: a technician's pending earnings from one booking and when they become
//! available (HELD, FROZEN by a dispute, AVAILABLE, or REVERSED).

use crate::domain::holds::HoldStatus;
use crate::domain::money::Currency;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "earnings_holds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub technician_id: Uuid,
    pub booking_id: Uuid,
    pub amount_minor: i64,
    pub currency: Currency,
    pub status: HoldStatus,
    pub available_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
