//! The in-memory matching directory: every matchable technician's facts, indexed by base and by live
//! position so a search visits only technicians near the customer.

use crate::domain::geo::LatLng;
use crate::domain::money::Currency;
use crate::domain::schedule::{Exception, Interval};
use crate::services::matching::spatial_index::{IndexedTechnician, TechnicianIndex};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use uuid::Uuid;

/// Positions older than this are stale: matching falls back to the base location.
pub const LIVE_POSITION_TTL_SECS: i64 = 15 * 60;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LivePosition {
    pub point: LatLng,
    pub at: DateTime<Utc>,
}

/// What matching needs to know about one technician, kept in memory so a search never waits on the database.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: Uuid,
    pub base: Option<LatLng>,
    pub live: Option<LivePosition>,
    pub service_radius_km: f64,
    /// (category id, years in that category)
    pub skills: Box<[(Uuid, u32)]>,
    pub years_of_experience: u32,
    pub rating_average: f64,
    pub rating_count: u32,
    pub hourly_rate_minor: i64,
    pub currency: Currency,
    pub median_response_secs: Option<u32>,
    pub completion_rate: Option<f64>,
    pub time_zone: chrono_tz::Tz,
    /// Shared with every technician keeping the same hours.
    pub week: Arc<[Interval]>,
    pub exceptions: Box<[Exception]>,
}

impl Candidate {
    /// Where the technician is for matching: a fresh live position, else the base location.
    pub fn position(&self, now: DateTime<Utc>) -> Option<LatLng> {
        match self.live {
            Some(live) if (now - live.at).num_seconds() <= LIVE_POSITION_TTL_SECS => {
                Some(live.point)
            }
            _ => self.base,
        }
    }

    fn indexed(&self, at: LatLng) -> IndexedTechnician {
        let mut categories: Vec<Uuid> = self.skills.iter().map(|(c, _)| *c).collect();
        categories.sort();
        IndexedTechnician {
            id: self.id,
            lat: at.lat(),
            lng: at.lng(),
            service_radius_km: self.service_radius_km,
            categories,
        }
    }
}

#[derive(Default)]
pub struct MatchingIndex {
    by_base: TechnicianIndex,
    by_live: TechnicianIndex,
    candidates: RwLock<HashMap<Uuid, Arc<Candidate>>>,
}

impl MatchingIndex {
    pub fn bulk(candidates: Vec<Candidate>) -> MatchingIndex {
        let by_base = TechnicianIndex::bulk_load(
            candidates
                .iter()
                .filter_map(|c| c.base.map(|p| c.indexed(p)))
                .collect(),
        );
        let by_live = TechnicianIndex::bulk_load(
            candidates
                .iter()
                .filter_map(|c| c.live.map(|l| c.indexed(l.point)))
                .collect(),
        );
        let map = candidates
            .into_iter()
            .map(|c| (c.id, Arc::new(c)))
            .collect();
        MatchingIndex {
            by_base,
            by_live,
            candidates: RwLock::new(map),
        }
    }

    /// Adds or replaces a technician.
    pub fn put(&self, candidate: Candidate) {
        match candidate.base {
            Some(p) => {
                let _ = self.by_base.upsert(candidate.indexed(p));
            }
            None => {
                self.by_base.remove(candidate.id);
            }
        }
        match candidate.live {
            Some(l) => {
                let _ = self.by_live.upsert(candidate.indexed(l.point));
            }
            None => {
                self.by_live.remove(candidate.id);
            }
        }
        self.candidates
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(candidate.id, Arc::new(candidate));
    }

