//! Dispatch's names: how a booking finds its technician (the one the customer chose, or the best
//! matches one at a time) and where each job offer is on its way to an answer.

/// How a booking finds its technician.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchMode {
    /// Offered to the technician the customer chose; if they refuse, dispatch turns automatic.
    Direct,
    /// Offered to the best matches in rank order, one at a time.
    Automatic,
}

impl DispatchMode {
    pub const ALL: [DispatchMode; 2] = [DispatchMode::Direct, DispatchMode::Automatic];

    pub fn as_str(self) -> &'static str {
        match self {
            DispatchMode::Direct => "DIRECT",
            DispatchMode::Automatic => "AUTOMATIC",
        }
    }

    pub fn parse(name: &str) -> Option<DispatchMode> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// Where one offer of a booking to one technician is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferStatus {
    /// Ranked, waiting for its turn.
    Queued,
    /// Sent to the technician, who answers before it expires.
    Offered,
    Accepted,
    Rejected,
    /// Its time ran out unanswered.
    Expired,
    /// The booking was cancelled while the offer was open.
    Withdrawn,
}

impl OfferStatus {
    pub const ALL: [OfferStatus; 6] = [
        OfferStatus::Queued,
        OfferStatus::Offered,
        OfferStatus::Accepted,
        OfferStatus::Rejected,
        OfferStatus::Expired,
        OfferStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Queued => "QUEUED",
            OfferStatus::Offered => "OFFERED",
            OfferStatus::Accepted => "ACCEPTED",
            OfferStatus::Rejected => "REJECTED",
            OfferStatus::Expired => "EXPIRED",
            OfferStatus::Withdrawn => "WITHDRAWN",
        }
    }

    pub fn parse(name: &str) -> Option<OfferStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_parse_to_none() {
        for mode in DispatchMode::ALL {
            assert_eq!(DispatchMode::parse(mode.as_str()), Some(mode));
        }
        for status in OfferStatus::ALL {
            assert_eq!(OfferStatus::parse(status.as_str()), Some(status));
        }
        for unknown in ["direct", "MANUAL", ""] {
            assert_eq!(DispatchMode::parse(unknown), None);
        }
        for unknown in ["offered", "CANCELLED", ""] {
            assert_eq!(OfferStatus::parse(unknown), None);
        }
    }
}
