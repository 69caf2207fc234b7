//! Withdrawal PINs: set with the account password, hashed with Argon2id, and locked for a while
//! after too many wrong tries — counted in the database, so every path and replica shares the count.

use crate::db::entities::{user, withdrawal_pin};
use crate::db::sql::stmt;
use crate::domain::account::Role;
use crate::domain::payouts::check_pin;
use crate::error::{AppError, AppResult};
use crate::services::{Services, Viewer, accounts::passwords};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

/// Sets or replaces the viewer's PIN after checking their password. Replacing it clears the count
/// of wrong tries but not a running lock, so a lock cannot be lifted by guessing differently.
pub async fn set(services: &Services, viewer: &Viewer, pin: &str, password: &str) -> AppResult<()> {
    viewer.require_role(&[Role::Technician])?;
    check_pin(pin).map_err(|r| AppError::bad_input(r.field, r.message))?;
    let owner = user::Entity::find_by_id(viewer.user_id)
        .one(&services.db)
        .await?
        .ok_or_else(AppError::unauthenticated)?;
    let password_ok = passwords::verify(password.to_string(), owner.password_hash)
        .await
        .map_err(AppError::internal)?;
    if !password_ok {
        return Err(AppError::bad_input("password", "the password is not right"));
    }
    let pin_hash = passwords::hash(pin.to_string())
        .await
        .map_err(AppError::internal)?;
    let now = services.clock.now();
    let backend = services.db.get_database_backend();
    services
        .db
        .execute_raw(stmt(
            backend,
            "INSERT INTO withdrawal_pins (id, pin_hash, failed_attempts, locked_until, created_at, updated_at) \
             VALUES ($1, $2, 0, NULL, $3, $3) \
             ON CONFLICT (id) DO UPDATE SET pin_hash = excluded.pin_hash, failed_attempts = 0, \
             updated_at = excluded.updated_at",
            [viewer.user_id.into(), pin_hash.into(), now.into()],
        ))
        .await?;
    Ok(())
}

/// Whether the technician has set a PIN.
pub async fn is_set(db: &impl ConnectionTrait, technician: Uuid) -> AppResult<bool> {
    Ok(withdrawal_pin::Entity::find_by_id(technician)
        .one(db)
        .await?
        .is_some())
}

fn locked(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    AppError::RateLimited {
        message: format!(
            "too many wrong PINs; withdrawals are locked until {} UTC",
            until.format("%H:%M")
        ),
        retry_after_secs: (until - now).num_seconds().max(1),
    }
}

/// Checks `pin` for `technician`. A wrong one counts against the account; the try that reaches
/// the limit locks withdrawals (FUNDI_PIN_LOCK_MINUTES) and starts the count again.
pub async fn verify(services: &Services, technician: Uuid, pin: &str) -> AppResult<()> {
    let now = services.clock.now();
    let stored = withdrawal_pin::Entity::find_by_id(technician)
        .one(&services.db)
        .await?
        .ok_or_else(|| AppError::bad_input("pin", "set a withdrawal PIN first"))?;
    if let Some(until) = stored.locked_until.filter(|until| *until > now) {
        return Err(locked(until, now));
    }
    let right = passwords::verify(pin.to_string(), stored.pin_hash)
        .await
        .map_err(AppError::internal)?;
    let backend = services.db.get_database_backend();
    if right {
        if stored.failed_attempts > 0 {
            services
                .db
                .execute_raw(stmt(
                    backend,
                    "UPDATE withdrawal_pins SET failed_attempts = 0, updated_at = $2 WHERE id = $1",
                    [technician.into(), now.into()],
                ))
                .await?;
        }
        return Ok(());
    }
    let max = services.config.payouts.pin_max_attempts;
    let until = now + chrono::Duration::seconds(services.config.payouts.pin_lock_secs);
    // One statement counts and locks, so concurrent wrong tries each count exactly once.
    let row = services
        .db
        .query_one_raw(stmt(
            backend,
            "UPDATE withdrawal_pins SET \
               locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END, \
               failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END, \
               updated_at = $4 \
             WHERE id = $1 RETURNING failed_attempts, locked_until",
            [technician.into(), max.into(), until.into(), now.into()],
        ))
        .await?
        .ok_or_else(|| AppError::bad_input("pin", "set a withdrawal PIN first"))?;
    let locked_until: Option<DateTime<Utc>> = row.try_get("", "locked_until")?;
    if let Some(until) = locked_until.filter(|until| *until > now) {
        return Err(locked(until, now));
    }
    let failed: i32 = row.try_get("", "failed_attempts")?;
    Err(AppError::bad_input(
        "pin",
        format!(
            "wrong PIN; {} tries left before withdrawals lock",
            max - failed
        ),
    ))
}
