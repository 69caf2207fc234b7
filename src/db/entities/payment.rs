//! The `payments` table: money a customer pays into a booking's escrow or as a tip.

use crate::domain::money::Currency;
use crate::domain::payments::{Method, PaymentKind, PaymentStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub booking_id: Uuid,
    pub customer_id: Uuid,
    pub kind: PaymentKind,
    pub method: Method,
    pub status: PaymentStatus,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub currency: Currency,
    pub gateway_reference: Option<String>,
    pub next_action: Option<String>,
    pub failure_reason: Option<String>,
    /// What the customer's app confirms a card payment with (Stripe); shown only to that customer.
    pub client_secret: Option<String>,
    pub phone: Option<String>,
    pub idempotency_key: String,
    /// What was asked for, so a reused key with different input is told apart from a retry.
    pub fingerprint: String,
    pub succeeded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
