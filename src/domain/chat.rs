//! Chat rules: when a booking's conversation takes messages, what each kind of message must carry,
//! how delivery states follow from receipts, and the timeline line for each status change.

use super::booking_state::Status;
use super::geo::LatLng;
use super::refusal::{Refusal, refuse};
use super::text::bounded;
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

/// A message as a participant sends it. `A` is the attachment, carried through untouched: what an
/// image's bytes must look like is the storage's rule, not chat's.
#[derive(Debug, Clone)]
pub struct MessageDraft<A> {
    pub kind: MessageKind,
    pub body: Option<String>,
    pub attachment: Option<A>,
    pub location: Option<LatLng>,
    pub client_message_id: Option<String>,
}

/// A message that carries exactly what its kind needs, its texts trimmed and its point parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedMessage<A> {
    pub kind: MessageKind,
    pub body: Option<String>,
    pub attachment: Option<A>,
    pub location: Option<LatLng>,
    pub client_message_id: Option<String>,
}

fn text(value: &str, field: &'static str, label: &str, max: usize) -> Result<String, Refusal> {
    bounded(value, 1, max).map_err(|r| refuse(field, r.message(label)))
}

/// TEXT needs a body; IMAGE an attachment and LOCATION a point, each with an optional caption;
/// SYSTEM lines are the platform's alone. Anything a kind does not carry is refused, not dropped.
pub fn check_message<A>(draft: MessageDraft<A>) -> Result<CheckedMessage<A>, Refusal> {
    let client_message_id = draft
        .client_message_id
        .map(|id| {
            text(
                &id,
                "clientMessageId",
                "clientMessageId",
                MAX_CLIENT_ID_CHARS,
            )
        })
        .transpose()?;
    let kind = draft.kind;
    let article = if matches!(kind, MessageKind::Image) {
        "an"
    } else {
        "a"
    };
    let unexpected = |field: &'static str| {
        refuse(
            field,
            format!("{article} {} message has no {field}", kind.as_str()),
        )
    };
    let caption = |body: Option<String>| {
        body.filter(|b| !b.trim().is_empty())
            .map(|b| text(&b, "body", "a caption", MAX_CAPTION_CHARS))
            .transpose()
    };
    let (body, attachment, location) = match kind {
        MessageKind::Text => {
            if draft.attachment.is_some() {
                return Err(unexpected("attachment"));
            }
            if draft.location.is_some() {
                return Err(unexpected("location"));
            }
            let body = draft.body.unwrap_or_default();
            (
                Some(text(&body, "body", "a message", MAX_TEXT_CHARS)?),
                None,
                None,
            )
        }
        MessageKind::Image => {
            if draft.location.is_some() {
                return Err(unexpected("location"));
            }
            let Some(attachment) = draft.attachment else {
                return Err(refuse("attachment", "an IMAGE message needs an attachment"));
            };
            (caption(draft.body)?, Some(attachment), None)
        }
        MessageKind::Location => {
            if draft.attachment.is_some() {
                return Err(unexpected("attachment"));
            }
            let Some(point) = draft.location else {
                return Err(refuse("location", "a LOCATION message needs a location"));
            };
            (caption(draft.body)?, None, Some(point))
        }
        MessageKind::System => {
            return Err(refuse(
                "kind",
                "SYSTEM messages are written by the platform",
            ));
        }
    };
    Ok(CheckedMessage {
        kind,
        body,
        attachment,
        location,
        client_message_id,
    })
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

    fn draft(kind: MessageKind) -> MessageDraft<&'static str> {
        MessageDraft {
            kind,
            body: None,
            attachment: None,
            location: None,
            client_message_id: None,
        }
    }

    #[test]
    fn each_kind_carries_exactly_what_it_needs() {
        use MessageKind::*;
        type Edit = fn(&mut MessageDraft<&'static str>);
        type Expected = Result<(), (&'static str, &'static str)>;
        let cases: [(MessageKind, Edit, Expected); 13] = [
            (Text, |d| d.body = Some(" hi ".into()), Ok(())),
            (
                Text,
                |_| {},
                Err(("body", "a message must be 1 to 4000 characters")),
            ),
            (
                Text,
                |d| d.body = Some("x".repeat(4001)),
                Err(("body", "a message must be 1 to 4000")),
            ),
            (
                Text,
                |d| {
                    d.body = Some("hi".into());
                    d.attachment = Some("jpg")
                },
                Err(("attachment", "a TEXT message has no attachment")),
            ),
            (
                Text,
                |d| {
                    d.body = Some("hi".into());
                    d.location = LatLng::new(0.0, 0.0).ok()
                },
                Err(("location", "a TEXT message has no location")),
            ),
            (Image, |d| d.attachment = Some("jpg"), Ok(())),
            (
                Image,
                |d| {
                    d.attachment = Some("jpg");
                    d.body = Some("  ".into())
                },
                Ok(()),
            ),
            (
                Image,
                |_| {},
                Err(("attachment", "an IMAGE message needs an attachment")),
            ),
            (
                Image,
                |d| {
                    d.attachment = Some("jpg");
                    d.body = Some("x".repeat(1001))
                },
                Err(("body", "a caption must be 1 to 1000")),
            ),
            (
                Image,
                |d| {
                    d.attachment = Some("jpg");
                    d.location = LatLng::new(0.0, 0.0).ok()
                },
                Err(("location", "an IMAGE message has no location")),
            ),
            (
                Location,
                |d| d.location = LatLng::new(-1.3, 36.8).ok(),
                Ok(()),
            ),
            (
                Location,
                |_| {},
                Err(("location", "a LOCATION message needs a location")),
            ),
            (
                System,
                |d| d.body = Some("hi".into()),
                Err(("kind", "SYSTEM messages are written by the platform")),
            ),
        ];
        for (kind, edit, expected) in cases {
            let mut d = draft(kind);
            edit(&mut d);
            let got = check_message(d);
            match (&got, expected) {
                (Ok(_), Ok(())) => {}
                (Err(r), Err((field, message))) => {
                    assert_eq!(r.field, field, "{kind:?}: {r:?}");
                    assert!(r.message.starts_with(message), "{kind:?}: {r:?}");
                }
                _ => panic!("{kind:?}: {got:?} but expected {expected:?}"),
            }
        }
    }

    #[test]
    fn texts_are_trimmed_and_blank_captions_dropped() {
        let mut d = draft(MessageKind::Text);
        (d.body, d.client_message_id) = (Some("  on my way ".into()), Some(" c-1 ".into()));
        let checked = check_message(d).unwrap();
        assert_eq!(checked.body.as_deref(), Some("on my way"));
        assert_eq!(checked.client_message_id.as_deref(), Some("c-1"));
        let mut d = draft(MessageKind::Image);
        (d.attachment, d.body) = (Some("jpg"), Some("   ".into()));
        assert_eq!(check_message(d).unwrap().body, None);
        let mut d = draft(MessageKind::Text);
        (d.body, d.client_message_id) = (Some("hi".into()), Some(String::new()));
        assert_eq!(check_message(d).unwrap_err().field, "clientMessageId");
    }
}
