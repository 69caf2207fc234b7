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
//! distances are haversine kilometres, the same figure as
//! [`haversine_km`](crate::domain::geo::haversine_km).

use crate::domain::geo::{CoordinateError, EARTH_RADIUS_KM, haversine_km, validate_lat_lng};
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

impl IndexedTechnician {
    fn offers(&self, category: Uuid) -> bool {
        // A handful of entries: a linear scan beats a binary search and needs no sort order.
        self.categories.contains(&category)
    }
}

/// Why a technician was not accepted into the index. The index is left unchanged.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum InvalidTechnician {
    #[error(transparent)]
    Coordinate(#[from] CoordinateError),
    #[error("service radius must be a finite, non-negative number of km, got {0}")]
    ServiceRadius(f64),
}

/// What the R-tree stores beside each point: enough to reject most candidates without
/// touching the technician record, which lives elsewhere in memory.
#[derive(Clone, Debug, PartialEq)]
struct Slot {
    /// Squared unit-sphere chord of the technician's service radius.
    reach_2: f64,
    /// One bit per offered category (see [`category_bit`]); a clear bit rules a category out.
    categories: u64,
    technician: Arc<IndexedTechnician>,
}

/// One entry of the R-tree: the technician's point on the unit sphere and their slot.
type Entry = GeomWithData<[f64; 3], Slot>;

#[derive(Default)]
struct Inner {
    /// Every technician, for searches in any category.
    tree: RTree<Entry>,
    /// One tree per category holding only the technicians who offer it (the same entries), so a
    /// search for one category walks past nobody else: with one shared tree, a search for one of
    /// ten categories visited about ten technicians for each it kept.
    by_category: HashMap<Uuid, RTree<Entry>>,
    /// The exact entry stored in the trees for each id: removing from an R-tree needs it.
    by_id: HashMap<Uuid, Entry>,
}

impl Inner {
    fn insert(&mut self, entry: Entry) {
        for &category in &entry.data.technician.categories {
            self.by_category
                .entry(category)
                .or_default()
                .insert(entry.clone());
        }
        self.tree.insert(entry);
    }

