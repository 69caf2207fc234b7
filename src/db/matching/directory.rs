//! Directory loading's queries: technicians' profiles, skills, working hours and exceptions, for one
//! technician or for every approved, available one.

use crate::db::entities::{
    availability_exception, technician_profile, technician_skill, working_hours,
};
use crate::domain::money::Currency;
use crate::domain::technician::{Availability, KycStatus};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use sea_orm::sea_query::{Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, DerivePartialModel, EntityTrait, QueryFilter, QuerySelect,
    StreamTrait,
};
use uuid::Uuid;

/// The profile columns matching uses: the rest of a profile (its bio, the live fix's accuracy and
/// heading, timestamps) never leaves the database when the directory is built.
#[derive(Clone, Debug, DerivePartialModel)]
#[sea_orm(entity = "technician_profile::Entity", from_query_result)]
pub struct MatchingFacts {
    pub id: Uuid,
    pub years_of_experience: i32,
    pub hourly_rate_minor: i64,
    pub currency: Currency,
    pub service_radius_km: f64,
    pub base_lat: Option<f64>,
    pub base_lng: Option<f64>,
    pub time_zone: String,
    pub kyc_status: KycStatus,
    pub availability: Availability,
    pub live_lat: Option<f64>,
    pub live_lng: Option<f64>,
    pub live_at: Option<DateTime<Utc>>,
    pub rating_average: f64,
    pub rating_count: i32,
    pub jobs_completed: i32,
    pub jobs_withdrawn: i32,
    pub jobs_cancelled: i32,
    pub median_response_secs: Option<i32>,
}

/// A technician's matching facts by id.
pub async fn facts_of(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<MatchingFacts>, DbErr> {
    technician_profile::Entity::find_by_id(id)
        .into_partial_model()
        .one(db)
        .await
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

/// The matching facts of every profile with the given KYC status and availability, streamed: one
/// scan of the table, and rows are handed over as they arrive rather than all held at once.
pub async fn facts_of_all_with<'a, C>(
    db: &'a C,
    kyc_status: KycStatus,
    availability: Availability,
) -> Result<impl Stream<Item = Result<MatchingFacts, DbErr>> + Send + 'a, DbErr>
where
    C: ConnectionTrait + StreamTrait + Send,
{
    technician_profile::Entity::find()
        .filter(technician_profile::Column::KycStatus.eq(kyc_status))
        .filter(technician_profile::Column::Availability.eq(availability))
        .stream_partial_model(db)
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
