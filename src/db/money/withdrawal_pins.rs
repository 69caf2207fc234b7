//! withdrawal_pins: a technician's hashed PIN and the shared count of wrong tries.

use crate::db::entities::withdrawal_pin;
use crate::db::sql::stmt;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};
use uuid::Uuid;

/// The technician's PIN row.
pub async fn by_id(
    db: &impl ConnectionTrait,
    technician: Uuid,
) -> Result<Option<withdrawal_pin::Model>, DbErr> {
    withdrawal_pin::Entity::find_by_id(technician).one(db).await
}

/// Stores the PIN hash, or replaces it and clears the count of wrong tries (a running lock stays).
pub async fn upsert(
    db: &impl ConnectionTrait,
    technician: Uuid,
    pin_hash: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db.get_database_backend(),
        "INSERT INTO withdrawal_pins (id, pin_hash, failed_attempts, locked_until, created_at, updated_at) \
         VALUES ($1, $2, 0, NULL, $3, $3) \
         ON CONFLICT (id) DO UPDATE SET pin_hash = excluded.pin_hash, failed_attempts = 0, \
         updated_at = excluded.updated_at",
        [technician.into(), pin_hash.into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// Clears the count of wrong tries.
pub async fn clear_failures(
    db: &impl ConnectionTrait,
    technician: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db.get_database_backend(),
        "UPDATE withdrawal_pins SET failed_attempts = 0, updated_at = $2 WHERE id = $1",
        [technician.into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// Counts one wrong try in one statement: the try that reaches `max` sets `locked_until` to
/// `until` and starts the count again. Returns the stored count and lock after it, or `None`
/// when the technician has no PIN row.
pub async fn count_failure(
    db: &impl ConnectionTrait,
    technician: Uuid,
    max: i32,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<(i32, Option<DateTime<Utc>>)>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "UPDATE withdrawal_pins SET \
               locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END, \
               failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END, \
               updated_at = $4 \
             WHERE id = $1 RETURNING failed_attempts, locked_until",
            [technician.into(), max.into(), until.into(), now.into()],
        ))
        .await?;
    row.map(|row| {
        Ok((
            row.try_get("", "failed_attempts")?,
            row.try_get("", "locked_until")?,
        ))
    })
    .transpose()
}
