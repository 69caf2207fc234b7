//! Reading a conversation: pages of messages by sequence number, delivered/read receipts kept as
//! per-participant high-water marks, and unread counts.

use crate::db::entities::{booking, chat_receipt, message};
use crate::db::{begin_write, sql::stmt};
use crate::domain::chat::MessageKind;
use crate::error::{AppError, AppResult};
use crate::realtime::{Topic, outbox};
use crate::services::chat::conversation::{Conversation, conversation};
use crate::services::chat::events::{ChatBusEvent, ChatEvent};
use crate::services::{Effects, Services, Viewer};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Which slice of the history to read, by sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The first `first` messages after `after` (0 for the start), oldest first.
    Forward { after: i64, first: u64 },
    /// The last `last` messages before `before` (None for the newest), still oldest first.
    Backward { before: Option<i64>, last: u64 },
}

pub struct MessagePage {
    pub items: Vec<message::Model>,
    pub has_next: bool,
    pub has_previous: bool,
}

/// Each participant's delivered and read marks in one conversation.
#[derive(Debug, Clone, Default)]
pub struct Receipts {
    pub marks: HashMap<Uuid, (i64, i64)>,
}

impl Receipts {
    pub fn of(&self, user: Uuid) -> (i64, i64) {
        self.marks.get(&user).copied().unwrap_or((0, 0))
    }
}

pub async fn receipts(db: &impl ConnectionTrait, booking_id: Uuid) -> AppResult<Receipts> {
    let rows = chat_receipt::Entity::find()
        .filter(chat_receipt::Column::BookingId.eq(booking_id))
        .all(db)
        .await?;
    Ok(Receipts {
        marks: rows
            .into_iter()
            .map(|r| (r.user_id, (r.delivered_seq, r.read_seq)))
            .collect(),
    })
}

/// Reads a page of the conversation. What a participant reads counts as delivered to them.
/// How many messages a conversation holds, in one statement. Callers check access.
pub async fn count(db: &impl ConnectionTrait, booking_id: Uuid) -> AppResult<u64> {
    Ok(message::Entity::find()
        .filter(message::Column::BookingId.eq(booking_id))
        .count(db)
        .await?)
}

pub async fn list(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
    window: Window,
) -> AppResult<(Conversation, MessagePage)> {
    let conversation = conversation(services, viewer, booking_id).await?;
    let base = message::Entity::find().filter(message::Column::BookingId.eq(booking_id));
    let page = match window {
        Window::Forward { after, first } => {
            let mut rows = base
                .filter(message::Column::Seq.gt(after))
                .order_by_asc(message::Column::Seq)
                .limit(first + 1)
                .all(&services.db)
                .await?;
            let has_next = rows.len() as u64 > first;
            rows.truncate(usize::try_from(first).unwrap_or(usize::MAX));
            MessagePage {
                items: rows,
                has_next,
                has_previous: after > 0,
            }
        }
        Window::Backward { before, last } => {
            let mut query = base;
            if let Some(before) = before {
                query = query.filter(message::Column::Seq.lt(before));
            }
            let mut rows = query
                .order_by_desc(message::Column::Seq)
                .limit(last + 1)
                .all(&services.db)
                .await?;
            let has_previous = rows.len() as u64 > last;
            rows.truncate(usize::try_from(last).unwrap_or(usize::MAX));
            rows.reverse();
            MessagePage {
                items: rows,
                has_next: before.is_some(),
                has_previous,
            }
        }
    };
    if conversation.viewer_is_participant()
        && let Some(newest) = page
            .items
            .iter()
            .filter(|m| m.sender_id != Some(viewer.user_id))
            .map(|m| m.seq)
            .max()
    {
        mark_delivered(services, booking_id, &[(viewer.user_id, newest)]).await?;
    }
    Ok((conversation, page))
}

