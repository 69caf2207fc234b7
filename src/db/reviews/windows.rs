//! Review windows: one row per booking once a review is written or its reminder is sent, counting
//! the reviews written, holding when the window closes, and claiming publication and the reminder
//! once each whatever the number of replicas.

use crate::db::sql::stmt;
use crate::domain::booking_state::Status;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

/// A row limit as PostgreSQL takes it (it has no unsigned integers).
fn whole(limit: u64) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// What a booking's window row says after a review was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// Reviews written for the booking, this one included.
    pub submitted: i64,
    /// Whether the window already closed and published what was written.
    pub published: bool,
}

/// Counts one more review for `booking`, opening its window row (closing at `closes_at`) with the
/// first. Concurrent writers queue on the row, so exactly one of two sees `submitted` = 2.
pub async fn count_review(
    db: &impl ConnectionTrait,
    booking: Uuid,
    closes_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Counted, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "INSERT INTO review_windows (booking_id, closes_at, submitted, created_at, updated_at) \
             VALUES ($1, $2, 1, $3, $3) \
             ON CONFLICT (booking_id) DO UPDATE SET submitted = review_windows.submitted + 1, \
               updated_at = excluded.updated_at \
             RETURNING submitted, published_at",
            [booking.into(), closes_at.into(), now.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("review_windows".into()))?;
    let submitted: i32 = row.try_get("", "submitted")?;
    let published: Option<DateTime<Utc>> = row.try_get("", "published_at")?;
    Ok(Counted {
        submitted: i64::from(submitted),
        published: published.is_some(),
    })
}

/// Marks `booking`'s window published unless it already was; whether this call did.
pub async fn claim_publication(
    db: &impl ConnectionTrait,
    booking: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(stmt(
            db.get_database_backend(),
            "UPDATE review_windows SET published_at = $2, updated_at = $2 \
             WHERE booking_id = $1 AND published_at IS NULL",
            [booking.into(), now.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Up to `limit` bookings whose window closed by `now` with reviews still unpublished.
pub async fn closed_unpublished(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Uuid>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            "SELECT booking_id FROM review_windows \
             WHERE published_at IS NULL AND submitted > 0 AND closes_at <= $1 \
             ORDER BY closes_at LIMIT $2",
            [now.into(), whole(limit).into()],
        ))
        .await?;
    rows.iter()
        .map(|row| row.try_get("", "booking_id"))
        .collect()
}

/// When the first window with unpublished reviews closes.
pub async fn first_close(db: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT closes_at FROM review_windows \
             WHERE published_at IS NULL AND submitted > 0 ORDER BY closes_at LIMIT 1",
            [],
        ))
        .await?;
    row.map(|r| r.try_get("", "closes_at")).transpose()
}

/// A finished job whose reviewers have not been reminded.
#[derive(Debug, Clone, Copy)]
pub struct Unreminded {
    pub booking_id: Uuid,
    pub customer_id: Uuid,
    pub technician_id: Uuid,
    /// When it was paid (or refunded): the window's start.
    pub since: DateTime<Utc>,
}

/// The reviewable statuses, bound as parameters $1 and $2.
fn reviewable() -> [sea_orm::Value; 2] {
    [Status::Paid.into(), Status::Refunded.into()]
}

/// Up to `limit` paid (or refunded) jobs that got there after `opened_after` and by `opened_by`,
/// with nobody reminded yet.
pub async fn unreminded(
    db: &impl ConnectionTrait,
    opened_after: DateTime<Utc>,
    opened_by: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Unreminded>, DbErr> {
    let mut values = reviewable().to_vec();
    values.extend([opened_after.into(), opened_by.into(), whole(limit).into()]);
    let rows = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            "SELECT b.id, b.customer_id, b.technician_id, b.status_changed_at FROM bookings b \
             WHERE b.status IN ($1, $2) AND b.status_changed_at > $3 AND b.status_changed_at <= $4 \
               AND b.technician_id IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM review_windows w \
                 WHERE w.booking_id = b.id AND w.reminded_at IS NOT NULL) \
             ORDER BY b.status_changed_at LIMIT $5",
            values,
        ))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Unreminded {
                booking_id: row.try_get("", "id")?,
                customer_id: row.try_get("", "customer_id")?,
                technician_id: row.try_get("", "technician_id")?,
                since: row.try_get("", "status_changed_at")?,
            })
        })
        .collect()
}

/// When the first paid (or refunded) job after `opened_after` with nobody reminded got there.
pub async fn first_unreminded(
    db: &impl ConnectionTrait,
    opened_after: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let mut values = reviewable().to_vec();
    values.push(opened_after.into());
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT b.status_changed_at FROM bookings b \
             WHERE b.status IN ($1, $2) AND b.status_changed_at > $3 AND b.technician_id IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM review_windows w \
                 WHERE w.booking_id = b.id AND w.reminded_at IS NOT NULL) \
             ORDER BY b.status_changed_at LIMIT 1",
            values,
        ))
        .await?;
    row.map(|r| r.try_get("", "status_changed_at")).transpose()
}

/// Records that `booking`'s reviewers were reminded, unless someone did already; whether this
/// call did. A booking nobody reviewed yet gets its window row here (closing at `closes_at`).
pub async fn claim_reminder(
    db: &impl ConnectionTrait,
    booking: Uuid,
    closes_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(stmt(
            db.get_database_backend(),
            "INSERT INTO review_windows (booking_id, closes_at, submitted, reminded_at, created_at, updated_at) \
             VALUES ($1, $2, 0, $3, $3, $3) \
             ON CONFLICT (booking_id) DO UPDATE SET reminded_at = excluded.reminded_at, \
               updated_at = excluded.updated_at WHERE review_windows.reminded_at IS NULL",
            [booking.into(), closes_at.into(), now.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Who has written a review of `booking`.
pub async fn authors(db: &impl ConnectionTrait, booking: Uuid) -> Result<Vec<Uuid>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            "SELECT author_id FROM reviews WHERE booking_id = $1",
            [booking.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| row.try_get("", "author_id"))
        .collect()
}
