//! Payment rules: what each kind of payment is for, when it may be made, how much is due, and how
//! the money a cancellation keeps and returns is divided.

use super::booking_state::Status;
use super::money::Currency;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentKind {
    /// A share of the estimated total, due before dispatch starts.
    Deposit,
    /// What is still owed once the work is done.
    Balance,
    /// Any amount after completion, all of it for the technician.
    Tip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Sandbox,
    Cash,
    Mpesa,
    Stripe,
    Razorpay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Initiated,
    Pending,
    Succeeded,
    Failed,
    Refunded,
    PartiallyRefunded,
}

/// Where an M-Pesa refund is on its way back to the phone that paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundTransferStatus {
    /// Booked, waiting for the worker to send it.
    Pending,
    /// Sent to Daraja; its result has not come yet.
    Processing,
    Completed,
    /// M-Pesa refused it; staff send it by hand.
    Failed,
}

/// Whose signed events a webhook record dedupes. Stored in lower case, as they always were, unlike
/// the upper-case names of payment methods and receipt providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookProvider {
    Stripe,
    Razorpay,
}

macro_rules! names {
    ($ty:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $name),+ }
            }

            pub fn parse(name: &str) -> Option<$ty> {
                Self::ALL.iter().copied().find(|v| v.as_str() == name)
            }
        }
    };
}

names!(PaymentKind { Deposit => "DEPOSIT", Balance => "BALANCE", Tip => "TIP" });
names!(Method { Sandbox => "SANDBOX", Cash => "CASH", Mpesa => "MPESA", Stripe => "STRIPE", Razorpay => "RAZORPAY" });
names!(PaymentStatus {
    Initiated => "INITIATED",
    Pending => "PENDING",
    Succeeded => "SUCCEEDED",
    Failed => "FAILED",
    Refunded => "REFUNDED",
    PartiallyRefunded => "PARTIALLY_REFUNDED",
});
names!(RefundTransferStatus {
    Pending => "PENDING",
    Processing => "PROCESSING",
    Completed => "COMPLETED",
    Failed => "FAILED",
});
names!(WebhookProvider { Stripe => "stripe", Razorpay => "razorpay" });

pub use super::refusal::{Refusal, refuse};

/// Largest tip accepted, in minor units: a typo guard, not a policy.
pub const MAX_TIP_MINOR: i64 = 100_000_000;

/// What the booking looks like to a payment: its state and the money already held for it.
#[derive(Debug, Clone, Copy)]
pub struct Due {
    pub status: Status,
    pub total: i64,
    pub deposit: i64,
    /// What escrow holds for the booking now.
    pub escrow: i64,
    /// Whether a deposit has already succeeded.
    pub deposit_paid: bool,
}

/// The amount the server charges for a payment of `kind`; the client names an amount only for tips.
pub fn amount_due(kind: PaymentKind, due: Due, tip: Option<i64>) -> Result<i64, Refusal> {
    if kind != PaymentKind::Tip && tip.is_some() {
        return Err(refuse(
            "amount",
            "the server computes this amount; send amount only with a TIP",
        ));
    }
    match kind {
        PaymentKind::Deposit => {
            if due.deposit <= 0 {
                Err(refuse("kind", "no deposit is required on this booking"))
            } else if due.deposit_paid {
                Err(refuse("kind", "the deposit is already paid"))
            } else if due.status != Status::Pending {
                Err(refuse("kind", "a deposit is paid before dispatch starts"))
            } else {
                Ok(due.deposit)
            }
        }
        PaymentKind::Balance => {
            if !matches!(
                due.status,
                Status::Completed | Status::Verified | Status::PaymentPending
            ) {
                return Err(refuse(
                    "kind",
                    "the balance is due once the work is completed",
                ));
            }
            let owed = due.total - due.escrow;
            if owed <= 0 {
                Err(refuse("kind", "nothing is owed on this booking"))
            } else {
                Ok(owed)
            }
        }
        PaymentKind::Tip => {
            if !matches!(
                due.status,
                Status::Completed | Status::Verified | Status::PaymentPending | Status::Paid
            ) {
                return Err(refuse("kind", "tips are given after the work is completed"));
            }
            match tip {
                None => Err(refuse("amount", "a TIP needs an amount")),
                Some(a) if a <= 0 => Err(refuse("amount", "a tip must be more than zero")),
                Some(a) if a > MAX_TIP_MINOR => Err(refuse("amount", "this tip is too large")),
                Some(a) => Ok(a),
            }
        }
    }
}

/// What the customer owes at this moment: the deposit while dispatch waits for it, the rest of the
/// total once the work is done, otherwise nothing.
pub fn outstanding(due: Due) -> i64 {
    [PaymentKind::Deposit, PaymentKind::Balance]
        .into_iter()
        .find_map(|kind| amount_due(kind, due, None).ok())
        .unwrap_or(0)
}

