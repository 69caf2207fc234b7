//! Quote names: where a technician's itemised price is on its way to the customer's answer, and
//! what each of its lines is for.

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

/// What a quote line is for; kept by name in the quote's stored lines, and an unknown name there
/// does not read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LineKind {
    Labour,
    Material,
    Fee,
}

impl LineKind {
    pub const ALL: [LineKind; 3] = [LineKind::Labour, LineKind::Material, LineKind::Fee];

    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Labour => "LABOUR",
            LineKind::Material => "MATERIAL",
            LineKind::Fee => "FEE",
        }
    }

    pub fn parse(name: &str) -> Option<LineKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
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

    #[test]
    fn line_kinds_are_stored_by_name_and_unknown_ones_do_not_read() {
        let cases = [
            (LineKind::Labour, "LABOUR"),
            (LineKind::Material, "MATERIAL"),
            (LineKind::Fee, "FEE"),
        ];
        assert_eq!(cases.len(), LineKind::ALL.len());
        for (kind, name) in cases {
            assert_eq!(kind.as_str(), name);
            assert_eq!(LineKind::parse(name), Some(kind));
            let stored = format!("\"{name}\"");
            assert_eq!(serde_json::to_string(&kind).unwrap(), stored);
            assert_eq!(serde_json::from_str::<LineKind>(&stored).unwrap(), kind);
        }
        for unknown in ["labour", "MATERIALS", "TIP", ""] {
            assert_eq!(LineKind::parse(unknown), None);
            let error = serde_json::from_str::<LineKind>(&format!("\"{unknown}\""))
                .unwrap_err()
                .to_string();
            assert!(error.contains(&format!("`{unknown}`")), "{error}");
        }
    }
}
