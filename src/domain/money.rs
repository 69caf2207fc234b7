//! Money: integer minor units with an ISO 4217 currency, and display formatting by each currency's convention.
//!
//! Which codes exist and how many minor digits each has come from the `iso_currency` crate, which
//! follows the ISO 4217 maintenance agency's list; only the display symbols are ours.

use std::fmt;

/// A currency money can be held in: an ISO 4217 code with minor units (not a fund, metal or test code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    iso: iso_currency::Currency,
    minor_digits: u16,
}

/// Why a currency code is refused; the message finishes "<field> ...".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CurrencyProblem {
    /// Not three letters at all.
    Malformed,
    /// Three letters ISO 4217 does not list.
    Unknown(String),
    /// Listed, but not money one can pay in (gold, special drawing rights, the test code).
    NotMoney(String),
}

impl CurrencyProblem {
    pub fn message(&self) -> String {
        match self {
            CurrencyProblem::Malformed => "must be a three-letter ISO 4217 code".into(),
            CurrencyProblem::Unknown(code) => format!("{code} is not an ISO 4217 currency code"),
            CurrencyProblem::NotMoney(code) => format!("{code} is not a currency payments can use"),
        }
    }
}

impl Currency {
    /// Kenyan shillings: the marketplace's home currency, used where nothing else names one.
    pub const KES: Currency = Currency {
        iso: iso_currency::Currency::KES,
        minor_digits: 2,
    };

    /// Reads a code as clients send it: surrounding spaces and letter case do not matter.
    pub fn parse(code: &str) -> Result<Currency, CurrencyProblem> {
        let code = code.trim().to_ascii_uppercase();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(CurrencyProblem::Malformed);
        }
        let iso = iso_currency::Currency::from_code(&code)
            .ok_or_else(|| CurrencyProblem::Unknown(code.clone()))?;
        match iso.exponent() {
            Some(minor_digits) if !iso.is_special() => Ok(Currency { iso, minor_digits }),
            _ => Err(CurrencyProblem::NotMoney(code)),
        }
    }

    /// The three-letter code, as stored and as clients see it.
    pub fn code(self) -> &'static str {
        self.iso.code()
    }

    /// How many minor units make one major unit, as a power of ten (2 for KES, 0 for UGX, 3 for KWD).
    pub fn minor_digits(self) -> u32 {
        u32::from(self.minor_digits)
    }
}

/// Currencies order by their codes, as people list them.
impl Ord for Currency {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.code().cmp(other.code())
    }
}

impl PartialOrd for Currency {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount in integer minor units of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount_minor: i64, currency: Currency) -> Money {
        Money {
            amount_minor,
            currency,
        }
    }

    /// For people, by the currency's convention: `KSh 1,234.00`, `₹1,23,456.00`, `$12.50`,
    /// `-$3.00`; a currency without a symbol of ours gets its code as prefix.
    pub fn format(self) -> String {
        format_in(
            self.amount_minor,
            self.currency.code(),
            self.currency.minor_digits(),
        )
    }
}

fn symbol(currency: &str) -> Option<&'static str> {
    Some(match currency {
        "KES" => "KSh ",
        "INR" => "₹",
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "NGN" => "₦",
        "TZS" => "TSh ",
        "UGX" => "USh ",
        "ZAR" => "R ",
        _ => return None,
    })
}

/// Groups an integer's digits: threes everywhere, except INR's lakh/crore style (12,34,567).
fn group(digits: &str, indian: bool) -> String {
    let len = digits.len();
    let mut out = String::with_capacity(len + len / 2);
    for (i, c) in digits.chars().enumerate() {
        let left = len - i;
        let boundary = if indian {
            left > 3 && (left - 3).is_multiple_of(2) || left == 3
        } else {
            left.is_multiple_of(3)
        };
        if i > 0 && boundary {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats minor units for people (see [`Money::format`]); INR groups its digits the Indian way.
fn format_in(amount_minor: i64, currency: &str, digits: u32) -> String {
    let scale = 10u64.pow(digits);
    let magnitude = amount_minor.unsigned_abs();
    let (whole, fraction) = (magnitude / scale, magnitude % scale);
    let grouped = group(&whole.to_string(), currency == "INR");
    let number = if digits == 0 {
        grouped
    } else {
        format!("{grouped}.{fraction:0width$}", width = digits as usize)
    };
    let prefix = symbol(currency)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{currency} "));
    let sign = if amount_minor < 0 { "-" } else { "" };
    format!("{sign}{prefix}{number}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_format_by_their_convention() {
        let cases = [
            (12_345_600, "INR", "₹1,23,456.00"),
            (1_000_000_000, "INR", "₹1,00,00,000.00"),
            (99_900, "INR", "₹999.00"),
            (-12_345_600, "INR", "-₹1,23,456.00"),
            (100_000, "INR", "₹1,000.00"),
            (5, "INR", "₹0.05"),
            (123_400, "KES", "KSh 1,234.00"),
            (123_456_789, "KES", "KSh 1,234,567.89"),
            (-50, "KES", "-KSh 0.50"),
            (1_250, "USD", "$12.50"),
            (-300, "USD", "-$3.00"),
            (0, "USD", "$0.00"),
            (150_000, "UGX", "USh 150,000"),
            (1_234_567, "KWD", "KWD 1,234.567"),
            (100, "CHF", "CHF 1.00"),
            (123_456_789, "USD", "$1,234,567.89"),
        ];
        for (amount, currency, expected) in cases {
            let money = Money::new(amount, Currency::parse(currency).unwrap());
            assert_eq!(money.format(), expected, "{amount} {currency}");
        }
    }

    #[test]
    fn currencies_are_read_from_the_iso_list() {
        type Read = Result<(&'static str, u32), CurrencyProblem>;
        let cases: [(&str, Read); 12] = [
            ("KES", Ok(("KES", 2))),
            (" kes ", Ok(("KES", 2))),
            ("inr", Ok(("INR", 2))),
            ("UGX", Ok(("UGX", 0))),
            ("JPY", Ok(("JPY", 0))),
            ("KWD", Ok(("KWD", 3))),
            ("TND", Ok(("TND", 3))),
            ("KE", Err(CurrencyProblem::Malformed)),
            ("KESH", Err(CurrencyProblem::Malformed)),
            ("K1S", Err(CurrencyProblem::Malformed)),
            ("XYZ", Err(CurrencyProblem::Unknown("XYZ".into()))),
            ("XAU", Err(CurrencyProblem::NotMoney("XAU".into()))),
        ];
        for (code, expected) in cases {
            let read = Currency::parse(code).map(|c| (c.code(), c.minor_digits()));
            assert_eq!(read, expected, "{code:?}");
        }
    }

    #[test]
    fn the_home_currency_is_the_listed_shilling() {
        assert_eq!(Currency::parse("KES"), Ok(Currency::KES));
    }
}
