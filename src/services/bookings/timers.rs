//! Timed booking transitions: expiring unanswered offers (then re-dispatching) and verifying completed
//! jobs the customer left unverified, making held earnings available, asking M-Pesa about prompts
//! whose callback never came, and a finished job's review window (reminders, and publication when
//! it closes). Safe with many replicas: each item is claimed by a conditional update, so no job
//! runs twice.

use crate::db::begin_write;
use crate::db::bookings::access::by_id;
use crate::db::bookings::timers as rows;
use crate::domain::booking_state::Status;
use crate::domain::dispatch::OfferStatus;
use crate::error::AppResult;
use crate::services::bookings::flow::Actor;
use crate::services::bookings::status_change;
use crate::services::reviews::windows as reviews;
use crate::services::{Effects, Services, bookings::requests};
use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const BATCH: u64 = 100;

/// The longest the worker goes without looking for each kind of timed work, whatever it expects:
/// a bound on how late it notices a clock change or a row written by hand.
const LONGEST_WAIT: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// Runs the due work every second until shutdown. Offers, verifications and holds are looked for only
/// when one can be due: at the first one pending, or, for ones not yet created, no sooner than the
/// shortest time a new one waits (an offer's expiry, the verification window, the hold). So an idle
/// replica asks the database about them about once a minute instead of every second, and nothing
/// is handled later than before.
pub fn spawn(services: Services, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut schedule = Schedule::default();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.cancelled() => return,
            }
            if let Err(e) = run_scheduled(&services, &mut schedule).await {
                tracing::warn!(error = ?e.message(), "timed booking work failed; will retry");
            }
        }
    });
}

/// When each kind of timed work can next be due, as this replica last saw it; None means now (at
/// start, and after a failure, so it is retried on the next pass).
#[derive(Default)]
struct Schedule {
    offers: Option<DateTime<Utc>>,
    verifications: Option<DateTime<Utc>>,
    holds: Option<DateTime<Utc>>,
    review_windows: Option<DateTime<Utc>>,
}

/// The next time to look: the first pending item's time, but no later than `now` plus the shortest
/// wait of an item created after this look (and `LONGEST_WAIT`), so none is missed.
fn next_look(
    now: DateTime<Utc>,
    first_pending: Option<DateTime<Utc>>,
    shortest_wait_secs: i64,
) -> DateTime<Utc> {
    let wait = chrono::TimeDelta::seconds(shortest_wait_secs.max(0)).min(LONGEST_WAIT);
    let unseen = now + wait;
    first_pending.map_or(unseen, |first| first.min(unseen))
}

fn due(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    at.is_none_or(|at| at <= now)
}

