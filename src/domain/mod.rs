//! Pure business rules: no I/O, no database, GraphQL or runtime imports; time and money are arguments.

pub mod account;
pub mod badges;
pub mod booking_state;
pub mod bounds;
pub mod cancellation;
pub mod chat;
pub mod client_address;
pub mod earnings;
pub mod geo;
pub mod invoices;
pub mod ledger;
pub mod matching;
pub mod money;
pub mod notifications;
pub mod payments;
pub mod payouts;
pub mod pricing;
pub mod refusal;
pub mod schedule;
pub mod service_request;
pub mod technician;
pub mod text;
pub mod tracking;
pub mod unmatched;
pub mod whole;
