//! A technician's profile fields, skills and certifications, and technicians loaded with their accounts.

use crate::db::entities::{certification, technician_profile, technician_skill, user};
use crate::domain::geo::LatLng;
use crate::domain::money::Money;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// One technician's skills in the order they were added.
pub async fn skills_for(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
) -> Result<Vec<technician_skill::Model>, DbErr> {
    technician_skill::Entity::find()
        .filter(technician_skill::Column::TechnicianId.eq(technician_id))
        .order_by_asc(technician_skill::Column::CreatedAt)
        .all(db)
        .await
}

/// One technician's certifications in their order.
pub async fn certifications_for(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
) -> Result<Vec<certification::Model>, DbErr> {
    certification::Entity::find()
        .filter(certification::Column::TechnicianId.eq(technician_id))
        .order_by_asc(certification::Column::Position)
        .all(db)
        .await
}

/// The profile fields a technician's change writes; `None` leaves a column as it is.
#[derive(Debug, Default)]
pub struct Changes {
    pub bio: Option<String>,
    pub years_of_experience: Option<i32>,
    /// Amount in minor units and its currency, written together.
    pub hourly_rate: Option<Money>,
    pub service_radius_km: Option<f64>,
    pub base_location: Option<LatLng>,
    pub time_zone: Option<String>,
}

/// Writes the given changes and `updated_at` to `existing`'s row; returns the row as stored.
pub async fn update_profile(
    db: &impl ConnectionTrait,
    existing: technician_profile::Model,
    changes: Changes,
    now: DateTime<Utc>,
) -> Result<technician_profile::Model, DbErr> {
    let mut active: technician_profile::ActiveModel = existing.into();
    if let Some(bio) = changes.bio {
        active.bio = Set(bio);
    }
    if let Some(years) = changes.years_of_experience {
        active.years_of_experience = Set(years);
    }
    if let Some(rate) = changes.hourly_rate {
        active.hourly_rate_minor = Set(rate.amount_minor);
        active.currency = Set(rate.currency);
    }
    if let Some(radius) = changes.service_radius_km {
        active.service_radius_km = Set(radius);
    }
    if let Some(point) = changes.base_location {
        active.base_lat = Set(Some(point.lat()));
        active.base_lng = Set(Some(point.lng()));
    }
    if let Some(tz) = changes.time_zone {
        active.time_zone = Set(tz);
    }
    active.updated_at = Set(now);
    active.update(db).await
}

pub async fn delete_skills_of(db: &impl ConnectionTrait, technician_id: Uuid) -> Result<(), DbErr> {
    technician_skill::Entity::delete_many()
        .filter(technician_skill::Column::TechnicianId.eq(technician_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn insert_skills(
    db: &impl ConnectionTrait,
    rows: Vec<technician_skill::Model>,
) -> Result<(), DbErr> {
    technician_skill::Entity::insert_many(
        rows.into_iter().map(technician_skill::ActiveModel::from),
    )
    .exec(db)
    .await?;
    Ok(())
}

pub async fn delete_certifications_of(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
) -> Result<(), DbErr> {
    certification::Entity::delete_many()
        .filter(certification::Column::TechnicianId.eq(technician_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Stores certifications; nothing when there are none.
pub async fn insert_certifications(
    db: &impl ConnectionTrait,
    rows: Vec<certification::Model>,
) -> Result<(), DbErr> {
    if !rows.is_empty() {
        certification::Entity::insert_many(rows.into_iter().map(certification::ActiveModel::from))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Profiles with their accounts, many in one statement (an inner join, so a profile's user is
/// always there when the row is).
pub async fn with_users(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<(technician_profile::Model, Option<user::Model>)>, DbErr> {
    let account = technician_profile::Entity::belongs_to(user::Entity)
        .from(technician_profile::Column::Id)
        .to(user::Column::Id)
        .into();
    technician_profile::Entity::find()
        .join(JoinType::InnerJoin, account)
        .select_also(user::Entity)
        .filter(technician_profile::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

/// The skills of many technicians in the order they were added, in one statement.
pub async fn skills_of(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<technician_skill::Model>, DbErr> {
    technician_skill::Entity::find()
        .filter(technician_skill::Column::TechnicianId.is_in(ids.iter().copied()))
        .order_by_asc(technician_skill::Column::CreatedAt)
        .all(db)
        .await
}

/// The certifications of many technicians in their order, in one statement.
pub async fn certifications_of(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<certification::Model>, DbErr> {
    certification::Entity::find()
        .filter(certification::Column::TechnicianId.is_in(ids.iter().copied()))
        .order_by_asc(certification::Column::Position)
        .all(db)
        .await
}
