//! Money over GraphQL: payments, invoices, the ledger, earnings, payout methods, withdrawals and
//! unmatched receipts.

pub mod earnings;
pub mod invoices;
pub mod ledger;
pub mod payments;
pub mod unmatched_receipts;
pub mod withdrawals;
