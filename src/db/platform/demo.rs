//! Demo data's own statements: counting users, and inserting demo accounts one or many at a time.
//! Technicians' profiles, skills and hours go through `db::technicians`.

use crate::db::entities::user;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, PaginatorTrait};

/// How many users there are.
pub async fn count_users(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    user::Entity::find().count(db).await
}

/// Stores one account.
pub async fn insert_user(db: &impl ConnectionTrait, row: user::Model) -> Result<(), DbErr> {
    user::Entity::insert(user::ActiveModel::from(row))
        .exec(db)
        .await?;
    Ok(())
}

/// Stores many accounts in one statement.
pub async fn insert_users(db: &impl ConnectionTrait, rows: Vec<user::Model>) -> Result<(), DbErr> {
    user::Entity::insert_many(rows.into_iter().map(user::ActiveModel::from))
        .exec(db)
        .await?;
    Ok(())
}
