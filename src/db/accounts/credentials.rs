//! A user's password and verified email address, as written by credential changes.

use crate::db::entities::user;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};

/// Writes a new password hash to `account`'s row; returns the row as stored.
pub async fn set_password(
    db: &impl ConnectionTrait,
    account: user::Model,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<user::Model, DbErr> {
    let mut active: user::ActiveModel = account.into();
    active.password_hash = Set(password_hash);
    active.updated_at = Set(now);
    active.update(db).await
}

/// Writes a reset password hash to `account`'s row and lifts any sign-in lock; returns the row as stored.
pub async fn reset_password(
    db: &impl ConnectionTrait,
    account: user::Model,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<user::Model, DbErr> {
    let mut active: user::ActiveModel = account.into();
    active.password_hash = Set(password_hash);
    active.login_locked_until = Set(None);
    active.updated_at = Set(now);
    active.update(db).await
}

/// Marks `account`'s email address verified now; returns the row as stored.
pub async fn mark_email_verified(
    db: &impl ConnectionTrait,
    account: user::Model,
    now: DateTime<Utc>,
) -> Result<user::Model, DbErr> {
    let mut active: user::ActiveModel = account.into();
    active.email_verified_at = Set(Some(now));
    active.updated_at = Set(now);
    active.update(db).await
}
