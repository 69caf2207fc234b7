//! The booking state machine's writes: the compare-and-set move on status and version with the
//! columns that belong to the move, and the booking's event log.

use crate::db::entities::{booking, booking_event};
use crate::domain::booking_state::{Role as ActorRole, Status};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// A column a move sets besides status, version and its timestamps, with its new value.
#[derive(Debug, Clone, PartialEq)]
pub enum MoveColumn {
    AcceptedAt(DateTime<Utc>),
    CompletedAt(DateTime<Utc>),
    PaidAt(DateTime<Utc>),
    /// The technician the booking is with; `None` stores NULL.
    TechnicianId(Option<Uuid>),
    CancellationFeeMinor(i64),
    /// The reason a cancellation records; `None` stores NULL.
    CancellationReason(Option<String>),
}

impl MoveColumn {
    fn into_expr(self) -> (booking::Column, SimpleExpr) {
        match self {
            MoveColumn::AcceptedAt(at) => (booking::Column::AcceptedAt, Expr::value(at)),
            MoveColumn::CompletedAt(at) => (booking::Column::CompletedAt, Expr::value(at)),
            MoveColumn::PaidAt(at) => (booking::Column::PaidAt, Expr::value(at)),
            MoveColumn::TechnicianId(id) => (booking::Column::TechnicianId, Expr::value(id)),
            MoveColumn::CancellationFeeMinor(fee) => {
                (booking::Column::CancellationFeeMinor, Expr::value(fee))
            }
            MoveColumn::CancellationReason(reason) => {
                (booking::Column::CancellationReason, Expr::value(reason))
            }
        }
    }
}

/// Moves booking `id` from `from` at `version` to `to`, bumping the version and setting `columns`,
/// only if nobody changed it meanwhile. Rows affected: 1 when moved, 0 when it changed meanwhile.
pub async fn move_status(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: Status,
    version: i32,
    to: Status,
    now: DateTime<Utc>,
    columns: Vec<MoveColumn>,
) -> Result<u64, DbErr> {
    let mut update = booking::Entity::update_many()
        .col_expr(booking::Column::Status, Expr::value(to))
        .col_expr(
            booking::Column::Version,
            Expr::col(booking::Column::Version).add(1),
        )
        .col_expr(booking::Column::StatusChangedAt, Expr::value(now))
        .col_expr(booking::Column::UpdatedAt, Expr::value(now));
    for (column, value) in columns.into_iter().map(MoveColumn::into_expr) {
        update = update.col_expr(column, value);
    }
    let changed = update
        .filter(booking::Column::Id.eq(id))
        .filter(booking::Column::Status.eq(from))
        .filter(booking::Column::Version.eq(version))
        .exec(db)
        .await?;
    Ok(changed.rows_affected)
}

/// One line of a booking's event log.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub booking_id: Uuid,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub actor_id: Option<Uuid>,
    pub actor_role: ActorRole,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// Appends a line to a booking's event log.
pub async fn insert_event(db: &impl ConnectionTrait, event: NewEvent) -> Result<(), DbErr> {
    booking_event::Entity::insert(booking_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        booking_id: Set(event.booking_id),
        from_status: Set(event.from_status),
        to_status: Set(event.to_status),
        actor_id: Set(event.actor_id),
        actor_role: Set(event.actor_role),
        reason: Set(event.reason),
        created_at: Set(event.at),
        updated_at: Set(event.at),
    })
    .exec(db)
    .await?;
    Ok(())
}
