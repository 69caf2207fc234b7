//! Tracking's queries: a booking's head (its last accepted point), its stored trail and their purge.

pub mod positions;