/// Cash changes hands at the job, so it pays what is owed there: the balance or a tip.
pub fn method_allowed(method: Method, kind: PaymentKind) -> Result<(), Refusal> {
    if method == Method::Cash && kind == PaymentKind::Deposit {
        return Err(refuse("method", "a deposit cannot be paid in cash"));
    }
    Ok(())
}

/// The sandbox's deterministic answer: amounts ending in 13 minor units fail, everything else succeeds.
pub fn sandbox_succeeds(amount_minor: i64) -> bool {
    amount_minor % 100 != 13
}

/// How a cancellation divides what escrow holds: the fee kept (never more than is held) and the
/// refund of the rest.
pub fn cancellation_split(fee: i64, escrow: i64) -> (i64, i64) {
    let kept = fee.clamp(0, escrow.max(0));
    (kept, escrow.max(0) - kept)
}

/// The Safaricom number an M-Pesa prompt goes to: Kenyan E.164, +2547 or +2541 and eight more digits,
/// spaces allowed, returned without them. Other forms (07..., 2547...) are refused rather than
/// guessed at, so the number the customer sees back is the one that was charged.
pub fn mpesa_phone(raw: Option<&str>) -> Result<String, Refusal> {
    let Some(raw) = raw else {
        return Err(refuse("phone", "M-Pesa needs the phone number to prompt"));
    };
    let phone: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let valid = phone.len() == 13
        && (phone.starts_with("+2547") || phone.starts_with("+2541"))
        && phone[1..].chars().all(|c| c.is_ascii_digit());
    if valid {
        Ok(phone)
    } else {
        Err(refuse(
            "phone",
            "expected a Kenyan mobile number such as +254712345678",
        ))
    }
}

/// The whole shillings M-Pesa charges for `amount_minor` cents. M-Pesa takes whole shillings only;
/// rounding up would charge more than escrow records, so an amount with cents is refused instead.
pub fn mpesa_shillings(amount_minor: i64, currency: Currency) -> Result<i64, Refusal> {
    if currency != Currency::KES {
        return Err(refuse("method", "M-Pesa takes Kenyan shillings (KES) only"));
    }
    if amount_minor <= 0 || amount_minor % 100 != 0 {
        return Err(refuse(
            "amount",
            "M-Pesa takes whole shillings; this amount has cents, so pay it another way",
        ));
    }
    Ok(amount_minor / 100)
}

/// The tax inside `amount` when only part of a job's `total` (which includes `tax`) is paid out:
/// the same proportion, rounded down so the tax never exceeds what the price carried.
pub fn tax_share(tax: i64, total: i64, amount: i64) -> i64 {
    if total <= 0 {
        return 0;
    }
    // Never above `tax` while `amount <= total`; past that, saturating beats wrapping.
    saturate(i128::from(tax) * i128::from(amount) / i128::from(total))
}

/// `percent` of `amount`, rounded down: a customer's share of a split dispute.
pub fn percent_of(amount: i64, percent: i64) -> i64 {
    // Never above `amount` while `percent <= 100`; past that, saturating beats wrapping.
    saturate(i128::from(amount) * i128::from(percent) / 100)
}

