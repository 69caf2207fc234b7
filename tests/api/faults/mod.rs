//! Fault tolerance: the server killed at random points of money flows and restarted, PostgreSQL and
//! Redis failing under load, and SIGTERM with requests and WebSockets open.

mod child;
mod client;
mod crash_replay;
mod database_restart;
mod graceful_shutdown;
mod invariants;
mod link;
mod redis_outage;
