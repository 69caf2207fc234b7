//! Payout rules: what a valid M-Pesa number, UPI id, IFSC and bank account look like, how they are
//! masked, which withdrawal PINs are too easy to guess, and how a withdrawal's status may move.

pub use crate::domain::payments::Refusal;
use crate::domain::payments::{mpesa_phone, refuse};

/// How a technician is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutKind {
    Mpesa,
    Upi,
    BankTransfer,
}

impl PayoutKind {
    pub const ALL: [PayoutKind; 3] = [PayoutKind::Mpesa, PayoutKind::Upi, PayoutKind::BankTransfer];

    pub fn as_str(self) -> &'static str {
        match self {
            PayoutKind::Mpesa => "MPESA",
            PayoutKind::Upi => "UPI",
            PayoutKind::BankTransfer => "BANK_TRANSFER",
        }
    }

    pub fn parse(raw: &str) -> Option<PayoutKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// The payout gateway a withdrawal is paid through, stored on it and naming its clearing account:
/// the development sandbox, Safaricom's M-Pesa B2C, or staff paying by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gateway {
    Sandbox,
    Mpesa,
    Manual,
}

impl Gateway {
    pub const ALL: [Gateway; 3] = [Gateway::Sandbox, Gateway::Mpesa, Gateway::Manual];

    pub fn as_str(self) -> &'static str {
        match self {
            Gateway::Sandbox => "SANDBOX",
            Gateway::Mpesa => "MPESA",
            Gateway::Manual => "MANUAL",
        }
    }

    pub fn parse(raw: &str) -> Option<Gateway> {
        Self::ALL.into_iter().find(|g| g.as_str() == raw)
    }

    /// Whether it pays with no person involved, so the automatic payout job may use it.
    pub fn is_automatic(self) -> bool {
        !matches!(self, Gateway::Manual)
    }
}

/// The payout details a technician sent, as plain text, before they are checked.
#[derive(Debug, Clone, Default)]
pub struct PayoutDetailsInput {
    pub mpesa_phone: Option<String>,
    pub upi_id: Option<String>,
    pub bank_account_name: Option<String>,
    pub bank_account_number: Option<String>,
    pub bank_ifsc: Option<String>,
}

/// Checked payout details, normalised (spaces removed, IFSC upper case, UPI handle lower case).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PayoutDetails {
    Mpesa {
        phone: String,
    },
    Upi {
        vpa: String,
    },
    BankTransfer {
        account_name: String,
        account_number: String,
        ifsc: String,
    },
}

impl std::fmt::Debug for PayoutDetails {
    // Account details never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PayoutDetails({})", self.masked())
    }
}

impl PayoutDetails {
    pub fn kind(&self) -> PayoutKind {
        match self {
            PayoutDetails::Mpesa { .. } => PayoutKind::Mpesa,
            PayoutDetails::Upi { .. } => PayoutKind::Upi,
            PayoutDetails::BankTransfer { .. } => PayoutKind::BankTransfer,
        }
    }

    /// What people are shown: everything but the last four digits (or, for a UPI id, all but
    /// its first two characters and its handle) is hidden.
    pub fn masked(&self) -> String {
        match self {
            PayoutDetails::Mpesa { phone } => format!("M-Pesa ••••{}", last_four(phone)),
            PayoutDetails::Upi { vpa } => {
                let (name, handle) = vpa.split_once('@').unwrap_or((vpa, ""));
                let shown: String = name.chars().take(2).collect();
                format!("UPI {shown}••••@{handle}")
            }
            PayoutDetails::BankTransfer {
                account_number,
                ifsc,
                ..
            } => format!("Bank {ifsc} ••••{}", last_four(account_number)),
        }
    }
}

fn last_four(digits: &str) -> &str {
    &digits[digits.len().saturating_sub(4)..]
}

fn required<'a>(value: &'a Option<String>, field: &'static str) -> Result<&'a str, Refusal> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(refuse(field, "required for this payout kind")),
    }
}

