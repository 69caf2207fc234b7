//! Technicians wing's queries: profiles, skills and certifications, timetables, blocks and KYC.

pub mod kyc;
pub mod profiles;
pub mod technician;
