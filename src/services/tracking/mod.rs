//! Tracking wing: a technician's live position on an active job.

pub mod positions;
