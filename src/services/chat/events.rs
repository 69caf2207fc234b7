//! What a conversation publishes on the bus, as facts with a format of their own: the message a
//! subscriber renders, receipts and typing. The table may change; these change only by adding
//! fields with defaults, so replicas of neighbouring releases read each other's events.

use crate::db::entities::message;
use crate::domain::booking_state::Role;
use crate::domain::chat::MessageKind;
use crate::error::{AppError, AppResult};
use crate::realtime::BusMessage;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

/// The format of conversation events this release writes. A reader accepts every format up to its
/// own and events without one (written before formats were numbered, read as format 1).
pub const FORMAT: u32 = 1;

fn first_format() -> u32 {
    1
}

/// A chat message as subscribers receive it: everything a client renders, including where its
/// attachment is stored so a replica can sign a link to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: Uuid,
    pub booking_id: Uuid,
    pub seq: i64,
    pub sender_id: Option<Uuid>,
    #[serde(with = "crate::db::stored::by_name")]
    pub sender_role: Role,
    #[serde(with = "crate::db::stored::by_name")]
    pub kind: MessageKind,
    pub body: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub attachment_key: Option<String>,
    pub attachment_type: Option<String>,
    pub attachment_size: Option<i64>,
    pub client_message_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Messages are never edited; carried so that replicas of the release before formats were
    /// numbered, which read the whole stored row, still read these events.
    pub updated_at: DateTime<Utc>,
}

