//! Reviews wing: each side of a finished job reviews the other once, double-blind until both have
//! written or the window closes; published reviews move the technician's rating totals in the same
//! transaction; responses, helpful votes, reports and staff moderation.

pub mod access;
pub mod feedback;
pub mod listing;
pub mod moderation;
pub mod publication;
pub mod ratings;
pub mod submit;
pub mod windows;
