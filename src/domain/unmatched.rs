//! Unmatched receipts: money a provider says it collected that names no payment we can settle
//! (a late M-Pesa success after our prompt timed out, a charge for an unknown id). Their statuses,
//! which moves staff may make, what attaching one to a booking requires, and the ledger check that
//! the money held for them equals what is still open.

use super::booking_state::Status;
use super::money::Currency;
use super::payments::{Due, Method, PaymentKind, Refusal, refuse};
use std::collections::BTreeMap;

/// Which provider reported the money; the same names as the payment methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Mpesa,
    Stripe,
    Razorpay,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::Mpesa, Provider::Stripe, Provider::Razorpay];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Mpesa => "MPESA",
            Provider::Stripe => "STRIPE",
            Provider::Razorpay => "RAZORPAY",
        }
    }

    /// The payment method whose gateway moves this provider's money.
    pub fn method(self) -> Method {
        match self {
            Provider::Mpesa => Method::Mpesa,
            Provider::Stripe => Method::Stripe,
            Provider::Razorpay => Method::Razorpay,
        }
    }

    pub fn parse(raw: &str) -> Option<Provider> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }
}

/// Where a receipt is: OPEN until staff attach it to a booking or refund it; both are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptStatus {
    Open,
    Attached,
    Refunded,
}

impl ReceiptStatus {
    pub const ALL: [ReceiptStatus; 3] = [
        ReceiptStatus::Open,
        ReceiptStatus::Attached,
        ReceiptStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReceiptStatus::Open => "OPEN",
            ReceiptStatus::Attached => "ATTACHED",
            ReceiptStatus::Refunded => "REFUNDED",
        }
    }

    pub fn parse(raw: &str) -> Option<ReceiptStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Only an OPEN receipt moves, and only once: a resolved one is never reopened, so its money
    /// cannot be attached and refunded both.
    pub fn can_move_to(self, to: ReceiptStatus) -> bool {
        matches!(
            (self, to),
            (
                ReceiptStatus::Open,
                ReceiptStatus::Attached | ReceiptStatus::Refunded
            )
        )
    }
}

/// Why a receipt cannot make a move: it has already been resolved.
pub fn check_move(from: ReceiptStatus, to: ReceiptStatus) -> Result<(), Refusal> {
    if from.can_move_to(to) {
        Ok(())
    } else {
        Err(refuse(
            "receiptId",
            format!("this receipt is already {}", from.as_str()),
        ))
    }
}

/// The money a receipt holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptMoney {
    pub amount_minor: i64,
    pub currency: Currency,
}

/// What attaching a receipt to a booking makes of it: a payment of this kind. The booking must be
/// in the receipt's currency and owe exactly this money: the deposit while dispatch waits for it
/// (the whole deposit, since a part would start dispatch on less than was asked), or at most what
/// is still owed once the work is done. Anything else (a settled, cancelled or disputed booking,
/// more than is owed) the booking cannot take, and the receipt should be refunded instead.
pub fn attach_kind(
    status: ReceiptStatus,
    money: &ReceiptMoney,
    booking_currency: Currency,
    due: Due,
) -> Result<PaymentKind, Refusal> {
    check_move(status, ReceiptStatus::Attached)?;
    if money.amount_minor <= 0 {
        return Err(refuse("receiptId", "this receipt holds no money to attach"));
    }
    if money.currency != booking_currency {
        return Err(refuse(
            "bookingId",
            format!(
                "this booking is paid in {booking_currency}, the receipt is in {}",
                money.currency
            ),
        ));
    }
    if due.status == Status::Pending && due.deposit > 0 && !due.deposit_paid {
        return if money.amount_minor == due.deposit {
            Ok(PaymentKind::Deposit)
        } else {
            Err(refuse(
                "bookingId",
                format!(
                    "this booking waits for a deposit of {} minor units, not {}",
                    due.deposit, money.amount_minor
                ),
            ))
        };
    }
    if !matches!(
        due.status,
        Status::Completed | Status::Verified | Status::PaymentPending
    ) {
        return Err(refuse(
            "bookingId",
            format!(
                "a {} booking cannot take a payment now",
                due.status.as_str()
            ),
        ));
    }
    let owed = due.total - due.escrow;
    if owed <= 0 {
        return Err(refuse("bookingId", "nothing is owed on this booking"));
    }
    if money.amount_minor > owed {
        return Err(refuse(
            "bookingId",
            format!(
                "this booking owes {owed} minor units, less than the receipt's {}",
                money.amount_minor
            ),
        ));
    }
    Ok(PaymentKind::Balance)
}

/// Where the money held for unmatched receipts and the receipts still open disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedMismatch {
    pub currency: String,
    /// What the UNMATCHED_FUNDS account's postings sum to.
    pub held: i64,
    /// What the OPEN receipts add up to.
    pub open: i64,
}

