//! Timed transitions' queries: offers past their expiry, completed bookings past the verification
//! window, when the next of each falls due, and the claim that closes an expired offer once.

use crate::db::entities::{booking, job_offer};
use crate::domain::booking_state::Status;
use crate::domain::dispatch::OfferStatus;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// Up to `limit` offers in `status` that expired before `now`.
pub async fn offers_expired(
    db: &impl ConnectionTrait,
    status: OfferStatus,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<job_offer::Model>, DbErr> {
    job_offer::Entity::find()
        .filter(job_offer::Column::Status.eq(status))
        .filter(job_offer::Column::ExpiresAt.lt(now))
        .limit(limit)
        .all(db)
        .await
}

/// Moves offer `id` from `from` to `to`, answered at `now`. Rows affected: 1 when this call moved it.
pub async fn close_offer(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: OfferStatus,
    to: OfferStatus,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let closed = job_offer::Entity::update_many()
        .col_expr(job_offer::Column::Status, Expr::value(to))
        .col_expr(job_offer::Column::RespondedAt, Expr::value(now))
        .filter(job_offer::Column::Id.eq(id))
        .filter(job_offer::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(closed.rows_affected)
}

/// Up to `limit` COMPLETED bookings completed before `cutoff`.
pub async fn completed_before(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<booking::Model>, DbErr> {
    booking::Entity::find()
        .filter(booking::Column::Status.eq(Status::Completed))
        .filter(booking::Column::CompletedAt.lt(cutoff))
        .limit(limit)
        .all(db)
        .await
}

/// When the first offer in `status` expires (or expired), if there is one.
pub async fn first_offer_expiry(
    db: &impl ConnectionTrait,
    status: OfferStatus,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let first = job_offer::Entity::find()
        .filter(job_offer::Column::Status.eq(status))
        .filter(job_offer::Column::ExpiresAt.is_not_null())
        .order_by_asc(job_offer::Column::ExpiresAt)
        .one(db)
        .await?;
    Ok(first.and_then(|offer| offer.expires_at))
}

/// When the earliest still-COMPLETED booking was completed, if there is one.
pub async fn first_completion(db: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>, DbErr> {
    let first = booking::Entity::find()
        .filter(booking::Column::Status.eq(Status::Completed))
        .filter(booking::Column::CompletedAt.is_not_null())
        .order_by_asc(booking::Column::CompletedAt)
        .one(db)
        .await?;
    Ok(first.and_then(|booking| booking.completed_at))
}
