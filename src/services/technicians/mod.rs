//! Technicians wing: a technician's profile, skills, availability and identity checks (KYC).

pub mod kyc;
pub mod profiles;
pub mod technician;
