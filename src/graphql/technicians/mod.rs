//! Technicians over GraphQL: the catalogue, profiles, availability, working hours and KYC.

pub mod kyc;
pub mod operations;
pub mod types;
