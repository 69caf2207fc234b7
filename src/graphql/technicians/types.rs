//! GraphQL types for technicians: the catalogue, profiles (public and private views), timetables and inputs.

use crate::db::entities::{
    availability_exception, service_category, technician_profile, working_hours,
};
use crate::domain::badges::{self, BadgePolicy, TechnicianRecord as BadgeRecord};
use crate::domain::ratings;
use crate::domain::schedule::{ExceptionType, format_clock};
use crate::domain::technician::{Availability, KycStatus as StoredKycStatus};
use crate::graphql::common::{LatLngInput, Money, MoneyInput};
use crate::graphql::ids::{self, Kind};
use crate::graphql::loaders::{
    self, CategoryById, CertificationsOfTechnician, ExceptionsOfTechnician, HoursOfTechnician,
    SkillsOfTechnician,
};
use crate::services::technicians::profiles::TechnicianRecord;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub struct ServiceCategory(pub service_category::Model);

#[Object]
impl ServiceCategory {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::ServiceCategory, self.0.id)
    }
    /// Stable short name used in inputs, e.g. `plumbing`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Inactive categories take no new requests but stay on past jobs.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Used to price a job when the technician has no rate of their own.
    async fn default_hourly_rate(&self) -> Money {
        Money::new(self.0.default_hourly_rate_minor, self.0.currency)
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "StoredKycStatus")]
pub enum KycStatus {
    NotSubmitted,
    UnderReview,
    Approved,
    Rejected,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "Availability")]
pub enum TechnicianAvailability {
    Available,
    Offline,
    /// Set by the system while a job is active.
    Busy,
}

/// What a technician may set; BUSY belongs to the system.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum AvailabilityStatus {
    Available,
    Offline,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum Badge {
    TopRated,
    Popular,
    Expert,
    CityWide,
}

impl From<badges::Badge> for Badge {
    fn from(b: badges::Badge) -> Self {
        match b {
            badges::Badge::TopRated => Badge::TopRated,
            badges::Badge::Popular => Badge::Popular,
            badges::Badge::Expert => Badge::Expert,
            badges::Badge::CityWide => Badge::CityWide,
        }
    }
}

#[derive(SimpleObject)]
pub struct TechnicianSkill {
    pub category: ServiceCategory,
    pub years: i32,
}

#[derive(SimpleObject)]
pub struct Certification {
    pub name: String,
    pub issuer: String,
    pub year: Option<i32>,
}

#[derive(SimpleObject)]
pub struct WorkingHours {
    /// 1 = Monday .. 7 = Sunday.
    pub weekday: i32,
    /// Local time in the technician's time zone, HH:MM.
    pub start: String,
    pub end: String,
}

impl From<&working_hours::Model> for WorkingHours {
    fn from(h: &working_hours::Model) -> Self {
        WorkingHours {
            weekday: h.weekday,
            start: format_clock(h.start_minute as u32),
            end: format_clock(h.end_minute as u32),
        }
    }
}

pub struct AvailabilityException(pub availability_exception::Model);