/// Checks the details `kind` needs. Fields that belong to other kinds are refused rather than
/// silently dropped, so a client never believes it saved something it did not.
pub fn check_details(
    kind: PayoutKind,
    input: &PayoutDetailsInput,
) -> Result<PayoutDetails, Refusal> {
    let given = [
        ("mpesaPhone", input.mpesa_phone.is_some(), PayoutKind::Mpesa),
        ("upiId", input.upi_id.is_some(), PayoutKind::Upi),
        (
            "bankAccountName",
            input.bank_account_name.is_some(),
            PayoutKind::BankTransfer,
        ),
        (
            "bankAccountNumber",
            input.bank_account_number.is_some(),
            PayoutKind::BankTransfer,
        ),
        (
            "bankIfsc",
            input.bank_ifsc.is_some(),
            PayoutKind::BankTransfer,
        ),
    ];
    if let Some((field, ..)) = given.iter().find(|(_, set, k)| *set && *k != kind) {
        return Err(refuse(
            field,
            format!("does not belong to a {} payout method", kind.as_str()),
        ));
    }
    match kind {
        PayoutKind::Mpesa => {
            let phone = required(&input.mpesa_phone, "mpesaPhone")?;
            let phone = mpesa_phone(Some(phone)).map_err(|r| refuse("mpesaPhone", r.message))?;
            Ok(PayoutDetails::Mpesa { phone })
        }
        PayoutKind::Upi => Ok(PayoutDetails::Upi {
            vpa: check_upi(required(&input.upi_id, "upiId")?)?,
        }),
        PayoutKind::BankTransfer => Ok(PayoutDetails::BankTransfer {
            account_name: check_account_name(required(
                &input.bank_account_name,
                "bankAccountName",
            )?)?,
            account_number: check_account_number(required(
                &input.bank_account_number,
                "bankAccountNumber",
            )?)?,
            ifsc: check_ifsc(required(&input.bank_ifsc, "bankIfsc")?)?,
        }),
    }
}

/// A UPI id (virtual payment address): `name@handle`, the name 2-256 of letters, digits, `.`,
/// `-` and `_`, the handle 2-64 letters (NPCI's format).
pub fn check_upi(raw: &str) -> Result<String, Refusal> {
    let bad = || refuse("upiId", "expected a UPI id such as ravi.kumar@okaxis");
    let (name, handle) = raw.trim().split_once('@').ok_or_else(bad)?;
    let name_ok = (2..=256).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    let handle_ok =
        (2..=64).contains(&handle.len()) && handle.chars().all(|c| c.is_ascii_alphabetic());
    if name_ok && handle_ok {
        Ok(format!("{name}@{}", handle.to_ascii_lowercase()))
    } else {
        Err(bad())
    }
}

/// An Indian Financial System Code: four letters (the bank), a zero, then six letters or digits
/// (the branch).
pub fn check_ifsc(raw: &str) -> Result<String, Refusal> {
    let ifsc = raw.trim().to_ascii_uppercase();
    let bytes = ifsc.as_bytes();
    let valid = bytes.len() == 11
        && bytes[..4].iter().all(u8::is_ascii_uppercase)
        && bytes[4] == b'0'
        && bytes[5..].iter().all(u8::is_ascii_alphanumeric);
    if valid {
        Ok(ifsc)
    } else {
        Err(refuse("bankIfsc", "expected an IFSC such as HDFC0001234"))
    }
}

/// A bank account number: 9 to 18 digits (spaces allowed and removed).
pub fn check_account_number(raw: &str) -> Result<String, Refusal> {
    let number: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if (9..=18).contains(&number.len()) && number.chars().all(|c| c.is_ascii_digit()) {
        Ok(number)
    } else {
        Err(refuse("bankAccountNumber", "expected 9 to 18 digits"))
    }
}

/// The account holder's name as the bank knows it: 2-100 letters, spaces, `.`, `'` or `-`.
pub fn check_account_name(raw: &str) -> Result<String, Refusal> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let valid = (2..=100).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, ' ' | '.' | '\'' | '-'));
    if valid {
        Ok(name)
    } else {
        Err(refuse(
            "bankAccountName",
            "expected the account holder's name (letters, spaces, . ' -)",
        ))
    }
}

/// A withdrawal PIN: exactly four digits, and not one a thief would try first.
pub fn check_pin(pin: &str) -> Result<(), Refusal> {
    if pin.len() != 4 || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse("pin", "a PIN is exactly 4 digits"));
    }
    if is_trivial_pin(pin) {
        return Err(refuse(
            "pin",
            "this PIN is too easy to guess; avoid repeats, runs like 1234 and patterns like 1212",
        ));
    }
    Ok(())
}

/// Repeated digits (1111), runs up or down (1234, 9876), repeated pairs (1212, 1122), keypad
/// columns (2580), and the handful of years and numbers most often chosen.
fn is_trivial_pin(pin: &str) -> bool {
    let d: Vec<i8> = pin.bytes().map(|b| (b - b'0') as i8).collect();
    let steps: Vec<i8> = d.windows(2).map(|w| w[1] - w[0]).collect();
    let run = steps.iter().all(|&s| s == steps[0]) && steps[0].abs() <= 1;
    let pairs = (d[0] == d[2] && d[1] == d[3]) || (d[0] == d[1] && d[2] == d[3]);
    const COMMON: [&str; 8] = [
        "2580", "0852", "1470", "3690", "1004", "2000", "6969", "1998",
    ];
    run || pairs || COMMON.contains(&pin)
}

