//! The writes a booking's status change sets off on technicians and offers: job counters,
//! availability, the count of a technician's other active jobs, and answering open offers.

use crate::db::entities::{booking, job_offer, technician_profile};
use crate::domain::booking_state::Status;
use crate::domain::dispatch::OfferStatus;
use crate::domain::technician::Availability;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

/// A technician's job counter that a move adds one to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobCounter {
    Completed,
    Withdrawn,
}

/// Adds one to a technician's job counter.
pub async fn add_to_counter(
    db: &impl ConnectionTrait,
    technician: Uuid,
    counter: JobCounter,
) -> Result<(), DbErr> {
    let column = match counter {
        JobCounter::Completed => technician_profile::Column::JobsCompleted,
        JobCounter::Withdrawn => technician_profile::Column::JobsWithdrawn,
    };
    technician_profile::Entity::update_many()
        .col_expr(column, Expr::col(column).add(1))
        .filter(technician_profile::Column::Id.eq(technician))
        .exec(db)
        .await?;
    Ok(())
}

/// How many of the technician's bookings other than `except` are in one of `statuses`.
pub async fn count_other_in_statuses(
    db: &impl ConnectionTrait,
    technician: Uuid,
    except: Uuid,
    statuses: impl IntoIterator<Item = Status>,
) -> Result<u64, DbErr> {
    booking::Entity::find()
        .filter(booking::Column::TechnicianId.eq(technician))
        .filter(booking::Column::Id.ne(except))
        .filter(booking::Column::Status.is_in(statuses))
        .count(db)
        .await
}

/// Sets a technician's availability to `to`, only when it is `from` if given.
pub async fn set_availability(
    db: &impl ConnectionTrait,
    technician: Uuid,
    from: Option<Availability>,
    to: Availability,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut update = technician_profile::Entity::update_many()
        .col_expr(technician_profile::Column::Availability, Expr::value(to))
        .col_expr(technician_profile::Column::UpdatedAt, Expr::value(now))
        .filter(technician_profile::Column::Id.eq(technician));
    if let Some(from) = from {
        update = update.filter(technician_profile::Column::Availability.eq(from));
    }
    update.exec(db).await?;
    Ok(())
}

/// Answers the technician's OFFERED offer for a booking with `status`.
pub async fn answer_open_offer(
    db: &impl ConnectionTrait,
    booking_id: Uuid,
    technician: Uuid,
    status: OfferStatus,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    job_offer::Entity::update_many()
        .col_expr(job_offer::Column::Status, Expr::value(status))
        .col_expr(job_offer::Column::RespondedAt, Expr::value(now))
        .filter(job_offer::Column::BookingId.eq(booking_id))
        .filter(job_offer::Column::TechnicianId.eq(technician))
        .filter(job_offer::Column::Status.eq(OfferStatus::Offered))
        .exec(db)
        .await?;
    Ok(())
}
