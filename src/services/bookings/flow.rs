//! The booking state machine at work: checking a transition against the domain table, applying it with
//! compare-and-set on status and version, logging it, and saying what happened. Its effects are run
//! by `status_change`, one level up.

use crate::db::bookings::flow::{self as rows, MoveColumn, NewEvent};
use crate::db::entities::booking;
use crate::domain::booking_state::{Role as ActorRole, Status, TransitionError};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
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

/// What a status change did: the booking before and after, where it went and who moved it. Everything
/// the move sets off is decided from this, in one place (`status_change::run_effects`).
#[derive(Debug, Clone)]
pub struct Transition {
    pub before: booking::Model,
    pub after: booking::Model,
    pub to: Status,
    pub actor: Actor,
}

/// Moves `before` to `to` if nobody changed it meanwhile (same status and version), applies column
/// changes that belong to the move and records the event. Says what happened and nothing more: what
/// the move sets off is `status_change::run_effects`'s to run, in the same transaction.
// Each argument is a distinct part of one move (where, when, which booking, to what, by whom, why,
// with which columns set); bundling them would only rename the list.
// Only `status_change::apply` calls this, so no move goes without its effects.
#[allow(clippy::too_many_arguments)]
pub(super) async fn apply(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    before: &booking::Model,
    to: Status,
    actor: Actor,
    reason: Option<&str>,
    columns: Vec<MoveColumn>,
) -> AppResult<Transition> {
    let event = NewEvent {
        booking_id: before.id,
        from_status: Some(before.status),
        to_status: to,
        actor_id: actor.user_id,
        actor_role: actor.role,
        reason: reason.map(|r| r.chars().take(500).collect()),
        at: now,
    };
    // The moved row comes back from the move itself: nothing reads the booking again.
    let after = rows::move_and_log(txn, before, to, now, columns, event)
        .await?
        .ok_or_else(|| {
            AppError::Conflict("the booking changed meanwhile; reload it and try again".into())
        })?;
    Ok(Transition {
        before: before.clone(),
        after,
        to,
        actor,
    })
}

/// Records the first event of a new booking.
pub async fn created(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    booking: &booking::Model,
    actor: Actor,
) -> AppResult<()> {
    rows::insert_event(
        txn,
        NewEvent {
            booking_id: booking.id,
            from_status: None,
            to_status: booking.status,
            actor_id: actor.user_id,
            actor_role: actor.role,
            reason: None,
            at: now,
        },
    )
    .await?;
    Ok(())
}

/// The client-facing error for a move the state table refuses.
pub fn transition_error(e: TransitionError, from: Status) -> AppError {
    match e {
        TransitionError::NotAllowed { allowed } => AppError::InvalidTransition {
            message: format!("this move is not allowed from {}", from.as_str()),
            allowed: allowed.iter().map(|s| s.as_str().to_string()).collect(),
        },
        TransitionError::ReasonRequired => AppError::bad_input(
            "reason",
            "a reason is required when acting on someone's behalf",
        ),
        TransitionError::StartCodeRequired => {
            AppError::bad_input("startCode", "the customer's start code is wrong or missing")
        }
        TransitionError::DisputeWindowClosed => AppError::InvalidTransition {
            message: "disputes can be opened up to 7 days after payment".into(),
            allowed: vec![],
        },
    }
}
