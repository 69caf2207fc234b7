//! Reading the matching directory from the database: every approved, available technician at
//! start-up (or after a replica missed changes), and one technician when their facts change.

use crate::db::StreamingConnection;
use crate::db::entities::availability_exception;
use crate::db::matching::directory as rows;
use crate::domain::geo::LatLng;
use crate::domain::schedule::{Exception, ExceptionKind, ExceptionType, Interval};
use crate::domain::technician::{Availability, KycStatus};
use crate::error::AppResult;
use crate::services::matching::directory::{Candidate, LivePosition, MatchingIndex};
use chrono::NaiveDate;
use futures_util::TryStreamExt;
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use std::pin::pin;
use std::sync::Arc;
use uuid::Uuid;

/// One technician's matching facts from the database, or None when they cannot be matched now.
pub async fn load_candidate(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<Candidate>> {
    let Some(profile) = rows::facts_of(db, id).await? else {
        return Ok(None);
    };
    let skills = rows::skills_of(db, id)
        .await?
        .into_iter()
        .map(|s| skill(s.category_id, s.years))
        .collect();
    let week: Vec<Interval> = rows::hours_of(db, id)
        .await?
        .into_iter()
        .map(|h| interval(h.weekday, h.start_minute, h.end_minute))
        .collect();
    let exceptions = rows::exceptions_of(db, id).await?;
    Ok(candidate_from(
        profile,
        skills,
        week.into(),
        exceptions.iter().filter_map(exception_from).collect(),
    ))
}

/// Builds the directory from every approved, available technician. Only their rows are read (the
/// database filters), only the columns matching uses, and profiles streamed in one scan so the rows
/// of a large city never sit in memory all at once beside the directory being built from them.
pub async fn load_index(db: &impl StreamingConnection) -> AppResult<MatchingIndex> {
    let (kyc, available) = (KycStatus::Approved, Availability::Available);
    let mut skills: HashMap<Uuid, Vec<(Uuid, u32)>> = HashMap::new();
    for (technician, category, years) in rows::skills_of_all_with(db, kyc, available).await? {
        skills
            .entry(technician)
            .or_default()
            .push(skill(category, years));
    }
    let mut weeks = Weeks::default();
    let mut hours: HashMap<Uuid, Vec<Interval>> = HashMap::new();
    for (technician, weekday, start, end) in rows::hours_of_all_with(db, kyc, available).await? {
        hours
            .entry(technician)
            .or_default()
            .push(interval(weekday, start, end));
    }
    let mut exceptions: HashMap<Uuid, Vec<Exception>> = HashMap::new();
    for row in rows::exceptions_of_all_with(db, kyc, available).await? {
        if let Some(exception) = exception_from(&row) {
            exceptions
                .entry(row.technician_id)
                .or_default()
                .push(exception);
        }
    }

    let mut candidates = Vec::with_capacity(skills.len());
    let mut profiles = pin!(rows::facts_of_all_with(db, kyc, available).await?);
    while let Some(profile) = profiles.try_next().await? {
        let id = profile.id;
        let week = weeks.shared(hours.remove(&id).unwrap_or_default());
        let found = candidate_from(
            profile,
            skills.remove(&id).unwrap_or_default(),
            week,
            exceptions.remove(&id).unwrap_or_default().into(),
        );
        candidates.extend(found);
    }
    Ok(MatchingIndex::bulk(candidates))
}

/// Weekly timetables shared between technicians who keep the same hours (most keep one of a few),
/// so a city's directory holds each distinct week once.
#[derive(Default)]
struct Weeks {
    seen: HashMap<Vec<Interval>, Arc<[Interval]>>,
}

impl Weeks {
    fn shared(&mut self, mut week: Vec<Interval>) -> Arc<[Interval]> {
        week.sort_by_key(|i| (i.weekday, i.start_minute, i.end_minute));
        if let Some(shared) = self.seen.get(&week) {
            return shared.clone();
        }
        let shared: Arc<[Interval]> = week.clone().into();
        self.seen.insert(week, shared.clone());
        shared
    }
}

fn skill(category: Uuid, years: i32) -> (Uuid, u32) {
    (category, u32::try_from(years).unwrap_or(0))
}

fn interval(weekday: i32, start_minute: i32, end_minute: i32) -> Interval {
    let whole = |n: i32| u32::try_from(n).unwrap_or(0);
    Interval {
        weekday: whole(weekday),
        start_minute: whole(start_minute),
        end_minute: whole(end_minute),
    }
}

fn candidate_from(
    profile: rows::MatchingFacts,
    skills: Vec<(Uuid, u32)>,
    week: Arc<[Interval]>,
    exceptions: Box<[Exception]>,
) -> Option<Candidate> {
    let matchable = profile.kyc_status == KycStatus::Approved
        && profile.availability == Availability::Available
        && !skills.is_empty();
    if !matchable {
        return None;
    }
    let live = match (profile.live_lat, profile.live_lng, profile.live_at) {
        (Some(lat), Some(lng), Some(at)) => {
            stored_point(profile.id, "live", lat, lng).map(|point| LivePosition { point, at })
        }
        _ => None,
    };
    let base = profile
        .base_lat
        .zip(profile.base_lng)
        .and_then(|(lat, lng)| stored_point(profile.id, "base", lat, lng));
    if base.is_none() && live.is_none() {
        return None;
    }
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    let finished = profile.jobs_completed + profile.jobs_withdrawn + profile.jobs_cancelled;
    Some(Candidate {
        id: profile.id,
        base,
        live,
        service_radius_km: profile.service_radius_km,
        skills: skills.into(),
        years_of_experience: count(profile.years_of_experience),
        rating_average: profile.rating_average,
        rating_count: count(profile.rating_count),
        hourly_rate_minor: profile.hourly_rate_minor,
        currency: profile.currency,
        median_response_secs: profile.median_response_secs.map(count),
        completion_rate: crate::domain::badges::completion_rate(
            count(profile.jobs_completed),
            count(profile.jobs_withdrawn),
            count(profile.jobs_cancelled),
        )
        .filter(|_| finished > 0),
        time_zone: profile
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::Africa::Nairobi),
        week,
        exceptions,
    })
}

