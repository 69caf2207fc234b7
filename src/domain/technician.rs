//! A technician's standing as stored on their profile: the KYC review states and whether they take
//! work now. Matching, dispatch, KYC review and the API all read these same words.

/// KYC review states of a technician.
pub mod kyc_status {
    pub const NOT_SUBMITTED: &str = "NOT_SUBMITTED";
    pub const UNDER_REVIEW: &str = "UNDER_REVIEW";
    pub const APPROVED: &str = "APPROVED";
    pub const REJECTED: &str = "REJECTED";
}

/// Whether a technician takes work now. BUSY is set by the system while a job is active.
pub mod availability {
    pub const AVAILABLE: &str = "AVAILABLE";
    pub const OFFLINE: &str = "OFFLINE";
    pub const BUSY: &str = "BUSY";
}
