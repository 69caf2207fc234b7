//! Technician profiles: creation at sign-up, validated updates, availability, working hours and live position.

use crate::db::batch;
use crate::db::begin_write;
use crate::db::entities::technician_profile;
use crate::db::entities::{availability_exception, technician_block, working_hours};
use crate::db::technicians::technician as db_technician;
use crate::domain::account::Role;
use crate::domain::geo::{LatLng, validate_lat_lng};
use crate::domain::money::{Currency, Money};
use crate::domain::schedule::{ExceptionType, Interval, validate_week, works_at};
use crate::domain::technician::{Availability, KycStatus};
use crate::domain::tracking::validate_motion;
use crate::error::AppError;
use crate::error::AppResult;
use crate::services::matching::{loading, search};
use crate::services::{Effects, Services, Viewer};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use uuid::Uuid;

pub const DEFAULT_SERVICE_RADIUS_KM: f64 = 10.0;
pub const DEFAULT_TIME_ZONE: &str = "Africa/Nairobi";
pub const DEFAULT_CURRENCY: Currency = Currency::KES;

/// Every technician account gets an empty profile at sign-up, offline and not yet reviewed.
pub async fn create_profile(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let row = technician_profile::Model {
        id: user_id,
        bio: String::new(),
        years_of_experience: 0,
        hourly_rate_minor: 0,
        currency: DEFAULT_CURRENCY,
        service_radius_km: DEFAULT_SERVICE_RADIUS_KM,
        base_lat: None,
        base_lng: None,
        time_zone: DEFAULT_TIME_ZONE.into(),
        kyc_status: KycStatus::NotSubmitted,
        availability: Availability::Offline,
        live_lat: None,
        live_lng: None,
        live_accuracy_m: None,
        live_heading_deg: None,
        live_speed_kmh: None,
        live_at: None,
        rating_average: 0.0,
        rating_count: 0,
        jobs_completed: 0,
        jobs_withdrawn: 0,
        jobs_cancelled: 0,
        median_response_secs: None,
        rating_sum: 0,
        quality_sum: 0,
        punctuality_sum: 0,
        communication_sum: 0,
        value_sum: 0,
        professionalism_sum: 0,
        stars_1: 0,
        stars_2: 0,
        stars_3: 0,
        stars_4: 0,
        stars_5: 0,
        rating_bayesian: 0.0,
        created_at: now,
        updated_at: now,
    };
    db_technician::insert_profile(txn, row).await?;
    Ok(())
}

/// A profile change from the technician. Fields left out stay as they are; `skills` and
/// `certifications`, when given, replace the whole list.
pub struct ProfileChange {
    pub bio: Option<String>,
    pub years_of_experience: Option<i32>,
    pub hourly_rate: Option<Money>,
    pub service_radius_km: Option<f64>,
    pub skills: Option<Vec<SkillChange>>,
    pub certifications: Option<Vec<CertificationChange>>,
    pub base_location: Option<LatLng>,
    pub time_zone: Option<String>,
}

pub struct SkillChange {
    pub category: String,
    pub years: i32,
}

pub struct CertificationChange {
    pub name: String,
    pub issuer: String,
    pub year: Option<i32>,
}

pub const MAX_BIO_CHARS: usize = 600;
pub const MAX_CERTIFICATIONS: usize = 10;
pub const MAX_SKILLS: usize = 20;
pub const RADIUS_RANGE_KM: std::ops::RangeInclusive<f64> = 1.0..=50.0;

pub async fn profile(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
) -> AppResult<technician_profile::Model> {
    db_technician::profile_by_id(db, technician_id)
        .await?
        .ok_or_else(|| AppError::NotFound("technician".into()))
}

