//! Dashboards' queries: a customer's or a technician's bookings, and a technician's offers by status.

use crate::db::entities::{booking, job_offer};
use crate::domain::dispatch::OfferStatus;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

/// Every booking of a customer.
pub async fn for_customer(
    db: &impl ConnectionTrait,
    customer: Uuid,
) -> Result<Vec<booking::Model>, DbErr> {
    booking::Entity::find()
        .filter(booking::Column::CustomerId.eq(customer))
        .all(db)
        .await
}

/// Every booking of a technician.
pub async fn for_technician(
    db: &impl ConnectionTrait,
    technician: Uuid,
) -> Result<Vec<booking::Model>, DbErr> {
    booking::Entity::find()
        .filter(booking::Column::TechnicianId.eq(technician))
        .all(db)
        .await
}

/// How many of a technician's offers are in `status`.
pub async fn count_offers(
    db: &impl ConnectionTrait,
    technician: Uuid,
    status: OfferStatus,
) -> Result<u64, DbErr> {
    job_offer::Entity::find()
        .filter(job_offer::Column::TechnicianId.eq(technician))
        .filter(job_offer::Column::Status.eq(status))
        .count(db)
        .await
}

/// A technician's offers in one of `statuses`.
pub async fn offers_in_statuses(
    db: &impl ConnectionTrait,
    technician: Uuid,
    statuses: &[OfferStatus],
) -> Result<Vec<job_offer::Model>, DbErr> {
    job_offer::Entity::find()
        .filter(job_offer::Column::TechnicianId.eq(technician))
        .filter(job_offer::Column::Status.is_in(statuses.iter().copied()))
        .all(db)
        .await
}
