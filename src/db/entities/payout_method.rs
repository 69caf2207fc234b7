//! The `payout_methods` table: how each technician is paid, sealed, with its masked form and change hold.

use crate::domain::payouts::PayoutKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "payout_methods")]
pub struct Model {
    /// The technician's user id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: PayoutKind,
    pub details_sealed: String,
    pub masked: String,
    pub hold_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
