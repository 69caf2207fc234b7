//! Rescheduling's queries: moving a booking's start under compare-and-set on its version, and a
//! technician's other bookings in given statuses.

use crate::db::entities::booking;
use crate::domain::booking_state::Status;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Sets booking `id`'s start and bumps its version, only if it is still at `version`. Rows affected.
pub async fn set_start(
    db: &impl ConnectionTrait,
    id: Uuid,
    version: i32,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let changed = booking::Entity::update_many()
        .col_expr(booking::Column::ScheduledStart, Expr::value(Some(start)))
        .col_expr(
            booking::Column::Version,
            Expr::col(booking::Column::Version).add(1),
        )
        .col_expr(booking::Column::UpdatedAt, Expr::value(now))
        .filter(booking::Column::Id.eq(id))
        .filter(booking::Column::Version.eq(version))
        .exec(db)
        .await?;
    Ok(changed.rows_affected)
}

/// The technician's bookings other than `except` in one of `statuses`.
pub async fn others_in_statuses(
    db: &impl ConnectionTrait,
    technician: Uuid,
    except: Uuid,
    statuses: &[Status],
) -> Result<Vec<booking::Model>, DbErr> {
    booking::Entity::find()
        .filter(booking::Column::TechnicianId.eq(technician))
        .filter(booking::Column::Id.ne(except))
        .filter(booking::Column::Status.is_in(statuses.iter().copied()))
        .all(db)
        .await
}
