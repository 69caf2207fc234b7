//! Typed topics: every channel name on the bus is built here, never by hand elsewhere.

use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// New in-app notifications for one user.
    UserNotifications(Uuid),
    /// A technician's matching facts changed (profile, availability, hours); replicas reload them.
    TechnicianDirectory,
    /// Live technician positions, for every replica's matching directory.
    TechnicianPositions,
    /// A service category was added or changed; replicas that keep the list read it again.
    Categories,
    /// The platform's matching weights changed; replicas read them again.
    MatchingWeights,
    /// One customer's own matching weights or blocks changed; replicas forget what they kept of them.
    CustomerMatching,
    /// Every change to one booking, in order.
    Booking(Uuid),
    /// New job offers for one technician.
    TechnicianOffers(Uuid),
    /// One booking's conversation: messages and receipts (durable), typing (live).
    Chat(Uuid),
    /// The technician's live position on one booking (live only).
    Tracking(Uuid),
    /// One account's sessions ending (logout, password change, refresh-token reuse), so every
    /// replica closes the WebSockets bound to them.
    AccountSessions(Uuid),
}

impl Topic {
    pub fn key(&self) -> String {
        match self {
            Topic::UserNotifications(user) => format!("user.{user}.notifications"),
            Topic::TechnicianDirectory => "technicians.directory".into(),
            Topic::TechnicianPositions => "technicians.positions".into(),
            Topic::Categories => "catalogue.categories".into(),
            Topic::MatchingWeights => "matching.weights".into(),
            Topic::CustomerMatching => "matching.customers".into(),
            Topic::Booking(booking) => format!("booking.{booking}"),
            Topic::TechnicianOffers(technician) => format!("technician.{technician}.offers"),
            Topic::Chat(booking) => format!("booking.{booking}.chat"),
            Topic::Tracking(booking) => format!("booking.{booking}.tracking"),
            Topic::AccountSessions(user) => format!("user.{user}.sessions"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_keys_name_their_owner() {
        let id = Uuid::nil();
        assert_eq!(
            Topic::UserNotifications(id).key(),
            format!("user.{id}.notifications")
        );
    }
}
