//! Technician profile changes: validation of every field, skills and certifications, and the index refresh after commit.

use crate::db::batch;
use crate::db::begin_write;
use crate::db::entities::{certification, technician_profile, technician_skill, user};
use crate::db::technicians::{profiles as db_profiles, technician as db_technician};
use crate::domain::account::Role;
use crate::error::{AppError, AppResult};
use crate::services::technicians::technician::{
    CertificationChange, MAX_BIO_CHARS, MAX_CERTIFICATIONS, MAX_SKILLS, ProfileChange,
    RADIUS_RANGE_KM, SkillChange,
};
use crate::services::{Effects, Services, Viewer, catalogue::categories, matching::search};
use chrono::{DateTime, Datelike, Utc};
use sea_orm::ConnectionTrait;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// A profile with its skills (category id, years) and certifications, as db_profiles.
pub struct FullProfile {
    pub profile: technician_profile::Model,
    pub skills: Vec<technician_skill::Model>,
    pub certifications: Vec<certification::Model>,
}

pub async fn load(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
) -> AppResult<Option<FullProfile>> {
    let Some(profile) = db_technician::profile_by_id(db, technician_id).await? else {
        return Ok(None);
    };
    let skills = db_profiles::skills_for(db, technician_id).await?;
    let certifications = db_profiles::certifications_for(db, technician_id).await?;
    Ok(Some(FullProfile {
        profile,
        skills,
        certifications,
    }))
}

fn check_bio(bio: &str) -> AppResult<String> {
    let bio = bio.trim();
    if bio.chars().count() > MAX_BIO_CHARS {
        return Err(AppError::bad_input(
            "bio",
            format!("bio must be at most {MAX_BIO_CHARS} characters"),
        ));
    }
    Ok(bio.to_string())
}

fn check_years(years: i32, field: &str) -> AppResult<i32> {
    if !(0..=60).contains(&years) {
        return Err(AppError::bad_input(field, "years must be between 0 and 60"));
    }
    Ok(years)
}

fn check_radius(km: f64) -> AppResult<f64> {
    if !km.is_finite() || !RADIUS_RANGE_KM.contains(&km) {
        return Err(AppError::bad_input(
            "serviceRadiusKm",
            "service radius must be between 1 and 50 km",
        ));
    }
    Ok(km)
}

pub fn check_time_zone(raw: &str, field: &str) -> AppResult<String> {
    raw.trim()
        .parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_string())
        .map_err(|_| {
            AppError::bad_input(
                field,
                "time zone must be an IANA name such as Africa/Nairobi",
            )
        })
}

fn check_certifications(
    list: Vec<CertificationChange>,
    now: DateTime<Utc>,
) -> AppResult<Vec<CertificationChange>> {
    if list.len() > MAX_CERTIFICATIONS {
        return Err(AppError::bad_input(
            "certifications",
            format!("at most {MAX_CERTIFICATIONS} certifications"),
        ));
    }
    list.into_iter()
        .enumerate()
        .map(|(i, c)| {
            let text = |value: &str, name: &str| {
                crate::services::platform::validation::text(
                    value,
                    format!("certifications[{i}].{name}"),
                    name,
                    1,
                    120,
                )
            };
            if let Some(year) = c.year
                && !(1950..=now.year()).contains(&year)
            {
                return Err(AppError::bad_input(
                    format!("certifications[{i}].year"),
                    "year must be between 1950 and this year",
                ));
            }
            Ok(CertificationChange {
                name: text(&c.name, "name")?,
                issuer: text(&c.issuer, "issuer")?,
                year: c.year,
            })
        })
        .collect()
}

/// Resolves skill slugs to active categories; at least one skill, no category twice.
async fn check_skills(
    db: &impl ConnectionTrait,
    list: Vec<SkillChange>,
) -> AppResult<Vec<(Uuid, i32)>> {
    if list.is_empty() {
        return Err(AppError::bad_input(
            "skills",
            "at least one skill is required",
        ));
    }
    if list.len() > MAX_SKILLS {
        return Err(AppError::bad_input(
            "skills",
            format!("at most {MAX_SKILLS} skills"),
        ));
    }
    let mut seen = HashSet::new();
    let mut resolved = Vec::with_capacity(list.len());
    for (i, skill) in list.into_iter().enumerate() {
        let category =
            categories::active_by_slug(db, &skill.category, &format!("skills[{i}].category"))
                .await?;
        if !seen.insert(category.id) {
            return Err(AppError::bad_input(
                format!("skills[{i}].category"),
                "each category may be listed once",
            ));
        }
        resolved.push((
            category.id,
            check_years(skill.years, &format!("skills[{i}].years"))?,
        ));
    }
    Ok(resolved)
}

