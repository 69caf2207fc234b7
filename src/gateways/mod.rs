//! Outside services behind traits, each with a local provider for development and tests.

pub mod http;
pub mod mail;
pub mod mpesa;
pub mod mpesa_b2c;
pub mod payments;
pub mod payouts;
pub mod razorpay;
pub mod stripe;
