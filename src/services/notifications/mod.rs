//! Notifications wing: telling people what changed.

pub mod in_app;
