//! Delivery receipts from live subscriptions, coalesced: a burst of messages to many open
//! subscriptions becomes one write per recipient and conversation instead of one per message.

use crate::services::Services;
use crate::services::chat::history::mark_delivered;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How long deliveries gather before they are written.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// The highest sequence delivered to each (conversation, recipient) since the last write.
#[derive(Default)]
pub struct DeliveryMarks {
    pending: Mutex<HashMap<(Uuid, Uuid), i64>>,
    kick: Notify,
}

impl DeliveryMarks {
    /// Notes that `recipient` received message `seq` of `booking`'s conversation.
    pub fn delivered(&self, booking: Uuid, recipient: Uuid, seq: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let mark = pending.entry((booking, recipient)).or_insert(seq);
        *mark = (*mark).max(seq);
        drop(pending);
        self.kick.notify_one();
    }

    fn take(&self) -> HashMap<Uuid, Vec<(Uuid, i64)>> {
        let pending =
            std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner));
        let mut by_booking: HashMap<Uuid, Vec<(Uuid, i64)>> = HashMap::new();
        for ((booking, recipient), seq) in pending {
            by_booking
                .entry(booking)
                .or_default()
                .push((recipient, seq));
        }
        by_booking
    }
}

/// Writes gathered deliveries until shutdown, then once more so none are lost on a clean stop.
pub fn spawn(services: Services, shutdown: CancellationToken) {
    tokio::spawn(async move {
        loop {
            let stopping = tokio::select! {
                _ = services.deliveries.kick.notified() => false,
                _ = shutdown.cancelled() => true,
            };
            if !stopping {
                tokio::time::sleep(FLUSH_EVERY).await;
            }
            flush(&services).await;
            if stopping {
                return;
            }
        }
    });
}

pub async fn flush(services: &Services) {
    for (booking, marks) in services.deliveries.take() {
        if let Err(e) = mark_delivered(services, booking, &marks).await {
            tracing::warn!(error = ?e.message(), %booking, "delivery receipts not recorded");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_coalesce_to_the_highest_sequence() {
        let marks = DeliveryMarks::default();
        let (booking, a, b) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        marks.delivered(booking, a, 3);
        marks.delivered(booking, a, 7);
        marks.delivered(booking, a, 5);
        marks.delivered(booking, b, 1);
        let mut taken = marks.take().remove(&booking).unwrap();
        taken.sort();
        let mut expected = vec![(a, 7), (b, 1)];
        expected.sort();
        assert_eq!(taken, expected);
        assert!(marks.take().is_empty());
    }
}