/// The first currency (alphabetically) in which the UNMATCHED_FUNDS balance differs from the sum
/// of the OPEN receipts; a currency missing on one side counts as zero there.
pub fn first_mismatch(held: &[(String, i64)], open: &[(String, i64)]) -> Option<UnmatchedMismatch> {
    let mut sums: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for (currency, amount) in held {
        sums.entry(currency.as_str()).or_default().0 += amount;
    }
    for (currency, amount) in open {
        sums.entry(currency.as_str()).or_default().1 += amount;
    }
    sums.into_iter()
        .find(|(_, (h, o))| h != o)
        .map(|(currency, (held, open))| UnmatchedMismatch {
            currency: currency.to_string(),
            held,
            open,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_parse_to_none() {
        for s in ReceiptStatus::ALL {
            assert_eq!(ReceiptStatus::parse(s.as_str()), Some(s));
        }
        for p in Provider::ALL {
            assert_eq!(Provider::parse(p.as_str()), Some(p));
        }
        assert_eq!(ReceiptStatus::parse("open"), None);
        assert_eq!(Provider::parse("CASH"), None);
    }

    #[test]
    fn each_provider_refunds_through_the_method_of_the_same_name() {
        let cases = [
            (Provider::Mpesa, Method::Mpesa),
            (Provider::Stripe, Method::Stripe),
            (Provider::Razorpay, Method::Razorpay),
        ];
        for (provider, method) in cases {
            assert_eq!(provider.method(), method);
            assert_eq!(provider.as_str(), method.as_str());
        }
    }

    #[test]
    fn only_open_receipts_move_and_only_to_a_final_status() {
        use ReceiptStatus::*;
        let allowed = [(Open, Attached), (Open, Refunded)];
        for from in ReceiptStatus::ALL {
            for to in ReceiptStatus::ALL {
                assert_eq!(
                    from.can_move_to(to),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
                assert_eq!(check_move(from, to).is_ok(), allowed.contains(&(from, to)));
            }
        }
        assert_eq!(
            check_move(Attached, Refunded).unwrap_err().field,
            "receiptId"
        );
    }

    fn due(status: Status, escrow: i64, deposit_paid: bool) -> Due {
        Due {
            status,
            total: 10_000,
            deposit: 2_000,
            escrow,
            deposit_paid,
        }
    }

    fn kes(amount_minor: i64) -> ReceiptMoney {
        ReceiptMoney {
            amount_minor,
            currency: Currency::KES,
        }
    }

    #[test]
    fn attach_table() {
        use ReceiptStatus::*;
        // (case, status, receipt, booking currency, due, Ok(kind) or Err(field))
        type Case = (
            &'static str,
            ReceiptStatus,
            ReceiptMoney,
            &'static str,
            Due,
            Result<PaymentKind, &'static str>,
        );
        let cases: Vec<Case> = vec![
            (
                "the deposit a pending booking waits for",
                Open,
                kes(2_000),
                "KES",
                due(Status::Pending, 0, false),
                Ok(PaymentKind::Deposit),
            ),
            (
                "part of a deposit",
                Open,
                kes(1_000),
                "KES",
                due(Status::Pending, 0, false),
                Err("bookingId"),
            ),
            (
                "the whole balance",
                Open,
                kes(8_000),
                "KES",
                due(Status::PaymentPending, 2_000, true),
                Ok(PaymentKind::Balance),
            ),
            (
                "part of the balance",
                Open,
                kes(500),
                "KES",
                due(Status::Completed, 2_000, true),
                Ok(PaymentKind::Balance),
            ),
            (
                "more than is owed",
                Open,
                kes(8_001),
                "KES",
                due(Status::Verified, 2_000, true),
                Err("bookingId"),
            ),
            (
                "nothing owed",
                Open,
                kes(1),
                "KES",
                due(Status::PaymentPending, 10_000, true),
                Err("bookingId"),
            ),
            (
                "a paid booking",
                Open,
                kes(100),
                "KES",
                due(Status::Paid, 0, true),
                Err("bookingId"),
            ),
            (
                "a cancelled booking",
                Open,
                kes(2_000),
                "KES",
                due(Status::Cancelled, 0, false),
                Err("bookingId"),
            ),
            (
                "a job under way",
                Open,
                kes(100),
                "KES",
                due(Status::InProgress, 2_000, true),
                Err("bookingId"),
            ),
            (
                "another currency",
                Open,
                kes(2_000),
                "INR",
                due(Status::Pending, 0, false),
                Err("bookingId"),
            ),
            (
                "currency case does not matter",
                Open,
                kes(2_000),
                "kes",
                due(Status::Pending, 0, false),
                Ok(PaymentKind::Deposit),
            ),
            (
                "no money",
                Open,
                kes(0),
                "KES",
                due(Status::Pending, 0, false),
                Err("receiptId"),
            ),
            (
                "already attached",
                Attached,
                kes(2_000),
                "KES",
                due(Status::Pending, 0, false),
                Err("receiptId"),
            ),
            (
                "already refunded",
                Refunded,
                kes(2_000),
                "KES",
                due(Status::Pending, 0, false),
                Err("receiptId"),
            ),
        ];
        for (name, status, money, currency, due, expected) in cases {
            let currency = Currency::parse(currency).unwrap();
            let got = attach_kind(status, &money, currency, due).map_err(|r| r.field);
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn mismatch_table() {
        let s = |c: &str, a: i64| (c.to_string(), a);
        type Case = (
            &'static str,
            Vec<(String, i64)>,
            Vec<(String, i64)>,
            Option<(&'static str, i64, i64)>,
        );
        let cases: Vec<Case> = vec![
            ("nothing anywhere", vec![], vec![], None),
            (
                "equal",
                vec![s("KES", 500)],
                vec![s("KES", 200), s("KES", 300)],
                None,
            ),
            (
                "an empty account and no open receipt",
                vec![s("KES", 0)],
                vec![],
                None,
            ),
            (
                "held but not open",
                vec![s("KES", 500)],
                vec![],
                Some(("KES", 500, 0)),
            ),
            (
                "open but not held",
                vec![],
                vec![s("USD", 7)],
                Some(("USD", 0, 7)),
            ),
            (
                "first currency by name",
                vec![s("USD", 1), s("KES", 2)],
                vec![s("USD", 2), s("KES", 3)],
                Some(("KES", 2, 3)),
            ),
        ];
        for (name, held, open, expected) in cases {
            let got = first_mismatch(&held, &open);
            let expected = expected.map(|(c, h, o)| UnmatchedMismatch {
                currency: c.into(),
                held: h,
                open: o,
            });
            assert_eq!(got, expected, "{name}");
        }
    }
}
