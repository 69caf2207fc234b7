//! Booking chat operations: messages and conversations, sending, read receipts, typing, and the
//! messageAdded and chatEvents subscriptions.

use crate::domain::chat::TYPING_TTL;
use crate::error::AppError;
use crate::graphql::chat::types::{
    ChatEvent, Conversation, Message, MessageAddedEvent, MessageContext, MessageInput,
    MessagesDelivered, MessagesRead, TypingStarted, TypingStopped,
};
use crate::graphql::common::{Counted, TotalCount};
use crate::graphql::context::{services, viewer};
use crate::graphql::ids::{self, Kind};
use crate::graphql::live::{BookingEvent, Live};
use crate::graphql::uploads::read_upload;
use crate::realtime::{Subscription as BusSubscription, SubscriptionItem, Topic};
use crate::services::chat::conversation;
use crate::services::chat::events::{ChatBusEvent, ChatEvent as Event};
use crate::services::chat::history::{self, Window};
use crate::services::chat::messages::{self, NewMessage};
use crate::services::platform::pagination::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::services::platform::storage::MAX_IMAGE_BYTES;
use crate::services::{Services, Viewer};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result, Subscription};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::time::Instant;
use uuid::Uuid;

/// [`TYPING_TTL`] as chrono reckons it, checked when compiling.
const TYPING_TTL_DELTA: chrono::TimeDelta =
    match chrono::TimeDelta::new(TYPING_TTL.as_secs() as i64, TYPING_TTL.subsec_nanos()) {
        Some(delta) => delta,
        None => panic!("the typing TTL fits a TimeDelta"),
    };

fn page_size(value: Option<i32>, field: &str) -> Result<Option<u64>, AppError> {
    match value {
        None => Ok(None),
        Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(Some(n as u64)),
        Some(_) => Err(AppError::bad_input(
            field,
            format!("{field} must be between 1 and {MAX_PAGE_SIZE}"),
        )),
    }
}

fn sequence_cursor(value: Option<&str>, field: &str) -> Result<Option<i64>, AppError> {
    value
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| AppError::bad_input(field, "malformed cursor"))
        })
        .transpose()
}

/// Reads Relay arguments as a window over sequence numbers; with none, the newest page.
fn window(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    after_sequence: Option<i64>,
) -> Result<Window, AppError> {
    let first = page_size(first, "first")?;
    let last = page_size(last, "last")?;
    let after = sequence_cursor(after.as_deref(), "after")?;
    let before = sequence_cursor(before.as_deref(), "before")?;
    if after_sequence.is_some_and(|n| n < 0) {
        return Err(AppError::bad_input(
            "afterSequence",
            "afterSequence must not be negative",
        ));
    }
    let forward = first.is_some() || after.is_some() || after_sequence.is_some();
    let backward = last.is_some() || before.is_some();
    if forward && backward {
        return Err(AppError::bad_input(
            "last",
            "page forward (first, after, afterSequence) or backward (last, before), not both",
        ));
    }
    let size = DEFAULT_PAGE_SIZE as u64;
    Ok(if forward {
        Window::Forward {
            after: after.or(after_sequence).unwrap_or(0),
            first: first.unwrap_or(size),
        }
    } else {
        Window::Backward {
            before,
            last: last.unwrap_or(size),
        }
    })
}

#[derive(Default)]
pub struct ChatQuery;

#[Object]
impl ChatQuery {
    /// A booking's messages, oldest first. Cursors are sequence numbers; `afterSequence` returns
    /// everything after the last message a client saw. Without arguments, the newest 20.
    #[allow(clippy::too_many_arguments)]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        booking_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        after_sequence: Option<i64>,
    ) -> Result<Counted<Message>> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &booking_id, "bookingId")?;
        let window = window(first, after, last, before, after_sequence)?;
        let (conversation, page) = history::list(services(ctx), &viewer, uuid, window).await?;
        let context = MessageContext::new(&conversation);
        let db = services(ctx).db.clone();
        // `list` has checked the viewer may read this conversation.
        let total = TotalCount::new(move || {
            let db = db.clone();
            async move { history::count(&db, uuid).await }
        });
        let mut connection =
            Connection::with_additional_fields(page.has_previous, page.has_next, total);
        connection.edges.extend(page.items.into_iter().map(|row| {
            Edge::new(
                row.seq.to_string(),
                Message {
                    row,
                    context: context.clone(),
                },
            )
        }));
        Ok(connection)
    }

    /// A booking's conversation: whether it is open, its newest sequence and your unread count.
    async fn conversation(&self, ctx: &Context<'_>, booking_id: ID) -> Result<Conversation> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &booking_id, "bookingId")?;
        Ok(Conversation {
            record: conversation::conversation(services(ctx), &viewer, uuid).await?,
        })
    }

    /// Unread messages across all your bookings' conversations.
    async fn unread_message_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let viewer = viewer(ctx).await?;
        Ok(history::total_unread(&services(ctx).db, viewer.user_id).await?)
    }
}

