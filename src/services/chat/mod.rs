//! Chat wing: a booking's conversation — sending, history and delivery receipts.

pub mod delivery;
pub mod history;
pub mod messages;
