//! Tracking over GraphQL: sharing a position and watching it live.

pub mod operations;
