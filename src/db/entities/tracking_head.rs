//! The `tracking_heads` table: the last accepted location point of each tracked booking.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tracking_heads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub booking_id: Uuid,
    pub technician_id: Uuid,
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub heading_deg: Option<f64>,
    pub speed_kmh: Option<f64>,
    /// Unix milliseconds: when the point was recorded on the device.
    pub recorded_ms: i64,
    /// Unix milliseconds: when the server accepted it.
    pub accepted_ms: i64,
    /// Unix milliseconds: the recorded time of the last point kept in the trail.
    pub trail_ms: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
