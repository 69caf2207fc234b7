//! Technician profiles' own rows: the profile, availability, working hours, availability exceptions,
//! live position and customers' blocks.

use crate::db::entities::{
    availability_exception, technician_block, technician_profile, working_hours,
};
use crate::domain::technician::Availability;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

/// Stores a new profile.
pub async fn insert_profile(
    db: &impl ConnectionTrait,
    row: technician_profile::Model,
) -> Result<(), DbErr> {
    technician_profile::Entity::insert(technician_profile::ActiveModel::from(row))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn profile_by_id(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
) -> Result<Option<technician_profile::Model>, DbErr> {
    technician_profile::Entity::find_by_id(technician_id)
        .one(db)
        .await
}

/// Sets availability to `to`, only while it still is `from`; returns rows affected (0 or 1).
pub async fn set_availability_if(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
    from: Availability,
    to: Availability,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let changed = technician_profile::Entity::update_many()
        .col_expr(technician_profile::Column::Availability, Expr::value(to))
        .col_expr(technician_profile::Column::UpdatedAt, Expr::value(now))
        .filter(technician_profile::Column::Id.eq(technician_id))
        .filter(technician_profile::Column::Availability.eq(from))
        .exec(db)
        .await?;
    Ok(changed.rows_affected)
}

/// Deletes a technician's whole weekly timetable.
pub async fn delete_hours_of(db: &impl ConnectionTrait, technician_id: Uuid) -> Result<(), DbErr> {
    working_hours::Entity::delete_many()
        .filter(working_hours::Column::TechnicianId.eq(technician_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Stores timetable rows; nothing when there are none.
pub async fn insert_hours(
    db: &impl ConnectionTrait,
    rows: Vec<working_hours::Model>,
) -> Result<(), DbErr> {
    if !rows.is_empty() {
        working_hours::Entity::insert_many(rows.into_iter().map(working_hours::ActiveModel::from))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The weekly hours of many technicians by weekday and start, in one statement.
pub async fn hours_of(
    db: &impl ConnectionTrait,
    technician_ids: &[Uuid],
) -> Result<Vec<working_hours::Model>, DbErr> {
    working_hours::Entity::find()
        .filter(working_hours::Column::TechnicianId.is_in(technician_ids.iter().copied()))
        .order_by_asc(working_hours::Column::Weekday)
        .order_by_asc(working_hours::Column::StartMinute)
        .all(db)
        .await
}

/// The availability exceptions of many technicians by date, in one statement.
pub async fn exceptions_of(
    db: &impl ConnectionTrait,
    technician_ids: &[Uuid],
) -> Result<Vec<availability_exception::Model>, DbErr> {
    availability_exception::Entity::find()
        .filter(availability_exception::Column::TechnicianId.is_in(technician_ids.iter().copied()))
        .order_by_asc(availability_exception::Column::Date)
        .all(db)
        .await
}

pub async fn exception_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<availability_exception::Model>, DbErr> {
    availability_exception::Entity::find_by_id(id).one(db).await
}

/// Stores an availability exception and returns it as stored.
pub async fn insert_exception(
    db: &impl ConnectionTrait,
    row: availability_exception::Model,
) -> Result<availability_exception::Model, DbErr> {
    availability_exception::ActiveModel::from(row)
        .insert(db)
        .await
}

/// Deletes one of a technician's exceptions; returns rows affected (0 when not theirs or missing).
pub async fn delete_exception(
    db: &impl ConnectionTrait,
    id: Uuid,
    technician_id: Uuid,
) -> Result<u64, DbErr> {
    let removed = availability_exception::Entity::delete_many()
        .filter(availability_exception::Column::Id.eq(id))
        .filter(availability_exception::Column::TechnicianId.eq(technician_id))
        .exec(db)
        .await?;
    Ok(removed.rows_affected)
}

/// A live position as written to the profile.
#[derive(Debug, Clone, Copy)]
pub struct LivePosition {
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub heading_deg: Option<f64>,
    pub speed_kmh: Option<f64>,
}

/// Writes the live position (one UPDATE, no read); returns rows affected.
pub async fn set_live_position(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
    position: LivePosition,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    use technician_profile::Column;
    let updated = technician_profile::Entity::update_many()
        .col_expr(Column::LiveLat, Expr::value(position.lat))
        .col_expr(Column::LiveLng, Expr::value(position.lng))
        .col_expr(Column::LiveAccuracyM, Expr::value(position.accuracy_m))
        .col_expr(Column::LiveHeadingDeg, Expr::value(position.heading_deg))
        .col_expr(Column::LiveSpeedKmh, Expr::value(position.speed_kmh))
        .col_expr(Column::LiveAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(technician_id))
        .exec(db)
        .await?;
    Ok(updated.rows_affected)
}

/// Stores a block; a block already there fails with the unique violation.
pub async fn insert_block(
    db: &impl ConnectionTrait,
    row: technician_block::Model,
) -> Result<(), DbErr> {
    technician_block::Entity::insert(technician_block::ActiveModel::from(row))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete_block(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    technician_id: Uuid,
) -> Result<(), DbErr> {
    technician_block::Entity::delete_many()
        .filter(technician_block::Column::CustomerId.eq(customer_id))
        .filter(technician_block::Column::TechnicianId.eq(technician_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The blocks a customer made.
pub async fn blocks_by(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
) -> Result<Vec<technician_block::Model>, DbErr> {
    technician_block::Entity::find()
        .filter(technician_block::Column::CustomerId.eq(customer_id))
        .all(db)
        .await
}