#[Object]
impl AvailabilityException {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::AvailabilityException, self.0.id)
    }
    /// YYYY-MM-DD in the technician's time zone.
    async fn date(&self) -> &str {
        &self.0.date
    }
    async fn day_off(&self) -> bool {
        self.0.kind == ExceptionType::DayOff
    }
    async fn start(&self) -> Option<String> {
        self.0.start_minute.map(|m| format_clock(m as u32))
    }
    async fn end(&self) -> Option<String> {
        self.0.end_minute.map(|m| format_clock(m as u32))
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

#[derive(SimpleObject)]
pub struct LivePosition {
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub heading_deg: Option<f64>,
    pub speed_kmh: Option<f64>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(SimpleObject)]
pub struct LatLngPoint {
    pub lat: f64,
    pub lng: f64,
}

/// Average stars of each aspect customers rate.
#[derive(SimpleObject)]
pub struct AspectAverages {
    pub quality: f64,
    pub punctuality: f64,
    pub communication: f64,
    pub value: f64,
    pub professionalism: f64,
}

/// How many published reviews gave a number of stars.
#[derive(SimpleObject)]
pub struct StarCount {
    pub stars: i32,
    pub count: i32,
}

/// A technician's ratings from customers' published, shown reviews (hidden ones are left out).
#[derive(SimpleObject)]
pub struct RatingSummary {
    pub count: i32,
    /// The plain average, null before the first review.
    pub average: Option<f64>,
    /// The average matching ranks on: the reviews plus FUNDI_RATING_PRIOR_REVIEWS imaginary ones at
    /// the platform's mean, so a few reviews weigh less than a long record; null before the first.
    pub bayesian_average: Option<f64>,
    /// Null before the first review.
    pub aspects: Option<AspectAverages>,
    /// From 5 stars down to 1, every star listed.
    pub distribution: Vec<StarCount>,
}

fn rating_summary(p: &technician_profile::Model) -> RatingSummary {
    let totals = ratings::Totals {
        count: i64::from(p.rating_count),
        sum: p.rating_sum,
        aspect_sums: [
            p.quality_sum,
            p.punctuality_sum,
            p.communication_sum,
            p.value_sum,
            p.professionalism_sum,
        ],
        stars: [p.stars_1, p.stars_2, p.stars_3, p.stars_4, p.stars_5],
    };
    let summary = ratings::summary(&totals, Some(p.rating_bayesian));
    let whole = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
    let [quality, punctuality, communication, value, professionalism] = summary.aspect_averages;
    let aspects = (|| {
        Some(AspectAverages {
            quality: quality?,
            punctuality: punctuality?,
            communication: communication?,
            value: value?,
            professionalism: professionalism?,
        })
    })();
    RatingSummary {
        count: whole(summary.count),
        average: summary.average,
        bayesian_average: summary.bayesian_average,
        aspects,
        distribution: summary
            .distribution
            .iter()
            .map(|&(stars, count)| StarCount {
                stars: i32::from(stars),
                count: whole(count),
            })
            .collect(),
    }
}

/// A technician. Contact details, exact positions, KYC and exceptions are shown only to the
/// technician themself and to staff; everyone else sees null there.
pub struct Technician {
    pub record: Arc<TechnicianRecord>,
    pub private: bool,
}

impl Technician {
    fn profile(&self) -> &technician_profile::Model {
        &self.record.profile
    }
}

#[Object]
impl Technician {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Technician, self.profile().id)
    }
    async fn full_name(&self) -> &str {
        &self.record.user.full_name
    }
    async fn bio(&self) -> &str {
        &self.profile().bio
    }
    async fn years_of_experience(&self) -> i32 {
        self.profile().years_of_experience
    }
    async fn hourly_rate(&self) -> Money {
        Money::new(self.profile().hourly_rate_minor, self.profile().currency)
    }
    async fn service_radius_km(&self) -> f64 {
        self.profile().service_radius_km
    }
    /// IANA name; working hours are in this zone.
    async fn time_zone(&self) -> &str {
        &self.profile().time_zone
    }
    async fn skills(&self, ctx: &Context<'_>) -> Result<Vec<TechnicianSkill>> {
        let skills = loaders::list(ctx, SkillsOfTechnician(self.profile().id)).await?;
        let mut categories =
            loaders::many(ctx, skills.iter().map(|s| CategoryById(s.category_id))).await?;
        Ok(skills
            .into_iter()
            .filter_map(|s| {
                let category = categories.remove(&CategoryById(s.category_id))?;
                Some(TechnicianSkill {
                    category: ServiceCategory(category),
                    years: s.years,
                })
            })
            .collect())
    }
    async fn certifications(&self, ctx: &Context<'_>) -> Result<Vec<Certification>> {
        let rows = loaders::list(ctx, CertificationsOfTechnician(self.profile().id)).await?;
        Ok(rows
            .into_iter()
            .map(|c| Certification {
                name: c.name,
                issuer: c.issuer,
                year: c.year,
            })
            .collect())
    }
    async fn working_hours(&self, ctx: &Context<'_>) -> Result<Vec<WorkingHours>> {
        let rows = loaders::list(ctx, HoursOfTechnician(self.profile().id)).await?;
        Ok(rows.iter().map(WorkingHours::from).collect())
    }
    async fn availability(&self) -> TechnicianAvailability {
        self.profile().availability.into()
    }
    async fn rating_average(&self) -> f64 {
        self.profile().rating_average
    }
    async fn rating_count(&self) -> i32 {
        self.profile().rating_count
    }
    /// Count, average, Bayesian average, aspect averages and the star distribution of customers'
    /// published reviews.
    async fn rating_summary(&self) -> RatingSummary {
        rating_summary(self.profile())
    }
    async fn jobs_completed(&self) -> i32 {
        self.profile().jobs_completed
    }
    /// Completed jobs over jobs accepted; null until the first job ends.
    async fn completion_rate(&self) -> Option<f64> {
        let p = self.profile();
        badges::completion_rate(
            p.jobs_completed.max(0) as u32,
            p.jobs_withdrawn.max(0) as u32,
            p.jobs_cancelled.max(0) as u32,
        )
    }
    async fn median_response_seconds(&self) -> Option<i32> {
        self.profile().median_response_secs
    }
    async fn badges(&self) -> Vec<Badge> {
        let p = self.profile();
        let record = BadgeRecord {
            rating_average: p.rating_average,
            rating_count: p.rating_count.max(0) as u32,
            completed_jobs: p.jobs_completed.max(0) as u32,
            years_of_experience: p.years_of_experience.max(0) as u32,
            service_radius_km: p.service_radius_km,
        };
        badges::badges(&record, &BadgePolicy::default())
            .into_iter()
            .map(Badge::from)
            .collect()
    }
    async fn kyc_status(&self) -> Option<KycStatus> {
        self.private.then(|| self.profile().kyc_status.into())
    }
    async fn email(&self) -> Option<&str> {
        self.private.then_some(self.record.user.email.as_str())
    }
    async fn phone(&self) -> Option<&str> {
        if self.private {
            self.record.user.phone.as_deref()
        } else {
            None
        }
    }
    async fn base_location(&self) -> Option<LatLngPoint> {
        let p = self.profile();
        if !self.private {
            return None;
        }
        Some(LatLngPoint {
            lat: p.base_lat?,
            lng: p.base_lng?,
        })
    }
    async fn last_position(&self) -> Option<LivePosition> {
        let p = self.profile();
        if !self.private {
            return None;
        }
        Some(LivePosition {
            lat: p.live_lat?,
            lng: p.live_lng?,
            accuracy_m: p.live_accuracy_m,
            heading_deg: p.live_heading_deg,
            speed_kmh: p.live_speed_kmh,
            recorded_at: p.live_at?,
        })
    }
    async fn availability_exceptions(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<AvailabilityException>>> {
        if !self.private {
            return Ok(None);
        }
        let rows = loaders::list(ctx, ExceptionsOfTechnician(self.profile().id)).await?;
        Ok(Some(rows.into_iter().map(AvailabilityException).collect()))
    }
}

