//! Accounts over GraphQL: sign-up, sign-in, sessions, profile, credentials and the guard on password-hashing fields.

pub mod operations;
pub mod password_guard;
pub mod person;
pub mod types;