    fn remove(&mut self, old: &Entry) {
        for category in &old.data.technician.categories {
            if let Some(tree) = self.by_category.get_mut(category) {
                tree.remove(old);
            }
        }
        self.tree.remove(old);
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
        let mut by_id: HashMap<Uuid, Entry> = HashMap::with_capacity(items.len());
        let mut rejected = 0usize;
        for technician in items {
            match entry_for(technician) {
                Ok(entry) => {
                    by_id.insert(entry.data.technician.id, entry);
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
        let tree = RTree::bulk_load(by_id.values().cloned().collect());
        let mut grouped: HashMap<Uuid, Vec<Entry>> = HashMap::new();
        for entry in by_id.values() {
            for &category in &entry.data.technician.categories {
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
                index: RwLock::new(Inner {
                    tree,
                    by_category,
                    by_id,
                }),
            }),
        }
    }

    /// Adds the technician, or replaces their previous entry (position, radius, categories).
    pub fn upsert(&self, technician: IndexedTechnician) -> Result<(), InvalidTechnician> {
        let entry = entry_for(technician)?;
        let mut inner = self.write();
        let inner = &mut *inner;
        if let Some(old) = inner.by_id.insert(entry.data.technician.id, entry.clone()) {
            inner.remove(&old);
        }
        inner.insert(entry);
        Ok(())
    }

    /// Takes the technician out of the index; returns whether they were in it.
    pub fn remove(&self, id: Uuid) -> bool {
        let mut inner = self.write();
        let inner = &mut *inner;
        match inner.by_id.remove(&id) {
            Some(old) => {
                inner.remove(&old);
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
            .map(|entry| IndexedTechnician::clone(&entry.data.technician))
    }

    /// Technicians who can serve a customer at (`lat`, `lng`), nearest first, with their
    /// haversine distance in km.
    ///
    /// A technician is returned when the distance is within `max_km` and within their own
    /// service radius, and, when `category` is given, they offer it. At most `limit` are
    /// returned. Only technicians closer than `max_km` are visited, in distance order, and
    /// the walk ends as soon as `limit` are found. A non-finite position or a negative or
    /// NaN `max_km` matches no one.
    pub fn nearest(
        &self,
        lat: f64,
        lng: f64,
        max_km: f64,
        category: Option<Uuid>,
        limit: usize,
    ) -> Vec<(IndexedTechnician, f64)> {
        if limit == 0 || !lat.is_finite() || !lng.is_finite() || max_km.is_nan() || max_km < 0.0 {
            return Vec::new();
        }
        let query = unit_vector(lat, lng);
        let stop_after = with_slack(chord_2_for_km(max_km));
        let wanted_bit = category.map(category_bit);
        let mut found = Vec::with_capacity(limit.min(64));
        let inner = self.read();
        let tree = match category {
            Some(category) => match inner.by_category.get(&category) {
                Some(tree) => tree,
                None => return Vec::new(),
            },
            None => &inner.tree,
        };
        for (entry, chord_2) in tree.nearest_neighbor_iter_with_distance_2(&query) {
            if chord_2 > stop_after {
                break;
            }
            let slot = &entry.data;
            // Cheap rejections first, from data stored inline in the tree.
            if wanted_bit.is_some_and(|bit| slot.categories & bit == 0)
                || chord_2 > with_slack(slot.reach_2)
            {
                continue;
            }
            let technician = &slot.technician;
            if let Some(category) = category
                && !technician.offers(category)
            {
                continue;
            }
            let km = haversine_km((lat, lng), (technician.lat, technician.lng));
            if km <= max_km && km <= technician.service_radius_km {
                found.push((IndexedTechnician::clone(technician), km));
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

fn entry_for(technician: IndexedTechnician) -> Result<Entry, InvalidTechnician> {
    validate_lat_lng(technician.lat, technician.lng)?;
    let radius = technician.service_radius_km;
    if !(radius.is_finite() && radius >= 0.0) {
        return Err(InvalidTechnician::ServiceRadius(radius));
    }
    let point = unit_vector(technician.lat, technician.lng);
    let slot = Slot {
        reach_2: chord_2_for_km(radius),
        categories: technician
            .categories
            .iter()
            .fold(0, |bits, &c| bits | category_bit(c)),
        technician: Arc::new(technician),
    };
    Ok(GeomWithData::new(point, slot))
}

/// A category's bit in [`Slot::categories`]: one of 64, chosen by hashing the id, so two
/// categories may share a bit (the exact check follows) but a clear bit is always a "no".
fn category_bit(category: Uuid) -> u64 {
    let (high, low) = category.as_u64_pair();
    1 << ((high ^ low).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58)
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

/// A chord bound widened a hair: rounding may put a point on either side of the exact
/// boundary, so chord checks only skip the clearly-outside and haversine decides the rest.
fn with_slack(chord_2: f64) -> f64 {
    chord_2 * (1.0 + 1e-9) + 1e-18
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn ids(found: &[(IndexedTechnician, f64)]) -> Vec<u128> {
        found.iter().map(|(t, _)| t.id.as_u128()).collect()
    }

    fn index_of(technicians: Vec<IndexedTechnician>) -> TechnicianIndex {
        let index = TechnicianIndex::new();
        for t in technicians {
            index.upsert(t).unwrap();
        }
        index
    }

    fn near(
        index: &TechnicianIndex,
        max_km: f64,
        category: Option<Uuid>,
        limit: usize,
    ) -> Vec<u128> {
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
        let found = index.nearest(NAIROBI.0, NAIROBI.1, 10.0, None, 10);
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
        assert_eq!(near(&index, 5.0, None, 10), vec![1]);
        assert_eq!(near(&index, 5.2, None, 10), vec![1, 2]);
        assert!(near(&index, 1.0, None, 10).is_empty());
    }

    #[test]
    fn technician_own_service_radius_excludes_customers_beyond_it() {
        let (a, b) = (north(3.0), north(6.0));
        let index = index_of(vec![
            technician(1, a.0, a.1, 2.0, &[1]), // only travels 2 km; customer is 3 km away
            technician(2, b.0, b.1, 10.0, &[1]), // travels 10 km; customer is 6 km away
        ]);
        assert_eq!(near(&index, 20.0, None, 10), vec![2]);
    }

    #[test]
    fn category_filter_keeps_only_technicians_offering_it() {
        let (a, b, c) = (north(1.0), north(2.0), north(3.0));
        let index = index_of(vec![
            technician(1, a.0, a.1, 10.0, &[1, 2]),
            technician(2, b.0, b.1, 10.0, &[3]),
            technician(3, c.0, c.1, 10.0, &[2, 3]),
        ]);
        assert_eq!(near(&index, 10.0, Some(category(2)), 10), vec![1, 3]);
        assert_eq!(near(&index, 10.0, Some(category(3)), 10), vec![2, 3]);
        assert!(near(&index, 10.0, Some(category(9)), 10).is_empty());
        assert_eq!(near(&index, 10.0, None, 10), vec![1, 2, 3]);
    }

    #[test]
    fn a_category_sharing_a_filter_bit_with_the_wanted_one_does_not_match() {
        let wanted = Uuid::from_u128(7);
        let lookalike = (8..)
            .map(Uuid::from_u128)
            .find(|&c| category_bit(c) == category_bit(wanted))
            .unwrap();
        let p = north(1.0);
        let mut t = technician(1, p.0, p.1, 10.0, &[]);
        t.categories = vec![lookalike];
        let index = index_of(vec![t]);
        assert!(near(&index, 10.0, Some(wanted), 10).is_empty());
        assert_eq!(near(&index, 10.0, Some(lookalike), 10), vec![1]);
    }

    #[test]
    fn upsert_moves_a_technician_and_the_old_position_is_no_longer_found() {
        let index = TechnicianIndex::new();
        let here = north(1.0);
        let far = north(40.0);
        index
            .upsert(technician(1, here.0, here.1, 50.0, &[1]))
            .unwrap();
        assert_eq!(near(&index, 5.0, None, 10), vec![1]);

        index
            .upsert(technician(1, far.0, far.1, 50.0, &[1]))
            .unwrap();
        assert_eq!(index.len(), 1);
        assert!(near(&index, 5.0, None, 10).is_empty());
        let found = index.nearest(NAIROBI.0, NAIROBI.1, 50.0, None, 10);
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
        assert!(near(&index, 10.0, None, 10).is_empty());
        index.upsert(technician(1, p.0, p.1, 5.0, &[2])).unwrap();
        assert!(near(&index, 10.0, Some(category(1)), 10).is_empty());
        assert_eq!(near(&index, 10.0, Some(category(2)), 10), vec![1]);
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
        assert_eq!(near(&index, 10.0, None, 10), vec![2]);
        assert_eq!(near(&index, 10.0, Some(category(1)), 10), vec![2]);
        assert!(index.remove(Uuid::from_u128(2)));
        assert!(index.is_empty());
        assert!(near(&index, 10.0, None, 10).is_empty());
        assert!(near(&index, 10.0, Some(category(1)), 10).is_empty());
    }

    #[test]
    fn technicians_at_the_same_spot_are_moved_and_removed_independently() {
        let p = north(1.0);
        let index = index_of(vec![
            technician(1, p.0, p.1, 10.0, &[1]),
            technician(2, p.0, p.1, 10.0, &[1]),
        ]);
        assert_eq!(near(&index, 5.0, None, 10).len(), 2);
        assert!(index.remove(Uuid::from_u128(1)));
        assert_eq!(near(&index, 5.0, None, 10), vec![2]);
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
        assert_eq!(near(&index, 10.0, None, 3), vec![1, 2, 3]);
        assert!(near(&index, 10.0, None, 0).is_empty());
        assert_eq!(near(&index, 10.0, None, 100).len(), 20);
    }

    #[test]
    fn distances_wrap_across_the_antimeridian() {
        let index = index_of(vec![
            technician(1, 0.0, 179.99, 10.0, &[1]),
            technician(2, 0.0, 179.9, 20.0, &[1]),
        ]);
        let found = index.nearest(0.0, -179.99, 15.0, None, 10);
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
        assert_eq!(near(&index, 5.0, None, 10), vec![1]);
        assert!(near(&index, f64::NAN, None, 10).is_empty());
        assert!(near(&index, -1.0, None, 10).is_empty());
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
        let found = index.nearest(NAIROBI.0, NAIROBI.1, 10.0, None, 10);
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
        category: Option<Uuid>,
        limit: usize,
    ) -> Vec<(u128, f64)> {
        let mut hits: Vec<(u128, f64)> = all
            .iter()
            .filter(|t| category.is_none_or(|c| t.categories.contains(&c)))
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
            let category = (rng.below(3) != 0).then(|| category(rng.below(6) as u128));
            let limit = [1, 5, 50, 10_000][usize::try_from(rng.below(4)).unwrap()];
            let got: Vec<(u128, f64)> = index
                .nearest(lat, lng, max_km, category, limit)
                .into_iter()
                .map(|(t, km)| (t.id.as_u128(), km))
                .collect();
            let expected = brute_force(&all, lat, lng, max_km, category, limit);
            answered += usize::from(!expected.is_empty());
            assert_eq!(
                got, expected,
                "query ({lat}, {lng}) within {max_km} km, {category:?}, limit {limit}"
            );
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
                        let found =
                            index.nearest(NAIROBI.0, NAIROBI.1, 10.0, Some(category(1)), 20);
                        assert!(found.windows(2).all(|w| w[0].1 <= w[1].1));
                    }
                });
            }
        });
        assert_eq!(index.len(), 200);
    }
}
