//! Catalogue wing: the service categories customers book and technicians offer.

pub mod categories;
