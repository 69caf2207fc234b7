//! Notifications over GraphQL: listing, marking read and `notificationAdded`.

pub mod operations;