/// The worker's pass: like `run_due`, skipping the kinds that cannot be due yet.
async fn run_scheduled(services: &Services, schedule: &mut Schedule) -> AppResult<usize> {
    let settings = &services.config.bookings;
    let now = services.clock.now();
    let mut results = Vec::with_capacity(9);
    if due(schedule.offers, now) {
        let handled = expire_offers(services).await;
        let first = rows::first_offer_expiry(&services.db, OfferStatus::Offered).await;
        let shortest = settings
            .offer_expiry_asap_secs
            .min(settings.offer_expiry_scheduled_secs);
        schedule.offers = first
            .ok()
            .filter(|_| handled.is_ok())
            .map(|first| next_look(now, first, shortest));
        results.push(handled);
    }
    if due(schedule.verifications, now) {
        let handled = auto_verify(services).await;
        let window = chrono::TimeDelta::seconds(settings.auto_verify_secs);
        let first = rows::first_completion(&services.db).await;
        schedule.verifications = first
            .ok()
            .filter(|_| handled.is_ok())
            .map(|first| next_look(now, first.map(|at| at + window), settings.auto_verify_secs));
        results.push(handled);
    }
    if due(schedule.holds, now) {
        let handled = crate::services::money::holds::release_due_holds(services).await;
        let first = crate::services::money::holds::first_release(services).await;
        schedule.holds = first
            .ok()
            .filter(|_| handled.is_ok())
            .map(|first| next_look(now, first, settings.earnings_hold_secs));
        results.push(handled);
    }
    if due(schedule.review_windows, now) {
        let published = reviews::publish_closed(services).await;
        let reminded = reviews::send_reminders(services).await;
        let first = match (
            reviews::first_close(services).await,
            reviews::first_reminder(services).await,
        ) {
            (Ok(close), Ok(reminder)) => Ok(close.into_iter().chain(reminder).min()),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        schedule.review_windows = first
            .ok()
            .filter(|_| published.is_ok() && reminded.is_ok())
            .map(|first| next_look(now, first, reviews::shortest_wait_secs(services)));
        results.extend([published, reminded]);
    }
    results.extend([
        crate::services::money::mpesa_checks::check_pending(services).await,
        crate::services::money::withdrawals::run_auto_payouts(services).await,
        crate::services::money::mpesa_refunds::send_queued(services).await,
        crate::services::money::payout_checks::run(services).await,
    ]);
    first_failure(results)
}

/// Everything due now; returns how many items were handled. Each kind of work runs even when an
/// earlier one fails, so one stuck item cannot stop the rest; the first failure is returned.
pub async fn run_due(services: &Services) -> AppResult<usize> {
    first_failure(vec![
        expire_offers(services).await,
        auto_verify(services).await,
        crate::services::money::holds::release_due_holds(services).await,
        reviews::publish_closed(services).await,
        reviews::send_reminders(services).await,
        crate::services::money::mpesa_checks::check_pending(services).await,
        crate::services::money::withdrawals::run_auto_payouts(services).await,
        crate::services::money::mpesa_refunds::send_queued(services).await,
        crate::services::money::payout_checks::run(services).await,
    ])
}

fn first_failure(results: Vec<AppResult<usize>>) -> AppResult<usize> {
    let mut handled = 0;
    let mut first_failure = None;
    for result in results {
        match result {
            Ok(n) => handled += n,
            Err(e) => {
                first_failure.get_or_insert(e);
            }
        }
    }
    match first_failure {
        Some(e) => Err(e),
        None => Ok(handled),
    }
}

async fn expire_offers(services: &Services) -> AppResult<usize> {
    let now = services.clock.now();
    let due = rows::offers_expired(&services.db, OfferStatus::Offered, now, BATCH).await?;
    let mut handled = 0;
    for offer in due {
        let txn = begin_write(&services.db).await?;
        // The claim: only one replica turns this offer from OFFERED to EXPIRED.
        let claimed = rows::close_offer(
            &txn,
            offer.id,
            OfferStatus::Offered,
            OfferStatus::Expired,
            now,
        )
        .await?;
        let Some(current) = by_id(&txn, offer.booking_id).await? else {
            continue;
        };
        if claimed != 1
            || current.status != Status::Assigned
            || current.technician_id != Some(offer.technician_id)
        {
            // Answered or moved on meanwhile: keep the offer closed and leave the booking alone.
            txn.commit().await?;
            continue;
        }
        let mut effects = Effects::default();
        let rejected = status_change::apply(
            &txn,
            &mut effects,
            now,
            &current,
            Status::Rejected,
            Actor::system(),
            Some("offer expired"),
            vec![],
        )
        .await?;
        requests::follow_up(&txn, services, &mut effects, now, &rejected).await?;
        txn.commit().await?;
        services.after_commit(effects);
        handled += 1;
    }
    Ok(handled)
}

async fn auto_verify(services: &Services) -> AppResult<usize> {
    let now = services.clock.now();
    let cutoff = now - chrono::Duration::seconds(services.config.bookings.auto_verify_secs);
    let due = rows::completed_before(&services.db, cutoff, BATCH).await?;
    let mut handled = 0;
    for current in due {
        let txn = begin_write(&services.db).await?;
        let mut effects = Effects::default();
        // Compare-and-set on status and version is the claim here: a second replica gets CONFLICT.
        let verified = match status_change::apply(
            &txn,
            &mut effects,
            now,
            &current,
            Status::Verified,
            Actor::system(),
            Some("not verified within the window"),
            vec![],
        )
        .await
        {
            Ok(verified) => verified,
            Err(crate::error::AppError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        };
        requests::follow_up(&txn, services, &mut effects, now, &verified).await?;
        txn.commit().await?;
        services.after_commit(effects);
        handled += 1;
    }
    Ok(handled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn the_next_look_is_the_first_pending_item_or_the_shortest_wait_of_a_new_one() {
        let cases = [
            // (first pending, shortest wait of a new item, next look)
            (None, 120, at(60)), // nothing pending: a new item waits 120 s, capped at 60 s
            (None, 30, at(30)),  // a new offer could expire 30 s after it is made
            (Some(at(10)), 120, at(10)), // the first pending item comes first
            (Some(at(90)), 120, at(60)), // a new item could still come first
            (Some(at(-5)), 120, at(-5)), // one left over (a full batch): look again at once
            (None, 0, at(0)),    // no wait at all (holds of 0 s): every pass
            (None, -7, at(0)),   // a negative setting is no wait, not a look in the past
        ];
        for (first, shortest, expected) in cases {
            assert_eq!(
                next_look(at(0), first, shortest),
                expected,
                "{first:?} {shortest}"
            );
        }
    }

    #[test]
    fn a_kind_is_due_when_unscheduled_or_its_time_has_come() {
        assert!(due(None, at(0)));
        assert!(due(Some(at(0)), at(0)));
        assert!(due(Some(at(-1)), at(0)));
        assert!(!due(Some(at(1)), at(0)));
    }
}
