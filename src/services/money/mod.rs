//! Money wing: escrow and the double-entry ledger — payments in, settlement, held earnings, refunds,
//! invoices, earnings, withdrawals and payouts, and the providers' callbacks.

pub mod earnings;
pub mod holds;
pub mod invoice_pdf;
pub mod invoices;
pub mod ledger;
pub mod mpesa_checks;
pub mod mpesa_refunds;
pub mod payments;
pub mod payout_checks;
pub mod payout_methods;
pub mod providers;
pub mod razorpay;
pub mod refunds;
pub mod settlement;
pub mod unmatched;
pub mod webhooks;
pub mod withdrawal_pins;
pub mod withdrawals;
