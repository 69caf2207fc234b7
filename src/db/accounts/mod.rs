//! Accounts wing's queries: users and their addresses and sign-in attempts, sessions and refresh
//! tokens, one-time codes, two-factor secrets and the viewer's session check.

pub mod account;
pub mod codes;
pub mod credentials;
pub mod sessions;
pub mod totp;
pub mod viewer;
