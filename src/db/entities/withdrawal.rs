//! The `withdrawals` table: a technician's request to be paid out, and where it is in its life.

use crate::domain::money::Currency;
use crate::domain::payouts::{Gateway, PayoutKind, WithdrawalStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "withdrawals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub technician_id: Uuid,
    pub amount_minor: i64,
    pub currency: Currency,
    pub status: WithdrawalStatus,
    pub method_kind: PayoutKind,
    pub method_masked: String,
    pub destination_sealed: String,
    pub gateway: Gateway,
    pub reference: String,
    pub gateway_reference: Option<String>,
    pub bank_reference: Option<String>,
    pub idempotency_key: String,
    pub request_fingerprint: String,
    pub failure_reason: Option<String>,
    pub processing_at: Option<DateTimeUtc>,
    pub processed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
