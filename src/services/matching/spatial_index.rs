//! In-memory spatial index of the technicians who can be matched right now.
//!
//! This module holds the index that answers "who is near this customer?" without
//! scanning every technician, plus the rules it applies to each candidate: within the
//! search radius, within the technician's own service radius, offering the category.
//! Deciding who belongs in it (KYC-approved, available, not blocked by the customer) and
//! scoring the candidates it returns are done elsewhere: the caller upserts a technician
//! when they become matchable or move, and removes them when they stop being matchable.
//!
//! Points are stored on the unit sphere as earth-centred `[x, y, z]` coordinates. The
//! straight-line (chord) distance between two such points grows strictly with their
//! great-circle distance, so the R-tree's Euclidean nearest-neighbour walk yields
//! technicians in exact great-circle order, works the same at the poles and across the
//! antimeridian, and can stop at the chord matching the search radius. Reported
//! distances are great-circle kilometres worked out from that chord: the same figure as
//! [`haversine_km`](crate::domain::geo::haversine_km) up to rounding, so a caller that
//! needs the exact boundary checks it again with haversine (the directory does).

use crate::domain::geo::{CoordinateError, EARTH_RADIUS_KM, validate_lat_lng};
use rstar::RTree;
use rstar::primitives::GeomWithData;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use uuid::Uuid;

/// A technician as the index sees them: where they are, how far they travel, what they do.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexedTechnician {
    pub id: Uuid,
    /// Current position, decimal degrees.
    pub lat: f64,
    pub lng: f64,
    /// The technician serves customers at most this far away, in kilometres.
    pub service_radius_km: f64,
    /// Service categories offered; a small list, kept sorted by convention.
    pub categories: Vec<Uuid>,
}

/// Why a technician was not accepted into the index. The index is left unchanged.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum InvalidTechnician {
    #[error(transparent)]
    Coordinate(#[from] CoordinateError),
    #[error("service radius must be a finite, non-negative number of km, got {0}")]
    ServiceRadius(f64),
}

/// What the R-tree stores beside each point: who it is and how far they travel, enough for a
/// search to accept or reject them and report the distance without leaving the tree. Kept small,
/// because each technician has one per category they offer.
#[derive(Clone, Debug, PartialEq)]
struct Slot {
    id: Uuid,
    /// Squared unit-sphere chord of the technician's service radius.
    reach_2: f64,
}

/// One entry of the R-tree: the technician's point on the unit sphere and their slot.
type Entry = GeomWithData<[f64; 3], Slot>;

/// Where a technician is and what they offer, as given: their entries in the trees are derived
/// from it (the same way each time), which removing or moving them needs.
#[derive(Clone, Debug)]
struct Placed {
    lat: f64,
    lng: f64,
    service_radius_km: f64,
    categories: Box<[Uuid]>,
}

impl Placed {
    fn entry(&self, id: Uuid) -> Entry {
        let slot = Slot {
            id,
            reach_2: chord_2_for_km(self.service_radius_km),
        };
        GeomWithData::new(unit_vector(self.lat, self.lng), slot)
    }

    fn technician(&self, id: Uuid) -> IndexedTechnician {
        IndexedTechnician {
            id,
            lat: self.lat,
            lng: self.lng,
            service_radius_km: self.service_radius_km,
            categories: self.categories.to_vec(),
        }
    }
}

#[derive(Default)]
struct Inner {
    /// One tree per category holding only the technicians who offer it, so a search for one
    /// category walks past nobody else: with one shared tree, a search for one of ten categories
    /// visited about ten technicians for each it kept. A technician offering several categories
    /// has a copy of their (small) entry in each of those trees, and no tree holds everyone.
    by_category: HashMap<Uuid, RTree<Entry>>,
    /// Each technician's entry and categories: removing from an R-tree needs the exact entry.
    by_id: HashMap<Uuid, Placed>,
}

impl Inner {
    fn insert(&mut self, id: Uuid, placed: &Placed) {
        let entry = placed.entry(id);
        for &category in &placed.categories {
            self.by_category
                .entry(category)
                .or_default()
                .insert(entry.clone());
        }
    }

    fn remove(&mut self, id: Uuid, old: &Placed) {
        let entry = old.entry(id);
        for category in &old.categories {
            if let Some(tree) = self.by_category.get_mut(category) {
                tree.remove(&entry);
                if tree.size() == 0 {
                    self.by_category.remove(category);
                }
            }
        }
    }
}

