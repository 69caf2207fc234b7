//! Matching's queries: the technician facts the directory is loaded from, and the search's weights
//! and blocks.

pub mod directory;
pub mod search;
