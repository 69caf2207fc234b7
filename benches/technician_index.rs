//! Speed of the technician index at city scale.
//!
//! Seeds 100,000 and then 1,000,000 technicians spread evenly over a 60 x 60 km square around
//! Nairobi (service radius 10-15 km, 1-3 of 10 categories) and measures:
//! - searches: `nearest` within 10 km for one category, limit 50 (p50, p99, searches/s);
//! - position updates: `upsert` moving an existing technician by up to 200 m (updates/s);
//! - both at once: one thread searching (paced at 1,000/s, then flat out) while another
//!   updates as fast as it can, for a few seconds each.
//!
//! Run with `cargo bench --bench technician_index`. Inputs come from a fixed-seed generator,
//! so every run measures the same work.

// A panic in a benchmark aborts the run, not a request: benches may unwrap and expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fundi::domain::geo::EARTH_RADIUS_KM;
use fundi::services::matching::spatial_index::{IndexedTechnician, TechnicianIndex};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

const NAIROBI: (f64, f64) = (-1.2921, 36.8219);
const HALF_SIDE_KM: f64 = 30.0;
const CATEGORIES: u64 = 10;
const SEARCHES: usize = 20_000;
const SEARCH_KM: f64 = 10.0;
const SEARCH_LIMIT: usize = 50;
const UPDATES: usize = 200_000;
const MAX_MOVE_KM: f64 = 0.2;
const CONCURRENT_FOR: Duration = Duration::from_secs(3);
/// Degrees of latitude per km on the mean earth sphere.
const DEG_PER_KM: f64 = 180.0 / (std::f64::consts::PI * EARTH_RADIUS_KM);

/// SplitMix64: small, fast and deterministic.
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

fn category(c: u64) -> Uuid {
    Uuid::from_u128(0x00C0_FFEE_0000 + c as u128)
}

/// A point offset from Nairobi by the given kilometres east and north.
fn offset(east_km: f64, north_km: f64) -> (f64, f64) {
    let lat = NAIROBI.0 + north_km * DEG_PER_KM;
    let lng = NAIROBI.1 + east_km * DEG_PER_KM / lat.to_radians().cos();
    (lat, lng)
}

fn random_point(rng: &mut Rng) -> (f64, f64) {
    offset(
        rng.range(-HALF_SIDE_KM, HALF_SIDE_KM),
        rng.range(-HALF_SIDE_KM, HALF_SIDE_KM),
    )
}

fn seed(rng: &mut Rng, count: usize) -> Vec<IndexedTechnician> {
    (0..count)
        .map(|_| {
            let (lat, lng) = random_point(rng);
            let wanted = 1 + usize::try_from(rng.below(3)).unwrap();
            let mut categories: Vec<Uuid> = Vec::with_capacity(wanted);
            while categories.len() < wanted {
                let c = category(rng.below(CATEGORIES));
                if !categories.contains(&c) {
                    categories.push(c);
                }
            }
            categories.sort();
            IndexedTechnician {
                id: Uuid::from_u64_pair(rng.next_u64(), rng.next_u64()),
                lat,
                lng,
                service_radius_km: rng.range(10.0, 15.0),
                categories,
            }
        })
        .collect()
}

/// The technician moved by up to `MAX_MOVE_KM` in a random direction.
fn moved(rng: &mut Rng, t: &IndexedTechnician) -> IndexedTechnician {
    let km = rng.range(0.0, MAX_MOVE_KM);
    let (sin, cos) = rng.range(0.0, std::f64::consts::TAU).sin_cos();
    let lat = t.lat + km * cos * DEG_PER_KM;
    let lng = t.lng + km * sin * DEG_PER_KM / t.lat.to_radians().cos();
    IndexedTechnician {
        lat,
        lng,
        ..t.clone()
    }
}

/// Position updates prepared ahead so only `upsert` is timed; each starts from the
/// technician's latest position, as a stream of GPS pings would.
fn prepare_moves(
    rng: &mut Rng,
    current: &mut [IndexedTechnician],
    count: usize,
) -> Vec<IndexedTechnician> {
    (0..count)
        .map(|_| {
            let i = usize::try_from(rng.below(current.len() as u64)).unwrap();
            let next = moved(rng, &current[i]);
            current[i] = next.clone();
            next
        })
        .collect()
}

/// Latencies sorted ascending; the value at quantile `q`.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = fundi::domain::whole::saturating_i64(((sorted.len() - 1) as f64 * q).round());
    sorted[usize::try_from(rank).unwrap()]
}

struct Alone {
    bulk_load: Duration,
    p50: Duration,
    p99: Duration,
    searches_per_s: f64,
    mean_found: f64,
    updates_per_s: f64,
}

struct Together {
    searches_per_s: f64,
    search_p99: Duration,
    updates_per_s: f64,
}

