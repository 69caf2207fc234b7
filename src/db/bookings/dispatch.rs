//! Dispatch's queries: a booking's job offers, queued, offered and read back in rank order.

use crate::db::entities::job_offer;
use crate::domain::dispatch::OfferStatus;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

/// Stores a new offer of `booking` to `technician` at `rank`, not yet offered.
pub async fn insert_offer(
    db: &impl ConnectionTrait,
    booking: Uuid,
    technician: Uuid,
    rank: i32,
    status: OfferStatus,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    job_offer::Entity::insert(job_offer::ActiveModel {
        id: Set(Uuid::now_v7()),
        booking_id: Set(booking),
        technician_id: Set(technician),
        rank: Set(rank),
        status: Set(status),
        offered_at: Set(None),
        expires_at: Set(None),
        responded_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Inserts an offer already made: OFFERED at `now`, open until `expires`.
pub async fn insert_open_offer(
    db: &impl ConnectionTrait,
    booking: Uuid,
    technician: Uuid,
    rank: i32,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<(), DbErr> {
    job_offer::Entity::insert(job_offer::ActiveModel {
        id: Set(Uuid::now_v7()),
        booking_id: Set(booking),
        technician_id: Set(technician),
        rank: Set(rank),
        status: Set(OfferStatus::Offered),
        offered_at: Set(Some(now)),
        expires_at: Set(Some(expires)),
        responded_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The booking's first offer in `status` by rank.
pub async fn first_by_rank(
    db: &impl ConnectionTrait,
    booking: Uuid,
    status: OfferStatus,
) -> Result<Option<job_offer::Model>, DbErr> {
    job_offer::Entity::find()
        .filter(job_offer::Column::BookingId.eq(booking))
        .filter(job_offer::Column::Status.eq(status))
        .order_by_asc(job_offer::Column::Rank)
        .one(db)
        .await
}

/// Marks the booking's offers to `technician` as `status`, offered at `now` until `expires`.
pub async fn mark_offered(
    db: &impl ConnectionTrait,
    booking: Uuid,
    technician: Uuid,
    status: OfferStatus,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<(), DbErr> {
    job_offer::Entity::update_many()
        .col_expr(job_offer::Column::Status, Expr::value(status))
        .col_expr(job_offer::Column::OfferedAt, Expr::value(now))
        .col_expr(job_offer::Column::ExpiresAt, Expr::value(expires))
        .filter(job_offer::Column::BookingId.eq(booking))
        .filter(job_offer::Column::TechnicianId.eq(technician))
        .exec(db)
        .await?;
    Ok(())
}

/// Every offer of a booking.
pub async fn offers_for_booking(
    db: &impl ConnectionTrait,
    booking: Uuid,
) -> Result<Vec<job_offer::Model>, DbErr> {
    job_offer::Entity::find()
        .filter(job_offer::Column::BookingId.eq(booking))
        .all(db)
        .await
}
