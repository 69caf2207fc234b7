//! Timed booking transitions: expiring unanswered offers (then re-dispatching) and verifying completed
//! jobs the customer left unverified, making held earnings available, and asking M-Pesa about prompts
//! whose callback never came. Safe with many replicas: each item is claimed by a conditional
//! update, so no job runs twice.

use crate::db::begin_write;
use crate::db::bookings::access::by_id;
use crate::db::bookings::timers as rows;
use crate::domain::booking_state::Status;
use crate::domain::dispatch::OfferStatus;
use crate::error::AppResult;
use crate::services::bookings::flow::Actor;
use crate::services::bookings::status_change;
use crate::services::{Effects, Services, bookings::requests};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const BATCH: u64 = 100;

/// Runs the due work every second until shutdown.
pub fn spawn(services: Services, shutdown: CancellationToken) {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.cancelled() => return,
            }
            if let Err(e) = run_due(&services).await {
                tracing::warn!(error = ?e.message(), "timed booking work failed; will retry");
            }
        }
    });
}

/// Everything due now; returns how many items were handled. Each kind of work runs even when an
/// earlier one fails, so one stuck item cannot stop the rest; the first failure is returned.
pub async fn run_due(services: &Services) -> AppResult<usize> {
    let results = [
        expire_offers(services).await,
        auto_verify(services).await,
        crate::services::money::holds::release_due_holds(services).await,
        crate::services::money::mpesa_checks::check_pending(services).await,
        crate::services::money::withdrawals::run_auto_payouts(services).await,
        crate::services::money::mpesa_refunds::send_queued(services).await,
        crate::services::money::payout_checks::run(services).await,
    ];
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
