//! Dispute names: whether a contested job still waits for an admin's decision.

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
}
