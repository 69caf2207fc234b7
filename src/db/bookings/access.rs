//! Loading a booking by id, for the access rule and for use cases that have already checked it.

use crate::db::entities::booking;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait};
use uuid::Uuid;

/// A booking by id, whoever asks.
pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<booking::Model>, DbErr> {
    booking::Entity::find_by_id(id).one(db).await
}