    pub fn remove(&self, id: Uuid) {
        self.by_base.remove(id);
        self.by_live.remove(id);
        self.candidates
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    /// Moves a technician's live position; older reports than the one held are ignored, so
    /// out-of-order delivery across replicas cannot move anyone backwards.
    pub fn move_live(&self, id: Uuid, position: LivePosition) -> bool {
        let mut candidates = self
            .candidates
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(current) = candidates.get(&id) else {
            return false;
        };
        if current.live.is_some_and(|held| held.at >= position.at) {
            return false;
        }
        let mut updated = (**current).clone();
        updated.live = Some(position);
        let _ = self.by_live.upsert(updated.indexed(position.point));
        candidates.insert(id, Arc::new(updated));
        true
    }

    pub fn get(&self, id: Uuid) -> Option<Arc<Candidate>> {
        self.candidates
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned()
    }

    pub fn len(&self) -> usize {
        self.candidates
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn ids(&self) -> Vec<Uuid> {
        self.candidates
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .copied()
            .collect()
    }

    /// Swaps in a freshly built directory, after a replica missed changes.
    pub fn replace_with(&self, fresh: MatchingIndex) {
        for id in self.ids() {
            if fresh.get(id).is_none() {
                self.remove(id);
            }
        }
        for id in fresh.ids() {
            if let Some(candidate) = fresh.get(id) {
                self.put((*candidate).clone());
            }
        }
    }

    /// Technicians with the category whose current position is within `radius_km` of the point and
    /// whose own service radius reaches it, nearest first, at most `limit`.
    pub fn near(
        &self,
        point: LatLng,
        radius_km: f64,
        category: Uuid,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Vec<(Arc<Candidate>, f64)> {
        let mut ids: Vec<Uuid> = self
            .by_base
            .nearest(point.lat(), point.lng(), radius_km, category, limit)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        ids.extend(
            self.by_live
                .nearest(point.lat(), point.lng(), radius_km, category, limit)
                .into_iter()
                .map(|(id, _)| id),
        );
        ids.sort();
        ids.dedup();
        let candidates = self
            .candidates
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut found: Vec<(Arc<Candidate>, f64)> = ids
            .into_iter()
            .filter_map(|id| candidates.get(&id).cloned())
            .filter_map(|c| {
                let distance = point.km_to(c.position(now)?);
                (distance <= radius_km && distance <= c.service_radius_km).then_some((c, distance))
            })
            .collect();
        found.sort_by(|a, b| a.1.total_cmp(&b.1));
        found.truncate(limit);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(
        id: u128,
        base: Option<LatLng>,
        live: Option<LivePosition>,
        category: Uuid,
    ) -> Candidate {
        Candidate {
            id: Uuid::from_u128(id),
            base,
            live,
            service_radius_km: 10.0,
            skills: Box::new([(category, 3)]),
            years_of_experience: 3,
            rating_average: 0.0,
            rating_count: 0,
            hourly_rate_minor: 100_000,
            currency: Currency::parse("KES").unwrap(),
            median_response_secs: None,
            completion_rate: None,
            time_zone: chrono_tz::Africa::Nairobi,
            week: Arc::new([]),
            exceptions: Box::new([]),
        }
    }

    fn at(lat: f64, lng: f64) -> LatLng {
        LatLng::new(lat, lng).unwrap()
    }

    fn nairobi() -> LatLng {
        at(-1.2921, 36.8219)
    }

    #[test]
    fn a_fresh_live_position_wins_and_a_stale_one_falls_back_to_base() {
        let now = Utc::now();
        let category = Uuid::from_u128(99);
        let far = at(-1.60, 36.80);
        let fresh = LivePosition {
            point: nairobi(),
            at: now,
        };
        let index = MatchingIndex::default();
        index.put(candidate(1, Some(far), Some(fresh), category));
        assert_eq!(
            index.near(nairobi(), 5.0, category, 10, now).len(),
            1,
            "found by its fresh live position"
        );
        let later = now + chrono::Duration::minutes(16);
        assert!(
            index.near(nairobi(), 5.0, category, 10, later).is_empty(),
            "stale: it is at its far base again"
        );

        let stale_far = LivePosition {
            point: far,
            at: now - chrono::Duration::minutes(30),
        };
        index.put(candidate(2, Some(nairobi()), Some(stale_far), category));
        let found = index.near(nairobi(), 5.0, category, 10, later);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].0.id,
            Uuid::from_u128(2),
            "found at its base although its stale live point is far"
        );
    }

    #[test]
    fn older_position_reports_are_ignored() {
        let now = Utc::now();
        let category = Uuid::from_u128(99);
        let index = MatchingIndex::default();
        index.put(candidate(
            1,
            None,
            Some(LivePosition {
                point: nairobi(),
                at: now,
            }),
            category,
        ));
        let older = LivePosition {
            point: at(0.0, 0.0),
            at: now - chrono::Duration::seconds(5),
        };
        assert!(!index.move_live(Uuid::from_u128(1), older));
        assert_eq!(index.near(nairobi(), 1.0, category, 10, now).len(), 1);
    }

    #[test]
    fn technicians_without_any_position_are_never_found() {
        let now = Utc::now();
        let category = Uuid::from_u128(99);
        let index = MatchingIndex::default();
        index.put(candidate(1, None, None, category));
        assert!(index.near(nairobi(), 50.0, category, 10, now).is_empty());
    }
}
