//! Reviews' queries: the reviews and their windows, rating totals, votes, reports and moderation,
//! and the public lists.

pub mod aggregates;
pub mod feedback;
pub mod listing;
pub mod review;
pub mod windows;
