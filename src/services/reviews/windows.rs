//! The review window's timed work, run by the booking worker with everything else that is due:
//! publishing what was written once a window closes, and reminding whoever has not reviewed a day
//! after payment. Each item is claimed by a conditional write, so with many replicas none runs twice.

use crate::db::begin_write;
use crate::db::reviews::windows as rows;
use crate::error::AppResult;
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use crate::services::reviews::publication;
use crate::services::{Effects, Services};
use chrono::{DateTime, Duration, Utc};

const BATCH: u64 = 100;

fn window(services: &Services) -> Duration {
    Duration::seconds(services.config.reviews.window_secs)
}

fn reminder_delay(services: &Services) -> Duration {
    Duration::seconds(services.config.reviews.reminder_secs)
}

/// Publishes the reviews of every window that closed; how many bookings were published.
pub async fn publish_closed(services: &Services) -> AppResult<usize> {
    let now = services.clock.now();
    let due = rows::closed_unpublished(&services.db, now, BATCH).await?;
    let mut handled = 0;
    for booking in due {
        let txn = begin_write(&services.db).await?;
        let mut effects = Effects::default();
        publication::publish_booking(&txn, services, &mut effects, booking, now).await?;
        txn.commit().await?;
        services.after_commit(effects);
        handled += 1;
    }
    Ok(handled)
}

/// When the first window with unpublished reviews closes.
pub async fn first_close(services: &Services) -> AppResult<Option<DateTime<Utc>>> {
    Ok(rows::first_close(&services.db).await?)
}

/// Reminds whoever has not reviewed a job paid at least the reminder delay ago (and still open for
/// reviews); how many jobs were handled.
pub async fn send_reminders(services: &Services) -> AppResult<usize> {
    let now = services.clock.now();
    let window = window(services);
    let due = rows::unreminded(
        &services.db,
        now - window,
        now - reminder_delay(services),
        BATCH,
    )
    .await?;
    let mut handled = 0;
    for job in due {
        let txn = begin_write(&services.db).await?;
        let closes_at = job.since + window;
        if !rows::claim_reminder(&txn, job.booking_id, closes_at, now).await? {
            // Another replica reminded them first.
            txn.commit().await?;
            continue;
        }
        let booking = crate::services::bookings::access::load(&txn, job.booking_id).await?;
        let written = rows::authors(&txn, job.booking_id).await?;
        let mut effects = Effects::default();
        let until = closes_at.format("%-d %B %Y");
        for (who, other) in [
            (job.customer_id, "your technician"),
            (job.technician_id, "your customer"),
        ] {
            if written.contains(&who) {
                continue;
            }
            let mut note = NewNotification::new(
                who,
                Kind::ReviewReminder,
                format!("How did it go? {}", booking.title),
                format!(
                    "Review {other} by {until}. Neither of you sees the other's review until both are in."
                ),
            );
            note.data = Some(serde_json::json!({
                "bookingId": job.booking_id,
                "closesAt": closes_at,
            }));
            in_app::create(&txn, &mut effects, now, note).await?;
        }
        txn.commit().await?;
        services.after_commit(effects);
        handled += 1;
    }
    Ok(handled)
}

/// When the next reminder falls due: the reminder delay after the first job paid within the
/// window whose reviewers were not reminded.
pub async fn first_reminder(services: &Services) -> AppResult<Option<DateTime<Utc>>> {
    let now = services.clock.now();
    let first = rows::first_unreminded(&services.db, now - window(services)).await?;
    Ok(first.map(|since| since + reminder_delay(services)))
}

/// The shortest time a job paid from now waits for its reminder: how soon new work can appear.
pub fn shortest_wait_secs(services: &Services) -> i64 {
    services.config.reviews.reminder_secs
}
