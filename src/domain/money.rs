//! Money: integer minor units with an ISO 4217 currency, and display formatting by each currency's convention.

/// How many minor units a currency has (ISO 4217); two unless listed.
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "UGX" | "RWF" | "BIF" | "CLP" | "VND" | "XAF" | "XOF" | "ISK" | "PYG"
        | "GNF" | "KMF" | "DJF" | "VUV" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
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

/// Formats minor units for people: `KSh 1,234.00`, `₹1,23,456.00`, `$12.50`, `-$3.00`; unknown
/// currencies get their code as prefix.
pub fn format(amount_minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency);
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
            assert_eq!(format(amount, currency), expected, "{amount} {currency}");
        }
    }
}
