//! Reading a conversation: pages of messages by sequence number, delivered/read receipts kept as
//! per-participant high-water marks, and unread counts.

use crate::db::begin_write;
use crate::db::chat::history as rows;
use crate::db::entities::message;
use crate::domain::chat::MessageKind;
use crate::error::{AppError, AppResult};
use crate::realtime::{Topic, outbox};
use crate::services::chat::conversation::{Conversation, conversation};
use crate::services::chat::events::{ChatBusEvent, ChatEvent};
use crate::services::{Effects, Services, Viewer};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
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
    let receipts = rows::receipts(db, booking_id).await?;
    Ok(Receipts {
        marks: receipts
            .into_iter()
            .map(|r| (r.user_id, (r.delivered_seq, r.read_seq)))
            .collect(),
    })
}

/// Reads a page of the conversation. What a participant reads counts as delivered to them.
/// How many messages a conversation holds, in one statement. Callers check access.
pub async fn count(db: &impl ConnectionTrait, booking_id: Uuid) -> AppResult<u64> {
    Ok(rows::count(db, booking_id).await?)
}

pub async fn list(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
    window: Window,
) -> AppResult<(Conversation, MessagePage)> {
    let conversation = conversation(services, viewer, booking_id).await?;
    let page = match window {
        Window::Forward { after, first } => {
            let mut items = rows::after_seq(&services.db, booking_id, after, first + 1).await?;
            let has_next = items.len() as u64 > first;
            items.truncate(usize::try_from(first).unwrap_or(usize::MAX));
            MessagePage {
                items,
                has_next,
                has_previous: after > 0,
            }
        }
        Window::Backward { before, last } => {
            let mut items = rows::before_seq(&services.db, booking_id, before, last + 1).await?;
            let has_previous = items.len() as u64 > last;
            items.truncate(usize::try_from(last).unwrap_or(usize::MAX));
            items.reverse();
            MessagePage {
                items,
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
    let Some(row) = rows::message_by_id(&services.db, id).await? else {
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
    let before = rows::receipt(db, booking_id, user_id).await?;
    let Some(before) = before else {
        let inserted =
            rows::insert_receipt_if_absent(db, booking_id, user_id, delivered, read, now).await?;
        if inserted == 1 {
            return Ok((delivered > 0, read > 0));
        }
        // Someone else created the row meanwhile; raise it like any other.
        return Box::pin(advance(db, booking_id, user_id, delivered, read, now)).await;
    };
    if delivered <= before.delivered_seq && read <= before.read_seq {
        return Ok((false, false));
    }
    // Conditional on the marks still being lower, so concurrent raises never move one back.
    rows::raise_receipt(db, booking_id, user_id, delivered, read, now).await?;
    Ok((delivered > before.delivered_seq, read > before.read_seq))
}

/// Raises the sender's own marks to the message they just wrote, in one statement; nobody is told,
/// since a sender's receipt of their own message is news to no one.
pub async fn advance_own(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    user_id: Uuid,
    seq: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    rows::raise_or_insert_receipt(db, booking_id, user_id, seq, seq, now).await?;
    Ok(())
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
    let target = rows::message_by_id(&services.db, up_to_message)
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
    Ok(rows::booking_version(db, booking_id).await?.unwrap_or(0))
}

/// The newest message's sequence number, 0 before the first.
pub async fn last_sequence(db: &impl ConnectionTrait, booking_id: Uuid) -> AppResult<i64> {
    Ok(rows::conversation(db, booking_id)
        .await?
        .map(|c| c.last_seq)
        .unwrap_or(0))
}

/// Messages from others the user has not read in one conversation. SYSTEM lines are the job's
/// timeline, already announced by notifications, so they do not count.
pub async fn unread_count(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    user_id: Uuid,
) -> AppResult<i64> {
    Ok(rows::unread_count(db, booking_id, user_id, MessageKind::System).await?)
}

/// Unread messages across every conversation the user takes part in.
pub async fn total_unread(db: &impl ConnectionTrait, user_id: Uuid) -> AppResult<i64> {
    Ok(rows::total_unread(db, user_id, MessageKind::System).await?)
}
