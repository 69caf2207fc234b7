//! Chat over GraphQL: messages, conversations, receipts, typing and chat events.

pub mod operations;
pub mod types;