/// Where a withdrawal is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithdrawalStatus {
    Pending,
    Processing,
    Completed,
    Failed,
    Cancelled,
}

impl WithdrawalStatus {
    pub const ALL: [WithdrawalStatus; 5] = [
        WithdrawalStatus::Pending,
        WithdrawalStatus::Processing,
        WithdrawalStatus::Completed,
        WithdrawalStatus::Failed,
        WithdrawalStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WithdrawalStatus::Pending => "PENDING",
            WithdrawalStatus::Processing => "PROCESSING",
            WithdrawalStatus::Completed => "COMPLETED",
            WithdrawalStatus::Failed => "FAILED",
            WithdrawalStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(raw: &str) -> Option<WithdrawalStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            WithdrawalStatus::Completed | WithdrawalStatus::Failed | WithdrawalStatus::Cancelled
        )
    }

    /// The statuses a withdrawal may move to from here. FAILED and CANCELLED give the money back;
    /// only a PENDING one can be cancelled, since a PROCESSING one may already be on its way.
    pub fn next(self) -> &'static [WithdrawalStatus] {
        use WithdrawalStatus::*;
        match self {
            Pending => &[Processing, Completed, Failed, Cancelled],
            Processing => &[Completed, Failed],
            Completed | Failed | Cancelled => &[],
        }
    }

    pub fn can_move_to(self, to: WithdrawalStatus) -> bool {
        self.next().contains(&to)
    }
}

/// Checks a withdrawal's amount against the minimum; the maximum is whatever is available,
/// which only the ledger's conditional update can decide under concurrency.
pub fn check_amount(amount_minor: i64, min_minor: i64) -> Result<(), Refusal> {
    if amount_minor <= 0 {
        return Err(refuse("amount", "must be more than zero"));
    }
    if amount_minor < min_minor {
        return Err(refuse(
            "amount",
            format!("the smallest withdrawal is {min_minor} minor units"),
        ));
    }
    Ok(())
}

