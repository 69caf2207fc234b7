//! In-app notifications: stored, listed newest first, counted and marked read.

use crate::db::entities::notification;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

/// Stores a notification and returns it as stored.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: notification::Model,
) -> Result<notification::Model, DbErr> {
    notification::Entity::insert(notification::ActiveModel::from(row))
        .exec_with_returning(db)
        .await
}

/// A user's notifications (only unread ones when asked) with ids below `after`, newest first, at most `limit`.
pub async fn list_for_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    unread_only: bool,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<notification::Model>, DbErr> {
    let mut query = notification::Entity::find().filter(notification::Column::UserId.eq(user_id));
    if unread_only {
        query = query.filter(notification::Column::ReadAt.is_null());
    }
    if let Some(after) = after {
        query = query.filter(notification::Column::Id.lt(after));
    }
    query
        .order_by_desc(notification::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// How many notifications a user has (only unread ones when asked), in one statement.
pub async fn count_for_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    unread_only: bool,
) -> Result<u64, DbErr> {
    let mut query = notification::Entity::find().filter(notification::Column::UserId.eq(user_id));
    if unread_only {
        query = query.filter(notification::Column::ReadAt.is_null());
    }
    query.count(db).await
}

pub async fn by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<notification::Model>, DbErr> {
    notification::Entity::find_by_id(id).one(db).await
}

/// Marks the user's unread notifications among `ids` read; returns how many changed.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .col_expr(notification::Column::UpdatedAt, Expr::value(now))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::Id.is_in(ids.to_vec()))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

pub async fn count_unread(db: &impl ConnectionTrait, user_id: Uuid) -> Result<u64, DbErr> {
    notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await
}
