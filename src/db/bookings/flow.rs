//! The booking state machine's writes: the compare-and-set move on status and version with the
//! columns that belong to the move, together with the line it adds to the booking's event log.

use crate::db::entities::{booking, booking_event};
use crate::domain::booking_state::{Role as ActorRole, Status};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryTrait, Statement,
};
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

/// Moves booking `from.id` from its status at its version to `to`, bumping the version and setting
/// `columns`, only if nobody changed it meanwhile, and appends `event` to its log. Returns the booking
/// as moved, or None when it changed meanwhile (and nothing was written). One statement on
/// PostgreSQL (the move and the log line in one `WITH`); two on SQLite, which has no writing `WITH`.
pub async fn move_and_log(
    db: &impl ConnectionTrait,
    from: &booking::Model,
    to: Status,
    now: DateTime<Utc>,
    columns: Vec<MoveColumn>,
    event: NewEvent,
) -> Result<Option<booking::Model>, DbErr> {
    let backend = db.get_database_backend();
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
    let mut update = update
        .filter(booking::Column::Id.eq(from.id))
        .filter(booking::Column::Status.eq(from.status))
        .filter(booking::Column::Version.eq(from.version))
        .into_query();
    update.returning_all();
    let moved = backend.build(&update);
    if backend != DbBackend::Postgres {
        let Some(row) = db.query_one_raw(moved).await? else {
            return Ok(None);
        };
        let after = booking::Model::from_query_result(&row, "")?;
        insert_event(db, event).await?;
        return Ok(Some(after));
    }
    let mut values = moved.values.map(|v| v.0).unwrap_or_default();
    // The log line's values follow the move's own, numbered on from them.
    let first = values.len() + 1;
    let p = |k: usize| format!("${}", first + k);
    let (id, from_status, to_status, actor_id, actor_role, reason, at) =
        (p(0), p(1), p(2), p(3), p(4), p(5), p(6));
    values.extend([
        Uuid::now_v7().into(),
        event.from_status.into(),
        event.to_status.into(),
        event.actor_id.into(),
        event.actor_role.into(),
        event.reason.into(),
        event.at.into(),
    ]);
    let sql = format!(
        "WITH moved AS ({}), logged AS (INSERT INTO booking_events \
           (id, booking_id, from_status, to_status, actor_id, actor_role, reason, created_at, updated_at) \
           SELECT {id}, moved.id, {from_status}, {to_status}, {actor_id}, {actor_role}, {reason}, {at}, {at} \
           FROM moved) \
         SELECT * FROM moved",
        moved.sql
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    row.map(|row| booking::Model::from_query_result(&row, ""))
        .transpose()
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
