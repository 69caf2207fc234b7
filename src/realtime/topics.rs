//! Typed topics: every channel name on the bus is built here, never by hand elsewhere.

use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// New in-app notifications for one user.
    UserNotifications(Uuid),
}

impl Topic {
    pub fn key(&self) -> String {
        match self {
            Topic::UserNotifications(user) => format!("user.{user}.notifications"),
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
