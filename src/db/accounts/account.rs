//! Users, their saved addresses and their sign-in attempts, and the sign-in throttle's counters.

use crate::db::entities::{address, login_attempt, user};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

pub async fn user_by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(id).one(db).await
}

/// Users by id, many in one statement; ids with no user are left out.
pub async fn users_by_ids(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<Vec<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await
}

/// The user with this (normalised) email address.
pub async fn user_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await
}

/// How many users have this email address (0 or 1).
pub async fn count_with_email(db: &impl ConnectionTrait, email: &str) -> Result<u64, DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .count(db)
        .await
}

/// How many users have this phone number (0 or 1).
pub async fn count_with_phone(db: &impl ConnectionTrait, phone: &str) -> Result<u64, DbErr> {
    user::Entity::find()
        .filter(user::Column::Phone.eq(phone))
        .count(db)
        .await
}

/// Stores a new user and returns it as stored; a taken email or phone fails with the unique violation.
pub async fn insert_user(
    db: &impl ConnectionTrait,
    row: user::Model,
) -> Result<user::Model, DbErr> {
    user::Entity::insert(user::ActiveModel::from(row))
        .exec_with_returning(db)
        .await
}

/// Locks sign-in for a user until `until`.
pub async fn lock_sign_in_until(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    until: DateTime<Utc>,
) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::LoginLockedUntil, Expr::value(until))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Takes one of the throttle window's attempts in one conditional update, starting a new window
/// when the current one started at or before `window_start`; nothing changes while the account is
/// locked or `max_failures` attempts were taken in the window. Returns rows affected (0 or 1).
pub async fn count_attempt(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    window_start: DateTime<Utc>,
    max_failures: i32,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let new_window = || {
        Condition::any()
            .add(user::Column::LoginWindowStartedAt.is_null())
            .add(user::Column::LoginWindowStartedAt.lte(window_start))
    };
    let counted = user::Entity::update_many()
        .col_expr(
            user::Column::LoginFailures,
            Expr::case(new_window(), 1)
                .finally(Expr::col(user::Column::LoginFailures).add(1))
                .into(),
        )
        .col_expr(
            user::Column::LoginWindowStartedAt,
            Expr::case(new_window(), now)
                .finally(Expr::col(user::Column::LoginWindowStartedAt))
                .into(),
        )
        .filter(user::Column::Id.eq(user_id))
        .filter(
            Condition::any()
                .add(user::Column::LoginLockedUntil.is_null())
                .add(user::Column::LoginLockedUntil.lte(now)),
        )
        .filter(
            Condition::any()
                .add(new_window())
                .add(user::Column::LoginFailures.lt(max_failures)),
        )
        .exec(db)
        .await?;
    Ok(counted.rows_affected)
}

/// Gives back one counted attempt, never going below zero.
pub async fn uncount_attempt(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(
            user::Column::LoginFailures,
            Expr::col(user::Column::LoginFailures).sub(1),
        )
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::LoginFailures.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Resets the throttle's count and window.
pub async fn clear_attempts(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::LoginFailures, Expr::value(0))
        .col_expr(
            user::Column::LoginWindowStartedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn insert_login_attempt(
    db: &impl ConnectionTrait,
    row: login_attempt::Model,
) -> Result<(), DbErr> {
    login_attempt::Entity::insert(login_attempt::ActiveModel::from(row))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn login_attempt_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<login_attempt::Model>, DbErr> {
    login_attempt::Entity::find_by_id(id).one(db).await
}

/// A user's sign-in attempts with ids below `after`, newest first, at most `limit`.
pub async fn login_attempts_of(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<login_attempt::Model>, DbErr> {
    let mut query = login_attempt::Entity::find().filter(login_attempt::Column::UserId.eq(user_id));
    if let Some(after) = after {
        query = query.filter(login_attempt::Column::Id.lt(after));
    }
    query
        .order_by_desc(login_attempt::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// How many sign-in attempts a user has, in one statement.
pub async fn count_login_attempts(db: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, DbErr> {
    login_attempt::Entity::find()
        .filter(login_attempt::Column::UserId.eq(user_id))
        .count(db)
        .await
}

/// Writes a profile change (name, phone: `None` leaves it) and `updated_at` to `account`'s row;
/// returns the row as stored. A taken phone number fails with the unique violation.
pub async fn update_profile(
    db: &impl ConnectionTrait,
    account: user::Model,
    full_name: Option<String>,
    phone: Option<Option<String>>,
    now: DateTime<Utc>,
) -> Result<user::Model, DbErr> {
    let mut active: user::ActiveModel = account.into();
    if let Some(name) = full_name {
        active.full_name = Set(name);
    }
    if let Some(phone) = phone {
        active.phone = Set(phone);
    }
    active.updated_at = Set(now);
    active.update(db).await
}

pub async fn address_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<address::Model>, DbErr> {
    address::Entity::find_by_id(id).one(db).await
}

/// Deletes a user's whole address book.
pub async fn delete_addresses_of(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), DbErr> {
    address::Entity::delete_many()
        .filter(address::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Stores addresses; nothing when there are none.
pub async fn insert_addresses(
    db: &impl ConnectionTrait,
    rows: Vec<address::Model>,
) -> Result<(), DbErr> {
    if !rows.is_empty() {
        address::Entity::insert_many(rows.into_iter().map(address::ActiveModel::from))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The addresses of many users by position, in one statement.
pub async fn addresses_of(
    db: &impl ConnectionTrait,
    user_ids: &[Uuid],
) -> Result<Vec<address::Model>, DbErr> {
    address::Entity::find()
        .filter(address::Column::UserId.is_in(user_ids.iter().copied()))
        .order_by_asc(address::Column::Position)
        .all(db)
        .await
}
