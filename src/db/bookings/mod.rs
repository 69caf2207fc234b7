//! Bookings' queries: loading bookings, the state machine's writes, dispatch and offers, quotes,
//! rescheduling, disputes, timed transitions and dashboards.

pub mod access;
pub mod dashboards;
pub mod dispatch;
pub mod disputes;
pub mod flow;
pub mod quotes;
pub mod requests;
pub mod reschedule;
pub mod status_change;
pub mod timers;
