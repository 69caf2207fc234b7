//! The booking state machine at work: checking a transition against the domain table, applying it with
//! compare-and-set on status and version, logging it, publishing it, and its effects on the technician.

use crate::db::entities::{booking, booking_event, job_offer, technician_profile};
use crate::domain::booking_state::{Role as ActorRole, Status};
use crate::error::{AppError, AppResult};
use crate::realtime::{Topic, outbox};
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use crate::domain::technician::availability;
use crate::services::{Effects, matching::search};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who makes a transition: a person in a role, or the system.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    pub role: ActorRole,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            user_id: None,
            role: ActorRole::System,
        }
    }
}

/// What a booking event carries on the bus: the kind of change and the booking as it then was.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BookingChange {
    pub kind: String,
    pub booking: booking::Model,
}

pub fn status_of(booking: &booking::Model) -> Status {
    Status::parse(&booking.status).unwrap_or(Status::Pending)
}

/// Publishes a change of a booking (status, schedule, quote, price) to its subscribers, in order.
pub async fn publish(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    booking: &booking::Model,
    kind: &str,
) -> AppResult<i64> {
    let payload = serde_json::to_value(BookingChange {
        kind: kind.into(),
        booking: booking.clone(),
    })
    .expect("serialisable");
    let seq = outbox::enqueue(txn, Topic::Booking(booking.id), &payload).await?;
    effects.event();
    Ok(seq)
}

/// Moves `before` to `to` if nobody changed it meanwhile (same status and version), records the event,
/// applies column changes that belong to the move, publishes it and notifies the other party.
// Each argument is a distinct part of one move (where, when, which booking, to what, by whom, why,
// with which column changes); bundling them would only rename the list.
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
    let mut update = booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value(to.as_str()))
        .col_expr(
            booking::Column::Version,
            Expr::col(booking::Column::Version).add(1),
        )
        .col_expr(booking::Column::StatusChangedAt, Expr::value(now))
        .col_expr(booking::Column::UpdatedAt, Expr::value(now));
    for (column, value) in extra {
        update = update.col_expr(column, value);
    }
    let changed = update
        .filter(booking::Column::Id.eq(before.id))
        .filter(booking::Column::Status.eq(before.status.clone()))
        .filter(booking::Column::Version.eq(before.version))
        .exec(txn)
        .await?;
    if changed.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the booking changed meanwhile; reload it and try again".into(),
        ));
    }
    booking_event::Entity::insert(booking_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        booking_id: Set(before.id),
        from_status: Set(Some(before.status.clone())),
        to_status: Set(to.as_str().into()),
        actor_id: Set(actor.user_id),
        actor_role: Set(actor.role.as_str().into()),
        reason: Set(reason.map(|r| r.chars().take(500).collect())),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(txn)
    .await?;
    let after = booking::Entity::find_by_id(before.id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound("booking".into()))?;
    technician_effects(txn, effects, now, before, &after, to).await?;
    if to == Status::Disputed {
        crate::services::money::settlement::freeze(txn, before.id, now).await?;
    }
    publish(txn, effects, &after, "STATUS").await?;
    crate::services::chat::messages::record_status(txn, effects, now, &after, to).await?;
    notify(txn, effects, now, &after, to, actor).await?;
    Ok(after)
}

/// Records the first event of a new booking.
pub async fn created(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    booking: &booking::Model,
    actor: Actor,
) -> AppResult<()> {
    booking_event::Entity::insert(booking_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        booking_id: Set(booking.id),
        from_status: Set(None),
        to_status: Set(booking.status.clone()),
        actor_id: Set(actor.user_id),
        actor_role: Set(actor.role.as_str().into()),
        reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(txn)
    .await?;
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
    let from = status_of(before);
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
