//! GraphQL types for booking chat: messages with their delivery state, conversations, chat events.

use crate::db::entities::message;
use crate::domain::booking_state::Role as ActorRole;
use crate::domain::chat::{self as rules, MessageKind as Kind_};
use crate::graphql::accounts::person::Person;
use crate::graphql::accounts::types::LatLng;
use crate::graphql::common::LatLngInput;
use crate::graphql::context::services;
use crate::graphql::ids::{self, Kind};
use crate::services::chat::conversation::Conversation as ConversationRecord;
use crate::services::chat::history::{self, Receipts};
use crate::services::chat::messages;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject, Union, Upload};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio::sync::OnceCell;
use uuid::Uuid;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "Kind_")]
pub enum MessageKind {
    Text,
    Image,
    Location,
    /// Written by the platform: the job's status changes.
    System,
}

/// How far a message has got with a recipient.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DeliveryState {
    Sent,
    Delivered,
    Read,
}

impl From<rules::DeliveryState> for DeliveryState {
    fn from(s: rules::DeliveryState) -> Self {
        match s {
            rules::DeliveryState::Sent => DeliveryState::Sent,
            rules::DeliveryState::Delivered => DeliveryState::Delivered,
            rules::DeliveryState::Read => DeliveryState::Read,
        }
    }
}

#[derive(InputObject)]
pub struct MessageInput {
    pub kind: MessageKind,
    /// TEXT: 1-4000 characters. IMAGE and LOCATION: an optional caption.
    pub body: Option<String>,
    /// IMAGE: a JPEG, PNG or WebP of at most 5 MB, judged by its content.
    pub attachment: Option<Upload>,
    /// LOCATION: the point to share.
    pub location: Option<LatLngInput>,
    /// Makes a resend idempotent: the same id from the same sender returns the first message.
    pub client_message_id: Option<String>,
}

/// What every message of one conversation shares, loaded at most once per request or event.
pub struct MessageContext {
    pub viewer_id: Uuid,
    pub participants: Vec<Uuid>,
    receipts: OnceCell<Receipts>,
}

impl MessageContext {
    pub fn new(conversation: &ConversationRecord) -> Arc<MessageContext> {
        Arc::new(MessageContext {
            viewer_id: conversation.viewer_id,
            participants: conversation.participants(),
            receipts: OnceCell::new(),
        })
    }

    async fn receipts(&self, ctx: &Context<'_>, booking_id: Uuid) -> Result<&Receipts> {
        Ok(self
            .receipts
            .get_or_try_init(|| history::receipts(&services(ctx).db, booking_id))
            .await?)
    }
}

pub struct Message {
    pub row: message::Model,
    pub context: Arc<MessageContext>,
}

#[derive(SimpleObject)]
pub struct MessageAttachment {
    pub content_type: String,
    pub size_bytes: i64,
    /// A signed download link, relative to the API's origin, valid for five minutes.
    pub url: String,
    pub url_expires_at: DateTime<Utc>,
}

/// One recipient's progress with a message.
#[derive(SimpleObject)]
pub struct MessageReceipt {
    pub user_id: ID,
    pub state: DeliveryState,
}

