//! Matching over GraphQL: `matchTechnicians` and its weights.

pub mod operations;
