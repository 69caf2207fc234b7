//! Opaque global ids: the object type and its UUID, base64url-encoded, so `node(id)` knows where to look.

use crate::error::{AppError, AppResult};
use async_graphql::ID;
use base64::Engine;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Notification,
    LoginEvent,
    Address,
    KycSubmission,
    KycDocument,
    Technician,
    ServiceCategory,
    AvailabilityException,
    Booking,
    Quote,
    Message,
    Payment,
    Withdrawal,
    UnmatchedReceipt,
    Review,
}

impl Kind {
    const ALL: [Kind; 16] = [
        Kind::User,
        Kind::Notification,
        Kind::LoginEvent,
        Kind::Address,
        Kind::KycSubmission,
        Kind::KycDocument,
        Kind::Technician,
        Kind::ServiceCategory,
        Kind::AvailabilityException,
        Kind::Booking,
        Kind::Quote,
        Kind::Message,
        Kind::Payment,
        Kind::Withdrawal,
        Kind::UnmatchedReceipt,
        Kind::Review,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Notification => "Notification",
            Kind::LoginEvent => "LoginEvent",
            Kind::Address => "Address",
            Kind::KycSubmission => "KycSubmission",
            Kind::KycDocument => "KycDocument",
            Kind::Technician => "Technician",
            Kind::ServiceCategory => "ServiceCategory",
            Kind::AvailabilityException => "AvailabilityException",
            Kind::Booking => "Booking",
            Kind::Quote => "Quote",
            Kind::Message => "Message",
            Kind::Payment => "Payment",
            Kind::Withdrawal => "Withdrawal",
            Kind::UnmatchedReceipt => "UnmatchedReceipt",
            Kind::Review => "Review",
        }
    }

    fn parse(raw: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

pub fn encode(kind: Kind, id: Uuid) -> ID {
    ID(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.as_str())))
}

pub fn decode_any(id: &str, field: &str) -> AppResult<(Kind, Uuid)> {
    let malformed = || AppError::bad_input(field, "malformed id");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let (kind, uuid) = text.split_once(':').ok_or_else(malformed)?;
    Ok((
        Kind::parse(kind).ok_or_else(malformed)?,
        Uuid::parse_str(uuid).map_err(|_| malformed())?,
    ))
}

/// Decodes an id that must name an object of `kind`.
pub fn decode(kind: Kind, id: &str, field: &str) -> AppResult<Uuid> {
    match decode_any(id, field)? {
        (found, uuid) if found == kind => Ok(uuid),
        _ => Err(AppError::bad_input(
            field,
            format!("expected a {} id", kind.as_str()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_keep_their_kind() {
        let uuid = Uuid::now_v7();
        let id = encode(Kind::Notification, uuid);
        assert_eq!(decode(Kind::Notification, &id, "id").unwrap(), uuid);
        assert!(decode(Kind::User, &id, "id").is_err());
        assert!(decode_any("garbage!", "id").is_err());
    }
}
