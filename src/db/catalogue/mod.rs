//! Catalogue wing's queries: service categories.

pub mod categories;
