//! Technician queries and mutations: catalogue, profiles, availability, working hours, position and blocks.

use crate::domain::schedule::parse_clock;
use crate::domain::technician::profile_shown;
use crate::error::AppError;
use crate::graphql::context::{services, viewer};
use crate::graphql::ids::{self, Kind};
use crate::graphql::loaders::{self, TechnicianById};
use crate::graphql::technicians::types::*;
use crate::services::catalogue::categories::{self, CategoryInput};
use crate::services::technicians::profiles::{self, TechnicianRecord};
use crate::services::technicians::technician::{
    self, CertificationChange, ExceptionChange, HoursChange, PositionReport, ProfileChange,
    SkillChange,
};
use crate::services::{Services, Viewer};
use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use uuid::Uuid;

/// Whether `viewer` may see a technician's private fields: themself or staff.
pub fn sees_private(viewer: Option<&Viewer>, technician_id: Uuid) -> bool {
    viewer.is_some_and(|v| v.may_see_records_of(technician_id))
}

/// Loads a technician for display. Technicians not yet approved are visible only to themselves and staff.
pub async fn technician_view(ctx: &Context<'_>, id: Uuid) -> Result<Option<Technician>> {
    let viewer = viewer(ctx).await.ok();
    let Some(record) = loaders::one(ctx, TechnicianById(id)).await? else {
        return Ok(None);
    };
    Ok(technician_shown(viewer.as_ref(), record))
}

/// A technician already loaded, as `viewer` may see them: not yet approved, only to themselves and staff.
pub fn technician_shown(
    viewer: Option<&Viewer>,
    record: Arc<TechnicianRecord>,
) -> Option<Technician> {
    let private = sees_private(viewer, record.profile.id);
    profile_shown(record.profile.kyc_status, private).then_some(Technician { record, private })
}

async fn own_view(services: &Services, viewer: &Viewer) -> Result<Technician> {
    let mut found = profiles::load_many(&services.db, &[viewer.user_id]).await?;
    let record: TechnicianRecord = found
        .remove(&viewer.user_id)
        .ok_or_else(|| AppError::NotFound("technician profile".into()))?;
    Ok(Technician {
        record: Arc::new(record),
        private: true,
    })
}

fn clock(raw: &str, field: String) -> Result<u32, AppError> {
    parse_clock(raw)
        .ok_or_else(|| AppError::bad_input(field, "time must be HH:MM between 00:00 and 24:00"))
}

#[derive(Default)]
pub struct TechnicianQuery;

#[Object]
impl TechnicianQuery {
    /// Service categories; inactive ones only for staff who ask for them.
    async fn service_categories(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] include_inactive: bool,
    ) -> Result<Vec<ServiceCategory>> {
        let staff = viewer(ctx).await.map(|v| v.is_staff()).unwrap_or(false);
        let rows = categories::list(&services(ctx).db, include_inactive && staff).await?;
        Ok(rows.into_iter().map(ServiceCategory).collect())
    }

    /// A technician's public profile (the full one for themselves and staff).
    async fn technician(&self, ctx: &Context<'_>, id: ID) -> Result<Technician> {
        let uuid = ids::decode(Kind::Technician, &id, "id")?;
        Ok(technician_view(ctx, uuid)
            .await?
            .ok_or_else(|| AppError::NotFound("technician".into()))?)
    }

    /// The signed-in technician's own full profile.
    async fn my_technician_profile(&self, ctx: &Context<'_>) -> Result<Technician> {
        let viewer = viewer(ctx).await?;
        viewer.require_role(&[crate::domain::account::Role::Technician])?;
        own_view(services(ctx), &viewer).await
    }

    /// Whether the technician works at that instant, by their timetable and exceptions in their time zone.
    async fn technician_works_at(
        &self,
        ctx: &Context<'_>,
        technician_id: ID,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let uuid = ids::decode(Kind::Technician, &technician_id, "technicianId")?;
        if technician_view(ctx, uuid).await?.is_none() {
            return Err(AppError::NotFound("technician".into()).into());
        }
        Ok(technician::works_at_instant(&services(ctx).db, uuid, at).await?)
    }
}

#[derive(Default)]
pub struct TechnicianMutation;

#[Object]
impl TechnicianMutation {
    async fn create_service_category(
        &self,
        ctx: &Context<'_>,
        input: ServiceCategoryInput,
    ) -> Result<ServiceCategory> {
        let viewer = viewer(ctx).await?;
        let services = services(ctx);
        Ok(ServiceCategory(
            categories::create(services, &viewer, category_input(input)).await?,
        ))
    }

