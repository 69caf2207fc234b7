//! A technician's standing as stored on their profile: the KYC review states, the documents a review
//! looks at, and whether they take work now. Matching, dispatch, KYC review and the API all read
//! these same words.

/// KYC review states of a technician, and of each of their submissions (a submission is UNDER_REVIEW
/// until it is APPROVED or REJECTED).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KycStatus {
    NotSubmitted,
    UnderReview,
    Approved,
    Rejected,
}

impl KycStatus {
    pub const ALL: [KycStatus; 4] = [
        KycStatus::NotSubmitted,
        KycStatus::UnderReview,
        KycStatus::Approved,
        KycStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KycStatus::NotSubmitted => "NOT_SUBMITTED",
            KycStatus::UnderReview => "UNDER_REVIEW",
            KycStatus::Approved => "APPROVED",
            KycStatus::Rejected => "REJECTED",
        }
    }

    pub fn parse(name: &str) -> Option<KycStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Documents may be submitted for the first time, or again after a rejection; never while a
    /// submission is under review or once approved.
    pub fn may_submit(self) -> bool {
        matches!(self, KycStatus::NotSubmitted | KycStatus::Rejected)
    }
}

/// Which document of a KYC submission a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    GovernmentId,
    Selfie,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 2] = [DocumentKind::GovernmentId, DocumentKind::Selfie];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::GovernmentId => "GOVERNMENT_ID",
            DocumentKind::Selfie => "SELFIE",
        }
    }

    pub fn parse(name: &str) -> Option<DocumentKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The name a downloaded file gets, before its extension.
    pub fn file_stem(self) -> &'static str {
        match self {
            DocumentKind::GovernmentId => "government-id",
            DocumentKind::Selfie => "selfie",
        }
    }
}

/// Whether a technician takes work now. BUSY is set by the system while a job is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Available,
    Offline,
    Busy,
}

impl Availability {
    pub const ALL: [Availability; 3] = [
        Availability::Available,
        Availability::Offline,
        Availability::Busy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Available => "AVAILABLE",
            Availability::Offline => "OFFLINE",
            Availability::Busy => "BUSY",
        }
    }

    pub fn parse(name: &str) -> Option<Availability> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// Whether a technician's profile, and what hangs off it such as their reviews, is shown to a
/// reader: to everyone once approved; before that only to the technician and staff, who
/// `see_private` fields.
pub fn profile_shown(kyc: KycStatus, see_private: bool) -> bool {
    see_private || kyc == KycStatus::Approved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kyc_statuses_round_trip_through_their_stored_names() {
        for status in KycStatus::ALL {
            assert_eq!(KycStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(KycStatus::parse("PENDING"), None);
        assert_eq!(KycStatus::parse("approved"), None);
    }

    #[test]
    fn only_approved_profiles_are_shown_to_everyone() {
        for (kyc, public) in [
            (KycStatus::NotSubmitted, false),
            (KycStatus::UnderReview, false),
            (KycStatus::Approved, true),
            (KycStatus::Rejected, false),
        ] {
            assert_eq!(profile_shown(kyc, false), public, "{kyc:?} to others");
            assert!(
                profile_shown(kyc, true),
                "{kyc:?} to the technician and staff"
            );
        }
    }

    #[test]
    fn submissions_are_allowed_first_and_after_a_rejection_only() {
        assert!(KycStatus::NotSubmitted.may_submit());
        assert!(KycStatus::Rejected.may_submit());
        assert!(!KycStatus::UnderReview.may_submit());
        assert!(!KycStatus::Approved.may_submit());
    }

    #[test]
    fn document_kinds_round_trip_through_their_stored_names() {
        for kind in DocumentKind::ALL {
            assert_eq!(DocumentKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(DocumentKind::parse("PASSPORT"), None);
    }

    #[test]
    fn availabilities_round_trip_through_their_stored_names() {
        for availability in Availability::ALL {
            assert_eq!(
                Availability::parse(availability.as_str()),
                Some(availability)
            );
        }
        assert_eq!(Availability::parse("ONLINE"), None);
        assert_eq!(Availability::parse("busy"), None);
    }
}