/// Goes AVAILABLE or OFFLINE. Only KYC-approved technicians may take work; BUSY belongs to the system.
pub async fn set_availability(
    services: &Services,
    viewer: &Viewer,
    available: bool,
) -> AppResult<technician_profile::Model> {
    viewer.require_role(&[Role::Technician])?;
    let now = services.clock.now();
    let current = profile(&services.db, viewer.user_id).await?;
    if available && current.kyc_status != KycStatus::Approved {
        return Err(AppError::Forbidden(
            "only technicians whose KYC is approved can become available".into(),
        ));
    }
    if current.availability == Availability::Busy {
        return Err(AppError::Conflict(
            "you are on an active job; availability returns when it ends".into(),
        ));
    }
    let target = if available {
        Availability::Available
    } else {
        Availability::Offline
    };
    let txn = begin_write(&services.db).await?;
    // Conditional on the state we read, so a job starting meanwhile (BUSY) is not overwritten.
    let changed =
        db_technician::set_availability_if(&txn, viewer.user_id, current.availability, target, now)
            .await?;
    if changed != 1 {
        return Err(AppError::Conflict(
            "availability changed meanwhile; try again".into(),
        ));
    }
    let mut effects = Effects::default();
    search::directory_changed(&txn, &mut effects, viewer.user_id).await?;
    txn.commit().await?;
    services.after_commit(effects);
    search::refresh_local(services, viewer.user_id).await?;
    profile(&services.db, viewer.user_id).await
}

pub struct HoursChange {
    pub weekday: u32,
    pub start_minute: u32,
    pub end_minute: u32,
}

/// Replaces the weekly timetable (local time in the technician's time zone).
pub async fn set_working_hours(
    services: &Services,
    viewer: &Viewer,
    hours: Vec<HoursChange>,
) -> AppResult<Vec<working_hours::Model>> {
    viewer.require_role(&[Role::Technician])?;
    let intervals: Vec<Interval> = hours
        .iter()
        .map(|h| Interval {
            weekday: h.weekday,
            start_minute: h.start_minute,
            end_minute: h.end_minute,
        })
        .collect();
    validate_week(&intervals).map_err(|e| {
        let field = match e {
            crate::domain::schedule::ScheduleError::Weekday { index } => {
                format!("hours[{index}].weekday")
            }
            crate::domain::schedule::ScheduleError::Range { index }
            | crate::domain::schedule::ScheduleError::Overlap { index } => {
                format!("hours[{index}]")
            }
            crate::domain::schedule::ScheduleError::TooMany => "hours".into(),
        };
        AppError::bad_input(field, e.message())
    })?;
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    db_technician::delete_hours_of(&txn, viewer.user_id).await?;
    let rows: Vec<_> = intervals
        .iter()
        .map(|i| working_hours::Model {
            id: Uuid::now_v7(),
            technician_id: viewer.user_id,
            weekday: i.weekday as i32,
            start_minute: i.start_minute as i32,
            end_minute: i.end_minute as i32,
            created_at: now,
            updated_at: now,
        })
        .collect();
    db_technician::insert_hours(&txn, rows).await?;
    let mut effects = Effects::default();
    search::directory_changed(&txn, &mut effects, viewer.user_id).await?;
    txn.commit().await?;
    services.after_commit(effects);
    search::refresh_local(services, viewer.user_id).await?;
    week(&services.db, viewer.user_id).await
}

pub async fn week(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
) -> AppResult<Vec<working_hours::Model>> {
    Ok(weeks_of(db, &[technician_id])
        .await?
        .remove(&technician_id)
        .unwrap_or_default())
}