/// A client's retry key: 8-100 letters, digits, `-`, `_` or `:`.
pub fn check_idempotency_key(key: &str) -> Result<(), Refusal> {
    let ok = (8..=100).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':'));
    if ok {
        Ok(())
    } else {
        Err(refuse(
            "idempotencyKey",
            "expected 8 to 100 letters, digits, -, _ or :",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivial_pins_are_refused_and_others_accepted() {
        let cases = [
            ("0000", false),
            ("1111", false),
            ("1234", false),
            ("4321", false),
            ("9876", false),
            ("0123", false),
            ("1212", false),
            ("1122", false),
            ("2580", false),
            ("6969", false),
            ("123", false),
            ("12345", false),
            ("12a4", false),
            ("١٢٣٤", false),
            ("4829", true),
            ("7315", true),
            ("1357", true),
            ("9051", true),
        ];
        for (pin, ok) in cases {
            assert_eq!(check_pin(pin).is_ok(), ok, "{pin}");
        }
    }

    #[test]
    fn upi_ids_follow_npci_format() {
        let cases = [
            ("ravi.kumar@okaxis", Some("ravi.kumar@okaxis")),
            ("ravi_99@OKSBI", Some("ravi_99@oksbi")),
            ("9876543210@ybl", Some("9876543210@ybl")),
            ("r@ybl", None),
            ("ravi@", None),
            ("ravi", None),
            ("ravi@ok axis", None),
            ("ravi@ok1", None),
            ("ra vi@ybl", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(check_upi(raw).ok().as_deref(), expected, "{raw}");
        }
    }

    #[test]
    fn ifsc_is_four_letters_a_zero_and_six_more() {
        let cases = [
            ("HDFC0001234", true),
            ("sbin0a1b2c3", true),
            ("HDFC1001234", false),
            ("HDF00001234", false),
            ("HDFC000123", false),
            ("HDFC00012345", false),
            ("HDFC000123-", false),
        ];
        for (raw, ok) in cases {
            assert_eq!(check_ifsc(raw).is_ok(), ok, "{raw}");
        }
    }

    #[test]
    fn bank_account_numbers_are_nine_to_eighteen_digits() {
        let cases = [
            ("123456789", true),
            ("1234 5678 9012", true),
            ("123456789012345678", true),
            ("12345678", false),
            ("1234567890123456789", false),
            ("12345678a", false),
        ];
        for (raw, ok) in cases {
            assert_eq!(check_account_number(raw).is_ok(), ok, "{raw}");
        }
    }

    #[test]
    fn each_kind_needs_its_own_fields_and_only_those() {
        let mpesa = PayoutDetailsInput {
            mpesa_phone: Some("+254 712 345 678".into()),
            ..Default::default()
        };
        assert_eq!(
            check_details(PayoutKind::Mpesa, &mpesa).unwrap(),
            PayoutDetails::Mpesa {
                phone: "+254712345678".into()
            }
        );
        let local = PayoutDetailsInput {
            mpesa_phone: Some("0712345678".into()),
            ..Default::default()
        };
        assert_eq!(
            check_details(PayoutKind::Mpesa, &local).unwrap_err().field,
            "mpesaPhone"
        );
        assert_eq!(
            check_details(PayoutKind::Upi, &mpesa).unwrap_err().field,
            "mpesaPhone"
        );
        let partial_bank = PayoutDetailsInput {
            bank_account_name: Some("Asha Patel".into()),
            bank_account_number: Some("123456789012".into()),
            ..Default::default()
        };
        assert_eq!(
            check_details(PayoutKind::BankTransfer, &partial_bank)
                .unwrap_err()
                .field,
            "bankIfsc"
        );
    }

    #[test]
    fn masks_show_only_the_last_four_digits() {
        let cases = [
            (
                PayoutDetails::Mpesa {
                    phone: "+254712345678".into(),
                },
                "M-Pesa ••••5678",
            ),
            (
                PayoutDetails::Upi {
                    vpa: "ravi.kumar@okaxis".into(),
                },
                "UPI ra••••@okaxis",
            ),
            (
                PayoutDetails::BankTransfer {
                    account_name: "Asha Patel".into(),
                    account_number: "123456789012".into(),
                    ifsc: "HDFC0001234".into(),
                },
                "Bank HDFC0001234 ••••9012",
            ),
        ];
        for (details, expected) in cases {
            assert_eq!(details.masked(), expected);
            assert_eq!(format!("{details:?}"), format!("PayoutDetails({expected})"));
        }
    }

    #[test]
    fn withdrawals_move_only_forward_and_cancel_only_while_pending() {
        use WithdrawalStatus::*;
        let cases = [
            (Pending, Processing, true),
            (Pending, Cancelled, true),
            (Pending, Failed, true),
            (Processing, Completed, true),
            (Processing, Failed, true),
            (Processing, Cancelled, false),
            (Processing, Pending, false),
            (Completed, Failed, false),
            (Failed, Pending, false),
            (Cancelled, Processing, false),
        ];
        for (from, to, ok) in cases {
            assert_eq!(from.can_move_to(to), ok, "{from:?} -> {to:?}");
        }
        for status in WithdrawalStatus::ALL {
            assert_eq!(WithdrawalStatus::parse(status.as_str()), Some(status));
            assert_eq!(status.is_final(), status.next().is_empty());
        }
    }

    #[test]
    fn payout_kinds_round_trip_and_unknown_ones_parse_to_none() {
        for kind in PayoutKind::ALL {
            assert_eq!(PayoutKind::parse(kind.as_str()), Some(kind));
        }
        for unknown in ["mpesa", "BANK", ""] {
            assert_eq!(PayoutKind::parse(unknown), None);
        }
    }

    #[test]
    fn gateways_round_trip_their_stored_names_and_unknown_ones_parse_to_none() {
        let cases = [
            (Gateway::Sandbox, "SANDBOX", true),
            (Gateway::Mpesa, "MPESA", true),
            (Gateway::Manual, "MANUAL", false),
        ];
        assert_eq!(cases.len(), Gateway::ALL.len());
        for (gateway, name, automatic) in cases {
            assert_eq!(gateway.as_str(), name);
            assert_eq!(Gateway::parse(name), Some(gateway));
            assert_eq!(gateway.is_automatic(), automatic, "{name}");
        }
        for unknown in ["mpesa", "STRIPE", "B2C", ""] {
            assert_eq!(Gateway::parse(unknown), None);
        }
    }

    #[test]
    fn amounts_must_reach_the_minimum() {
        assert!(check_amount(10_000, 10_000).is_ok());
        assert_eq!(check_amount(9_999, 10_000).unwrap_err().field, "amount");
        assert_eq!(check_amount(0, 1).unwrap_err().field, "amount");
        assert_eq!(check_amount(-5, 1).unwrap_err().field, "amount");
    }
}
