//! Redaction rules for anything written to logs or traces: secret URL path segments, email addresses and phone numbers.

use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// Path prefixes whose next segment is a credential. M-Pesa does not sign its callbacks, so the
/// token in `/webhooks/mpesa/{token}/...` is the only thing standing between a forger and the ledger.
const SECRET_SEGMENT_AFTER: &[&str] = &["/webhooks/mpesa/"];

pub const REDACTED: &str = "[redacted]";
pub const EMAIL: &str = "[email]";
pub const PHONE: &str = "[phone]";

// Both patterns are literals, compiled by `patterns_compile` below: they cannot fail at run time.
#[allow(clippy::expect_used)]
static EMAIL_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+").expect("email pattern")
});

/// 9 to 15 digits (E.164 allows at most 15), optionally after `+`, with single spaces or dashes between
/// them. Shorter runs are amounts, counts and dates; whether a match stands alone is checked separately.
#[allow(clippy::expect_used)]
static PHONE_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?\d(?:[ \-]?\d){8,14}").expect("phone pattern"));

/// A request path with every secret segment replaced, e.g. `/webhooks/mpesa/[redacted]/b2c/result`.
pub fn path(path: &str) -> Cow<'_, str> {
    secret_segments(path)
}

/// A log line or span value with secret path segments, email addresses and phone numbers replaced.
pub fn text(line: &str) -> Cow<'_, str> {
    let mut out = secret_segments(line);
    if let Cow::Owned(replaced) = EMAIL_PATTERN.replace_all(&out, EMAIL) {
        out = Cow::Owned(replaced);
    }
    if let Some(replaced) = phones(&out) {
        out = Cow::Owned(replaced);
    }
    out
}

fn secret_segments(input: &str) -> Cow<'_, str> {
    if !SECRET_SEGMENT_AFTER.iter().any(|p| input.contains(p)) {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some((at, prefix)) = SECRET_SEGMENT_AFTER
        .iter()
        .filter_map(|p| rest.find(p).map(|at| (at, *p)))
        .min_by_key(|(at, _)| *at)
    {
        let after = at + prefix.len();
        out.push_str(&rest[..after]);
        let tail = &rest[after..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '%'))
            .unwrap_or(tail.len());
        if end > 0 {
            out.push_str(REDACTED);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Replaces phone-number-like runs that stand alone; a run that is part of a longer token (a UUID,
/// a provider reference such as `ws_CO_191220191020363925`, a decimal) is left as it is.
fn phones(input: &str) -> Option<String> {
    let part_of_token = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/');
    let mut out = String::new();
    let mut copied = 0;
    for found in PHONE_PATTERN.find_iter(input) {
        let before = input[..found.start()].chars().next_back();
        let after = input[found.end()..].chars().next();
        if before.is_some_and(part_of_token) || after.is_some_and(part_of_token) {
            continue;
        }
        out.push_str(&input[copied..found.start()]);
        out.push_str(PHONE);
        copied = found.end();
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&input[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile() {
        LazyLock::force(&EMAIL_PATTERN);
        LazyLock::force(&PHONE_PATTERN);
    }

    #[test]
    fn secret_path_segments_are_replaced() {
        for (input, expected) in [
            (
                "/webhooks/mpesa/cb-token-0123456789",
                "/webhooks/mpesa/[redacted]",
            ),
            (
                "/webhooks/mpesa/cb-token-0123456789/b2c/result",
                "/webhooks/mpesa/[redacted]/b2c/result",
            ),
            (
                "POST https://api.example.com/webhooks/mpesa/abc_DEF-123456789/b2c/timeout failed",
                "POST https://api.example.com/webhooks/mpesa/[redacted]/b2c/timeout failed",
            ),
            ("/webhooks/mpesa/", "/webhooks/mpesa/"),
            ("/webhooks/stripe", "/webhooks/stripe"),
            ("/graphql", "/graphql"),
        ] {
            assert_eq!(path(input), expected, "{input}");
            assert_eq!(text(input), expected, "{input}");
        }
    }

    #[test]
    fn email_addresses_are_replaced() {
        for (input, expected) in [
            ("to=Jane.Doe+x@Example.co.ke", "to=[email]"),
            (
                r#"{"to":"a@b.io","subject":"Verify"}"#,
                r#"{"to":"[email]","subject":"Verify"}"#,
            ),
            (
                "Key (email)=(mary@example.com) already exists.",
                "Key (email)=([email]) already exists.",
            ),
            ("no address @ here", "no address @ here"),
        ] {
            assert_eq!(text(input), expected, "{input}");
        }
    }

    #[test]
    fn phone_numbers_are_replaced_but_other_numbers_are_not() {
        for (input, expected) in [
            ("phone=+254708374149", "phone=[phone]"),
            ("PhoneNumber: 254708374149,", "PhoneNumber: [phone],"),
            (
                r#"{"PhoneNumber":254708374149}"#,
                r#"{"PhoneNumber":[phone]}"#,
            ),
            ("call 0712 345 678 now", "call [phone] now"),
            ("+1-202-555-0143", "[phone]"),
            // Not phone numbers: short amounts, dates, UUIDs, provider references, decimals, long ids.
            ("amount=150000", "amount=150000"),
            ("2026-12-06T21:58:09.123456Z", "2026-12-06T21:58:09.123456Z"),
            (
                "request_id=01937456-7123-7abc-8def-123456789012",
                "request_id=01937456-7123-7abc-8def-123456789012",
            ),
            ("ws_CO_191220191020363925", "ws_CO_191220191020363925"),
            ("took 1234567890.5ms", "took 1234567890.5ms"),
            ("id 12345678901234567890", "id 12345678901234567890"),
        ] {
            assert_eq!(text(input), expected, "{input}");
        }
    }

    #[test]
    fn clean_lines_are_borrowed_not_copied() {
        assert!(matches!(
            text("request finished status=200"),
            Cow::Borrowed(_)
        ));
    }
}
