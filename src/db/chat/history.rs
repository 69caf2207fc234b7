//! History's queries: pages of a conversation's messages by sequence number, receipts (delivered
//! and read high-water marks) and unread counts.

use crate::db::entities::{booking, chat_receipt, conversation, message};
use crate::db::sql::stmt;
use crate::domain::chat::MessageKind;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

/// Every participant's receipt row in one conversation.
pub async fn receipts(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
) -> Result<Vec<chat_receipt::Model>, DbErr> {
    chat_receipt::Entity::find()
        .filter(chat_receipt::Column::BookingId.eq(booking_id))
        .all(db)
        .await
}

/// One participant's receipt row.
pub async fn receipt(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    user_id: Uuid,
) -> Result<Option<chat_receipt::Model>, DbErr> {
    chat_receipt::Entity::find()
        .filter(chat_receipt::Column::BookingId.eq(booking_id))
        .filter(chat_receipt::Column::UserId.eq(user_id))
        .one(db)
        .await
}

/// Creates a participant's receipt row unless one exists. Rows affected: 0 when one already did.
pub async fn insert_receipt_if_absent(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    user_id: Uuid,
    delivered: i64,
    read: i64,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let inserted = db
        .execute_raw(stmt(
            backend,
            "INSERT INTO chat_receipts (id, booking_id, user_id, delivered_seq, read_seq, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (booking_id, user_id) DO NOTHING",
            [
                Uuid::now_v7().into(),
                booking_id.into(),
                user_id.into(),
                delivered.into(),
                read.into(),
                now.into(),
            ],
        ))
        .await?;
    Ok(inserted.rows_affected())
}

/// Raises a participant's marks to `delivered` and `read` where they are lower, never moving one
/// back, so concurrent raises are safe.
pub async fn raise_receipt(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    user_id: Uuid,
    delivered: i64,
    read: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    db.execute_raw(stmt(
        backend,
        "UPDATE chat_receipts SET \
         delivered_seq = CASE WHEN delivered_seq < $3 THEN $3 ELSE delivered_seq END, \
         read_seq = CASE WHEN read_seq < $4 THEN $4 ELSE read_seq END, updated_at = $5 \
         WHERE booking_id = $1 AND user_id = $2",
        [
            booking_id.into(),
            user_id.into(),
            delivered.into(),
            read.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Creates a participant's receipt row at the given marks, or raises an existing one's where they
/// are lower (never moving one back), in one statement.
pub async fn raise_or_insert_receipt(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    user_id: Uuid,
    delivered: i64,
    read: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    db.execute_raw(stmt(
        backend,
        "INSERT INTO chat_receipts (id, booking_id, user_id, delivered_seq, read_seq, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (booking_id, user_id) DO UPDATE SET \
         delivered_seq = CASE WHEN chat_receipts.delivered_seq < excluded.delivered_seq \
           THEN excluded.delivered_seq ELSE chat_receipts.delivered_seq END, \
         read_seq = CASE WHEN chat_receipts.read_seq < excluded.read_seq \
           THEN excluded.read_seq ELSE chat_receipts.read_seq END, \
         updated_at = excluded.updated_at",
        [
            Uuid::now_v7().into(),
            booking_id.into(),
            user_id.into(),
            delivered.max(read).into(),
            read.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// How many messages a conversation holds.
pub async fn count(db: &impl ConnectionTrait, booking_id: Uuid) -> Result<u64, DbErr> {
    message::Entity::find()
        .filter(message::Column::BookingId.eq(booking_id))
        .count(db)
        .await
}

/// Up to `limit` messages with sequence numbers above `after`, oldest first.
pub async fn after_seq(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    after: i64,
    limit: u64,
) -> Result<Vec<message::Model>, DbErr> {
    message::Entity::find()
        .filter(message::Column::BookingId.eq(booking_id))
        .filter(message::Column::Seq.gt(after))
        .order_by_asc(message::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// Up to `limit` messages with sequence numbers below `before` (any when None), newest first.
pub async fn before_seq(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<message::Model>, DbErr> {
    let mut query = message::Entity::find().filter(message::Column::BookingId.eq(booking_id));
    if let Some(before) = before {
        query = query.filter(message::Column::Seq.lt(before));
    }
    query
        .order_by_desc(message::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// A message by id.
pub async fn message_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<message::Model>, DbErr> {
    message::Entity::find_by_id(id).one(db).await
}

/// A booking's version alone, if the booking exists.
pub async fn booking_version(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
) -> Result<Option<i32>, DbErr> {
    booking::Entity::find_by_id(booking_id)
        .select_only()
        .column(booking::Column::Version)
        .into_tuple::<i32>()
        .one(db)
        .await
}

/// A conversation's counter row, if it has had a message.
pub async fn conversation(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
) -> Result<Option<conversation::Model>, DbErr> {
    conversation::Entity::find_by_id(booking_id).one(db).await
}

/// Messages of kind other than `skip_kind` from others than the user, past the user's read mark,
/// in one conversation.
pub async fn unread_count(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    user_id: Uuid,
    skip_kind: MessageKind,
) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(stmt(
            backend,
            "SELECT COUNT(*) AS n FROM messages m \
             LEFT JOIN chat_receipts r ON r.booking_id = m.booking_id AND r.user_id = $2 \
             WHERE m.booking_id = $1 AND m.kind <> $3 AND m.sender_id <> $2 \
             AND m.seq > COALESCE(r.read_seq, 0)",
            [booking_id.into(), user_id.into(), skip_kind.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}

/// The same count across every conversation of a booking the user is customer or technician of.
pub async fn total_unread(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    skip_kind: MessageKind,
) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(stmt(
            backend,
            "SELECT COUNT(*) AS n FROM messages m \
             JOIN bookings b ON b.id = m.booking_id \
             LEFT JOIN chat_receipts r ON r.booking_id = m.booking_id AND r.user_id = $1 \
             WHERE (b.customer_id = $1 OR b.technician_id = $1) AND m.kind <> $2 \
             AND m.sender_id <> $1 AND m.seq > COALESCE(r.read_seq, 0)",
            [user_id.into(), skip_kind.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}
