//! Positions' queries: a booking's head row (stored with each trail point), trail points stored and read
//! (the most recent per booking and technician), and the purge of finished bookings' trails.

use crate::db::entities::{booking, tracking_head, tracking_point};
use crate::db::sql::stmt;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter};
use uuid::Uuid;

/// A booking's head row.
pub async fn head(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
) -> Result<Option<tracking_head::Model>, DbErr> {
    tracking_head::Entity::find_by_id(booking_id).one(db).await
}

/// Stores a booking's head, or moves the stored one forward to it: a head already further along
/// (written by a replica whose transaction committed first) stays, unless it is another
/// technician's. Rows affected: 0 when the stored head was kept.
pub async fn upsert_head(
    db: &impl ConnectionTrait,
    head: tracking_head::Model,
) -> Result<u64, DbErr> {
    use tracking_head::Column;
    let excluded = |column: Column| Expr::col((Alias::new("excluded"), column));
    let stored = |column: Column| Expr::col((tracking_head::Entity, column));
    let mut on_conflict = OnConflict::column(Column::BookingId);
    on_conflict
        .update_columns([
            Column::TechnicianId,
            Column::Lat,
            Column::Lng,
            Column::AccuracyM,
            Column::HeadingDeg,
            Column::SpeedKmh,
            Column::RecordedMs,
            Column::AcceptedMs,
            Column::TrailMs,
            Column::UpdatedAt,
        ])
        .action_and_where(
            stored(Column::RecordedMs)
                .lt(excluded(Column::RecordedMs))
                .or(stored(Column::TechnicianId).ne(excluded(Column::TechnicianId))),
        );
    tracking_head::Entity::insert(head.into_active_model())
        .on_conflict(on_conflict)
        .exec_without_returning(db)
        .await
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
