//! Account rules: parsing emails and phone numbers, the password policy, roles and login throttling.

use chrono::{DateTime, Duration, Utc};
use std::fmt;

/// A failed rule, naming the input field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn field_error(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

/// A trimmed, lower-cased email address with a plausible shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str, field: &'static str) -> Result<Self, FieldError> {
        let email = raw.trim().to_lowercase();
        let invalid = || field_error(field, "not a valid email address");
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .split('.')
                .all(|label| !label.is_empty() && label.len() <= 63)
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in E.164 form: '+', a non-zero country digit, 8 to 15 digits in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str, field: &'static str) -> Result<Self, FieldError> {
        // People type spaces, dashes and brackets; E.164 itself has none.
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let digits = compact.strip_prefix('+').unwrap_or("");
        let ok = (8..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0');
        if !ok {
            return Err(field_error(
                field,
                "phone must be in international E.164 form, e.g. +254712345678",
            ));
        }
        Ok(Phone(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Passwords that meet the length rule but appear at the top of every breach list.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "0123456789",
    "1q2w3e4r5t",
    "qwertyuiop",
    "1qaz2wsx3edc",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "iloveyou123",
    "qwerty1234",
    "qwerty12345",
    "abcdefghij",
    "abc1234567",
    "aaaaaaaaaa",
    "1111111111",
    "0000000000",
    "9876543210",
    "letmein123",
    "welcome123",
    "administrator",
    "changeme123",
    "football123",
    "baseball123",
    "sunshine123",
    "princess123",
    "trustno1234",
    "dragon12345",
    "monkey12345",
    "superman123",
    "starwars123",
    "master12345",
    "whatever123",
    "qazwsxedcrfv",
    "zaq12wsxcde",
    "asdfghjkl1",
    "zxcvbnm123",
    "p@ssw0rd123",
    "password!1",
];

/// The password policy: length bounds and not a well-known password.
pub fn check_password(password: &str, field: &'static str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(field_error(
            field,
            format!("password must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(field_error(
            field,
            format!("password must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    let lowered = password.to_lowercase();
    let one_repeated_char = lowered.chars().all(|c| lowered.starts_with(c));
    if one_repeated_char || COMMON_PASSWORDS.contains(&lowered.as_str()) {
        return Err(field_error(
            field,
            "this password is too common; choose another",
        ));
    }
    Ok(())
}

/// A person's display name: trimmed, 1 to 120 characters, no control characters.
pub fn check_full_name(raw: &str, field: &'static str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
        return Err(field_error(
            field,
            "name must be 1 to 120 printable characters",
        ));
    }
    if let Err(problem) = super::text::check_name(name) {
        return Err(field_error(field, format!("name {}", problem.message())));
    }
    Ok(name.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Customer,
    Technician,
    Admin,
    Support,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "CUSTOMER",
            Role::Technician => "TECHNICIAN",
            Role::Admin => "ADMIN",
            Role::Support => "SUPPORT",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "CUSTOMER" => Some(Role::Customer),
            "TECHNICIAN" => Some(Role::Technician),
            "ADMIN" => Some(Role::Admin),
            "SUPPORT" => Some(Role::Support),
            _ => None,
        }
    }

    /// Only customers and technicians sign themselves up; staff accounts come from the operator's CLI.
    pub fn may_self_register(self) -> bool {
        matches!(self, Role::Customer | Role::Technician)
    }

    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Support)
    }
}

/// Login throttling: how many failures, in what window, lock the account for how long.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub max_failures: u32,
    pub window_secs: i64,
    pub lock_secs: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            max_failures: 10,
            window_secs: 15 * 60,
            lock_secs: 15 * 60,
        }
    }
}

impl ThrottlePolicy {
    /// Whether the failure just recorded (making `failures_in_window`) should lock the account.
    pub fn locks_after(&self, failures_in_window: u32) -> bool {
        failures_in_window >= self.max_failures
    }