/// One message, for `node(id)`: only for those who may read its conversation.
pub async fn find(
    services: &Services,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Option<(Conversation, message::Model)>> {
    let Some(row) = message::Entity::find_by_id(id).one(&services.db).await? else {
        return Ok(None);
    };
    match conversation(services, viewer, row.booking_id).await {
        Ok(conversation) => Ok(Some((conversation, row))),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Raises a participant's marks (never lowers them). Returns whether (delivered, read) moved.
pub async fn advance(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    user_id: Uuid,
    delivered: i64,
    read: i64,
    now: DateTime<Utc>,
) -> AppResult<(bool, bool)> {
    // Reading implies receiving.
    let delivered = delivered.max(read);
    let backend = db.get_database_backend();
    let before = chat_receipt::Entity::find()
        .filter(chat_receipt::Column::BookingId.eq(booking_id))
        .filter(chat_receipt::Column::UserId.eq(user_id))
        .one(db)
        .await?;
    let Some(before) = before else {
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
        if inserted.rows_affected() == 1 {
            return Ok((delivered > 0, read > 0));
        }
        // Someone else created the row meanwhile; raise it like any other.
        return Box::pin(advance(db, booking_id, user_id, delivered, read, now)).await;
    };
    if delivered <= before.delivered_seq && read <= before.read_seq {
        return Ok((false, false));
    }
    // Conditional on the marks still being lower, so concurrent raises never move one back.
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
    Ok((delivered > before.delivered_seq, read > before.read_seq))
}

/// Records that messages up to each given sequence reached their recipient, and tells subscribers.
pub async fn mark_delivered(
    services: &Services,
    booking_id: Uuid,
    marks: &[(Uuid, i64)],
) -> AppResult<()> {
    let now = services.clock.now();
    let mut effects = Effects::default();
    let txn = begin_write(&services.db).await?;
    let mut moved = Vec::new();
    for &(user_id, up_to) in marks {
        let (delivered, _) = advance(&txn, booking_id, user_id, up_to, 0, now).await?;
        if delivered {
            moved.push(ChatEvent::Delivered { user_id, up_to });
        }
    }
    if !moved.is_empty() {
        let version = version_of(&txn, booking_id).await?;
        for event in moved {
            publish(&txn, &mut effects, booking_id, version, event).await?;
        }
    }
    txn.commit().await?;
    services.after_commit(effects);
    Ok(())
}

/// Marks everything up to and including `up_to_message` read by the viewer.
pub async fn mark_read(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
    up_to_message: Uuid,
) -> AppResult<Conversation> {
    let conversation = conversation(services, viewer, booking_id).await?;
    if !conversation.viewer_is_participant() {
        return Err(AppError::Forbidden(
            "read receipts belong to the customer and the technician".into(),
        ));
    }
    let target = message::Entity::find_by_id(up_to_message)
        .one(&services.db)
        .await?
        .filter(|m| m.booking_id == booking_id)
        .ok_or_else(|| {
            AppError::bad_input("upToMessageId", "no such message in this conversation")
        })?;
    let now = services.clock.now();
    let mut effects = Effects::default();
    let txn = begin_write(&services.db).await?;
    let (delivered, read) = advance(
        &txn,
        booking_id,
        viewer.user_id,
        target.seq,
        target.seq,
        now,
    )
    .await?;
    let (up_to, version) = (target.seq, conversation.booking.version);
    if delivered {
        let event = ChatEvent::Delivered {
            user_id: viewer.user_id,
            up_to,
        };
        publish(&txn, &mut effects, booking_id, version, event).await?;
    }
    if read {
        let event = ChatEvent::Read {
            user_id: viewer.user_id,
            up_to,
        };
        publish(&txn, &mut effects, booking_id, version, event).await?;
    }
    txn.commit().await?;
    services.after_commit(effects);
    Ok(conversation)
}

async fn publish(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    booking_id: Uuid,
    booking_version: i32,
    event: ChatEvent,
) -> AppResult<()> {
    let payload = ChatBusEvent::new(booking_version, event).to_payload()?;
    outbox::enqueue(txn, Topic::Chat(booking_id), &payload).await?;
    effects.event();
    Ok(())
}

/// The booking's current version, which receipts carry like every other conversation event.
async fn version_of(db: &impl ConnectionTrait, booking_id: Uuid) -> AppResult<i32> {
    Ok(booking::Entity::find_by_id(booking_id)
        .select_only()
        .column(booking::Column::Version)
        .into_tuple::<i32>()
        .one(db)
        .await?
        .unwrap_or(0))
}

/// The newest message's sequence number, 0 before the first.
pub async fn last_sequence(db: &impl ConnectionTrait, booking_id: Uuid) -> AppResult<i64> {
    Ok(
        crate::db::entities::conversation::Entity::find_by_id(booking_id)
            .one(db)
            .await?
            .map(|c| c.last_seq)
            .unwrap_or(0),
    )
}

/// Messages from others the user has not read in one conversation. SYSTEM lines are the job's
/// timeline, already announced by notifications, so they do not count.
pub async fn unread_count(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    user_id: Uuid,
) -> AppResult<i64> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(stmt(
            backend,
            "SELECT COUNT(*) AS n FROM messages m \
             LEFT JOIN chat_receipts r ON r.booking_id = m.booking_id AND r.user_id = $2 \
             WHERE m.booking_id = $1 AND m.kind <> $3 AND m.sender_id <> $2 \
             AND m.seq > COALESCE(r.read_seq, 0)",
            [
                booking_id.into(),
                user_id.into(),
                MessageKind::System.as_str().into(),
            ],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}

/// Unread messages across every conversation the user takes part in.
pub async fn total_unread(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<i64> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(stmt(
            backend,
            "SELECT COUNT(*) AS n FROM messages m \
             JOIN bookings b ON b.id = m.booking_id \
             LEFT JOIN chat_receipts r ON r.booking_id = m.booking_id AND r.user_id = $1 \
             WHERE (b.customer_id = $1 OR b.technician_id = $1) AND m.kind <> $2 \
             AND m.sender_id <> $1 AND m.seq > COALESCE(r.read_seq, 0)",
            [user_id.into(), MessageKind::System.as_str().into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}