#[derive(Default)]
struct Shared {
    /// Taken briefly before every lock of `index`, and held by a writer until it has the
    /// write lock, so searches arriving after a waiting writer queue behind it. Without it
    /// back-to-back searches can keep the lock read-held and starve position updates.
    turnstile: Mutex<()>,
    index: RwLock<Inner>,
}

/// Thread-safe index of matchable technicians. Clones share the same index.
///
/// Reads (`nearest`, `get`, `len`) run in parallel; writes (`upsert`, `remove`) take a
/// short exclusive lock covering one R-tree removal and one insertion, and are served in
/// turn with reads rather than waiting for a gap in them.
#[derive(Clone, Default)]
pub struct TechnicianIndex {
    shared: Arc<Shared>,
}

impl fmt::Debug for TechnicianIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TechnicianIndex")
            .field("len", &self.len())
            .finish()
    }
}

impl TechnicianIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds an index from many technicians at once, much faster than upserting them one by one.
    ///
    /// When an id appears more than once the last entry wins, as with repeated upserts.
    /// Entries `upsert` would reject (bad coordinates or service radius) are left out and
    /// counted in a warning.
    pub fn bulk_load(items: Vec<IndexedTechnician>) -> TechnicianIndex {
        let mut by_id: HashMap<Uuid, Placed> = HashMap::with_capacity(items.len());
        let mut rejected = 0usize;
        for technician in items {
            let id = technician.id;
            match placed(technician) {
                Ok(placed) => {
                    by_id.insert(id, placed);
                }
                Err(_) => rejected += 1,
            }
        }
        if rejected > 0 {
            tracing::warn!(
                rejected,
                "technicians with invalid positions left out of the index"
            );
        }
        let mut grouped: HashMap<Uuid, Vec<Entry>> = HashMap::new();
        for (&id, placed) in &by_id {
            let entry = placed.entry(id);
            for &category in &placed.categories {
                grouped.entry(category).or_default().push(entry.clone());
            }
        }
        let by_category = grouped
            .into_iter()
            .map(|(category, entries)| (category, RTree::bulk_load(entries)))
            .collect();
        TechnicianIndex {
            shared: Arc::new(Shared {
                turnstile: Mutex::new(()),
                index: RwLock::new(Inner { by_category, by_id }),
            }),
        }
    }

    /// Adds the technician, or replaces their previous entry (position, radius, categories).
    pub fn upsert(&self, technician: IndexedTechnician) -> Result<(), InvalidTechnician> {
        let id = technician.id;
        let placed = placed(technician)?;
        let mut inner = self.write();
        let inner = &mut *inner;
        if let Some(old) = inner.by_id.remove(&id) {
            inner.remove(id, &old);
        }
        inner.insert(id, &placed);
        inner.by_id.insert(id, placed);
        Ok(())
    }

    /// Takes the technician out of the index; returns whether they were in it.
    pub fn remove(&self, id: Uuid) -> bool {
        let mut inner = self.write();
        let inner = &mut *inner;
        match inner.by_id.remove(&id) {
            Some(old) => {
                inner.remove(id, &old);
                true
            }
            None => false,
        }
    }

    pub fn len(&self) -> usize {
        self.read().by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, id: Uuid) -> Option<IndexedTechnician> {
        self.read()
            .by_id
            .get(&id)
            .map(|placed| placed.technician(id))
    }

    /// Technicians offering `category` who can serve a customer at (`lat`, `lng`), nearest
    /// first, as (id, haversine distance in km).
    ///
    /// A technician is returned when the distance is within `max_km` and within their own
    /// service radius. At most `limit` are returned. Only technicians of the category closer
    /// than `max_km` are visited, in distance order, and the walk ends as soon as `limit` are
    /// found. A non-finite position or a negative or NaN `max_km` matches no one.
    pub fn nearest(
        &self,
        lat: f64,
        lng: f64,
        max_km: f64,
        category: Uuid,
        limit: usize,
    ) -> Vec<(Uuid, f64)> {
        if limit == 0 || !lat.is_finite() || !lng.is_finite() || max_km.is_nan() || max_km < 0.0 {
            return Vec::new();
        }
        let query = unit_vector(lat, lng);
        let stop_after = with_slack(chord_2_for_km(max_km));
        let mut found = Vec::with_capacity(limit.min(64));
        let inner = self.read();
        let Some(tree) = inner.by_category.get(&category) else {
            return Vec::new();
        };
        for (entry, chord_2) in tree.nearest_neighbor_iter_with_distance_2(&query) {
            if chord_2 > stop_after {
                break;
            }
            let slot = &entry.data;
            if chord_2 > with_slack(slot.reach_2) {
                continue;
            }
            let km = km_for_chord_2(chord_2);
            if km <= max_km {
                found.push((slot.id, km));
                if found.len() == limit {
                    break;
                }
            }
        }
        drop(inner);
        // Already in chord order, which is great-circle order; this only settles rounding
        // ties so the reported distances never go down. Stable, and cheap at `limit` items.
        found.sort_by(|a, b| a.1.total_cmp(&b.1));
        found
    }

    // Nothing under these locks is expected to panic (allocation failure aborts), so a
    // poisoned lock is used as is rather than failing every later call.

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        let turn = self.turnstile();
        let guard = self
            .shared
            .index
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        drop(turn);
        guard
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        let turn = self.turnstile();
        let guard = self
            .shared
            .index
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        drop(turn);
        guard
    }

    fn turnstile(&self) -> MutexGuard<'_, ()> {
        self.shared
            .turnstile
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

