//! The booking state machine at work: checking a transition against the domain table, applying it with
//! compare-and-set on status and version, logging it, and saying what happened. Its effects are run
//! by `status_change`, one level up.

use crate::db::entities::{booking, booking_event};
use crate::domain::booking_state::{Role as ActorRole, Status, TransitionError};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
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
// with which column changes); bundling them would only rename the list.
// Only `status_change::apply` calls this, so no move goes without its effects.
#[allow(clippy::too_many_arguments)]
pub(super) async fn apply(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    before: &booking::Model,
    to: Status,
    actor: Actor,
    reason: Option<&str>,
    extra: Vec<(booking::Column, SimpleExpr)>,
) -> AppResult<Transition> {
    let mut update = booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value(to))
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
        .filter(booking::Column::Status.eq(before.status))
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
        from_status: Set(Some(before.status)),
        to_status: Set(to),
        actor_id: Set(actor.user_id),
        actor_role: Set(actor.role),
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
    booking_event::Entity::insert(booking_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        booking_id: Set(booking.id),
        from_status: Set(None),
        to_status: Set(booking.status),
        actor_id: Set(actor.user_id),
        actor_role: Set(actor.role),
        reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(txn)
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
