//! Positions' queries: a booking's head row with its compare-and-set, trail points stored and read
//! (the most recent per booking and technician), and the purge of finished bookings' trails.

use crate::db::entities::{booking, tracking_head, tracking_point};
use crate::db::sql::stmt;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter};
use uuid::Uuid;

/// A booking's head row.
pub async fn head(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
) -> Result<Option<tracking_head::Model>, DbErr> {
    tracking_head::Entity::find_by_id(booking_id).one(db).await
}

/// Stores a booking's first head; a unique violation means another replica stored one first.
pub async fn insert_head(
    db: &impl ConnectionTrait,
    head: tracking_head::Model,
) -> Result<(), DbErr> {
    tracking_head::Entity::insert(head.into_active_model())
        .exec(db)
        .await?;
    Ok(())
}

/// What a moved head records.
#[derive(Debug, Clone, Copy)]
pub struct HeadMove {
    pub technician_id: Option<Uuid>,
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub heading_deg: Option<f64>,
    pub speed_kmh: Option<f64>,
    pub recorded_ms: i64,
    pub accepted_ms: i64,
    pub trail_ms: i64,
    pub at: DateTime<Utc>,
}

/// Moves booking `booking_id`'s head to `next`, only if it still has the given recorded and
/// accepted times. Rows affected: 0 when another replica moved it first.
pub async fn swap_head(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    prev_recorded_ms: i64,
    prev_accepted_ms: i64,
    next: HeadMove,
) -> Result<u64, DbErr> {
    use tracking_head::Column;
    let swapped = tracking_head::Entity::update_many()
        .col_expr(Column::TechnicianId, Expr::value(next.technician_id))
        .col_expr(Column::Lat, Expr::value(next.lat))
        .col_expr(Column::Lng, Expr::value(next.lng))
        .col_expr(Column::AccuracyM, Expr::value(next.accuracy_m))
        .col_expr(Column::HeadingDeg, Expr::value(next.heading_deg))
        .col_expr(Column::SpeedKmh, Expr::value(next.speed_kmh))
        .col_expr(Column::RecordedMs, Expr::value(next.recorded_ms))
        .col_expr(Column::AcceptedMs, Expr::value(next.accepted_ms))
        .col_expr(Column::TrailMs, Expr::value(next.trail_ms))
        .col_expr(Column::UpdatedAt, Expr::value(next.at))
        .filter(Column::BookingId.eq(booking_id))
        .filter(Column::RecordedMs.eq(prev_recorded_ms))
        .filter(Column::AcceptedMs.eq(prev_accepted_ms))
        .exec(db)
        .await?;
    Ok(swapped.rows_affected)
}

/// Stores a trail point.
pub async fn insert_point(
    db: &impl ConnectionTrait,
    point: tracking_point::Model,
) -> Result<(), DbErr> {
    tracking_point::Entity::insert(point.into_active_model())
        .exec(db)
        .await?;
    Ok(())
}

/// The trail points of the given bookings, the most recent `limit` of each (booking, technician)
/// pair, oldest first.
pub async fn recent_points(
    db: &impl ConnectionTrait,
    bookings: &[Uuid],
    limit: u64,
) -> Result<Vec<tracking_point::Model>, DbErr> {
    let mut values: Vec<sea_orm::Value> =
        bookings.iter().map(|booking| (*booking).into()).collect();
    let placeholders: Vec<String> = (1..=values.len()).map(|i| format!("${i}")).collect();
    values.push((limit as i64).into());
    let sql = format!(
        "SELECT id, booking_id, technician_id, lat, lng, accuracy_m, heading_deg, speed_kmh, \
                recorded_at, created_at, updated_at \
         FROM (SELECT p.*, ROW_NUMBER() OVER \
                 (PARTITION BY booking_id, technician_id ORDER BY recorded_at DESC) AS newest \
               FROM tracking_points p WHERE booking_id IN ({})) ranked \
         WHERE newest <= ${} ORDER BY recorded_at",
        placeholders.join(", "),
        values.len()
    );
    tracking_point::Entity::find()
        .from_raw_sql(stmt(db.get_database_backend(), &sql, values))
        .all(db)
        .await
}

/// Deletes the trail points and heads of bookings in one of `statuses` since before `cutoff`;
/// returns how many trail points went.
pub async fn purge_for_statuses_before(
    db: &impl ConnectionTrait,
    statuses: Vec<&str>,
    cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let expired = Query::select()
        .column(booking::Column::Id)
        .from(booking::Entity)
        .and_where(booking::Column::Status.is_in(statuses))
        .and_where(booking::Column::StatusChangedAt.lt(cutoff))
        .to_owned();
    let points = tracking_point::Entity::delete_many()
        .filter(tracking_point::Column::BookingId.in_subquery(expired.clone()))
        .exec(db)
        .await?;
    tracking_head::Entity::delete_many()
        .filter(tracking_head::Column::BookingId.in_subquery(expired))
        .exec(db)
        .await?;
    Ok(points.rows_affected)
}