pub async fn update(
    services: &Services,
    viewer: &Viewer,
    change: ProfileChange,
) -> AppResult<FullProfile> {
    viewer.require_role(&[Role::Technician])?;
    let now = services.clock.now();
    // Validate everything before writing anything.
    let bio = change.bio.as_deref().map(check_bio).transpose()?;
    let years = change
        .years_of_experience
        .map(|y| check_years(y, "yearsOfExperience"))
        .transpose()?;
    if let Some(rate) = change.hourly_rate
        && !(0..=10_000_000_000).contains(&rate.amount_minor)
    {
        return Err(AppError::bad_input(
            "hourlyRate.amountMinor",
            "hourly rate must be between 0 and 10,000,000,000 minor units",
        ));
    }
    let radius = change.service_radius_km.map(check_radius).transpose()?;
    let time_zone = change
        .time_zone
        .as_deref()
        .map(|tz| check_time_zone(tz, "timeZone"))
        .transpose()?;
    let certifications = change
        .certifications
        .map(|list| check_certifications(list, now))
        .transpose()?;
    let skills = match change.skills {
        Some(list) => Some(check_skills(&services.db, list).await?),
        None => None,
    };

    let txn = begin_write(&services.db).await?;
    let existing = db_technician::profile_by_id(&txn, viewer.user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("technician profile".into()))?;
    let changes = db_profiles::Changes {
        bio,
        years_of_experience: years,
        hourly_rate: change.hourly_rate,
        service_radius_km: radius,
        base_location: change.base_location,
        time_zone,
    };
    db_profiles::update_profile(&txn, existing, changes, now).await?;
    if let Some(skills) = skills {
        db_profiles::delete_skills_of(&txn, viewer.user_id).await?;
        let rows = skills
            .into_iter()
            .map(|(category_id, years)| technician_skill::Model {
                id: Uuid::now_v7(),
                technician_id: viewer.user_id,
                category_id,
                years,
                created_at: now,
                updated_at: now,
            })
            .collect();
        db_profiles::insert_skills(&txn, rows).await?;
    }
    if let Some(certifications) = certifications {
        db_profiles::delete_certifications_of(&txn, viewer.user_id).await?;
        // Counted as i32, the position column's type; MAX_CERTIFICATIONS keeps it small.
        let rows: Vec<_> = (0..)
            .zip(certifications)
            .map(|(i, c)| certification::Model {
                id: Uuid::now_v7(),
                technician_id: viewer.user_id,
                name: c.name,
                issuer: c.issuer,
                year: c.year,
                position: i,
                created_at: now,
                updated_at: now,
            })
            .collect();
        db_profiles::insert_certifications(&txn, rows).await?;
    }
    let mut effects = Effects::default();
    search::directory_changed(&txn, &mut effects, viewer.user_id).await?;
    txn.commit().await?;
    services.after_commit(effects);
    search::refresh_local(services, viewer.user_id).await?;
    load(&services.db, viewer.user_id)
        .await?
        .ok_or_else(|| AppError::NotFound("technician profile".into()))
}

/// A technician's account and profile. Skills, certifications and the timetable are read apart
/// (`skills_of`, `certifications_of`, `technicians::weeks_of`), only when someone asks for them.
#[derive(Clone)]
pub struct TechnicianRecord {
    pub user: user::Model,
    pub profile: technician_profile::Model,
}

/// Loads many technicians (account and profile together) in one statement, for pages of matches
/// and bookings; ids with no profile are left out.
pub async fn load_many(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, TechnicianRecord>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = db_profiles::with_users(db, ids).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(profile, user)| {
            Some((
                profile.id,
                TechnicianRecord {
                    user: user?,
                    profile,
                },
            ))
        })
        .collect())
}

/// Each technician's skills in the order they were added, for many technicians in one statement.
pub async fn skills_of(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<technician_skill::Model>>> {
    let rows = db_profiles::skills_of(db, ids).await?;
    Ok(batch::group(rows, |s| s.technician_id))
}

/// Each technician's certifications in their order, for many technicians in one statement.
pub async fn certifications_of(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<certification::Model>>> {
    let rows = db_profiles::certifications_of(db, ids).await?;
    Ok(batch::group(rows, |c| c.technician_id))
}
