//! Catalogue wing: the service categories customers book and technicians offer.

pub mod active;
pub mod categories;