fn placed(technician: IndexedTechnician) -> Result<Placed, InvalidTechnician> {
    validate_lat_lng(technician.lat, technician.lng)?;
    let radius = technician.service_radius_km;
    if !(radius.is_finite() && radius >= 0.0) {
        return Err(InvalidTechnician::ServiceRadius(radius));
    }
    let mut categories = technician.categories;
    categories.sort();
    categories.dedup();
    Ok(Placed {
        lat: technician.lat,
        lng: technician.lng,
        service_radius_km: radius,
        categories: categories.into_boxed_slice(),
    })
}

/// Earth-centred coordinates of a point on the unit sphere.
fn unit_vector(lat: f64, lng: f64) -> [f64; 3] {
    let (sin_lat, cos_lat) = lat.to_radians().sin_cos();
    let (sin_lng, cos_lng) = lng.to_radians().sin_cos();
    [cos_lat * cos_lng, cos_lat * sin_lng, sin_lat]
}

/// Squared unit-sphere chord for a great-circle distance; anything past half the globe is
/// the antipode's chord (2), the largest there is.
fn chord_2_for_km(km: f64) -> f64 {
    let angle = (km / EARTH_RADIUS_KM).min(std::f64::consts::PI);
    let chord = 2.0 * (angle / 2.0).sin();
    chord * chord
}

/// The great-circle distance, in km, of a squared unit-sphere chord: the inverse of
/// [`chord_2_for_km`], and the same figure as haversine up to rounding.
fn km_for_chord_2(chord_2: f64) -> f64 {
    let half_chord = (chord_2.max(0.0).sqrt() / 2.0).min(1.0);
    2.0 * half_chord.asin() * EARTH_RADIUS_KM
}