#[derive(Default)]
pub struct ChatMutation;

#[Object]
impl ChatMutation {
    /// Posts to a booking's conversation. Staff posts are marked as such.
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        booking_id: ID,
        input: MessageInput,
    ) -> Result<Message> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &booking_id, "bookingId")?;
        let image = match &input.attachment {
            Some(upload) => Some(read_upload(ctx, upload, "attachment", MAX_IMAGE_BYTES).await?),
            None => None,
        };
        let message = NewMessage {
            kind: input.kind.into(),
            body: input.body,
            image,
            location: input.location.map(|l| l.parse("location")).transpose()?,
            client_message_id: input.client_message_id,
        };
        let (conversation, row) = messages::send(services(ctx), &viewer, uuid, message).await?;
        Ok(Message {
            row,
            context: MessageContext::new(&conversation),
        })
    }

    /// Marks every message up to and including `upToMessageId` as read by you.
    async fn mark_messages_read(
        &self,
        ctx: &Context<'_>,
        booking_id: ID,
        up_to_message_id: ID,
    ) -> Result<Conversation> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &booking_id, "bookingId")?;
        let message = ids::decode(Kind::Message, &up_to_message_id, "upToMessageId")?;
        Ok(Conversation {
            record: history::mark_read(services(ctx), &viewer, uuid, message).await?,
        })
    }

    /// Shows (or stops showing) that you are typing; lapses after 5 seconds unless renewed.
    async fn set_typing(&self, ctx: &Context<'_>, booking_id: ID, typing: bool) -> Result<bool> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &booking_id, "bookingId")?;
        Ok(messages::set_typing(services(ctx), &viewer, uuid, typing).await?)
    }
}

/// One subscriber's view of a conversation's topic.
struct ChatFeed {
    services: Services,
    viewer: Viewer,
    booking_id: Uuid,
    context: Arc<MessageContext>,
    is_participant: bool,
}

impl ChatFeed {
    async fn open(ctx: &Context<'_>, booking_id: &ID) -> Result<(ChatFeed, BusSubscription)> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, booking_id, "bookingId")?;
        let services = services(ctx).clone();
        let conversation = conversation::conversation(&services, &viewer, uuid).await?;
        let subscription = services.bus.subscribe(&Topic::Chat(uuid).key());
        let feed = ChatFeed {
            is_participant: conversation.viewer_is_participant(),
            context: MessageContext::new(&conversation),
            services,
            viewer,
            booking_id: uuid,
        };
        Ok((feed, subscription))
    }

    /// A message as this subscriber receives it.
    fn message(&self, row: crate::db::entities::message::Model) -> Message {
        Message {
            row,
            context: self.context.clone(),
        }
    }

    /// Receiving a message is its delivery to a participant; called only for messages that passed
    /// the access check, so someone who left the booking produces no receipts.
    fn receipt(&self) -> impl FnMut(&Message) + Send + 'static {
        let (services, recipient) = (self.services.clone(), self.viewer.user_id);
        let (booking_id, is_participant) = (self.booking_id, self.is_participant);
        move |message| {
            if is_participant && message.row.sender_id != Some(recipient) {
                services
                    .deliveries
                    .delivered(booking_id, recipient, message.row.seq);
            }
        }
    }

    /// Who watches which booking, for the per-event access check.
    fn right(&self) -> (Viewer, Uuid) {
        (self.viewer.clone(), self.booking_id)
    }
}

#[derive(Default)]
pub struct ChatSubscription;

