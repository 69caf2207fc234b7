//! Requests' queries: storing a new booking and finding it by idempotency key, the technician a
//! customer asks for by name, listing and counting bookings, their event logs and a technician's
//! open offers.

use crate::db::entities::{
    booking, booking_event, job_offer, technician_profile, technician_skill,
};
use crate::domain::booking_state::Status;
use crate::domain::dispatch::OfferStatus;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

/// Stores a new booking.
pub async fn insert(db: &impl ConnectionTrait, booking: booking::Model) -> Result<(), DbErr> {
    booking::Entity::insert(booking.into_active_model())
        .exec(db)
        .await?;
    Ok(())
}

/// The customer's booking created with idempotency key `key`.
pub async fn by_key(
    db: &impl ConnectionTrait,
    customer: Uuid,
    key: &str,
) -> Result<Option<booking::Model>, DbErr> {
    booking::Entity::find()
        .filter(booking::Column::CustomerId.eq(customer))
        .filter(booking::Column::IdempotencyKey.eq(key))
        .one(db)
        .await
}

/// A technician's profile by id.
pub async fn technician_profile(
    db: &impl ConnectionTrait,
    technician: Uuid,
) -> Result<Option<technician_profile::Model>, DbErr> {
    technician_profile::Entity::find_by_id(technician)
        .one(db)
        .await
}

/// Whether the technician has the category among their skills.
pub async fn has_skill(
    db: &impl ConnectionTrait,
    technician: Uuid,
    category: Uuid,
) -> Result<bool, DbErr> {
    Ok(technician_skill::Entity::find()
        .filter(technician_skill::Column::TechnicianId.eq(technician))
        .filter(technician_skill::Column::CategoryId.eq(category))
        .one(db)
        .await?
        .is_some())
}

/// Whose bookings a list covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Customer(Uuid),
    Technician(Uuid),
    All,
}

/// The bookings in `scope`, maybe of one status.
fn listed(scope: Scope, status: Option<Status>) -> Select<booking::Entity> {
    let query = booking::Entity::find();
    let query = match scope {
        Scope::Customer(id) => query.filter(booking::Column::CustomerId.eq(id)),
        Scope::Technician(id) => query.filter(booking::Column::TechnicianId.eq(id)),
        Scope::All => query,
    };
    match status {
        Some(status) => query.filter(booking::Column::Status.eq(status)),
        None => query,
    }
}

/// How many bookings are in `scope`, maybe of one status.
pub async fn count(
    db: &impl ConnectionTrait,
    scope: Scope,
    status: Option<Status>,
) -> Result<u64, DbErr> {
    listed(scope, status).count(db).await
}

/// Up to `limit` bookings in `scope` (maybe of one status) with ids below `after`, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: Scope,
    status: Option<Status>,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<booking::Model>, DbErr> {
    let mut query = listed(scope, status);
    if let Some(after) = after {
        query = query.filter(booking::Column::Id.lt(after));
    }
    query
        .order_by_desc(booking::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The event logs of the given bookings, oldest first.
pub async fn events_for_bookings(
    db: &impl ConnectionTrait,
    bookings: &[Uuid],
) -> Result<Vec<booking_event::Model>, DbErr> {
    booking_event::Entity::find()
        .filter(booking_event::Column::BookingId.is_in(bookings.iter().copied()))
        .order_by_asc(booking_event::Column::Id)
        .all(db)
        .await
}

/// A technician's offers in `status`, newest offered first.
pub async fn offers_of_technician(
    db: &impl ConnectionTrait,
    technician: Uuid,
    status: OfferStatus,
) -> Result<Vec<job_offer::Model>, DbErr> {
    job_offer::Entity::find()
        .filter(job_offer::Column::TechnicianId.eq(technician))
        .filter(job_offer::Column::Status.eq(status))
        .order_by_desc(job_offer::Column::OfferedAt)
        .all(db)
        .await
}

/// The bookings with the given ids.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<Vec<booking::Model>, DbErr> {
    booking::Entity::find()
        .filter(booking::Column::Id.is_in(ids))
        .all(db)
        .await
}
