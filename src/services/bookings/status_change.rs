//! What a booking's status change sets off, run in one place inside the change's transaction and in
//! one order: the technician's availability, counters and offers; frozen earnings when a dispute
//! opens; the booking's event; the chat's status line; the other party's notification. Every use case
//! moves a booking through [`apply`], so no move skips an effect and none runs one twice.

use crate::db::bookings::flow::MoveColumn;
use crate::db::bookings::status_change::{self as rows, JobCounter};
use crate::db::entities::booking;
use crate::domain::booking_state::Status;
use crate::domain::dispatch::OfferStatus;
use crate::domain::technician::Availability;
use crate::error::AppResult;
use crate::services::Effects;
use crate::services::bookings::events::{self, ChangeKind};
use crate::services::bookings::flow::{self, Actor, Transition};
use crate::services::chat::messages;
use crate::services::matching::search;
use crate::services::money::holds;
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// Moves a booking (see `flow::apply`) and runs what the move sets off, in the caller's transaction.
// The arguments are `flow::apply`'s, passed through unchanged.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    now: DateTime<Utc>,
    before: &booking::Model,
    to: Status,
    actor: Actor,
    reason: Option<&str>,
    columns: Vec<MoveColumn>,
) -> AppResult<booking::Model> {
    let transition = flow::apply(txn, now, before, to, actor, reason, columns).await?;
    run_effects(txn, effects, now, &transition).await?;
    Ok(transition.after)
}

/// The effects of one transition, in their one order.
pub async fn run_effects(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    now: DateTime<Utc>,
    transition: &Transition,
) -> AppResult<()> {
    let Transition {
        before,
        after,
        to,
        actor,
    } = transition;
    technician_effects(txn, effects, now, before, after, *to).await?;
    if *to == Status::Disputed {
        holds::freeze(txn, before.id, now).await?;
    }
    events::publish(txn, effects, after, ChangeKind::Status).await?;
    messages::record_status(txn, effects, now, after, *to).await?;
    notify(txn, effects, now, after, *to, *actor).await?;
    Ok(())
}

/// BUSY while a job is accepted and under way; back to AVAILABLE once no active job remains. The
/// directory holds only available technicians, so it hears of a change only when one joins or
/// leaves it, or when one in it finishes a job.
async fn technician_effects(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    now: DateTime<Utc>,
    before: &booking::Model,
    after: &booking::Model,
    to: Status,
) -> AppResult<()> {
    let Some(technician) = before.technician_id.or(after.technician_id) else {
        return Ok(());
    };
    let from = before.status;
    let counter = match (from, to) {
        (_, Status::Completed) => Some(JobCounter::Completed),
        (Status::Accepted, Status::Rejected) => Some(JobCounter::Withdrawn),
        _ => None,
    };
    if from.technician_is_busy() && !to.technician_is_busy() {
        // The counter, the check for other active jobs and the way back to AVAILABLE are one write.
        let availability =
            rows::job_finished(txn, technician, before.id, busy_statuses(), counter, now).await?;
        if availability == Some(Availability::Available) {
            search::directory_changed(txn, effects, technician).await?;
        }
    } else {
        if let Some(counter) = counter {
            rows::add_to_counter(txn, technician, counter).await?;
        }
        // Already BUSY with another job: nothing changes, and the directory hears nothing.
        if to == Status::Accepted && rows::set_busy(txn, technician, now).await? {
            search::directory_changed(txn, effects, technician).await?;
        }
    }
    if matches!(to, Status::Accepted | Status::Rejected | Status::Cancelled)
        && from == Status::Assigned
    {
        let offer_status = match to {
            Status::Accepted => OfferStatus::Accepted,
            Status::Rejected => OfferStatus::Rejected,
            _ => OfferStatus::Withdrawn,
        };
        rows::answer_open_offer(txn, before.id, technician, offer_status, now).await?;
    }
    Ok(())
}

/// The statuses in which a booking keeps its technician busy.
pub fn busy_statuses() -> [Status; 5] {
    [
        Status::Accepted,
        Status::EnRoute,
        Status::Arrived,
        Status::InProgress,
        Status::Paused,
    ]
}

/// Tells the other party what happened; the one who acted needs no notification.
async fn notify(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    now: DateTime<Utc>,
    booking: &booking::Model,
    to: Status,
    actor: Actor,
) -> AppResult<()> {
    let title = booking.title.clone();
    let (recipients, headline): (Vec<Option<Uuid>>, String) = match to {
        Status::Assigned => (
            vec![booking.technician_id],
            format!("New job offer: {title}"),
        ),
        Status::Accepted => (
            vec![Some(booking.customer_id)],
            format!("Your technician accepted: {title}"),
        ),
        Status::EnRoute => (
            vec![Some(booking.customer_id)],
            format!("Your technician is on the way: {title}"),
        ),
        Status::Arrived => (
            vec![Some(booking.customer_id)],
            format!("Your technician has arrived: {title}"),
        ),
        Status::Completed => (
            vec![Some(booking.customer_id)],
            format!("Job completed; please verify: {title}"),
        ),
        Status::Cancelled => (
            vec![Some(booking.customer_id), booking.technician_id],
            format!("Booking cancelled: {title}"),
        ),
        Status::Disputed => (
            vec![Some(booking.customer_id), booking.technician_id],
            format!("Dispute opened: {title}"),
        ),
        Status::Rejected => (
            vec![Some(booking.customer_id)],
            format!("Finding another technician: {title}"),
        ),
        _ => (vec![], String::new()),
    };
    for recipient in recipients
        .into_iter()
        .flatten()
        .filter(|r| Some(*r) != actor.user_id)
    {
        let mut note = NewNotification::new(
            recipient,
            Kind::BookingUpdate,
            headline.clone(),
            format!("Status: {}", to.as_str()),
        );
        note.data = Some(serde_json::json!({"bookingId": booking.id, "status": to.as_str()}));
        in_app::create(txn, effects, now, note).await?;
    }
    Ok(())
}
