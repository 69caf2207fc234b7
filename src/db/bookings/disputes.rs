//! Disputes' queries: a booking's disputes, storing one, and resolving the open one under
//! compare-and-set on its status.

use crate::db::entities::dispute;
use crate::domain::disputes::{DisputeStatus, Outcome};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

/// How many disputes a booking has had.
pub async fn count_for_booking(db: &impl ConnectionTrait, booking: Uuid) -> Result<u64, DbErr> {
    dispute::Entity::find()
        .filter(dispute::Column::BookingId.eq(booking))
        .count(db)
        .await
}

/// Stores a new dispute.
pub async fn insert(db: &impl ConnectionTrait, dispute: dispute::Model) -> Result<(), DbErr> {
    dispute::Entity::insert(dispute.into_active_model())
        .exec(db)
        .await?;
    Ok(())
}

/// The booking's newest dispute in `status`.
pub async fn latest_in_status(
    db: &impl ConnectionTrait,
    booking: Uuid,
    status: DisputeStatus,
) -> Result<Option<dispute::Model>, DbErr> {
    dispute::Entity::find()
        .filter(dispute::Column::BookingId.eq(booking))
        .filter(dispute::Column::Status.eq(status))
        .order_by_desc(dispute::Column::Id)
        .one(db)
        .await
}

/// What resolving a dispute records.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub status: DisputeStatus,
    pub outcome: Outcome,
    pub customer_refund_percent: Option<i32>,
    pub note: Option<String>,
    pub resolved_by: Uuid,
    pub at: DateTime<Utc>,
}

/// Records the resolution of dispute `id`, only while it is still in `from`. Rows affected.
pub async fn resolve(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: DisputeStatus,
    resolved: Resolved,
) -> Result<u64, DbErr> {
    let changed = dispute::Entity::update_many()
        .col_expr(dispute::Column::Status, Expr::value(resolved.status))
        .col_expr(dispute::Column::Outcome, Expr::value(resolved.outcome))
        .col_expr(
            dispute::Column::CustomerRefundPercent,
            Expr::value(resolved.customer_refund_percent),
        )
        .col_expr(dispute::Column::ResolutionNote, Expr::value(resolved.note))
        .col_expr(
            dispute::Column::ResolvedBy,
            Expr::value(resolved.resolved_by),
        )
        .col_expr(dispute::Column::ResolvedAt, Expr::value(resolved.at))
        .col_expr(dispute::Column::UpdatedAt, Expr::value(resolved.at))
        .filter(dispute::Column::Id.eq(id))
        .filter(dispute::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(changed.rows_affected)
}

/// The booking's newest dispute.
pub async fn latest_for_booking(
    db: &impl ConnectionTrait,
    booking: Uuid,
) -> Result<Option<dispute::Model>, DbErr> {
    dispute::Entity::find()
        .filter(dispute::Column::BookingId.eq(booking))
        .order_by_desc(dispute::Column::Id)
        .one(db)
        .await
}

/// Every dispute of the given bookings, oldest first.
pub async fn for_bookings(
    db: &impl ConnectionTrait,
    bookings: &[Uuid],
) -> Result<Vec<dispute::Model>, DbErr> {
    dispute::Entity::find()
        .filter(dispute::Column::BookingId.is_in(bookings.iter().copied()))
        .order_by_asc(dispute::Column::Id)
        .all(db)
        .await
}
