//! One-time codes sent by mail: the latest and current code of a purpose, issuing, consuming and
//! counting wrong attempts.

use crate::db::entities::one_time_code;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// The newest code of a purpose for a user, consumed or not.
pub async fn latest(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    purpose: &str,
) -> Result<Option<one_time_code::Model>, DbErr> {
    one_time_code::Entity::find()
        .filter(one_time_code::Column::UserId.eq(user_id))
        .filter(one_time_code::Column::Purpose.eq(purpose))
        .order_by_desc(one_time_code::Column::CreatedAt)
        .one(db)
        .await
}

/// The newest unconsumed code of a purpose for a user.
pub async fn current(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    purpose: &str,
) -> Result<Option<one_time_code::Model>, DbErr> {
    one_time_code::Entity::find()
        .filter(one_time_code::Column::UserId.eq(user_id))
        .filter(one_time_code::Column::Purpose.eq(purpose))
        .filter(one_time_code::Column::ConsumedAt.is_null())
        .order_by_desc(one_time_code::Column::CreatedAt)
        .one(db)
        .await
}

/// Consumes every unconsumed code of a purpose for a user.
pub async fn consume_all(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    one_time_code::Entity::update_many()
        .col_expr(one_time_code::Column::ConsumedAt, Expr::value(now))
        .filter(one_time_code::Column::UserId.eq(user_id))
        .filter(one_time_code::Column::Purpose.eq(purpose))
        .filter(one_time_code::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn insert(db: &impl ConnectionTrait, row: one_time_code::Model) -> Result<(), DbErr> {
    one_time_code::Entity::insert(one_time_code::ActiveModel::from(row))
        .exec(db)
        .await?;
    Ok(())
}

/// Consumes one code, only if it is not consumed yet; returns rows affected (0 or 1).
pub async fn consume(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let used = one_time_code::Entity::update_many()
        .col_expr(one_time_code::Column::ConsumedAt, Expr::value(now))
        .filter(one_time_code::Column::Id.eq(id))
        .filter(one_time_code::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    Ok(used.rows_affected)
}

/// Counts a wrong attempt on a code, only while it has fewer than `max_attempts`.
pub async fn count_wrong_attempt(
    db: &impl ConnectionTrait,
    id: Uuid,
    max_attempts: i32,
) -> Result<(), DbErr> {
    one_time_code::Entity::update_many()
        .col_expr(
            one_time_code::Column::Attempts,
            Expr::col(one_time_code::Column::Attempts).add(1),
        )
        .filter(one_time_code::Column::Id.eq(id))
        .filter(one_time_code::Column::Attempts.lt(max_attempts))
        .exec(db)
        .await?;
    Ok(())
}