#[Subscription]
impl ChatSubscription {
    /// New messages in a booking's conversation, for its participants and staff.
    async fn message_added(&self, ctx: &Context<'_>, booking_id: ID) -> Result<Live<Message>> {
        let (feed, subscription) = ChatFeed::open(ctx, &booking_id).await?;
        let ((viewer, booking), receipt) = (feed.right(), feed.receipt());
        let messages = subscription.filter_map(move |item| {
            let out = match item {
                SubscriptionItem::Message(bus) => match ChatBusEvent::from_bus(&bus).as_deref() {
                    Some(ChatBusEvent {
                        booking_version,
                        event: Event::MessageAdded { message },
                        ..
                    }) => Some(Ok(BookingEvent {
                        booking_version: *booking_version,
                        event: feed.message(message.as_ref().clone().into()),
                    })),
                    _ => None,
                },
                SubscriptionItem::Lagged { missed } => Some(Err(
                    crate::graphql::notifications::operations::lagged(missed),
                )),
            };
            std::future::ready(out)
        });
        Ok(Live::booking_with_receipt(
            ctx, viewer, booking, messages, receipt,
        ))
    }

    /// Everything happening in a booking's conversation: messages, receipts and typing. Typing
    /// lapses with a TypingStopped 5 seconds after its last renewal.
    async fn chat_events(&self, ctx: &Context<'_>, booking_id: ID) -> Result<Live<ChatEvent>> {
        let (feed, subscription) = ChatFeed::open(ctx, &booking_id).await?;
        let ((viewer, booking), mut receipt) = (feed.right(), feed.receipt());
        let state = (feed, subscription, HashMap::<Uuid, Instant>::new());
        let events = futures_util::stream::unfold(
            state,
            |(feed, mut subscription, mut typing)| async move {
                let event = next_event(&feed, &mut subscription, &mut typing).await?;
                Some((event, (feed, subscription, typing)))
            },
        );
        let receipt = move |event: &ChatEvent| {
            if let ChatEvent::MessageAdded(added) = event {
                receipt(&added.message);
            }
        };
        Ok(Live::booking_with_receipt(
            ctx, viewer, booking, events, receipt,
        ))
    }
}

/// Waits for the next event worth telling: a bus event, or a typing indicator lapsing (made here,
/// so it carries no booking version of its own).
async fn next_event(
    feed: &ChatFeed,
    subscription: &mut BusSubscription,
    typing: &mut HashMap<Uuid, Instant>,
) -> Option<Result<BookingEvent<ChatEvent>>> {
    loop {
        let lapse = typing
            .iter()
            .min_by_key(|(_, at)| **at)
            .map(|(u, at)| (*u, *at));
        let item = match lapse {
            Some((user, at)) => tokio::select! {
                item = subscription.next() => item,
                _ = tokio::time::sleep_until(at) => {
                    typing.remove(&user);
                    return Some(Ok(BookingEvent { booking_version: 0, event: stopped(user) }));
                }
            },
            None => subscription.next().await,
        };
        let bus = match item? {
            SubscriptionItem::Message(bus) => bus,
            SubscriptionItem::Lagged { missed } => {
                return Some(Err(crate::graphql::notifications::operations::lagged(
                    missed,
                )));
            }
        };
        let user_id = |u: Uuid| ids::encode(Kind::User, u);
        let Some(received) = ChatBusEvent::from_bus(&bus) else {
            continue;
        };
        let event = match &received.event {
            Event::MessageAdded { message } => {
                // A message ends its sender's typing; the message itself says so.
                if let Some(sender) = message.sender_id {
                    typing.remove(&sender);
                }
                ChatEvent::MessageAdded(MessageAddedEvent {
                    message: Box::new(feed.message(message.as_ref().clone().into())),
                })
            }
            Event::Delivered { user_id: u, up_to } => {
                ChatEvent::MessagesDelivered(MessagesDelivered {
                    user_id: user_id(*u),
                    up_to_sequence: *up_to,
                })
            }
            Event::Read { user_id: u, up_to } => ChatEvent::MessagesRead(MessagesRead {
                user_id: user_id(*u),
                up_to_sequence: *up_to,
            }),
            // Your own typing is not news to you.
            Event::Typing { user_id: u, .. } if *u == feed.viewer.user_id => continue,
            Event::Typing {
                user_id: u,
                typing: true,
            } => {
                typing.insert(*u, Instant::now() + TYPING_TTL);
                ChatEvent::TypingStarted(TypingStarted {
                    user_id: user_id(*u),
                    expires_at: feed.services.clock.now() + TYPING_TTL_DELTA,
                })
            }
            Event::Typing {
                user_id: u,
                typing: false,
            } => {
                if typing.remove(u).is_none() {
                    continue;
                }
                stopped(*u)
            }
        };
        return Some(Ok(BookingEvent {
            booking_version: received.booking_version,
            event,
        }));
    }
}

fn stopped(user: Uuid) -> ChatEvent {
    ChatEvent::TypingStopped(TypingStopped {
        user_id: ids::encode(Kind::User, user),
    })
}