impl From<&message::Model> for ChatMessage {
    fn from(row: &message::Model) -> Self {
        ChatMessage {
            id: row.id,
            booking_id: row.booking_id,
            seq: row.seq,
            sender_id: row.sender_id,
            sender_role: row.sender_role,
            kind: row.kind,
            body: row.body.clone(),
            lat: row.lat,
            lng: row.lng,
            attachment_key: row.attachment_key.clone(),
            attachment_type: row.attachment_type.clone(),
            attachment_size: row.attachment_size,
            client_message_id: row.client_message_id.clone(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

impl From<ChatMessage> for message::Model {
    fn from(m: ChatMessage) -> Self {
        message::Model {
            id: m.id,
            booking_id: m.booking_id,
            seq: m.seq,
            sender_id: m.sender_id,
            sender_role: m.sender_role,
            kind: m.kind,
            body: m.body,
            lat: m.lat,
            lng: m.lng,
            attachment_key: m.attachment_key,
            attachment_type: m.attachment_type,
            attachment_size: m.attachment_size,
            client_message_id: m.client_message_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// What travels on a conversation's topic. Messages and receipts are durable (outbox); typing is live.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChatEvent {
    MessageAdded { message: Box<ChatMessage> },
    Delivered { user_id: Uuid, up_to: i64 },
    Read { user_id: Uuid, up_to: i64 },
    Typing { user_id: Uuid, typing: bool },
}

/// A conversation event as it travels on the bus, with its format and the booking's version it was
/// produced under, so that a replica holding an older copy of the booking reads it again before
/// judging who may see the event (see `live_access::may_watch`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatBusEvent {
    #[serde(default = "first_format")]
    pub v: u32,
    /// 0 on events queued by a server that did not send it; those are judged on the cached booking.
    #[serde(default)]
    pub booking_version: i32,
    #[serde(flatten)]
    pub event: ChatEvent,
}

impl ChatBusEvent {
    pub fn new(booking_version: i32, event: ChatEvent) -> ChatBusEvent {
        ChatBusEvent {
            v: FORMAT,
            booking_version,
            event,
        }
    }

    /// A message just stored, as its event.
    pub fn message_added(booking_version: i32, row: &message::Model) -> ChatBusEvent {
        let message = Box::new(ChatMessage::from(row));
        ChatBusEvent::new(booking_version, ChatEvent::MessageAdded { message })
    }

    /// The event, or None for a payload this release cannot read (a later format, or not a
    /// conversation event at all); subscribers skip those rather than end.
    pub fn from_bus(message: &BusMessage) -> Option<Arc<ChatBusEvent>> {
        message
            .decode::<ChatBusEvent>()
            .filter(|event| event.v <= FORMAT)
    }

    pub fn to_payload(&self) -> AppResult<serde_json::Value> {
        serde_json::to_value(self).map_err(AppError::internal)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::Value;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/bus/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect("fixture JSON")
    }

    /// True when every field of `recorded` appears in `written` with the same value: a reader that
    /// understood `recorded` finds all it needs in what this release writes.
    pub(crate) fn readable_as(recorded: &Value, written: &Value) -> bool {
        match (recorded, written) {
            (Value::Object(old), Value::Object(new)) => old
                .iter()
                .all(|(key, value)| new.get(key).is_some_and(|n| readable_as(value, n))),
            _ => recorded == written,
        }
    }

    fn stored_message() -> message::Model {
        let at = "2026-11-02T09:30:00Z".parse().unwrap();
        message::Model {
            id: "01966a4e-0000-7000-8000-000000000001".parse().unwrap(),
            booking_id: "01966a4e-0000-7000-8000-0000000000b1".parse().unwrap(),
            seq: 4,
            sender_id: Some("01966a4e-0000-7000-8000-0000000000c1".parse().unwrap()),
            sender_role: Role::Customer,
            kind: MessageKind::Image,
            body: Some("the leak, from below".into()),
            lat: None,
            lng: None,
            attachment_key: Some("chat/01966a4e/photo.jpg".into()),
            attachment_type: Some("image/jpeg".into()),
            attachment_size: Some(48213),
            client_message_id: Some("c-17".into()),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_conversation_event_travels_with_its_format_and_booking_version() {
        let user_id = Uuid::now_v7();
        let sent = ChatBusEvent::new(7, ChatEvent::Read { user_id, up_to: 3 });
        let payload = sent.to_payload().unwrap();
        assert_eq!(payload["type"], "READ");
        assert_eq!(payload["v"], FORMAT);
        assert_eq!(payload["booking_version"], 7);
        let received = ChatBusEvent::from_bus(&BusMessage::new("chat", Some(1), payload)).unwrap();
        assert_eq!(received.booking_version, 7);
        assert!(matches!(received.event, ChatEvent::Read { up_to: 3, .. }));
    }

    #[test]
    fn events_recorded_from_the_release_before_formats_are_read() {
        let receipt = fixture("chat_read.row.json");
        let received = ChatBusEvent::from_bus(&BusMessage::new("chat", Some(2), receipt)).unwrap();
        assert_eq!((received.v, received.booking_version), (1, 7));
        assert!(matches!(received.event, ChatEvent::Read { up_to: 3, .. }));

        let added = fixture("chat_message_added.row.json");
        let received = ChatBusEvent::from_bus(&BusMessage::new("chat", Some(3), added)).unwrap();
        let ChatEvent::MessageAdded { message } = &received.event else {
            panic!("a message event");
        };
        assert_eq!(**message, ChatMessage::from(&stored_message()));
    }

    #[test]
    fn what_this_release_writes_is_what_the_release_before_read() {
        let written = ChatBusEvent::message_added(5, &stored_message())
            .to_payload()
            .unwrap();
        let recorded = fixture("chat_message_added.row.json");
        assert!(readable_as(&recorded, &written), "{written}");
        assert_eq!(written, fixture("chat_message_added.v1.json"));

        /// How the release before formats read a conversation's events: the stored row.
        #[derive(Deserialize)]
        #[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
        enum PreviousReader {
            MessageAdded { message: Box<message::Model> },
        }
        let PreviousReader::MessageAdded { message } =
            serde_json::from_value(written).expect("the old reader reads it");
        assert_eq!(*message, stored_message());
    }

    #[test]
    fn a_later_format_is_skipped_not_misread() {
        let mut payload = ChatBusEvent::message_added(5, &stored_message())
            .to_payload()
            .unwrap();
        payload["v"] = (FORMAT + 1).into();
        assert!(ChatBusEvent::from_bus(&BusMessage::new("chat", Some(4), payload)).is_none());
    }
}
