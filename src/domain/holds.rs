//! Earnings holds: where a technician's share of a paid job is between being earned and being
//! available to withdraw.

/// Where one hold is. HELD until the hold period is over, FROZEN while a dispute is open (and back
/// to HELD for what the dispute leaves the technician), AVAILABLE once released, REVERSED when a
/// dispute took all of it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldStatus {
    Held,
    Frozen,
    Available,
    Reversed,
}

impl HoldStatus {
    pub const ALL: [HoldStatus; 4] = [
        HoldStatus::Held,
        HoldStatus::Frozen,
        HoldStatus::Available,
        HoldStatus::Reversed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HoldStatus::Held => "HELD",
            HoldStatus::Frozen => "FROZEN",
            HoldStatus::Available => "AVAILABLE",
            HoldStatus::Reversed => "REVERSED",
        }
    }

    pub fn parse(name: &str) -> Option<HoldStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_parse_to_none() {
        for status in HoldStatus::ALL {
            assert_eq!(HoldStatus::parse(status.as_str()), Some(status));
        }
        for unknown in ["held", "RELEASED", ""] {
            assert_eq!(HoldStatus::parse(unknown), None);
        }
    }
}
