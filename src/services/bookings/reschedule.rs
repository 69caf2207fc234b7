//! Rescheduling: moving a booking's start before the technician sets off, without double-booking them
//! or booking them outside their working hours.

use crate::db::begin_write;
use crate::db::bookings::{access::by_id, reschedule as rows};
use crate::db::entities::booking;
use crate::domain::booking_state::{Role as ActorRole, Status};
use crate::error::{AppError, AppResult};
use crate::services::bookings::access::{actor_role, visible};
use crate::services::bookings::events::{self, ChangeKind};
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use crate::services::{Effects, Services, Viewer, technicians::technician};
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// Statuses in which the start can still move: nobody has set off yet.
pub const RESCHEDULABLE: [Status; 5] = [
    Status::Pending,
    Status::Matching,
    Status::Assigned,
    Status::Accepted,
    Status::Rejected,
];

/// Statuses in which a technician's time is taken by a job.
const COMMITTED: [Status; 4] = [
    Status::Accepted,
    Status::EnRoute,
    Status::Arrived,
    Status::InProgress,
];

/// Whether [a_start, a_end) and [b_start, b_end) share any instant.
pub fn overlaps(
    a_start: DateTime<Utc>,
    a_end: DateTime<Utc>,
    b_start: DateTime<Utc>,
    b_end: DateTime<Utc>,
) -> bool {
    a_start < b_end && b_start < a_end
}

fn window(booking: &booking::Model) -> (DateTime<Utc>, DateTime<Utc>) {
    // An as-soon-as-possible job has no scheduled start; it occupies the technician from acceptance.
    let start = booking
        .scheduled_start
        .or(booking.accepted_at)
        .unwrap_or(booking.created_at);
    (
        start,
        start + Duration::minutes(booking.estimated_duration_minutes as i64),
    )
}

/// The customer or the assigned technician moves the start; the other party is told.
pub async fn reschedule(
    services: &Services,
    viewer: &Viewer,
    id: Uuid,
    new_start: DateTime<Utc>,
    reason: Option<&str>,
) -> AppResult<booking::Model> {
    let booking = visible(services, viewer, id).await?;
    // Every booking `visible` returns has a role for its viewer; refuse rather than panic if not.
    let role = actor_role(viewer, &booking).ok_or_else(AppError::forbidden)?;
    if !matches!(role, ActorRole::Customer | ActorRole::Technician) {
        return Err(AppError::Forbidden(
            "only the customer or the assigned technician reschedules a booking".into(),
        ));
    }
    let status = booking.status;
    if !RESCHEDULABLE.contains(&status) {
        return Err(AppError::Conflict(format!(
            "a booking can be rescheduled only before the technician sets off; this one is {}",
            status.as_str()
        )));
    }
    // A technician who refused or withdrew keeps no say over the customer's booking.
    if role == ActorRole::Technician && !matches!(status, Status::Assigned | Status::Accepted) {
        return Err(AppError::Forbidden(
            "only the assigned technician reschedules a booking".into(),
        ));
    }
    let now = services.clock.now();
    if new_start <= now {
        return Err(AppError::bad_input(
            "newStart",
            "the new start must be in the future",
        ));
    }
    crate::services::platform::validation::not_too_far(new_start, "newStart", now)?;
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| r.chars().take(500).collect::<String>());
    let technician = booking
        .technician_id
        .filter(|_| matches!(status, Status::Assigned | Status::Accepted));
    if let Some(technician) = technician {
        check_free(services, technician, &booking, new_start).await?;
    }
    let txn = begin_write(&services.db).await?;
    let mut effects = Effects::default();
    let changed = rows::set_start(&txn, booking.id, booking.version, new_start, now).await?;
    if changed != 1 {
        return Err(AppError::Conflict(
            "the booking changed meanwhile; reload it and try again".into(),
        ));
    }
    let after = by_id(&txn, booking.id)
        .await?
        .ok_or_else(|| AppError::NotFound("booking".into()))?;
    events::publish(&txn, &mut effects, &after, ChangeKind::Schedule).await?;
    let other = if role == ActorRole::Customer {
        technician
    } else {
        Some(booking.customer_id)
    };
    if let Some(recipient) = other {
        let body = match &reason {
            Some(r) => format!("New start {}: {r}", new_start.to_rfc3339()),
            None => format!("New start {}", new_start.to_rfc3339()),
        };
        let mut note = NewNotification::new(
            recipient,
            Kind::BookingUpdate,
            format!("Booking rescheduled: {}", booking.title),
            body,
        );
        note.data = Some(
            serde_json::json!({"bookingId": booking.id, "scheduledStart": new_start, "reason": reason}),
        );
        in_app::create(&txn, &mut effects, now, note).await?;
    }
    txn.commit().await?;
    services.after_commit(effects);
    Ok(after)
}

/// Refuses a start that collides with the technician's other committed jobs or falls outside
/// their working hours (judged only when they have set any).
async fn check_free(
    services: &Services,
    technician: Uuid,
    booking: &booking::Model,
    new_start: DateTime<Utc>,
) -> AppResult<()> {
    let new_end = new_start + Duration::minutes(booking.estimated_duration_minutes as i64);
    let others = rows::others_in_statuses(&services.db, technician, booking.id, &COMMITTED).await?;
    if others.iter().any(|other| {
        let (start, end) = window(other);
        overlaps(new_start, new_end, start, end)
    }) {
        return Err(AppError::Conflict(
            "the technician already has a job at that time".into(),
        ));
    }
    let has_hours = !technician::week(&services.db, technician).await?.is_empty();
    if has_hours && !technician::works_at_instant(&services.db, technician, new_start).await? {
        return Err(AppError::Conflict(
            "the technician does not work at that time".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_windows_do_not_overlap() {
        let t = |h: i64| DateTime::<Utc>::from_timestamp(h * 3600, 0).unwrap();
        assert!(overlaps(t(1), t(3), t(2), t(4)));
        assert!(!overlaps(t(1), t(2), t(2), t(3)));
        assert!(overlaps(t(1), t(5), t(2), t(3)));
    }
}
