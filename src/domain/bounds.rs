//! Outer bounds on amounts and dates a person could mean: at most a fixed number of major units per
//! currency, and no date more than a year ahead.

use super::money::Currency;
use chrono::{DateTime, Duration, Utc};

/// How far ahead anything may be booked, quoted or searched for.
pub const MAX_DAYS_AHEAD: i64 = 366;

/// The largest amount accepted, in major units of each currency: far beyond any home-service job or
/// payout, far below what overflows arithmetic on minor units. Currencies with many units to the
/// dollar get more; an unlisted currency gets the default.
pub fn max_major_units(currency: Currency) -> i64 {
    match currency.code() {
        "USD" | "EUR" | "GBP" | "CHF" | "CAD" | "AUD" | "KWD" | "BHD" | "OMR" | "JOD" => 1_000_000,
        "KES" | "INR" | "ZAR" | "NGN" | "GHS" | "EGP" => 100_000_000,
        "UGX" | "TZS" | "RWF" | "BIF" | "VND" | "IDR" | "GNF" | "PYG" | "XAF" | "XOF" => {
            10_000_000_000
        }
        _ => 100_000_000,
    }
}

/// The largest amount accepted, in minor units.
pub fn max_minor(currency: Currency) -> i64 {
    max_major_units(currency).saturating_mul(10i64.pow(currency.minor_digits()))
}

/// Why an amount or date was refused; the message finishes "<field> ...".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutOfBounds {
    AmountTooLarge { max_minor: i64 },
    AmountNegative,
    TooFarAhead,
}

impl OutOfBounds {
    pub fn message(&self) -> String {
        match self {
            OutOfBounds::AmountTooLarge { max_minor } => {
                format!("is too large; at most {max_minor} minor units")
            }
            OutOfBounds::AmountNegative => "cannot be negative".into(),
            OutOfBounds::TooFarAhead => {
                format!("must be at most {MAX_DAYS_AHEAD} days ahead")
            }
        }
    }
}

/// An amount a client names, checked against its currency's bound (negative amounts never make sense
/// as input).
pub fn check_amount(amount_minor: i64, currency: Currency) -> Result<(), OutOfBounds> {
    if amount_minor < 0 {
        return Err(OutOfBounds::AmountNegative);
    }
    let max_minor = max_minor(currency);
    if amount_minor > max_minor {
        return Err(OutOfBounds::AmountTooLarge { max_minor });
    }
    Ok(())
}

/// A date a client names for the future: no more than `MAX_DAYS_AHEAD` days after `now`.
pub fn check_not_too_far(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), OutOfBounds> {
    if at > now + Duration::days(MAX_DAYS_AHEAD) {
        return Err(OutOfBounds::TooFarAhead);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_bounded_per_currency() {
        let cases = [
            (0, "KES", true),
            (10_000_000_000, "KES", true),
            (10_000_000_001, "KES", false),
            (100_000_000, "USD", true),
            (100_000_001, "USD", false),
            (10_000_000_000, "UGX", true),
            (1_000_000_000, "KWD", true),
            (1_000_000_001, "KWD", false),
            (i64::MAX, "KES", false),
            (i64::MAX, "CHF", false),
            (100_000_000, "CHF", true),
            (100_000_001, "CHF", false),
            (10_000_000_000, "MXN", true),
            (10_000_000_001, "MXN", false),
            (-1, "KES", false),
        ];
        for (amount, currency, ok) in cases {
            let currency = Currency::parse(currency).unwrap();
            assert_eq!(
                check_amount(amount, currency).is_ok(),
                ok,
                "{amount} {currency}"
            );
        }
    }

    #[test]
    fn dates_are_at_most_a_year_ahead() {
        let now = DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(check_not_too_far(now + Duration::days(MAX_DAYS_AHEAD), now).is_ok());
        assert!(check_not_too_far(now + Duration::days(MAX_DAYS_AHEAD + 1), now).is_err());
        let far = DateTime::parse_from_rfc3339("9999-12-31T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(check_not_too_far(far, now), Err(OutOfBounds::TooFarAhead));
    }
}