#[derive(InputObject)]
pub struct SkillInput {
    /// Category slug, e.g. `plumbing`.
    pub category: String,
    pub years: i32,
}

#[derive(InputObject)]
pub struct CertificationInput {
    pub name: String,
    pub issuer: String,
    pub year: Option<i32>,
}

/// Fields left out stay as they are; `skills` and `certifications` replace the whole list.
#[derive(InputObject)]
pub struct TechnicianProfileInput {
    pub bio: Option<String>,
    pub years_of_experience: Option<i32>,
    pub hourly_rate: Option<MoneyInput>,
    pub service_radius_km: Option<f64>,
    pub skills: Option<Vec<SkillInput>>,
    pub certifications: Option<Vec<CertificationInput>>,
    pub base_location: Option<LatLngInput>,
    /// IANA name, e.g. Africa/Nairobi.
    pub time_zone: Option<String>,
}

#[derive(InputObject)]
pub struct WorkingHoursInput {
    /// 1 = Monday .. 7 = Sunday.
    pub weekday: i32,
    /// HH:MM local time.
    pub start: String,
    /// HH:MM local time, after start (24:00 for midnight).
    pub end: String,
}

#[derive(InputObject)]
pub struct AvailabilityExceptionInput {
    /// YYYY-MM-DD in the technician's time zone.
    pub date: String,
    /// True for a day off; false for extra hours between start and end.
    pub day_off: bool,
    pub start: Option<String>,
    pub end: Option<String>,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct ServiceCategoryInput {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
    pub default_hourly_rate: Option<MoneyInput>,
}
