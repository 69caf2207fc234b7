//! Money wing: escrow and the double-entry ledger — payments in, settlement, refunds, invoices,
//! earnings, withdrawals and payouts, and the providers' callbacks.

pub mod earnings;
pub mod invoice_pdf;
pub mod invoices;
pub mod ledger;
pub mod mpesa_checks;
pub mod mpesa_refunds;
pub mod payments;
pub mod payout_checks;
pub mod payout_methods;
pub mod razorpay;
pub mod settlement;
pub mod unmatched;
pub mod webhooks;
pub mod withdrawal_pins;
pub mod withdrawals;
