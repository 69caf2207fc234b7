//! Directory loading's queries: technicians' profiles, skills, working hours and exceptions, for one
//! technician or for every approved, available one.

use crate::db::entities::{
    availability_exception, technician_profile, technician_skill, working_hours,
};
use crate::domain::technician::{Availability, KycStatus};
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// A technician's profile by id.
pub async fn profile(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<technician_profile::Model>, DbErr> {
    technician_profile::Entity::find_by_id(id).one(db).await
}

/// A technician's skills.
pub async fn skills_of(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Vec<technician_skill::Model>, DbErr> {
    technician_skill::Entity::find()
        .filter(technician_skill::Column::TechnicianId.eq(id))
        .all(db)
        .await
}

/// A technician's weekly working hours.
pub async fn hours_of(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Vec<working_hours::Model>, DbErr> {
    working_hours::Entity::find()
        .filter(working_hours::Column::TechnicianId.eq(id))
        .all(db)
        .await
}

/// A technician's availability exceptions.
pub async fn exceptions_of(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Vec<availability_exception::Model>, DbErr> {
    availability_exception::Entity::find()
        .filter(availability_exception::Column::TechnicianId.eq(id))
        .all(db)
        .await
}

/// Up to `limit` profiles with the given KYC status and availability, in id order, after `after`
/// (from the first when None): one page of a keyset walk over a large table.
pub async fn profiles_with_after(
    db: &impl ConnectionTrait,
    kyc_status: KycStatus,
    availability: Availability,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<technician_profile::Model>, DbErr> {
    let mut query = technician_profile::Entity::find()
        .filter(technician_profile::Column::KycStatus.eq(kyc_status))
        .filter(technician_profile::Column::Availability.eq(availability));
    if let Some(after) = after {
        query = query.filter(technician_profile::Column::Id.gt(after));
    }
    query
        .order_by_asc(technician_profile::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The ids of matchable profiles, as a subquery: what the loaders below filter by, so rows of
/// technicians who cannot be matched never leave the database.
fn matchable_ids(kyc_status: KycStatus, availability: Availability) -> SelectStatement {
    Query::select()
        .column(technician_profile::Column::Id)
        .from(technician_profile::Entity)
        .and_where(technician_profile::Column::KycStatus.eq(kyc_status))
        .and_where(technician_profile::Column::Availability.eq(availability))
        .to_owned()
}

/// (technician, category, years) for every skill of a technician with the given KYC status and
/// availability.
pub async fn skills_of_all_with(
    db: &impl ConnectionTrait,
    kyc_status: KycStatus,
    availability: Availability,
) -> Result<Vec<(Uuid, Uuid, i32)>, DbErr> {
    technician_skill::Entity::find()
        .select_only()
        .column(technician_skill::Column::TechnicianId)
        .column(technician_skill::Column::CategoryId)
        .column(technician_skill::Column::Years)
        .filter(
            technician_skill::Column::TechnicianId
                .in_subquery(matchable_ids(kyc_status, availability)),
        )
        .into_tuple()
        .all(db)
        .await
}

/// (technician, weekday, start minute, end minute) for every weekly working-hours row of a
/// technician with the given KYC status and availability.
pub async fn hours_of_all_with(
    db: &impl ConnectionTrait,
    kyc_status: KycStatus,
    availability: Availability,
) -> Result<Vec<(Uuid, i32, i32, i32)>, DbErr> {
    working_hours::Entity::find()
        .select_only()
        .column(working_hours::Column::TechnicianId)
        .column(working_hours::Column::Weekday)
        .column(working_hours::Column::StartMinute)
        .column(working_hours::Column::EndMinute)
        .filter(
            working_hours::Column::TechnicianId
                .in_subquery(matchable_ids(kyc_status, availability)),
        )
        .into_tuple()
        .all(db)
        .await
}

/// The availability exceptions of every technician with the given KYC status and availability.
pub async fn exceptions_of_all_with(
    db: &impl ConnectionTrait,
    kyc_status: KycStatus,
    availability: Availability,
) -> Result<Vec<availability_exception::Model>, DbErr> {
    availability_exception::Entity::find()
        .filter(
            availability_exception::Column::TechnicianId
                .in_subquery(matchable_ids(kyc_status, availability)),
        )
        .all(db)
        .await
}
