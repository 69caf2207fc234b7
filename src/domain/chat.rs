//! Chat rules: when a booking's conversation takes messages, what each kind of message must carry,
//! how delivery states follow from receipts, and the timeline line for each status change.

use super::booking_state::Status;
use chrono::{DateTime, Duration, Utc};

/// Longest TEXT message, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Longest IMAGE caption, in characters.
pub const MAX_CAPTION_CHARS: usize = 1000;
/// Longest client message id, in characters.
pub const MAX_CLIENT_ID_CHARS: usize = 100;
/// A typing indicator lapses after this long without being renewed.
pub const TYPING_TTL: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Text,
    Image,
    Location,
    System,
}

impl MessageKind {
    pub const ALL: [MessageKind; 4] = [
        MessageKind::Text,
        MessageKind::Image,
        MessageKind::Location,
        MessageKind::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "TEXT",
            MessageKind::Image => "IMAGE",
            MessageKind::Location => "LOCATION",
            MessageKind::System => "SYSTEM",
        }
    }

    pub fn parse(name: &str) -> Option<MessageKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// How far one recipient has got with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeliveryState {
    Sent,
    Delivered,
    Read,
}

/// A recipient's state for message `seq`, from their delivered and read high-water marks.
pub fn delivery_state(seq: i64, delivered_up_to: i64, read_up_to: i64) -> DeliveryState {
    if seq <= read_up_to {
        DeliveryState::Read
    } else if seq <= delivered_up_to {
        DeliveryState::Delivered
    } else {
        DeliveryState::Sent
    }
}

/// Why a conversation takes no new messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// No technician has been assigned yet.
    NotYetOpen,
    /// The job ended more than the closing period ago.
    Ended,
}

impl Closed {
    pub fn message(self) -> &'static str {
        match self {
            Closed::NotYetOpen => "the conversation opens when a technician is assigned",
            Closed::Ended => "the conversation is closed; the job ended",
        }
    }
}

/// Whether a booking's conversation takes new messages at `now`. It opens when a technician is
/// assigned and, once the job is over, stays open for `close_after` so loose ends can be tied up.
pub fn accepts_messages(
    status: Status,
    has_technician: bool,
    status_changed_at: DateTime<Utc>,
    now: DateTime<Utc>,
    close_after: Duration,
) -> Result<(), Closed> {
    if !has_technician {
        return Err(Closed::NotYetOpen);
    }
    if status.job_is_over() && now > status_changed_at + close_after {
        return Err(Closed::Ended);
    }
    Ok(())
}

/// The SYSTEM message that records a status change in the conversation.
pub fn timeline_text(to: Status) -> &'static str {
    match to {
        Status::Pending => "Request created",
        Status::Matching => "Looking for a technician",
        Status::Assigned => "Technician assigned; waiting for them to accept",
        Status::Accepted => "Technician accepted the job",
        Status::Rejected => "Technician declined; finding another",
        Status::EnRoute => "Technician is on the way",
        Status::Arrived => "Technician has arrived",
        Status::InProgress => "Work started",
        Status::Paused => "Work paused",
        Status::Completed => "Work completed",
        Status::Verified => "Customer confirmed the work",
        Status::PaymentPending => "Waiting for payment",
        Status::Paid => "Paid",
        Status::Disputed => "Dispute opened",
        Status::Refunded => "Refunded",
        Status::Cancelled => "Booking cancelled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_state_follows_the_marks() {
        let cases = [
            // (seq, delivered, read, expected)
            (5, 0, 0, DeliveryState::Sent),
            (5, 4, 0, DeliveryState::Sent),
            (5, 5, 0, DeliveryState::Delivered),
            (5, 9, 4, DeliveryState::Delivered),
            (5, 5, 5, DeliveryState::Read),
            // Reading implies receiving, even if the delivered mark lagged behind.
            (5, 0, 7, DeliveryState::Read),
        ];
        for (seq, delivered, read, expected) in cases {
            assert_eq!(
                delivery_state(seq, delivered, read),
                expected,
                "{seq} {delivered} {read}"
            );
        }
    }

    #[test]
    fn conversations_open_with_a_technician_and_close_after_the_job() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let week = Duration::days(7);
        let cases = [
            (Status::Matching, false, t0, Err(Closed::NotYetOpen)),
            (Status::Assigned, true, t0, Ok(())),
            (Status::InProgress, true, t0 + Duration::days(30), Ok(())),
            (Status::Paid, true, t0 + week, Ok(())),
            (
                Status::Paid,
                true,
                t0 + week + Duration::seconds(1),
                Err(Closed::Ended),
            ),
            (Status::Cancelled, true, t0 + Duration::days(1), Ok(())),
            (
                Status::Cancelled,
                true,
                t0 + Duration::days(8),
                Err(Closed::Ended),
            ),
            (
                Status::Refunded,
                true,
                t0 + Duration::days(8),
                Err(Closed::Ended),
            ),
            // A dispute reopens talk however long ago the job was paid.
            (Status::Disputed, true, t0 + Duration::days(60), Ok(())),
        ];
        for (status, tech, now, expected) in cases {
            assert_eq!(
                accepts_messages(status, tech, t0, now, week),
                expected,
                "{status} at {now}"
            );
        }
    }

    #[test]
    fn kinds_round_trip_and_every_status_has_a_timeline_line() {
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::parse(kind.as_str()), Some(kind));
        }
        for status in Status::ALL {
            assert!(!timeline_text(status).is_empty());
        }
    }
}
