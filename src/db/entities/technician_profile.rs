//! The `technician_profiles` table.

use crate::domain::money::Currency;
use crate::domain::technician::{Availability, KycStatus};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "technician_profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub bio: String,
    pub years_of_experience: i32,
    pub hourly_rate_minor: i64,
    pub currency: Currency,
    pub service_radius_km: f64,
    pub base_lat: Option<f64>,
    pub base_lng: Option<f64>,
    pub time_zone: String,
    pub kyc_status: KycStatus,
    pub availability: Availability,
    pub live_lat: Option<f64>,
    pub live_lng: Option<f64>,
    pub live_accuracy_m: Option<f64>,
    pub live_heading_deg: Option<f64>,
    pub live_speed_kmh: Option<f64>,
    pub live_at: Option<DateTimeUtc>,
    pub rating_average: f64,
    pub rating_count: i32,
    pub jobs_completed: i32,
    pub jobs_withdrawn: i32,
    pub jobs_cancelled: i32,
    pub median_response_secs: Option<i32>,
    /// Stars over every counted review: `rating_average` is this over `rating_count`.
    pub rating_sum: i64,
    pub quality_sum: i64,
    pub punctuality_sum: i64,
    pub communication_sum: i64,
    pub value_sum: i64,
    pub professionalism_sum: i64,
    /// How many counted reviews gave 1 to 5 stars.
    pub stars_1: i64,
    pub stars_2: i64,
    pub stars_3: i64,
    pub stars_4: i64,
    pub stars_5: i64,
    /// The Bayesian average ranking uses; 0 while `rating_count` is 0.
    pub rating_bayesian: f64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
