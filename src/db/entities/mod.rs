//! sea-orm entities, one per table; GraphQL types live in graphql/, not here.

pub mod address;
pub mod login_attempt;
pub mod notification;
pub mod one_time_code;
pub mod refresh_token;
pub mod session;
pub mod user;
