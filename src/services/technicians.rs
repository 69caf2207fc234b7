//! Technician profiles: creation at sign-up, validated updates, availability, working hours and live position.

use crate::db::entities::technician_profile;
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use uuid::Uuid;

pub const DEFAULT_SERVICE_RADIUS_KM: f64 = 10.0;
pub const DEFAULT_TIME_ZONE: &str = "Africa/Nairobi";
pub const DEFAULT_CURRENCY: &str = "KES";

/// KYC review states of a technician.
pub mod kyc_status {
    pub const NOT_SUBMITTED: &str = "NOT_SUBMITTED";
    pub const UNDER_REVIEW: &str = "UNDER_REVIEW";
    pub const APPROVED: &str = "APPROVED";
    pub const REJECTED: &str = "REJECTED";
}

/// Whether a technician takes work now. BUSY is set by the system while a job is active.
pub mod availability {
    pub const AVAILABLE: &str = "AVAILABLE";
    pub const OFFLINE: &str = "OFFLINE";
    pub const BUSY: &str = "BUSY";
}

/// Every technician account gets an empty profile at sign-up, offline and not yet reviewed.
pub async fn create_profile(txn: &impl ConnectionTrait, user_id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    technician_profile::Entity::insert(technician_profile::ActiveModel {
        id: Set(user_id),
        bio: Set(String::new()),
        years_of_experience: Set(0),
        hourly_rate_minor: Set(0),
        currency: Set(DEFAULT_CURRENCY.into()),
        service_radius_km: Set(DEFAULT_SERVICE_RADIUS_KM),
        base_lat: Set(None),
        base_lng: Set(None),
        time_zone: Set(DEFAULT_TIME_ZONE.into()),
        kyc_status: Set(kyc_status::NOT_SUBMITTED.into()),
        availability: Set(availability::OFFLINE.into()),
        live_lat: Set(None),
        live_lng: Set(None),
        live_accuracy_m: Set(None),
        live_heading_deg: Set(None),
        live_speed_kmh: Set(None),
        live_at: Set(None),
        rating_average: Set(0.0),
        rating_count: Set(0),
        jobs_completed: Set(0),
        jobs_withdrawn: Set(0),
        jobs_cancelled: Set(0),
        median_response_secs: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(txn)
    .await?;
    Ok(())
}
