//! Dispute names: whether a contested job still waits for an admin's decision, and what the admin
//! decided.

use crate::domain::booking_state::Status;

/// Where a dispute is: OPEN until an admin resolves it, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeStatus {
    Open,
    Resolved,
}

impl DisputeStatus {
    pub const ALL: [DisputeStatus; 2] = [DisputeStatus::Open, DisputeStatus::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            DisputeStatus::Open => "OPEN",
            DisputeStatus::Resolved => "RESOLVED",
        }
    }

    pub fn parse(name: &str) -> Option<DisputeStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// How an admin settles a dispute: the money goes to the technician, back to the customer, or is
/// split between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    ReleaseToTechnician,
    RefundCustomer,
    Split,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [
        Outcome::ReleaseToTechnician,
        Outcome::RefundCustomer,
        Outcome::Split,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::ReleaseToTechnician => "RELEASE_TO_TECHNICIAN",
            Outcome::RefundCustomer => "REFUND_CUSTOMER",
            Outcome::Split => "SPLIT",
        }
    }

    pub fn parse(name: &str) -> Option<Outcome> {
        Self::ALL.into_iter().find(|o| o.as_str() == name)
    }

    /// Where the booking ends up: a refund closes it as REFUNDED; otherwise the technician is paid
    /// (in full, or their share of a split).
    pub fn target(self) -> Status {
        match self {
            Outcome::RefundCustomer => Status::Refunded,
            Outcome::ReleaseToTechnician | Outcome::Split => Status::Paid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_parse_to_none() {
        for status in DisputeStatus::ALL {
            assert_eq!(DisputeStatus::parse(status.as_str()), Some(status));
        }
        for unknown in ["open", "CLOSED", ""] {
            assert_eq!(DisputeStatus::parse(unknown), None);
        }
    }

    #[test]
    fn outcomes_round_trip_and_unknown_ones_parse_to_none() {
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
        }
        assert_eq!(
            Outcome::ALL.map(Outcome::as_str),
            ["RELEASE_TO_TECHNICIAN", "REFUND_CUSTOMER", "SPLIT"]
        );
        for unknown in ["split", "REFUND", "RELEASE", ""] {
            assert_eq!(Outcome::parse(unknown), None);
        }
    }

    #[test]
    fn a_refund_ends_refunded_and_the_others_paid() {
        assert_eq!(Outcome::RefundCustomer.target(), Status::Refunded);
        assert_eq!(Outcome::ReleaseToTechnician.target(), Status::Paid);
        assert_eq!(Outcome::Split.target(), Status::Paid);
    }
}
