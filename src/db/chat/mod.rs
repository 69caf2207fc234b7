//! Chat's queries: messages and their numbering, history pages, receipts and unread counts.

pub mod history;
pub mod messages;
