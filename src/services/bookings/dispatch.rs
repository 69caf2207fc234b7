//! Dispatch: offering a booking to the chosen technician or, automatically, to the best matches one at a
//! time, moving on when an offer is refused or expires, and giving up when nobody is left.

use crate::db::bookings::dispatch as rows;
use crate::db::bookings::flow::MoveColumn;
use crate::db::entities::booking;
use crate::domain::booking_state::Status;
use crate::domain::dispatch::{DispatchMode, OfferStatus};
use crate::domain::geo::LatLng;
use crate::error::{AppError, AppResult};
use crate::realtime::{Topic, outbox};
use crate::services::bookings::flow::Actor;
use crate::services::bookings::status_change;
use crate::services::matching::search::{self, Search};
use crate::services::{Effects, Services};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use std::collections::HashSet;
use uuid::Uuid;

pub const NO_TECHNICIAN_AVAILABLE: &str = "NO_TECHNICIAN_AVAILABLE";

/// The best technicians for a booking, leaving out those already asked.
pub async fn candidates(
    services: &Services,
    booking: &booking::Model,
    exclude: &HashSet<Uuid>,
) -> AppResult<Vec<Uuid>> {
    let search = Search {
        customer: booking.customer_id,
        category: booking.category_id,
        point: LatLng::new(booking.lat, booking.lng).map_err(AppError::internal)?,
        radius_km: search::MAX_SEARCH_RADIUS_KM,
        priority: booking.priority,
        budget: None,
        preferred_start: booking.scheduled_start,
        first: services.config.bookings.dispatch_candidates,
    };
    let found = search::rank(services, &search, exclude).await?;
    Ok(found.into_iter().map(|m| m.technician_id).collect())
}

fn offer_expiry(
    services: &Services,
    booking: &booking::Model,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let settings = &services.config.bookings;
    let secs = if booking.scheduled_start.is_some() {
        settings.offer_expiry_scheduled_secs
    } else {
        settings.offer_expiry_asap_secs
    };
    now + chrono::Duration::seconds(secs)
}

/// Starts dispatch of a new (PENDING) booking. Automatic dispatch queues `queue` in rank order.
/// A deposit requirement, when payments need one, is checked by the caller before this runs.
pub async fn begin(
    txn: &impl ConnectionTrait,
    services: &Services,
    effects: &mut Effects,
    now: DateTime<Utc>,
    booking: &booking::Model,
    queue: &[Uuid],
) -> AppResult<booking::Model> {
    if booking.dispatch_mode == DispatchMode::Direct
        && let Some(technician) = booking.technician_id
    {
        // Offered as it is inserted: one write, not a queued row and then its offer.
        let expires = offer_expiry(services, booking, now);
        rows::insert_open_offer(txn, booking.id, technician, 0, now, expires).await?;
        return assign(txn, effects, now, booking, technician, expires).await;
    }
    for (rank, technician) in (1..).zip(queue) {
        insert_offer(txn, booking.id, *technician, rank, OfferStatus::Queued, now).await?;
    }
    let matching = status_change::apply(
        txn,
        effects,
        now,
        booking,
        Status::Matching,
        Actor::system(),
        None,
        vec![],
    )
    .await?;
    offer_next(txn, services, effects, now, &matching).await
}

async fn insert_offer(
    txn: &impl ConnectionTrait,
    booking: Uuid,
    technician: Uuid,
    rank: i32,
    status: OfferStatus,
    now: DateTime<Utc>,
) -> AppResult<()> {
    rows::insert_offer(txn, booking, technician, rank, status, now).await?;
    Ok(())
}

/// Offers a MATCHING booking to the next queued technician, or cancels it when nobody is left.
pub async fn offer_next(
    txn: &impl ConnectionTrait,
    services: &Services,
    effects: &mut Effects,
    now: DateTime<Utc>,
    booking: &booking::Model,
) -> AppResult<booking::Model> {
    let next = rows::first_by_rank(txn, booking.id, OfferStatus::Queued).await?;
    match next {
        Some(next) => offer(txn, services, effects, now, booking, next.technician_id).await,
        None => {
            let reason = Some(NO_TECHNICIAN_AVAILABLE);
            let cancelled = status_change::apply(
                txn,
                effects,
                now,
                booking,
                Status::Cancelled,
                Actor::system(),
                reason,
                vec![MoveColumn::CancellationReason(Some(
                    NO_TECHNICIAN_AVAILABLE.to_string(),
                ))],
            )
            .await?;
            // Nobody took the job: whatever was paid goes back in full.
            crate::services::money::settlement::on_cancelled(txn, services, now, &cancelled)
                .await?;
            Ok(cancelled)
        }
    }
}

async fn offer(
    txn: &impl ConnectionTrait,
    services: &Services,
    effects: &mut Effects,
    now: DateTime<Utc>,
    booking: &booking::Model,
    technician: Uuid,
) -> AppResult<booking::Model> {
    let expires = offer_expiry(services, booking, now);
    rows::mark_offered(
        txn,
        booking.id,
        technician,
        OfferStatus::Offered,
        now,
        expires,
    )
    .await?;
    assign(txn, effects, now, booking, technician, expires).await
}

/// Moves a booking to ASSIGNED with the technician its open offer went to, and tells them.
async fn assign(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    now: DateTime<Utc>,
    booking: &booking::Model,
    technician: Uuid,
    expires: DateTime<Utc>,
) -> AppResult<booking::Model> {
    let assigned = status_change::apply(
        txn,
        effects,
        now,
        booking,
        Status::Assigned,
        Actor::system(),
        None,
        vec![MoveColumn::TechnicianId(Some(technician))],
    )
    .await?;
    let payload = serde_json::json!({"bookingId": booking.id, "technicianId": technician, "expiresAt": expires});
    outbox::enqueue(txn, Topic::TechnicianOffers(technician), &payload).await?;
    effects.event();
    Ok(assigned)
}

/// After a refusal, withdrawal or expiry (REJECTED): back to matching with the next candidate. A
/// direct request whose technician said no falls back to automatic dispatch among the others.
pub async fn redispatch(
    txn: &impl ConnectionTrait,
    services: &Services,
    effects: &mut Effects,
    now: DateTime<Utc>,
    rejected: &booking::Model,
) -> AppResult<booking::Model> {
    let offers = rows::offers_for_booking(txn, rejected.id).await?;
    let queued = offers.iter().any(|o| o.status == OfferStatus::Queued);
    if !queued && rejected.dispatch_mode == DispatchMode::Direct && offers.len() == 1 {
        let asked: HashSet<Uuid> = offers.iter().map(|o| o.technician_id).collect();
        for (rank, technician) in (1..).zip(candidates(services, rejected, &asked).await?) {
            insert_offer(txn, rejected.id, technician, rank, OfferStatus::Queued, now).await?;
        }
    }
    let extra = vec![MoveColumn::TechnicianId(None)];
    let matching = status_change::apply(
        txn,
        effects,
        now,
        rejected,
        Status::Matching,
        Actor::system(),
        None,
        extra,
    )
    .await?;
    offer_next(txn, services, effects, now, &matching).await
}
