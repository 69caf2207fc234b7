//! Messages' queries: numbering a conversation's next message with the counter upsert, storing
//! messages, finding a resend by client id, and the retention purge.

use crate::db::entities::message;
use crate::db::sql::stmt;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
};
use uuid::Uuid;

/// Takes the conversation's next sequence number, creating its counter at 1 on the first message.
/// The upsert takes the conversation's row lock, so messages are numbered in commit order. None if
/// the database returned no row.
pub async fn next_seq(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let backend = db.get_database_backend();
    let counter = db
        .query_one_raw(stmt(
            backend,
            "INSERT INTO conversations (id, last_seq, created_at, updated_at) VALUES ($1, 1, $2, $2) \
             ON CONFLICT (id) DO UPDATE SET last_seq = conversations.last_seq + 1, updated_at = $2 \
             RETURNING last_seq",
            [booking_id.into(), at.into()],
        ))
        .await?;
    counter.map(|row| row.try_get("", "last_seq")).transpose()
}

/// Stores a message.
pub async fn insert(db: &impl ConnectionTrait, message: message::Model) -> Result<(), DbErr> {
    message::Entity::insert(message.into_active_model())
        .exec(db)
        .await?;
    Ok(())
}

/// The sender's message in a conversation with the given client message id.
pub async fn by_client_id(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    sender: Uuid,
    client_id: &str,
) -> Result<Option<message::Model>, DbErr> {
    message::Entity::find()
        .filter(message::Column::BookingId.eq(booking_id))
        .filter(message::Column::SenderId.eq(sender))
        .filter(message::Column::ClientMessageId.eq(client_id))
        .one(db)
        .await
}

/// A message by id.
pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<message::Model>, DbErr> {
    message::Entity::find_by_id(id).one(db).await
}

/// Up to `limit` messages created before `cutoff`.
pub async fn created_before(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<message::Model>, DbErr> {
    message::Entity::find()
        .filter(message::Column::CreatedAt.lt(cutoff))
        .limit(limit)
        .all(db)
        .await
}

/// Deletes the messages with the given ids.
pub async fn delete(db: &impl ConnectionTrait, ids: Vec<Uuid>) -> Result<(), DbErr> {
    message::Entity::delete_many()
        .filter(message::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(())
}
