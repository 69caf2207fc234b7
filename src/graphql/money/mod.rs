//! Money over GraphQL: payments, invoices, the ledger, earnings, payout methods and withdrawals.

pub mod earnings;
pub mod invoices;
pub mod ledger;
pub mod payments;
pub mod withdrawals;
