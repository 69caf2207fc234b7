//! Quote names: where a technician's itemised price is on its way to the customer's answer.

/// Where a quote is. Only an OPEN quote can be answered; every other status is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteStatus {
    Open,
    Accepted,
    Rejected,
    /// A newer quote replaced it before it was answered.
    Superseded,
    /// Its validity passed before it was accepted.
    Expired,
}

impl QuoteStatus {
    pub const ALL: [QuoteStatus; 5] = [
        QuoteStatus::Open,
        QuoteStatus::Accepted,
        QuoteStatus::Rejected,
        QuoteStatus::Superseded,
        QuoteStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QuoteStatus::Open => "OPEN",
            QuoteStatus::Accepted => "ACCEPTED",
            QuoteStatus::Rejected => "REJECTED",
            QuoteStatus::Superseded => "SUPERSEDED",
            QuoteStatus::Expired => "EXPIRED",
        }
    }

    pub fn parse(name: &str) -> Option<QuoteStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_parse_to_none() {
        for status in QuoteStatus::ALL {
            assert_eq!(QuoteStatus::parse(status.as_str()), Some(status));
        }
        for unknown in ["open", "WITHDRAWN", ""] {
            assert_eq!(QuoteStatus::parse(unknown), None);
        }
    }
}
