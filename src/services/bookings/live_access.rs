//! Whether a subscriber may still see a booking's live events, judged per event without a query
//! per event: on this replica's cached copy of the booking, which the booking's own change events
//! invalidate and which an event from a newer version of the booking replaces (see
//! `tracking::tracked_booking` for the cache and its staleness bound).

use crate::error::AppResult;
use crate::services::bookings::access::actor_role;
use crate::services::tracking::positions::tracked_booking;
use crate::services::{Services, Viewer};
use uuid::Uuid;

/// True while `viewer` takes part in booking `id` (or is staff); false once they do not, or once
/// the booking is gone. `event_version` is the booking version the event was produced under (0 when
/// it carries none): a cached copy older than that is read again, so an event that overtook the
/// change taking the viewer's part away is judged after that change. Costs a query only when the
/// booking changed since this replica last read it.
pub async fn may_watch(
    services: &Services,
    viewer: &Viewer,
    id: Uuid,
    event_version: i32,
) -> AppResult<bool> {
    Ok(tracked_booking(services, id, event_version)
        .await?
        .is_some_and(|booking| actor_role(viewer, &booking).is_some()))
}
