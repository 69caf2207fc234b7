//! Real-time delivery: the event bus (in-process or Redis), typed topics and the transactional outbox relay.

pub mod bus;
pub mod hub;
pub mod outbox;
pub mod topics;

pub use bus::{BusMessage, EventBus, Subscription, SubscriptionItem};
pub use topics::Topic;
