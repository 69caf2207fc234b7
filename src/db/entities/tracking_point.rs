//! The `tracking_points` table: a booking's stored (thinned) location trail.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tracking_points")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub booking_id: Uuid,
    pub technician_id: Uuid,
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub heading_deg: Option<f64>,
    pub speed_kmh: Option<f64>,
    pub recorded_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
