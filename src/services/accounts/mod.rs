//! Accounts wing: who people are and how they prove it — registration, sessions and tokens, passwords,
//! two-factor, mailed codes, sealed secrets, and the limits on guessing.

pub mod account;
pub mod codes;
pub mod credentials;
pub mod passwords;
pub mod rate_limits;
pub mod session_cache;
pub mod sessions;
pub mod tokens;
pub mod totp;
pub mod vault;
pub mod viewer;
