//! Real-time delivery: the event bus (in-process or Redis), typed topics and the transactional outbox relay.

pub mod bus;
pub mod hub;
pub mod message;
pub mod outbox;
pub mod topics;

pub use bus::{EventBus, SharedSwap, Subscription, SubscriptionItem};
pub use message::BusMessage;
pub use topics::Topic;