/// Each technician's weekly hours by weekday and start, for many technicians in one statement.
pub async fn weeks_of(
    db: &impl ConnectionTrait,
    technician_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<working_hours::Model>>> {
    let rows = db_technician::hours_of(db, technician_ids).await?;
    Ok(batch::group(rows, |h| h.technician_id))
}

/// Each technician's availability exceptions by date, for many technicians in one statement.
pub async fn exceptions_of(
    db: &impl ConnectionTrait,
    technician_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<availability_exception::Model>>> {
    let rows = db_technician::exceptions_of(db, technician_ids).await?;
    Ok(batch::group(rows, |e| e.technician_id))
}

/// An availability exception of a technician the viewer may see (their own, or any for staff);
/// None when missing or not theirs.
pub async fn visible_exception(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Option<availability_exception::Model>> {
    Ok(db_technician::exception_by_id(db, id)
        .await?
        .filter(|e| viewer.may_see_records_of(e.technician_id)))
}

pub struct ExceptionChange {
    pub date: String,
    pub day_off: bool,
    pub start_minute: Option<u32>,
    pub end_minute: Option<u32>,
    pub note: Option<String>,
}

pub async fn add_exception(
    services: &Services,
    viewer: &Viewer,
    change: ExceptionChange,
) -> AppResult<availability_exception::Model> {
    viewer.require_role(&[Role::Technician])?;
    let date = chrono::NaiveDate::parse_from_str(change.date.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::bad_input("date", "date must be YYYY-MM-DD"))?;
    let (kind, start, end) = if change.day_off {
        (ExceptionType::DayOff, None, None)
    } else {
        let (Some(start), Some(end)) = (change.start_minute, change.end_minute) else {
            return Err(AppError::bad_input(
                "start",
                "extra hours need a start and an end",
            ));
        };
        if start >= end || end > crate::domain::schedule::MINUTES_PER_DAY {
            return Err(AppError::bad_input(
                "end",
                "start must be before end, within the day",
            ));
        }
        (
            ExceptionType::ExtraHours,
            Some(start as i32),
            Some(end as i32),
        )
    };
    let note = change
        .note
        .map(|n| n.trim().chars().take(200).collect::<String>())
        .filter(|n| !n.is_empty());
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    let row = db_technician::insert_exception(
        &txn,
        availability_exception::Model {
            id: Uuid::now_v7(),
            technician_id: viewer.user_id,
            date: date.format("%Y-%m-%d").to_string(),
            kind,
            start_minute: start,
            end_minute: end,
            note,
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    let mut effects = Effects::default();
    search::directory_changed(&txn, &mut effects, viewer.user_id).await?;
    txn.commit().await?;
    services.after_commit(effects);
    search::refresh_local(services, viewer.user_id).await?;
    Ok(row)
}

pub async fn remove_exception(services: &Services, viewer: &Viewer, id: Uuid) -> AppResult<()> {
    viewer.require_role(&[Role::Technician])?;
    let txn = begin_write(&services.db).await?;
    let removed = db_technician::delete_exception(&txn, id, viewer.user_id).await?;
    if removed == 0 {
        return Err(AppError::NotFound("availability exception".into()));
    }
    let mut effects = Effects::default();
    search::directory_changed(&txn, &mut effects, viewer.user_id).await?;
    txn.commit().await?;
    services.after_commit(effects);
    search::refresh_local(services, viewer.user_id).await?;
    Ok(())
}

/// Whether a technician works at an instant, judged in their own time zone.
pub async fn works_at_instant(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
    at: DateTime<Utc>,
) -> AppResult<bool> {
    let profile = profile(db, technician_id).await?;
    let tz: chrono_tz::Tz = profile
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Africa::Nairobi);
    let week: Vec<Interval> = week(db, technician_id)
        .await?
        .iter()
        .map(|h| Interval {
            weekday: h.weekday as u32,
            start_minute: h.start_minute as u32,
            end_minute: h.end_minute as u32,
        })
        .collect();
    let exceptions: Vec<_> = exceptions_of(db, &[technician_id])
        .await?
        .remove(&technician_id)
        .unwrap_or_default()
        .iter()
        .filter_map(loading::exception_from)
        .collect();
    Ok(works_at(
        &week,
        &exceptions,
        at.with_timezone(&tz).naive_local(),
    ))
}

pub struct PositionReport {
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub heading_deg: Option<f64>,
    pub speed_kmh: Option<f64>,
}

/// Checks a reported position: coordinates, then accuracy, heading and speed when given.
pub fn check_report(report: &PositionReport) -> AppResult<()> {
    validate_lat_lng(report.lat, report.lng)
        .map_err(|e| AppError::bad_input(e.field(), e.to_string()))?;
    validate_motion(report.accuracy_m, report.heading_deg, report.speed_kmh)
        .map_err(|e| AppError::bad_input(e.field, e.to_string()))
}

/// Stores the technician's last known position and shares it with every replica's matching directory.
pub async fn update_location(
    services: &Services,
    viewer: &Viewer,
    report: PositionReport,
) -> AppResult<technician_profile::Model> {
    viewer.require_role(&[Role::Technician])?;
    check_report(&report)?;
    record_position(services, viewer.user_id, &report, services.clock.now()).await?;
    profile(&services.db, viewer.user_id).await
}

/// Writes a checked position to the profile (one UPDATE, no read) and hands it to matching;
/// `updateLocation` goes through here, live tracking through the two halves below.
pub async fn record_position(
    services: &Services,
    technician_id: Uuid,
    report: &PositionReport,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let point = store_position(&services.db, technician_id, report, now).await?;
    share_position(services, technician_id, point, now).await;
    Ok(())
}

/// Writes a checked position to the profile, inside the caller's transaction if it has one; the
/// caller shares the returned point with [`share_position`] once it is committed.
pub async fn store_position(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
    report: &PositionReport,
    now: DateTime<Utc>,
) -> AppResult<LatLng> {
    let position = db_technician::LivePosition {
        lat: report.lat,
        lng: report.lng,
        accuracy_m: report.accuracy_m,
        heading_deg: report.heading_deg,
        speed_kmh: report.speed_kmh,
    };
    let updated = db_technician::set_live_position(db, technician_id, position, now).await?;
    if updated != 1 {
        return Err(AppError::NotFound("technician".into()));
    }
    // Checked by `check_report` on the way in, so this is the same point, as matching's type.
    LatLng::new(report.lat, report.lng).map_err(|e| AppError::bad_input(e.field(), e.to_string()))
}

/// Hands a stored position to this replica's matching directory and every other replica's.
pub async fn share_position(
    services: &Services,
    technician_id: Uuid,
    point: LatLng,
    now: DateTime<Utc>,
) {
    search::publish_position(services, technician_id, point, now).await;
}

/// A customer never sees or gets matched with technicians they blocked.
pub async fn block(services: &Services, viewer: &Viewer, technician_id: Uuid) -> AppResult<()> {
    viewer.require_role(&[Role::Customer])?;
    let target = crate::db::accounts::account::user_by_id(&services.db, technician_id).await?;
    if target.is_none_or(|u| u.role != Role::Technician) {
        return Err(AppError::NotFound("technician".into()));
    }
    let now = services.clock.now();
    let row = technician_block::Model {
        id: Uuid::now_v7(),
        customer_id: viewer.user_id,
        technician_id,
        created_at: now,
        updated_at: now,
    };
    let txn = crate::db::begin_write(&services.db).await?;
    match db_technician::insert_block(&txn, row).await {
        Ok(_) => {}
        // Blocking twice is the same as blocking once.
        Err(e) if crate::db::is_unique_violation(&e) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    let mut effects = Effects::default();
    search::customer_changed(&txn, &mut effects, viewer.user_id).await?;
    txn.commit().await?;
    services.after_commit(effects);
    services.search_cache.forget_customer(viewer.user_id);
    Ok(())
}

pub async fn unblock(services: &Services, viewer: &Viewer, technician_id: Uuid) -> AppResult<()> {
    viewer.require_role(&[Role::Customer])?;
    let txn = crate::db::begin_write(&services.db).await?;
    db_technician::delete_block(&txn, viewer.user_id, technician_id).await?;
    let mut effects = Effects::default();
    search::customer_changed(&txn, &mut effects, viewer.user_id).await?;
    txn.commit().await?;
    services.after_commit(effects);
    services.search_cache.forget_customer(viewer.user_id);
    Ok(())
}

pub async fn blocked_ids(db: &impl ConnectionTrait, customer: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(db_technician::blocks_by(db, customer)
        .await?
        .into_iter()
        .map(|b| b.technician_id)
        .collect())
}
