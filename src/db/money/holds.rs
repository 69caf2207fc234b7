//! earnings_holds: a technician's share of a paid job, held until the hold period is over.

use crate::db::entities::earnings_hold;
use crate::domain::holds::HoldStatus;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// Inserts a hold.
pub async fn insert(db: &impl ConnectionTrait, held: earnings_hold::Model) -> Result<(), DbErr> {
    earnings_hold::Entity::insert(held.into_active_model())
        .exec(db)
        .await?;
    Ok(())
}

/// Moves every hold of the booking in status `from` to `to`.
pub async fn set_status_for_booking(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    from: HoldStatus,
    to: HoldStatus,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    earnings_hold::Entity::update_many()
        .col_expr(earnings_hold::Column::Status, Expr::value(to))
        .col_expr(earnings_hold::Column::UpdatedAt, Expr::value(now))
        .filter(earnings_hold::Column::BookingId.eq(booking_id))
        .filter(earnings_hold::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(())
}

/// Up to 100 holds in `status` available at or before `now`, soonest first.
pub async fn due(
    db: &impl ConnectionTrait,
    status: HoldStatus,
    now: DateTime<Utc>,
) -> Result<Vec<earnings_hold::Model>, DbErr> {
    earnings_hold::Entity::find()
        .filter(earnings_hold::Column::Status.eq(status))
        .filter(earnings_hold::Column::AvailableAt.lte(now))
        .order_by_asc(earnings_hold::Column::AvailableAt)
        .limit(100)
        .all(db)
        .await
}

/// When the first hold in `status` becomes available, if there is one.
pub async fn first_available_at(
    db: &impl ConnectionTrait,
    status: HoldStatus,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let first = earnings_hold::Entity::find()
        .filter(earnings_hold::Column::Status.eq(status))
        .order_by_asc(earnings_hold::Column::AvailableAt)
        .one(db)
        .await?;
    Ok(first.map(|hold| hold.available_at))
}

/// Moves one hold from `from` to `to`; rows affected.
pub async fn set_status(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: HoldStatus,
    to: HoldStatus,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let claimed = earnings_hold::Entity::update_many()
        .col_expr(earnings_hold::Column::Status, Expr::value(to))
        .col_expr(earnings_hold::Column::UpdatedAt, Expr::value(now))
        .filter(earnings_hold::Column::Id.eq(id))
        .filter(earnings_hold::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(claimed.rows_affected)
}

/// The booking's holds in `status`.
pub async fn for_booking(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    status: HoldStatus,
) -> Result<Vec<earnings_hold::Model>, DbErr> {
    earnings_hold::Entity::find()
        .filter(earnings_hold::Column::BookingId.eq(booking_id))
        .filter(earnings_hold::Column::Status.eq(status))
        .all(db)
        .await
}

/// Sets a hold's amount, and its status when given.
pub async fn set_amount(
    db: &impl ConnectionTrait,
    held: &earnings_hold::Model,
    amount_minor: i64,
    status: Option<HoldStatus>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut active: earnings_hold::ActiveModel = held.clone().into();
    active.amount_minor = Set(amount_minor);
    if let Some(status) = status {
        active.status = Set(status);
    }
    active.updated_at = Set(now);
    sea_orm::ActiveModelTrait::update(active, db).await?;
    Ok(())
}
