//! What a booking's status change sets off, run in one place inside the change's transaction and in
//! one order: the technician's availability, counters and offers; frozen earnings when a dispute
//! opens; the booking's event; the chat's status line; the other party's notification. Every use case
//! moves a booking through [`apply`], so no move skips an effect and none runs one twice.

use crate::db::entities::{booking, job_offer, technician_profile};
use crate::domain::booking_state::Status;
use crate::domain::technician::availability;
use crate::error::AppResult;
use crate::services::Effects;
use crate::services::bookings::events::{self, ChangeKind};
use crate::services::bookings::flow::{self, Actor, Transition};
use crate::services::chat::messages;
use crate::services::matching::search;
use crate::services::money::holds;
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
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
    extra: Vec<(booking::Column, SimpleExpr)>,
) -> AppResult<booking::Model> {
    let transition = flow::apply(txn, now, before, to, actor, reason, extra).await?;
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

/// BUSY while a job is accepted and under way; back to AVAILABLE once no active job remains.
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
        (_, Status::Completed) => Some(technician_profile::Column::JobsCompleted),
        (Status::Accepted, Status::Rejected) => Some(technician_profile::Column::JobsWithdrawn),
        _ => None,
    };
    if let Some(column) = counter {
        technician_profile::Entity::update_many()
            .col_expr(column, Expr::col(column).add(1))
            .filter(technician_profile::Column::Id.eq(technician))
            .exec(txn)
            .await?;
    }
    if to == Status::Accepted {
        set_availability(txn, technician, None, availability::BUSY, now).await?;
        search::directory_changed(txn, effects, technician).await?;
    } else if from.technician_is_busy() && !to.technician_is_busy() {
        let still_busy = booking::Entity::find()
            .filter(booking::Column::TechnicianId.eq(technician))
            .filter(booking::Column::Id.ne(before.id))
            .filter(booking::Column::Status.is_in(busy_statuses()))
            .count(txn)
            .await?;
        if still_busy == 0 {
            set_availability(
                txn,
                technician,
                Some(availability::BUSY),
                availability::AVAILABLE,
                now,
            )
            .await?;
            search::directory_changed(txn, effects, technician).await?;
        }
    }
    if matches!(to, Status::Accepted | Status::Rejected | Status::Cancelled)
        && from == Status::Assigned
    {
        let offer_status = match to {
            Status::Accepted => "ACCEPTED",
            Status::Rejected => "REJECTED",
            _ => "WITHDRAWN",
        };
        job_offer::Entity::update_many()
            .col_expr(job_offer::Column::Status, Expr::value(offer_status))
            .col_expr(job_offer::Column::RespondedAt, Expr::value(now))
            .filter(job_offer::Column::BookingId.eq(before.id))
            .filter(job_offer::Column::TechnicianId.eq(technician))
            .filter(job_offer::Column::Status.eq("OFFERED"))
            .exec(txn)
            .await?;
    }
    Ok(())
}

pub fn busy_statuses() -> Vec<&'static str> {
    [
        Status::Accepted,
        Status::EnRoute,
        Status::Arrived,
        Status::InProgress,
        Status::Paused,
    ]
    .iter()
    .map(|s| s.as_str())
    .collect()
}

async fn set_availability(
    txn: &impl ConnectionTrait,
    technician: Uuid,
    from: Option<&str>,
    to: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut update = technician_profile::Entity::update_many()
        .col_expr(technician_profile::Column::Availability, Expr::value(to))
        .col_expr(technician_profile::Column::UpdatedAt, Expr::value(now))
        .filter(technician_profile::Column::Id.eq(technician));
    if let Some(from) = from {
        update = update.filter(technician_profile::Column::Availability.eq(from));
    }
    update.exec(txn).await?;
    Ok(())
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
