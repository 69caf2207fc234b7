//! The money wing's queries: the ledger, payments, held earnings, invoices, withdrawals, payouts,
//! refunds, unmatched receipts and the providers' callbacks, over `&impl ConnectionTrait`.

pub mod holds;
pub mod invoices;
pub mod ledger;
pub mod mpesa_refunds;
pub mod payments;
pub mod payout_methods;
pub mod unmatched;
pub mod webhooks;
pub mod withdrawal_pins;
pub mod withdrawals;
