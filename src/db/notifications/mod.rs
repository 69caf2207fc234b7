//! Notifications wing's queries: the in-app notifications table.

pub mod in_app;
