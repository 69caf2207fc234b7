//! Platform wing's queries: what the demo city writes beyond other wings' rows.

pub mod demo;
