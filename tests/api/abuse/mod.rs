//! Abuse resistance: request-size amplification, password-hashing cost, throttles that hold under races,
//! and inputs outside what a person could mean.

mod bounds;
mod login_race;
mod password_costs;
mod signups;
mod text_inputs;
mod totp_at_rest;
mod uploads;
