//! Bookings wing: a job from request to verification — creation, access, the state machine at work
//! and what each move sets off, dispatch, quotes, rescheduling, disputes, timed transitions and
//! dashboards.

pub mod access;
pub mod dashboards;
pub mod dispatch;
pub mod disputes;
pub mod events;
pub mod flow;
pub mod live_access;
pub mod quotes;
pub mod requests;
pub mod reschedule;
pub mod status_change;
pub mod timers;
