//! Bookings over GraphQL: requests, the state machine, offers, quotes, rescheduling, disputes and dashboards.

pub mod extras;
pub mod extras_operations;
pub mod operations;
pub mod types;