fn saturate(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(status: Status, escrow: i64, deposit_paid: bool) -> Due {
        Due {
            status,
            total: 100_000,
            deposit: 20_000,
            escrow,
            deposit_paid,
        }
    }

    #[test]
    fn amounts_follow_the_kind_and_the_booking() {
        use PaymentKind::*;
        type Case = (PaymentKind, Due, Option<i64>, Result<i64, &'static str>);
        let cases: Vec<Case> = vec![
            (Deposit, due(Status::Pending, 0, false), None, Ok(20_000)),
            (
                Deposit,
                due(Status::Pending, 20_000, true),
                None,
                Err("kind"),
            ),
            (Deposit, due(Status::Assigned, 0, false), None, Err("kind")),
            (
                Deposit,
                due(Status::Pending, 0, false),
                Some(5),
                Err("amount"),
            ),
            (
                Balance,
                due(Status::Completed, 20_000, true),
                None,
                Ok(80_000),
            ),
            (
                Balance,
                due(Status::PaymentPending, 0, false),
                None,
                Ok(100_000),
            ),
            (
                Balance,
                due(Status::Verified, 100_000, true),
                None,
                Err("kind"),
            ),
            (
                Balance,
                due(Status::InProgress, 20_000, true),
                None,
                Err("kind"),
            ),
            (Tip, due(Status::Paid, 0, true), Some(5_000), Ok(5_000)),
            (Tip, due(Status::Completed, 0, true), None, Err("amount")),
            (Tip, due(Status::Completed, 0, true), Some(0), Err("amount")),
            (
                Tip,
                due(Status::Completed, 0, true),
                Some(MAX_TIP_MINOR + 1),
                Err("amount"),
            ),
            (Tip, due(Status::EnRoute, 0, true), Some(5_000), Err("kind")),
        ];
        for (kind, d, tip, expected) in cases {
            let got = amount_due(kind, d, tip).map_err(|r| r.field);
            assert_eq!(got, expected, "{kind:?} {:?} {tip:?}", d.status);
        }
        let no_deposit = Due {
            deposit: 0,
            ..due(Status::Pending, 0, false)
        };
        assert_eq!(
            amount_due(Deposit, no_deposit, None).map_err(|r| r.field),
            Err("kind")
        );
    }

    #[test]
    fn outstanding_is_the_deposit_then_the_balance() {
        assert_eq!(outstanding(due(Status::Pending, 0, false)), 20_000);
        assert_eq!(outstanding(due(Status::Assigned, 20_000, true)), 0);
        assert_eq!(outstanding(due(Status::Completed, 20_000, true)), 80_000);
        assert_eq!(outstanding(due(Status::Paid, 0, true)), 0);
    }

    #[test]
    fn partial_payouts_carry_their_share_of_tax_and_splits_round_down() {
        let cases = [
            // (tax, total, amount, expected tax)
            (16_000, 116_000, 116_000, 16_000),
            (16_000, 116_000, 58_000, 8_000),
            (16_000, 116_000, 1, 0),
            (0, 100_000, 20_000, 0),
            (5, 0, 10, 0),
        ];
        for (tax, total, amount, expected) in cases {
            assert_eq!(
                tax_share(tax, total, amount),
                expected,
                "{tax} {total} {amount}"
            );
        }
        assert_eq!(percent_of(100_001, 30), 30_000);
        assert_eq!(percent_of(100_000, 100), 100_000);
        assert_eq!(percent_of(100_000, 0), 0);
    }

    #[test]
    fn the_sandbox_fails_amounts_ending_in_13() {
        for (amount, ok) in [
            (10_000, true),
            (10_013, false),
            (13, false),
            (113, false),
            (130, true),
        ] {
            assert_eq!(sandbox_succeeds(amount), ok, "{amount}");
        }
    }

    #[test]
    fn a_cancellation_keeps_at_most_what_escrow_holds() {
        let cases = [
            ((0, 20_000), (0, 20_000)),
            ((15_000, 20_000), (15_000, 5_000)),
            ((75_000, 20_000), (20_000, 0)),
            ((5_000, 0), (0, 0)),
        ];
        for ((fee, escrow), expected) in cases {
            assert_eq!(cancellation_split(fee, escrow), expected, "{fee} {escrow}");
        }
    }

    #[test]
    fn names_round_trip() {
        for k in PaymentKind::ALL {
            assert_eq!(PaymentKind::parse(k.as_str()), Some(*k));
        }
        for m in Method::ALL {
            assert_eq!(Method::parse(m.as_str()), Some(*m));
        }
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(*s));
        }
        for s in RefundTransferStatus::ALL {
            assert_eq!(RefundTransferStatus::parse(s.as_str()), Some(*s));
        }
        for p in WebhookProvider::ALL {
            assert_eq!(WebhookProvider::parse(p.as_str()), Some(*p));
        }
        assert_eq!(PaymentStatus::parse("succeeded"), None);
        assert_eq!(RefundTransferStatus::parse("CANCELLED"), None);
        assert_eq!(WebhookProvider::parse("STRIPE"), None);
        assert!(method_allowed(Method::Cash, PaymentKind::Deposit).is_err());
        assert!(method_allowed(Method::Cash, PaymentKind::Balance).is_ok());
    }

    #[test]
    fn mpesa_phones_must_be_kenyan_mobile_numbers() {
        for (raw, expected) in [
            (Some("+254712345678"), Ok("+254712345678")),
            (Some("+254 712 345 678"), Ok("+254712345678")),
            (Some("+254112345678"), Ok("+254112345678")),
            (Some("0712345678"), Err(())),
            (Some("254712345678"), Err(())),
            (Some("+254212345678"), Err(())),
            (Some("+25471234567"), Err(())),
            (Some("+2547123456789"), Err(())),
            (Some("+25471234567a"), Err(())),
            (Some("+15551234567"), Err(())),
            (Some(""), Err(())),
            (None, Err(())),
        ] {
            let got = mpesa_phone(raw);
            match expected {
                Ok(phone) => assert_eq!(got.as_deref(), Ok(phone), "{raw:?}"),
                Err(()) => assert_eq!(got.unwrap_err().field, "phone", "{raw:?}"),
            }
        }
    }

    #[test]
    fn mpesa_charges_whole_shillings_only() {
        assert_eq!(mpesa_shillings(150_000, Currency::KES), Ok(1_500));
        assert_eq!(
            mpesa_shillings(150_050, Currency::KES).unwrap_err().field,
            "amount"
        );
        assert_eq!(
            mpesa_shillings(0, Currency::KES).unwrap_err().field,
            "amount"
        );
        assert_eq!(
            mpesa_shillings(150_000, Currency::parse("USD").unwrap())
                .unwrap_err()
                .field,
            "method"
        );
    }
}
