//! What a booking publishes on its topic: one fact per change, with the kind of change and the
//! booking as it then was. Its format is its own, not the table's: it changes only by adding fields
//! with defaults, so replicas of neighbouring releases read each other's events.

use crate::db::entities::booking;
use crate::domain::booking_state::Status;
use crate::domain::dispatch::DispatchMode;
use crate::domain::money::Currency;
use crate::domain::pricing::Priority;
use crate::error::{AppError, AppResult};
use crate::realtime::{BusMessage, Topic, outbox};
use crate::services::Effects;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

/// The format of booking events this release writes. A reader accepts every format up to its own
/// and events without one (written before formats were numbered, read as format 1).
pub const FORMAT: u32 = 1;

fn first_format() -> u32 {
    1
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeKind {
    Status,
    Schedule,
    Quote,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Status => "STATUS",
            ChangeKind::Schedule => "SCHEDULE",
            ChangeKind::Quote => "QUOTE",
        }
    }
}

/// A booking as subscribers render it after a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingSnapshot {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub technician_id: Option<Uuid>,
    pub category_id: Uuid,
    pub title: String,
    pub description: String,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    #[serde(with = "crate::db::stored::by_name")]
    pub priority: Priority,
    pub budget_min_minor: i64,
    pub budget_max_minor: i64,
    #[serde(with = "crate::db::stored::by_name")]
    pub currency: Currency,
    pub scheduled_start: Option<DateTime<Utc>>,
    pub estimated_duration_minutes: i32,
    #[serde(with = "crate::db::stored::by_name")]
    pub status: Status,
    pub version: i32,
    pub start_code: String,
    #[serde(with = "crate::db::stored::by_name")]
    pub dispatch_mode: DispatchMode,
    pub price_base: i64,
    pub price_surge: i64,
    pub price_platform_fee: i64,
    pub price_tax: i64,
    pub price_total: i64,
    pub price_deposit: i64,
    pub cancellation_fee_minor: Option<i64>,
    pub cancellation_reason: Option<String>,
    /// Never rendered; carried so that replicas of the release before formats were numbered, which
    /// read the whole stored row, still read these events.
    pub idempotency_key: String,
    pub status_changed_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Copies every field across; written once for both directions so the two lists cannot drift.
macro_rules! same_fields {
    ($from:expr => $to:path { $($field:ident),+ $(,)? }) => {{
        let from = $from;
        $to { $($field: from.$field),+ }
    }};
}

macro_rules! booking_fields {
    ($from:expr => $to:path) => {
        same_fields!($from => $to {
            id, customer_id, technician_id, category_id, title, description, address, lat, lng,
            priority, budget_min_minor, budget_max_minor, currency, scheduled_start,
            estimated_duration_minutes, status, version, start_code, dispatch_mode, price_base,
            price_surge, price_platform_fee, price_tax, price_total, price_deposit,
            cancellation_fee_minor, cancellation_reason, idempotency_key, status_changed_at,
            accepted_at, completed_at, paid_at, created_at, updated_at,
        })
    };
}

impl From<booking::Model> for BookingSnapshot {
    fn from(row: booking::Model) -> Self {
        booking_fields!(row => BookingSnapshot)
    }
}

impl From<BookingSnapshot> for booking::Model {
    fn from(snapshot: BookingSnapshot) -> Self {
        booking_fields!(snapshot => booking::Model)
    }
}

/// One change of a booking as it travels on the booking's topic.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookingChanged {
    #[serde(default = "first_format")]
    pub v: u32,
    pub kind: ChangeKind,
    pub booking: BookingSnapshot,
}

impl BookingChanged {
    /// The change, or None for a payload this release cannot read (a later format, or not a
    /// booking change at all).
    pub fn from_bus(message: &BusMessage) -> Option<Arc<BookingChanged>> {
        message
            .decode::<BookingChanged>()
            .filter(|change| change.v <= FORMAT)
    }
}

/// Publishes a change of a booking to its subscribers, in order, in the caller's transaction.
pub async fn publish(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    booking: &booking::Model,
    kind: ChangeKind,
) -> AppResult<i64> {
    let change = BookingChanged {
        v: FORMAT,
        kind,
        booking: booking.clone().into(),
    };
    let payload = serde_json::to_value(change).map_err(AppError::internal)?;
    let seq = outbox::enqueue(txn, Topic::Booking(booking.id), &payload).await?;
    effects.event();
    Ok(seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::chat::events::tests::readable_as;
    use serde_json::Value;

    fn fixture(name: &str) -> Value {
        let path = format!("{}/tests/fixtures/bus/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect("fixture JSON")
    }

    fn recorded_booking() -> booking::Model {
        let change = fixture("booking_changed.row.json");
        serde_json::from_value(change["booking"].clone()).expect("a stored booking")
    }

    #[test]
    fn a_change_recorded_from_the_release_before_formats_is_read() {
        let message = BusMessage::new("booking", Some(9), fixture("booking_changed.row.json"));
        let change = BookingChanged::from_bus(&message).expect("decodes");
        assert_eq!(change.v, 1);
        assert_eq!(change.kind, ChangeKind::Quote);
        assert_eq!(change.booking.status, Status::Accepted);
        assert_eq!(
            booking::Model::from(change.booking.clone()),
            recorded_booking()
        );
    }

    #[test]
    fn what_this_release_writes_is_what_the_release_before_read() {
        let written = serde_json::to_value(BookingChanged {
            v: FORMAT,
            kind: ChangeKind::Quote,
            booking: recorded_booking().into(),
        })
        .unwrap();
        assert!(
            readable_as(&fixture("booking_changed.row.json"), &written),
            "{written}"
        );
        assert_eq!(written, fixture("booking_changed.v1.json"));

        /// How the release before formats read a booking's change: the kind and the stored row.
        #[derive(Deserialize)]
        struct PreviousReader {
            kind: String,
            booking: booking::Model,
        }
        let read: PreviousReader =
            serde_json::from_value(written).expect("the old reader reads it");
        assert_eq!(
            (read.kind.as_str(), read.booking),
            ("QUOTE", recorded_booking())
        );
    }

    #[test]
    fn a_later_format_is_skipped_not_misread() {
        let mut payload = fixture("booking_changed.v1.json");
        payload["v"] = (FORMAT + 1).into();
        assert!(BookingChanged::from_bus(&BusMessage::new("booking", Some(9), payload)).is_none());
    }

    #[test]
    fn an_unknown_dispatch_mode_is_not_read_as_another() {
        let mut payload = fixture("booking_changed.v1.json");
        payload["booking"]["dispatch_mode"] = "MANUAL".into();
        assert!(BookingChanged::from_bus(&BusMessage::new("booking", Some(9), payload)).is_none());
    }

    #[test]
    fn kinds_are_named_as_clients_see_them() {
        for kind in [ChangeKind::Status, ChangeKind::Schedule, ChangeKind::Quote] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}
