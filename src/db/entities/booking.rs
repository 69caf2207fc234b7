//! The `bookings` table.

use crate::domain::booking_state::Status;
use crate::domain::dispatch::DispatchMode;
use crate::domain::money::Currency;
use crate::domain::pricing::Priority;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "bookings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub technician_id: Option<Uuid>,
    pub category_id: Uuid,
    pub title: String,
    pub description: String,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    #[serde(with = "crate::db::stored::by_name")]
    pub priority: Priority,
    pub budget_min_minor: i64,
    pub budget_max_minor: i64,
    #[serde(with = "crate::db::stored::by_name")]
    pub currency: Currency,
    pub scheduled_start: Option<DateTimeUtc>,
    pub estimated_duration_minutes: i32,
    #[serde(with = "crate::db::stored::by_name")]
    pub status: Status,
    pub version: i32,
    pub start_code: String,
    #[serde(with = "crate::db::stored::by_name")]
    pub dispatch_mode: DispatchMode,
    pub price_base: i64,
    pub price_surge: i64,
    pub price_platform_fee: i64,
    pub price_tax: i64,
    pub price_total: i64,
    pub price_deposit: i64,
    pub cancellation_fee_minor: Option<i64>,
    pub cancellation_reason: Option<String>,
    pub idempotency_key: String,
    pub status_changed_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    pub paid_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