    /// Changes a category; `active: false` hides it from new requests and keeps its history.
    async fn update_service_category(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ServiceCategoryInput,
    ) -> Result<ServiceCategory> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::ServiceCategory, &id, "id")?;
        let services = services(ctx);
        Ok(ServiceCategory(
            categories::update(services, &viewer, uuid, category_input(input)).await?,
        ))
    }

    async fn update_technician_profile(
        &self,
        ctx: &Context<'_>,
        input: TechnicianProfileInput,
    ) -> Result<Technician> {
        let viewer = viewer(ctx).await?;
        let change = ProfileChange {
            bio: input.bio,
            years_of_experience: input.years_of_experience,
            hourly_rate: input
                .hourly_rate
                .map(|m| m.parse("hourlyRate"))
                .transpose()?,
            service_radius_km: input.service_radius_km,
            skills: input.skills.map(|list| {
                list.into_iter()
                    .map(|s| SkillChange {
                        category: s.category,
                        years: s.years,
                    })
                    .collect()
            }),
            certifications: input.certifications.map(|list| {
                list.into_iter()
                    .map(|c| CertificationChange {
                        name: c.name,
                        issuer: c.issuer,
                        year: c.year,
                    })
                    .collect()
            }),
            base_location: input
                .base_location
                .map(|l| l.parse("baseLocation"))
                .transpose()?,
            time_zone: input.time_zone,
        };
        profiles::update(services(ctx), &viewer, change).await?;
        own_view(services(ctx), &viewer).await
    }

    /// AVAILABLE (KYC-approved technicians only) or OFFLINE.
    async fn set_availability(
        &self,
        ctx: &Context<'_>,
        status: AvailabilityStatus,
    ) -> Result<Technician> {
        let viewer = viewer(ctx).await?;
        technician::set_availability(
            services(ctx),
            &viewer,
            status == AvailabilityStatus::Available,
        )
        .await?;
        own_view(services(ctx), &viewer).await
    }

    /// Reports where the technician is now; matching uses it for 15 minutes, then the base location.
    async fn update_location(
        &self,
        ctx: &Context<'_>,
        lat: f64,
        lng: f64,
        accuracy_m: Option<f64>,
        heading_deg: Option<f64>,
        speed_kmh: Option<f64>,
    ) -> Result<Technician> {
        let viewer = viewer(ctx).await?;
        let report = PositionReport {
            lat,
            lng,
            accuracy_m,
            heading_deg,
            speed_kmh,
        };
        technician::update_location(services(ctx), &viewer, report).await?;
        own_view(services(ctx), &viewer).await
    }

    /// Replaces the weekly timetable.
    async fn set_working_hours(
        &self,
        ctx: &Context<'_>,
        hours: Vec<WorkingHoursInput>,
    ) -> Result<Vec<WorkingHours>> {
        let viewer = viewer(ctx).await?;
        let changes = hours
            .iter()
            .enumerate()
            .map(|(i, h)| {
                Ok(HoursChange {
                    weekday: u32::try_from(h.weekday).map_err(|_| {
                        AppError::bad_input(format!("hours[{i}].weekday"), "weekday must be 1 to 7")
                    })?,
                    start_minute: clock(&h.start, format!("hours[{i}].start"))?,
                    end_minute: clock(&h.end, format!("hours[{i}].end"))?,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let rows = technician::set_working_hours(services(ctx), &viewer, changes).await?;
        Ok(rows.iter().map(WorkingHours::from).collect())
    }

    async fn add_availability_exception(
        &self,
        ctx: &Context<'_>,
        input: AvailabilityExceptionInput,
    ) -> Result<AvailabilityException> {
        let viewer = viewer(ctx).await?;
        let change = ExceptionChange {
            date: input.date,
            day_off: input.day_off,
            start_minute: input
                .start
                .as_deref()
                .map(|s| clock(s, "start".into()))
                .transpose()?,
            end_minute: input
                .end
                .as_deref()
                .map(|s| clock(s, "end".into()))
                .transpose()?,
            note: input.note,
        };
        Ok(AvailabilityException(
            technician::add_exception(services(ctx), &viewer, change).await?,
        ))
    }

    async fn remove_availability_exception(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::AvailabilityException, &id, "id")?;
        technician::remove_exception(services(ctx), &viewer, uuid).await?;
        Ok(true)
    }

    /// The customer will never be matched with this technician again (until unblocked).
    async fn block_technician(&self, ctx: &Context<'_>, technician_id: ID) -> Result<bool> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Technician, &technician_id, "technicianId")?;
        technician::block(services(ctx), &viewer, uuid).await?;
        Ok(true)
    }

    async fn unblock_technician(&self, ctx: &Context<'_>, technician_id: ID) -> Result<bool> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Technician, &technician_id, "technicianId")?;
        technician::unblock(services(ctx), &viewer, uuid).await?;
        Ok(true)
    }
}

fn category_input(input: ServiceCategoryInput) -> CategoryInput {
    CategoryInput {
        slug: input.slug,
        name: input.name,
        description: input.description,
        active: input.active,
        default_hourly_rate_minor: input.default_hourly_rate.as_ref().map(|m| m.amount_minor),
        currency: input.default_hourly_rate.map(|m| m.currency),
    }
}
