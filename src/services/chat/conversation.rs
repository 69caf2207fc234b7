//! A booking's conversation: who takes part in it (the booking's own access rule), and the events
//! that travel on its topic. Sending and reading build on this.

use crate::db::entities::{booking, message};
use crate::domain::booking_state::Role as ActorRole;
use crate::error::{AppError, AppResult};
use crate::realtime::BusMessage;
use crate::services::bookings::access;
use crate::services::{Services, Viewer};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

/// What travels on a conversation's topic. Messages and receipts are durable (outbox); typing is live.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChatEvent {
    MessageAdded { message: Box<message::Model> },
    Delivered { user_id: Uuid, up_to: i64 },
    Read { user_id: Uuid, up_to: i64 },
    Typing { user_id: Uuid, typing: bool },
}

/// A conversation event as it travels on the bus, with the booking's version it was produced
/// under, so that a replica holding an older copy of the booking reads it again before judging who
/// may see the event (see `live_access::may_watch`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChatBusEvent {
    /// 0 on events queued by a server that did not send it; those are judged on the cached booking.
    #[serde(default)]
    pub booking_version: i32,
    #[serde(flatten)]
    pub event: ChatEvent,
}

impl ChatBusEvent {
    pub fn new(booking_version: i32, event: ChatEvent) -> ChatBusEvent {
        ChatBusEvent {
            booking_version,
            event,
        }
    }

    pub fn from_bus(message: &BusMessage) -> Option<Arc<ChatBusEvent>> {
        message.decode::<ChatBusEvent>()
    }

    pub fn to_payload(&self) -> AppResult<serde_json::Value> {
        serde_json::to_value(self).map_err(AppError::internal)
    }
}

/// A booking's conversation as one viewer may use it.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub booking: booking::Model,
    pub viewer_id: Uuid,
    pub viewer_role: ActorRole,
}

impl Conversation {
    pub fn id(&self) -> Uuid {
        self.booking.id
    }

    /// The customer and the current technician: the people messages are delivered to.
    pub fn participants(&self) -> Vec<Uuid> {
        participants_of(&self.booking)
    }

    pub fn viewer_is_participant(&self) -> bool {
        matches!(
            self.viewer_role,
            ActorRole::Customer | ActorRole::Technician
        )
    }
}

pub fn participants_of(booking: &booking::Model) -> Vec<Uuid> {
    std::iter::once(booking.customer_id)
        .chain(booking.technician_id)
        .collect()
}

/// The conversation of a booking the viewer may see: its customer, its technician and staff. For
/// anyone else the booking does not exist, as on every other path.
pub async fn conversation(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
) -> AppResult<Conversation> {
    let booking = access::visible(services, viewer, booking_id).await?;
    let viewer_role = access::actor_role(viewer, &booking).ok_or_else(AppError::forbidden)?;
    Ok(Conversation {
        booking,
        viewer_id: viewer.user_id,
        viewer_role,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_event_travels_with_its_booking_version() {
        let user_id = Uuid::now_v7();
        let sent = ChatBusEvent::new(7, ChatEvent::Read { user_id, up_to: 3 });
        let payload = sent.to_payload().unwrap();
        assert_eq!(payload["type"], "READ");
        assert_eq!(payload["booking_version"], 7);
        let message = BusMessage::new("chat", Some(1), payload);
        let received = ChatBusEvent::from_bus(&message).expect("decodes");
        assert_eq!(received.booking_version, 7);
        assert!(matches!(received.event, ChatEvent::Read { up_to: 3, .. }));
        // Queued before versions were carried: judged on the cached booking.
        let older = serde_json::json!({"type": "READ", "user_id": user_id, "up_to": 3});
        let received = ChatBusEvent::from_bus(&BusMessage::new("chat", Some(2), older)).unwrap();
        assert_eq!(received.booking_version, 0);
    }
}