/// A chord bound widened a hair: rounding may put a point on either side of the exact
/// boundary, so chord checks only skip the clearly-outside and haversine decides the rest.
fn with_slack(chord_2: f64) -> f64 {
    chord_2 * (1.0 + 1e-9) + 1e-18
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::geo::haversine_km;

    const NAIROBI: (f64, f64) = (-1.2921, 36.8219);
    /// Degrees of latitude per km on the mean sphere.
    const DEG_PER_KM: f64 = 180.0 / (std::f64::consts::PI * EARTH_RADIUS_KM);

    fn technician(
        n: u128,
        lat: f64,
        lng: f64,
        radius_km: f64,
        categories: &[u128],
    ) -> IndexedTechnician {
        let mut categories: Vec<Uuid> = categories
            .iter()
            .map(|c| Uuid::from_u128(1000 + c))
            .collect();
        categories.sort();
        IndexedTechnician {
            id: Uuid::from_u128(n),
            lat,
            lng,
            service_radius_km: radius_km,
            categories,
        }
    }

    fn category(c: u128) -> Uuid {
        Uuid::from_u128(1000 + c)
    }

    /// A point `km` north of Nairobi.
    fn north(km: f64) -> (f64, f64) {
        (NAIROBI.0 + km * DEG_PER_KM, NAIROBI.1)
    }

    fn ids(found: &[(Uuid, f64)]) -> Vec<u128> {
        found.iter().map(|(id, _)| id.as_u128()).collect()
    }

    fn index_of(technicians: Vec<IndexedTechnician>) -> TechnicianIndex {
        let index = TechnicianIndex::new();
        for t in technicians {
            index.upsert(t).unwrap();
        }
        index
    }

    fn near(index: &TechnicianIndex, max_km: f64, category: Uuid, limit: usize) -> Vec<u128> {
        ids(&index.nearest(NAIROBI.0, NAIROBI.1, max_km, category, limit))
    }

    #[test]
    fn nearest_technicians_come_first_with_haversine_distances() {
        let spots = [(1, 3.0), (2, 0.5), (3, 7.0), (4, 1.5)];
        let index = index_of(
            spots
                .iter()
                .map(|&(n, km)| {
                    let (lat, lng) = north(km);
                    technician(n, lat, lng, 20.0, &[1])
                })
                .collect(),
        );
        let found = index.nearest(NAIROBI.0, NAIROBI.1, 10.0, category(1), 10);
        assert_eq!(ids(&found), vec![2, 4, 1, 3]);
        for ((_, km), expected) in found.iter().zip([0.5, 1.5, 3.0, 7.0]) {
            assert!((km - expected).abs() < 1e-6, "{km} vs {expected}");
        }
    }

    #[test]
    fn search_radius_excludes_technicians_beyond_it() {
        let (a, b) = (north(4.9), north(5.1));
        let index = index_of(vec![
            technician(1, a.0, a.1, 50.0, &[1]),
            technician(2, b.0, b.1, 50.0, &[1]),
        ]);
        assert_eq!(near(&index, 5.0, category(1), 10), vec![1]);
        assert_eq!(near(&index, 5.2, category(1), 10), vec![1, 2]);
        assert!(near(&index, 1.0, category(1), 10).is_empty());
    }

    #[test]
    fn technician_own_service_radius_excludes_customers_beyond_it() {
        let (a, b) = (north(3.0), north(6.0));
        let index = index_of(vec![
            technician(1, a.0, a.1, 2.0, &[1]), // only travels 2 km; customer is 3 km away
            technician(2, b.0, b.1, 10.0, &[1]), // travels 10 km; customer is 6 km away
        ]);
        assert_eq!(near(&index, 20.0, category(1), 10), vec![2]);
    }

    #[test]
    fn category_filter_keeps_only_technicians_offering_it() {
        let (a, b, c) = (north(1.0), north(2.0), north(3.0));
        let index = index_of(vec![
            technician(1, a.0, a.1, 10.0, &[1, 2]),
            technician(2, b.0, b.1, 10.0, &[3]),
            technician(3, c.0, c.1, 10.0, &[2, 3]),
        ]);
        assert_eq!(near(&index, 10.0, category(2), 10), vec![1, 3]);
        assert_eq!(near(&index, 10.0, category(3), 10), vec![2, 3]);
        assert!(near(&index, 10.0, category(9), 10).is_empty());
    }

    #[test]
    fn upsert_moves_a_technician_and_the_old_position_is_no_longer_found() {
        let index = TechnicianIndex::new();
        let here = north(1.0);
        let far = north(40.0);
        index
            .upsert(technician(1, here.0, here.1, 50.0, &[1]))
            .unwrap();
        assert_eq!(near(&index, 5.0, category(1), 10), vec![1]);

        index
            .upsert(technician(1, far.0, far.1, 50.0, &[1]))
            .unwrap();
        assert_eq!(index.len(), 1);
        assert!(near(&index, 5.0, category(1), 10).is_empty());
        let found = index.nearest(NAIROBI.0, NAIROBI.1, 50.0, category(1), 10);
        assert_eq!(ids(&found), vec![1]);
        assert!((found[0].1 - 40.0).abs() < 1e-6);
        assert_eq!(index.get(Uuid::from_u128(1)).unwrap().lat, far.0);
    }

    #[test]
    fn upsert_replaces_radius_and_categories_too() {
        let index = TechnicianIndex::new();
        let p = north(3.0);
        index.upsert(technician(1, p.0, p.1, 10.0, &[1])).unwrap();
        index.upsert(technician(1, p.0, p.1, 2.0, &[2])).unwrap();
        assert!(near(&index, 10.0, category(2), 10).is_empty());
        index.upsert(technician(1, p.0, p.1, 5.0, &[2])).unwrap();
        assert!(near(&index, 10.0, category(1), 10).is_empty());
        assert_eq!(near(&index, 10.0, category(2), 10), vec![1]);
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn removed_technicians_are_no_longer_found() {
        let (a, b) = (north(1.0), north(2.0));
        let index = index_of(vec![
            technician(1, a.0, a.1, 10.0, &[1]),
            technician(2, b.0, b.1, 10.0, &[1]),
        ]);
        assert!(index.remove(Uuid::from_u128(1)));
        assert!(!index.remove(Uuid::from_u128(1)));
        assert_eq!(index.len(), 1);
        assert_eq!(index.get(Uuid::from_u128(1)), None);
        assert_eq!(near(&index, 10.0, category(1), 10), vec![2]);
        assert_eq!(near(&index, 10.0, category(1), 10), vec![2]);
        assert!(index.remove(Uuid::from_u128(2)));
        assert!(index.is_empty());
        assert!(near(&index, 10.0, category(1), 10).is_empty());
        assert!(near(&index, 10.0, category(1), 10).is_empty());
    }

    #[test]
    fn technicians_at_the_same_spot_are_moved_and_removed_independently() {
        let p = north(1.0);
        let index = index_of(vec![
            technician(1, p.0, p.1, 10.0, &[1]),
            technician(2, p.0, p.1, 10.0, &[1]),
        ]);
        assert_eq!(near(&index, 5.0, category(1), 10).len(), 2);
        assert!(index.remove(Uuid::from_u128(1)));
        assert_eq!(near(&index, 5.0, category(1), 10), vec![2]);
    }

    #[test]
    fn limit_caps_the_result_at_the_nearest_ones() {
        let index = index_of(
            (1..=20)
                .map(|n| {
                    let p = north(n as f64 * 0.25);
                    technician(n, p.0, p.1, 10.0, &[1])
                })
                .collect(),
        );
        assert_eq!(near(&index, 10.0, category(1), 3), vec![1, 2, 3]);
        assert!(near(&index, 10.0, category(1), 0).is_empty());
        assert_eq!(near(&index, 10.0, category(1), 100).len(), 20);
    }

    #[test]
    fn distances_wrap_across_the_antimeridian() {
        let index = index_of(vec![
            technician(1, 0.0, 179.99, 10.0, &[1]),
            technician(2, 0.0, 179.9, 20.0, &[1]),
        ]);
        let found = index.nearest(0.0, -179.99, 15.0, category(1), 10);
        assert_eq!(ids(&found), vec![1, 2]);
        assert!((found[0].1 - haversine_km((0.0, -179.99), (0.0, 179.99))).abs() < 1e-9);
        assert!(found[0].1 < 2.3);
    }

    #[test]
    fn invalid_positions_and_radii_are_rejected_and_leave_the_index_unchanged() {
        let index = TechnicianIndex::new();
        let p = north(1.0);
        index.upsert(technician(1, p.0, p.1, 10.0, &[1])).unwrap();
        let bad = [
            (
                technician(1, 91.0, 0.0, 10.0, &[1]),
                InvalidTechnician::Coordinate(CoordinateError::Lat(91.0)),
            ),
            (
                technician(1, 0.0, 181.0, 10.0, &[1]),
                InvalidTechnician::Coordinate(CoordinateError::Lng(181.0)),
            ),
            (
                technician(1, p.0, p.1, -1.0, &[1]),
                InvalidTechnician::ServiceRadius(-1.0),
            ),
        ];
        for (t, expected) in bad {
            assert_eq!(index.upsert(t), Err(expected));
        }
        assert!(
            index
                .upsert(technician(1, f64::NAN, 0.0, 10.0, &[1]))
                .is_err()
        );
        assert!(
            index
                .upsert(technician(1, p.0, p.1, f64::INFINITY, &[1]))
                .is_err()
        );
        assert_eq!(index.get(Uuid::from_u128(1)).unwrap().lat, p.0);
        assert_eq!(near(&index, 5.0, category(1), 10), vec![1]);
        assert!(near(&index, f64::NAN, category(1), 10).is_empty());
        assert!(near(&index, -1.0, category(1), 10).is_empty());
    }

    #[test]
    fn bulk_load_keeps_the_last_entry_per_id_and_skips_invalid_ones() {
        let (a, b) = (north(1.0), north(2.0));
        let index = TechnicianIndex::bulk_load(vec![
            technician(1, a.0, a.1, 10.0, &[1]),
            technician(2, 200.0, 0.0, 10.0, &[1]),
            technician(1, b.0, b.1, 10.0, &[1]),
        ]);
        assert_eq!(index.len(), 1);
        let found = index.nearest(NAIROBI.0, NAIROBI.1, 10.0, category(1), 10);
        assert_eq!(ids(&found), vec![1]);
        assert!((found[0].1 - 2.0).abs() < 1e-6);
        // A bulk-loaded index takes updates like any other.
        assert!(index.remove(Uuid::from_u128(1)));
        assert!(index.is_empty());
    }

    /// SplitMix64: tiny, deterministic and good enough to scatter test points.
    struct Rng(u64);

    impl Rng {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform in [lo, hi).
        fn range(&mut self, lo: f64, hi: f64) -> f64 {
            let unit = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            lo + (hi - lo) * unit
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next_u64() % n
        }
    }

    fn brute_force(
        all: &[IndexedTechnician],
        lat: f64,
        lng: f64,
        max_km: f64,
        category: Uuid,
        limit: usize,
    ) -> Vec<(u128, f64)> {
        let mut hits: Vec<(u128, f64)> = all
            .iter()
            .filter(|t| t.categories.contains(&category))
            .map(|t| {
                (
                    t.id.as_u128(),
                    haversine_km((lat, lng), (t.lat, t.lng)),
                    t.service_radius_km,
                )
            })
            .filter(|&(_, km, reach)| km <= max_km && km <= reach)
            .map(|(id, km, _)| (id, km))
            .collect();
        hits.sort_by(|a, b| a.1.total_cmp(&b.1));
        hits.truncate(limit);
        hits
    }

    #[test]
    fn results_match_a_brute_force_scan_of_random_technicians() {
        let mut rng = Rng(0x5EED_F00D);
        let random_technician = |rng: &mut Rng, n: u128| {
            let categories: Vec<u128> = (0..5).filter(|_| rng.below(3) == 0).collect();
            technician(
                n,
                NAIROBI.0 + rng.range(-0.3, 0.3),
                NAIROBI.1 + rng.range(-0.3, 0.3),
                rng.range(1.0, 25.0),
                &categories,
            )
        };
        let mut all: Vec<IndexedTechnician> =
            (0..2_000).map(|n| random_technician(&mut rng, n)).collect();
        // Seed half in bulk and half one by one, then move a few hundred, so both paths are covered.
        let index = TechnicianIndex::bulk_load(all[..1_000].to_vec());
        for t in &all[1_000..] {
            index.upsert(t.clone()).unwrap();
        }
        for _ in 0..300 {
            let n = rng.below(2_000) as u128;
            let moved = random_technician(&mut rng, n);
            all[n as usize] = moved.clone();
            index.upsert(moved).unwrap();
        }
        assert_eq!(index.len(), 2_000);

        let mut answered = 0;
        for _ in 0..200 {
            let lat = NAIROBI.0 + rng.range(-0.35, 0.35);
            let lng = NAIROBI.1 + rng.range(-0.35, 0.35);
            let max_km = rng.range(0.5, 40.0);
            let category = category(rng.below(5) as u128);
            let limit = [1, 5, 50, 10_000][usize::try_from(rng.below(4)).unwrap()];
            let got = index.nearest(lat, lng, max_km, category, limit);
            let expected = brute_force(&all, lat, lng, max_km, category, limit);
            answered += usize::from(!expected.is_empty());
            let query =
                format!("query ({lat}, {lng}) within {max_km} km, {category}, limit {limit}");
            assert_eq!(
                ids(&got),
                expected.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
                "{query}"
            );
            for ((_, got_km), (_, haversine)) in got.iter().zip(&expected) {
                assert!(
                    (got_km - haversine).abs() < 1e-9,
                    "{query}: {got_km} vs {haversine}"
                );
            }
        }
        // Most queries must find someone, or the comparison above proves little.
        assert!(
            answered > 150,
            "only {answered} of 200 queries found anyone"
        );
    }

    #[test]
    fn readers_and_writers_can_share_the_index_across_threads() {
        let index = TechnicianIndex::new();
        std::thread::scope(|s| {
            for w in 0..2u128 {
                let index = index.clone();
                s.spawn(move || {
                    for i in 0..500u128 {
                        let p = north((i % 50) as f64 * 0.1);
                        index
                            .upsert(technician(w * 1_000 + i % 100, p.0, p.1, 10.0, &[1]))
                            .unwrap();
                    }
                });
            }
            for _ in 0..2 {
                let index = index.clone();
                s.spawn(move || {
                    for _ in 0..200 {
                        let found = index.nearest(NAIROBI.0, NAIROBI.1, 10.0, category(1), 20);
                        assert!(found.windows(2).all(|w| w[0].1 <= w[1].1));
                    }
                });
            }
        });
        assert_eq!(index.len(), 200);
    }
}