/// A stored point, checked: coordinates are validated on the way in, so one off the globe was
/// written by hand; the technician is matched as if it were absent, and the operator is told.
fn stored_point(technician: Uuid, which: &str, lat: f64, lng: f64) -> Option<LatLng> {
    LatLng::new(lat, lng)
        .inspect_err(|e| tracing::warn!(%technician, which, error = %e, "stored position ignored"))
        .ok()
}

pub fn exception_from(row: &availability_exception::Model) -> Option<Exception> {
    let date = NaiveDate::parse_from_str(&row.date, "%Y-%m-%d").ok()?;
    let kind = match (row.kind, row.start_minute, row.end_minute) {
        (ExceptionType::DayOff, _, _) => ExceptionKind::DayOff,
        (ExceptionType::ExtraHours, Some(start), Some(end)) => ExceptionKind::ExtraHours {
            start_minute: u32::try_from(start).unwrap_or(0),
            end_minute: u32::try_from(end).unwrap_or(0),
        },
        _ => return None,
    };
    Some(Exception { date, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn week(days: &[u32]) -> Vec<Interval> {
        days.iter()
            .map(|&weekday| Interval {
                weekday,
                start_minute: 480,
                end_minute: 1020,
            })
            .collect()
    }

    #[test]
    fn technicians_keeping_the_same_hours_share_one_timetable() {
        let mut weeks = Weeks::default();
        let a = weeks.shared(week(&[0, 1, 2, 3, 4]));
        let b = weeks.shared(week(&[4, 3, 2, 1, 0]));
        let c = weeks.shared(week(&[0, 1, 2]));
        assert!(Arc::ptr_eq(&a, &b), "the same hours in another order");
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(&*c, week(&[0, 1, 2]).as_slice());
    }
}
