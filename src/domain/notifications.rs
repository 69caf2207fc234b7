//! In-app notifications' kinds: what happened, as stored with each notification and sent to clients,
//! which switch on it to pick an icon or a screen.

/// What kind of thing happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    EmailVerified,
    PasswordChanged,
    NewSignIn,
    TwoFactorChanged,
    KycSubmitted,
    KycApproved,
    KycRejected,
    BookingUpdate,
    QuoteUpdate,
    PayoutMethodChanged,
    WithdrawalUpdate,
    RefundUpdate,
    /// A review of the recipient was published.
    ReviewReceived,
    /// The reviewed technician answered the recipient's review.
    ReviewResponse,
    /// The recipient has not reviewed a finished job yet.
    ReviewReminder,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::EmailVerified,
        Kind::PasswordChanged,
        Kind::NewSignIn,
        Kind::TwoFactorChanged,
        Kind::KycSubmitted,
        Kind::KycApproved,
        Kind::KycRejected,
        Kind::BookingUpdate,
        Kind::QuoteUpdate,
        Kind::PayoutMethodChanged,
        Kind::WithdrawalUpdate,
        Kind::RefundUpdate,
        Kind::ReviewReceived,
        Kind::ReviewResponse,
        Kind::ReviewReminder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::EmailVerified => "EMAIL_VERIFIED",
            Kind::PasswordChanged => "PASSWORD_CHANGED",
            Kind::NewSignIn => "NEW_SIGN_IN",
            Kind::TwoFactorChanged => "TWO_FACTOR_CHANGED",
            Kind::KycSubmitted => "KYC_SUBMITTED",
            Kind::KycApproved => "KYC_APPROVED",
            Kind::KycRejected => "KYC_REJECTED",
            Kind::BookingUpdate => "BOOKING_UPDATE",
            Kind::QuoteUpdate => "QUOTE_UPDATE",
            Kind::PayoutMethodChanged => "PAYOUT_METHOD_CHANGED",
            Kind::WithdrawalUpdate => "WITHDRAWAL_UPDATE",
            Kind::RefundUpdate => "REFUND_UPDATE",
            Kind::ReviewReceived => "REVIEW_RECEIVED",
            Kind::ReviewResponse => "REVIEW_RESPONSE",
            Kind::ReviewReminder => "REVIEW_REMINDER",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_stored_names() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("KYC_PENDING"), None);
        assert_eq!(Kind::parse("email_verified"), None);
    }
}
