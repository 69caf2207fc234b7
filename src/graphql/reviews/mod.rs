//! GraphQL for reviews: the review and what it shows to whom, writing, answering, voting on,
//! reporting and moderating reviews, and a technician's public list.

pub mod operations;
pub mod types;
