//! Withdrawal PINs: set with the account password, hashed with Argon2id, and locked for a while
//! after too many wrong tries — counted in the database, so every path and replica shares the count.

use crate::db::money::withdrawal_pins as store;
use crate::domain::account::Role;
use crate::domain::payouts::check_pin;
use crate::error::{AppError, AppResult};
use crate::services::{Services, Viewer, accounts::passwords};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// Sets or replaces the viewer's PIN after checking their password. Replacing it clears the count
/// of wrong tries but not a running lock, so a lock cannot be lifted by guessing differently.
pub async fn set(services: &Services, viewer: &Viewer, pin: &str, password: &str) -> AppResult<()> {
    viewer.require_role(&[Role::Technician])?;
    check_pin(pin).map_err(|r| AppError::bad_input(r.field, r.message))?;
    let owner = crate::db::accounts::account::user_by_id(&services.db, viewer.user_id)
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
    store::upsert(&services.db, viewer.user_id, pin_hash, now).await?;
    Ok(())
}

/// Whether the technician has set a PIN.
pub async fn is_set(db: &impl ConnectionTrait, technician: Uuid) -> AppResult<bool> {
    Ok(store::by_id(db, technician).await?.is_some())
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
    let stored = store::by_id(&services.db, technician)
        .await?
        .ok_or_else(|| AppError::bad_input("pin", "set a withdrawal PIN first"))?;
    if let Some(until) = stored.locked_until.filter(|until| *until > now) {
        return Err(locked(until, now));
    }
    let right = passwords::verify(pin.to_string(), stored.pin_hash)
        .await
        .map_err(AppError::internal)?;
    if right {
        if stored.failed_attempts > 0 {
            store::clear_failures(&services.db, technician, now).await?;
        }
        return Ok(());
    }
    let max = services.config.payouts.pin_max_attempts;
    let until = now + chrono::Duration::seconds(services.config.payouts.pin_lock_secs);
    // One statement counts and locks, so concurrent wrong tries each count exactly once.
    let (failed, locked_until) = store::count_failure(&services.db, technician, max, until, now)
        .await?
        .ok_or_else(|| AppError::bad_input("pin", "set a withdrawal PIN first"))?;
    if let Some(until) = locked_until.filter(|until| *until > now) {
        return Err(locked(until, now));
    }
    Err(AppError::bad_input(
        "pin",
        format!(
            "wrong PIN; {} tries left before withdrawals lock",
            max - failed
        ),
    ))
}
