//! The writes a booking's status change sets off on technicians and offers: job counters,
//! availability (freed only when no other active job remains), and answering open offers.

use crate::db::entities::{booking, job_offer, technician_profile};
use crate::domain::booking_state::Status;
use crate::domain::dispatch::OfferStatus;
use crate::domain::technician::Availability;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryTrait};
use uuid::Uuid;

/// A technician's job counter that a move adds one to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobCounter {
    Completed,
    Withdrawn,
}

fn counter_column(counter: JobCounter) -> technician_profile::Column {
    match counter {
        JobCounter::Completed => technician_profile::Column::JobsCompleted,
        JobCounter::Withdrawn => technician_profile::Column::JobsWithdrawn,
    }
}

/// Adds one to a technician's job counter.
pub async fn add_to_counter(
    db: &impl ConnectionTrait,
    technician: Uuid,
    counter: JobCounter,
) -> Result<(), DbErr> {
    let column = counter_column(counter);
    technician_profile::Entity::update_many()
        .col_expr(column, Expr::col(column).add(1))
        .filter(technician_profile::Column::Id.eq(technician))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks a technician BUSY unless they already are. Whether the row changed: a technician who was
/// BUSY with another job is left as they were.
pub async fn set_busy(
    db: &impl ConnectionTrait,
    technician: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let changed = technician_profile::Entity::update_many()
        .col_expr(
            technician_profile::Column::Availability,
            Expr::value(Availability::Busy),
        )
        .col_expr(technician_profile::Column::UpdatedAt, Expr::value(now))
        .filter(technician_profile::Column::Id.eq(technician))
        .filter(technician_profile::Column::Availability.ne(Availability::Busy))
        .exec(db)
        .await?;
    Ok(changed.rows_affected == 1)
}

/// After one of a technician's jobs stops keeping them busy: adds one to `counter` if given and, if
/// they were BUSY and none of their bookings other than `finished` is in one of `busy`, makes them
/// AVAILABLE again (stamping `now`), all in one statement. Their availability afterwards; None when
/// there is no such technician.
pub async fn job_finished(
    db: &impl ConnectionTrait,
    technician: Uuid,
    finished: Uuid,
    busy: impl IntoIterator<Item = Status>,
    counter: Option<JobCounter>,
    now: DateTime<Utc>,
) -> Result<Option<Availability>, DbErr> {
    let backend = db.get_database_backend();
    let other_busy_job = Query::select()
        .expr(Expr::val(1))
        .from(booking::Entity)
        .and_where(booking::Column::TechnicianId.eq(technician))
        .and_where(booking::Column::Id.ne(finished))
        .and_where(booking::Column::Status.is_in(busy))
        .to_owned();
    // Both SET expressions see the row as it was before the update.
    let frees = || {
        Expr::col(technician_profile::Column::Availability)
            .eq(Availability::Busy)
            .and(Expr::exists(other_busy_job.clone()).not())
    };
    let mut update = technician_profile::Entity::update_many()
        .col_expr(
            technician_profile::Column::Availability,
            Expr::case(frees(), Expr::value(Availability::Available))
                .finally(Expr::col(technician_profile::Column::Availability))
                .into(),
        )
        .col_expr(
            technician_profile::Column::UpdatedAt,
            Expr::case(frees(), Expr::value(now))
                .finally(Expr::col(technician_profile::Column::UpdatedAt))
                .into(),
        );
    if let Some(counter) = counter {
        let column = counter_column(counter);
        update = update.col_expr(column, Expr::col(column).add(1));
    }
    let mut update = update
        .filter(technician_profile::Column::Id.eq(technician))
        .into_query();
    update.returning_col(technician_profile::Column::Availability);
    db.query_one_raw(backend.build(&update))
        .await?
        .map(|row| row.try_get::<Availability>("", "availability"))
        .transpose()
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