#[Object]
impl Message {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Message, self.row.id)
    }
    async fn booking_id(&self) -> ID {
        ids::encode(Kind::Booking, self.row.booking_id)
    }
    /// Grows by one per message in this conversation; ask for messages after the last one seen.
    async fn sequence(&self) -> i64 {
        self.row.seq
    }
    async fn kind(&self) -> MessageKind {
        self.row.kind.into()
    }
    async fn body(&self) -> Option<&str> {
        self.row.body.as_deref()
    }
    async fn location(&self) -> Option<LatLng> {
        Some(LatLng {
            lat: self.row.lat?,
            lng: self.row.lng?,
        })
    }
    async fn attachment(&self, ctx: &Context<'_>) -> Option<MessageAttachment> {
        let link = messages::attachment_link(services(ctx), &self.row)?;
        Some(MessageAttachment {
            content_type: self.row.attachment_type.clone().unwrap_or_default(),
            size_bytes: self.row.attachment_size.unwrap_or(0),
            url: link.url,
            url_expires_at: link.expires_at,
        })
    }
    /// Who wrote it; null for SYSTEM messages.
    async fn sender(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let Some(sender) = self.row.sender_id else {
            return Ok(None);
        };
        Person::load(ctx, sender).await
    }
    /// CUSTOMER, TECHNICIAN, ADMIN, SUPPORT or SYSTEM.
    async fn sender_role(&self) -> &str {
        self.row.sender_role.as_str()
    }
    /// Posted by platform staff rather than by the customer or the technician.
    async fn is_staff(&self) -> bool {
        matches!(self.row.sender_role, ActorRole::Admin | ActorRole::Support)
    }
    async fn client_message_id(&self) -> Option<&str> {
        self.row.client_message_id.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// For your own messages, the least-advanced recipient's state; for others', your own.
    async fn delivery_state(&self, ctx: &Context<'_>) -> Result<DeliveryState> {
        let state = if self.row.sender_id == Some(self.context.viewer_id) {
            self.recipient_states(ctx).await?.iter().map(|r| r.1).min()
        } else {
            let (delivered, read) = self
                .context
                .receipts(ctx, self.row.booking_id)
                .await?
                .of(self.context.viewer_id);
            Some(rules::delivery_state(self.row.seq, delivered, read))
        };
        Ok(state.unwrap_or(rules::DeliveryState::Sent).into())
    }
    /// Each recipient's state: the customer and the technician, other than the sender.
    async fn receipts(&self, ctx: &Context<'_>) -> Result<Vec<MessageReceipt>> {
        Ok(self
            .recipient_states(ctx)
            .await?
            .into_iter()
            .map(|(user, state)| MessageReceipt {
                user_id: ids::encode(Kind::User, user),
                state: state.into(),
            })
            .collect())
    }
}

impl Message {
    async fn recipient_states(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<(Uuid, rules::DeliveryState)>> {
        let marks = self.context.receipts(ctx, self.row.booking_id).await?;
        Ok(self
            .context
            .participants
            .iter()
            .filter(|p| Some(**p) != self.row.sender_id)
            .map(|p| {
                let (delivered, read) = marks.of(*p);
                (*p, rules::delivery_state(self.row.seq, delivered, read))
            })
            .collect())
    }
}

/// A booking's conversation as the viewer sees it.
pub struct Conversation {
    pub record: ConversationRecord,
}

#[Object]
impl Conversation {
    async fn booking_id(&self) -> ID {
        ids::encode(Kind::Booking, self.record.id())
    }
    /// Whether new messages are taken now.
    async fn open(&self, ctx: &Context<'_>) -> bool {
        messages::accepts_messages(services(ctx), &self.record.booking).is_ok()
    }
    /// When a finished job's conversation stops taking messages.
    async fn closes_at(&self, ctx: &Context<'_>) -> Option<DateTime<Utc>> {
        messages::closes_at(services(ctx), &self.record.booking)
    }
    /// Sequence number of the newest message (0 before the first).
    async fn last_sequence(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(history::last_sequence(&services(ctx).db, self.record.id()).await?)
    }
    /// Messages from others you have not read (SYSTEM lines do not count).
    async fn unread_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(
            history::unread_count(&services(ctx).db, self.record.id(), self.record.viewer_id)
                .await?,
        )
    }
}

#[derive(SimpleObject)]
pub struct MessageAddedEvent {
    pub message: Box<Message>,
}

/// A recipient's client has received everything up to `upToSequence`.
#[derive(SimpleObject)]
pub struct MessagesDelivered {
    pub user_id: ID,
    pub up_to_sequence: i64,
}

/// A recipient has read everything up to `upToSequence`.
#[derive(SimpleObject)]
pub struct MessagesRead {
    pub user_id: ID,
    pub up_to_sequence: i64,
}

/// Someone started typing; it stops on its own at `expiresAt` unless renewed.
#[derive(SimpleObject)]
pub struct TypingStarted {
    pub user_id: ID,
    pub expires_at: DateTime<Utc>,
}

#[derive(SimpleObject)]
pub struct TypingStopped {
    pub user_id: ID,
}

#[derive(Union)]
pub enum ChatEvent {
    MessageAdded(MessageAddedEvent),
    MessagesDelivered(MessagesDelivered),
    MessagesRead(MessagesRead),
    TypingStarted(TypingStarted),
    TypingStopped(TypingStopped),
}
