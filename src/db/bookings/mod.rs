//! Bookings' queries: loading bookings, the state machine's writes, dispatch and offers, quotes,
//! rescheduling, disputes, timed transitions and dashboards.

pub mod access;
pub mod flow;
pub mod status_change;
