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
    /// A replica committed outbox rows while another holds the relay's lease (live only).
    OutboxWritten,
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
            Topic::OutboxWritten => "outbox.written".into(),
        }
    }
}

/// Topics of one kind followed together by one local subscriber, for what a replica keeps about
/// all of them (its cache of live sessions follows every account's session endings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicFamily {
    /// Every `Topic::AccountSessions`.
    AccountSessions,
}

impl TopicFamily {
    /// Whether `key` is one of this family's topics; checked on every delivery, so no parsing.
    pub fn contains(&self, key: &str) -> bool {
        match self {
            TopicFamily::AccountSessions => key.starts_with("user.") && key.ends_with(".sessions"),
        }
    }

    /// Whom a topic of this family is about (the account, for `AccountSessions`); None for a key
    /// outside the family.
    pub fn subject(&self, key: &str) -> Option<Uuid> {
        match self {
            TopicFamily::AccountSessions => key
                .strip_prefix("user.")?
                .strip_suffix(".sessions")?
                .parse()
                .ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_knows_its_topics_and_whom_they_are_about() {
        let id = Uuid::now_v7();
        let family = TopicFamily::AccountSessions;
        let key = Topic::AccountSessions(id).key();
        assert!(family.contains(&key));
        assert_eq!(family.subject(&key), Some(id));
        for other in [
            Topic::UserNotifications(id).key(),
            Topic::Booking(id).key(),
            Topic::TechnicianDirectory.key(),
        ] {
            assert!(!family.contains(&other), "{other}");
            assert_eq!(family.subject(&other), None, "{other}");
        }
    }

    #[test]
    fn topic_keys_name_their_owner() {
        let id = Uuid::nil();
        assert_eq!(
            Topic::UserNotifications(id).key(),
            format!("user.{id}.notifications")
        );
    }
}
