//! Chat wing: a booking's conversation — who takes part, sending, history and delivery receipts.

pub mod conversation;
pub mod delivery;
pub mod events;
pub mod history;
pub mod messages;