    /// Seconds until a refused sign-in may be tried again: the later of the lock's end and the end of
    /// the window whose attempts are used up (at least one).
    pub fn retry_after_secs(
        &self,
        window_started: Option<DateTime<Utc>>,
        locked_until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> i64 {
        let window_end = window_started.map(|start| start + Duration::seconds(self.window_secs));
        [window_end, locked_until]
            .into_iter()
            .flatten()
            .map(|end| (end - now).num_seconds())
            .max()
            .unwrap_or(0)
            .max(1)
    }
}

/// One-time codes (email verification, password reset): shape, lifetime and attempt rules.
#[derive(Debug, Clone, Copy)]
pub struct CodePolicy {
    pub digits: usize,
    pub ttl_secs: i64,
    pub max_attempts: i32,
    pub resend_after_secs: i64,
}

impl Default for CodePolicy {
    fn default() -> Self {
        CodePolicy {
            digits: 6,
            ttl_secs: 5 * 60,
            max_attempts: 5,
            resend_after_secs: 60,
        }
    }
}

impl CodePolicy {
    /// A code as typed by a person: exactly `digits` ASCII digits after trimming.
    pub fn normalise(&self, raw: &str) -> Option<String> {
        let code = raw.trim();
        (code.len() == self.digits && code.chars().all(|c| c.is_ascii_digit()))
            .then(|| code.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Jane.Doe@Example.COM ", "email")
                .unwrap()
                .as_str(),
            "jane.doe@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "jane@",
            "jane@example",
            "jane@.com",
            "ja ne@example.com",
            "a@b..com",
            "a@b@c.com",
        ] {
            let e = Email::parse(bad, "email").unwrap_err();
            assert_eq!(e.field, "email", "{bad}");
        }
    }

    #[test]
    fn phones_must_be_e164() {
        assert_eq!(
            Phone::parse("+254 712-345-678", "phone").unwrap().as_str(),
            "+254712345678"
        );
        assert_eq!(
            Phone::parse("+919876543210", "phone").unwrap().as_str(),
            "+919876543210"
        );
        for bad in [
            "0712345678",
            "+0712345678",
            "+12",
            "+2547123456789012",
            "+2547a2345678",
            "254712345678",
        ] {
            assert!(Phone::parse(bad, "phone").is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_ten_characters_and_must_not_be_common() {
        assert!(check_password("correct horse battery", "password").is_ok());
        assert!(check_password("short", "password").is_err());
        assert!(check_password("Password123", "password").is_err());
        assert!(check_password("zzzzzzzzzzzz", "password").is_err());
        assert!(check_password(&"x".repeat(300), "password").is_err());
        // Nine characters fail, ten pass: the boundary counts characters, not bytes.
        assert!(check_password("ñandú-río", "password").is_err());
        assert!(check_password("ñandú-ríos", "password").is_ok());
    }

    #[test]
    fn only_customers_and_technicians_self_register() {
        assert!(Role::Customer.may_self_register());
        assert!(Role::Technician.may_self_register());
        assert!(!Role::Admin.may_self_register());
        assert!(!Role::Support.may_self_register());
    }

    #[test]
    fn a_refused_sign_in_waits_for_the_later_of_the_window_and_the_lock() {
        let policy = ThrottlePolicy::default();
        let now = DateTime::parse_from_rfc3339("2026-01-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let minutes = |m| Some(now + Duration::minutes(m));
        let cases = [
            (minutes(-5), None, 600),
            (minutes(-5), minutes(14), 840),
            (None, minutes(3), 180),
            (None, None, 1),
            (minutes(-20), None, 1),
        ];
        for (window_started, locked_until, expected) in cases {
            assert_eq!(
                policy.retry_after_secs(window_started, locked_until, now),
                expected,
                "{window_started:?} {locked_until:?}"
            );
        }
    }

    #[test]
    fn tenth_failure_in_the_window_locks_the_account() {
        let policy = ThrottlePolicy::default();
        assert!(!policy.locks_after(9));
        assert!(policy.locks_after(10));
    }

    #[test]
    fn codes_are_six_digits() {
        let p = CodePolicy::default();
        assert_eq!(p.normalise(" 012345 ").as_deref(), Some("012345"));
        assert_eq!(p.normalise("12345"), None);
        assert_eq!(p.normalise("12345a"), None);
    }
}
