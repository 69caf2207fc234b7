//! Platform wing: infrastructure every wing shares — the clock, stored files, pagination, text checks,
//! retention and demo data.

pub mod clock;
pub mod demo;
pub mod pagination;
pub mod retention;
pub mod storage;
pub mod validation;
