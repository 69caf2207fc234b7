//! Matching wing: finding the best technicians near a job, from two in-memory indexes kept current by
//! events, with the categories, weights and blocks a search reads kept in memory the same way.

pub mod directory;
pub mod loading;
pub mod search;
pub mod search_cache;
pub mod spatial_index;
