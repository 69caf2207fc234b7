//! Whether a subscriber may still see a booking's live events, judged per event without a query
//! per event: on this replica's cached copy of the booking, which the booking's own change events
//! invalidate (see `tracking::tracked_booking` for the cache and its staleness bound).

use crate::error::AppResult;
use crate::services::bookings::requests::actor_role;
use crate::services::tracking::positions::tracked_booking;
use crate::services::{Services, Viewer};
use uuid::Uuid;

/// True while `viewer` takes part in booking `id` (or is staff); false once they do not, or once
/// the booking is gone. Costs a query only when the booking changed since this replica last read it.
pub async fn may_watch(services: &Services, viewer: &Viewer, id: Uuid) -> AppResult<bool> {
    Ok(tracked_booking(services, id)
        .await?
        .is_some_and(|booking| actor_role(viewer, &booking).is_some()))
}
