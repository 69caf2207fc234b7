//! Matching wing: finding the best technicians near a job, from two in-memory indexes kept current by events.

pub mod directory;
pub mod search;
pub mod spatial_index;
