//! Bookings wing: a job from request to verification — creation, access, the state machine at work,
//! dispatch, quotes, rescheduling, disputes, timed transitions and dashboards.

pub mod dashboards;
pub mod dispatch;
pub mod disputes;
pub mod flow;
pub mod live_access;
pub mod quotes;
pub mod requests;
pub mod reschedule;
pub mod timers;