/// One thread searching (flat out, or one search per `pace`) while another moves technicians
/// as fast as it can, for `CONCURRENT_FOR`.
fn together(
    index: &TechnicianIndex,
    queries: &[((f64, f64), Uuid)],
    moves: Vec<IndexedTechnician>,
    pace: Option<Duration>,
) -> Together {
    let stop = AtomicBool::new(false);
    let (mut latencies, updates, elapsed) = std::thread::scope(|s| {
        let searcher = s.spawn(|| {
            let mut latencies = Vec::new();
            let mut due = Instant::now();
            for &((lat, lng), c) in queries.iter().cycle() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if let Some(pace) = pace {
                    due += pace;
                    std::thread::sleep(due.saturating_duration_since(Instant::now()));
                }
                let started = Instant::now();
                black_box(index.nearest(lat, lng, SEARCH_KM, c, SEARCH_LIMIT));
                latencies.push(started.elapsed());
            }
            latencies
        });
        let updater = s.spawn(|| {
            let mut done = 0usize;
            for t in moves {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                index.upsert(t).expect("moved technicians stay valid");
                done += 1;
            }
            done
        });
        let started = Instant::now();
        std::thread::sleep(CONCURRENT_FOR);
        stop.store(true, Ordering::Relaxed);
        let latencies = searcher.join().expect("searcher finished");
        let updates = updater.join().expect("updater finished");
        (latencies, updates, started.elapsed())
    });
    latencies.sort();
    Together {
        searches_per_s: latencies.len() as f64 / elapsed.as_secs_f64(),
        search_p99: quantile(&latencies, 0.99),
        updates_per_s: updates as f64 / elapsed.as_secs_f64(),
    }
}

/// Everything measured for one index size.
struct Measured {
    technicians: usize,
    alone: Alone,
    together: Vec<(&'static str, Together)>,
}

fn measure(count: usize) -> Measured {
    let mut rng = Rng(0xF00D_0000 ^ count as u64);
    let mut technicians = seed(&mut rng, count);

    let started = Instant::now();
    let index = TechnicianIndex::bulk_load(technicians.clone());
    let bulk_load = started.elapsed();
    assert_eq!(index.len(), count);

    // (a) Searches.
    let queries: Vec<((f64, f64), Uuid)> = (0..SEARCHES)
        .map(|_| (random_point(&mut rng), category(rng.below(CATEGORIES))))
        .collect();
    let mut latencies = Vec::with_capacity(SEARCHES);
    let mut found = 0usize;
    let all_started = Instant::now();
    for &((lat, lng), c) in &queries {
        let started = Instant::now();
        let result = index.nearest(lat, lng, SEARCH_KM, c, SEARCH_LIMIT);
        latencies.push(started.elapsed());
        found += black_box(result).len();
    }
    let searches_per_s = SEARCHES as f64 / all_started.elapsed().as_secs_f64();
    latencies.sort();

    // (b) Position updates.
    let moves = prepare_moves(&mut rng, &mut technicians, UPDATES);
    let started = Instant::now();
    for t in moves {
        index.upsert(t).expect("moved technicians stay valid");
    }
    let updates_per_s = UPDATES as f64 / started.elapsed().as_secs_f64();
    assert_eq!(index.len(), count);

    let alone = Alone {
        bulk_load,
        p50: quantile(&latencies, 0.50),
        p99: quantile(&latencies, 0.99),
        searches_per_s,
        mean_found: found as f64 / SEARCHES as f64,
        updates_per_s,
    };

    // (c) Searches and updates at the same time.
    let mut mixed = Vec::new();
    for (label, pace) in [
        ("1,000 searches/s", Some(Duration::from_millis(1))),
        ("searches flat out", None),
    ] {
        let moves = prepare_moves(&mut rng, &mut technicians, 4 * UPDATES);
        mixed.push((label, together(&index, &queries, moves, pace)));
    }
    assert_eq!(index.len(), count);
    Measured {
        technicians: count,
        alone,
        together: mixed,
    }
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "Technician index: {SEARCHES} searches (within {SEARCH_KM} km, one of {CATEGORIES} categories, \
         limit {SEARCH_LIMIT}) and {UPDATES} moves of up to {:.0} m over a {:.0} x {:.0} km square \
         around Nairobi; {cores} cores.",
        MAX_MOVE_KM * 1000.0,
        2.0 * HALF_SIDE_KM,
        2.0 * HALF_SIDE_KM,
    );
    let results: Vec<Measured> = [100_000, 1_000_000].into_iter().map(measure).collect();

    println!();
    println!("Searches and updates, each alone on one thread:");
    println!();
    println!(
        "| technicians | bulk load | search p50 | search p99 | searches/s | found per search | updates/s |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for m in &results {
        let a = &m.alone;
        println!(
            "| {} | {:.2} s | {} | {} | {} | {:.1} | {} |",
            thousands(m.technicians as f64),
            a.bulk_load.as_secs_f64(),
            micros(a.p50),
            micros(a.p99),
            thousands(a.searches_per_s),
            a.mean_found,
            thousands(a.updates_per_s),
        );
    }

    println!();
    println!(
        "One thread searching while another updates flat out, {} s each:",
        CONCURRENT_FOR.as_secs()
    );
    println!();
    println!("| technicians | search load | searches/s | search p99 | updates/s |");
    println!("|---:|---|---:|---:|---:|");
    for m in &results {
        for (label, t) in &m.together {
            println!(
                "| {} | {label} | {} | {} | {} |",
                thousands(m.technicians as f64),
                thousands(t.searches_per_s),
                micros(t.search_p99),
                thousands(t.updates_per_s),
            );
        }
    }
}
