//! Benchmark: `matchTechnicians` end to end through the GraphQL schema, and the bare directory query,
//! at 100,000 and 1,000,000 available technicians spread over a 60 x 60 km city.
//!
//! Run with `cargo bench --bench matching`.

// A panic in a benchmark aborts the run, not a request: benches may unwrap and expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fundi::config::Config;
use fundi::domain::geo::LatLng;
use fundi::domain::money::Currency;
use fundi::graphql::build_schema;
use fundi::graphql::context::RequestAuth;
use fundi::services::accounts::sessions::ClientInfo;
use fundi::services::matching::directory::{Candidate, LivePosition, MatchingIndex};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The system allocator, counting the bytes it has handed out and not yet taken back, so the bench
/// can report what the directory itself holds (RSS would add the allocator's slack and the runtime).
struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CENTRE: (f64, f64) = (-1.2921, 36.8219);
/// Half of 60 km in degrees of latitude (and, near the equator, of longitude).
const HALF_SPAN_DEG: f64 = 30.0 / 111.195;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn point(rng: &mut Rng) -> LatLng {
    LatLng::new(
        CENTRE.0 + (rng.next() * 2.0 - 1.0) * HALF_SPAN_DEG,
        CENTRE.1 + (rng.next() * 2.0 - 1.0) * HALF_SPAN_DEG,
    )
    .unwrap()
}

fn city(count: usize, categories: &[Uuid], rng: &mut Rng) -> MatchingIndex {
    let now = chrono::Utc::now();
    let candidates = (0..count)
        .map(|i| {
            let base = point(rng);
            let live = (i % 3 == 0).then(|| LivePosition {
                point: point(rng),
                at: now,
            });
            let skills = (0..1 + i % 3)
                .map(|k| {
                    (
                        categories[(i + k * 3) % categories.len()],
                        u32::try_from(i % 12).unwrap(),
                    )
                })
                .collect();
            Candidate {
                id: Uuid::from_u128(i as u128 + 1),
                base: Some(base),
                live,
                service_radius_km: 10.0 + (i % 6) as f64,
                skills,
                years_of_experience: u32::try_from(i % 25).unwrap(),
                rating_average: 3.0 + (i % 20) as f64 / 10.0,
                rating_count: u32::try_from(i % 80).unwrap(),
                hourly_rate_minor: 80_000 + (i % 50) as i64 * 2_000,
                currency: Currency::parse("KES").unwrap(),
                median_response_secs: Some(60 + u32::try_from(i % 900).unwrap()),
                completion_rate: Some(0.7 + (i % 30) as f64 / 100.0),
                time_zone: chrono_tz::Africa::Nairobi,
                week: Arc::new([]),
                exceptions: Box::new([]),
            }
        })
        .collect();
    MatchingIndex::bulk(candidates)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = fundi::domain::whole::saturating_i64(((sorted.len() as f64 - 1.0) * p).round());
    sorted[usize::try_from(rank).unwrap()]
}

fn report(name: &str, mut samples: Vec<Duration>, wall: Duration) {
    samples.sort();
    println!(
        "| {name} | {} | {:.3} ms | {:.3} ms | {:.0}/s |",
        samples.len(),
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.len() as f64 / wall.as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = [
        ("FUNDI_DATA_DIR", dir.path().display().to_string()),
        (
            "FUNDI_JWT_SECRET",
            "bench-secret-bench-secret-bench-secret".to_string(),
        ),
        ("FUNDI_LOG", "warn".to_string()),
    ];
    let config = Config::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("config");
    let shutdown = CancellationToken::new();
    let services = fundi::app::build_services(config, &shutdown)
        .await
        .expect("services");
    let categories: Vec<Uuid> = fundi::services::catalogue::categories::list(&services.db, false)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    let client = ClientInfo::default();
    let registration = fundi::services::accounts::account::Registration {
        email: "bench@example.com".into(),
        password: "bench password long".into(),
        full_name: "Bench Customer".into(),
        phone: None,
        role: fundi::domain::account::Role::Customer,
    };
    let signed_in = fundi::services::accounts::account::register(&services, registration, &client)
        .await
        .map_err(|e| e.message())
        .unwrap();
    let bearer = format!("Bearer {}", signed_in.tokens.access_token);

    println!("| query | samples | p50 | p99 | throughput |");
    println!("|---|---|---|---|---|");
    for count in [100_000usize, 1_000_000] {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let started = Instant::now();
        let held_before = LIVE_BYTES.load(Ordering::Relaxed);
        let index = city(count, &categories, &mut rng);
        let held = LIVE_BYTES
            .load(Ordering::Relaxed)
            .saturating_sub(held_before);
        eprintln!(
            "seeded {count} technicians in {:.1} s; the directory holds {:.1} MB, {} bytes per technician \
             (every R-tree, map and record; a third have a live position as well as a base)",
            started.elapsed().as_secs_f64(),
            held as f64 / 1e6,
            held / count,
        );
        let services = fundi::services::Services {
            matching: Arc::new(index),
            ..services.clone()
        };
        let schema = build_schema(Some(services.clone()), None, &services.config);
        let category = categories[0];

        // The bare directory query: nearest-first candidates within 10 km.
        let queries = 20_000;
        let mut samples = Vec::with_capacity(queries);
        let wall = Instant::now();
        for _ in 0..queries {
            let p = point(&mut rng);
            let t = Instant::now();
            let found = services
                .matching
                .near(p, 10.0, category, 100, chrono::Utc::now());
            std::hint::black_box(found);
            samples.push(t.elapsed());
        }
        report(
            &format!("directory near(), {count} technicians"),
            samples,
            wall.elapsed(),
        );

        // End to end through the GraphQL schema: token check, viewer lookup, validation, the
        // category, weights and blocks (from memory after the first search), directory query and
        // scoring. The technicians exist only in the
        // directory here, so the profile of each match (one batched query) is not fetched.
        let queries = 2_000;
        let mut samples = Vec::with_capacity(queries);
        let wall = Instant::now();
        for _ in 0..queries {
            let p = point(&mut rng);
            let query = format!(
                "{{ matchTechnicians(input: {{category: \"plumbing\", location: {{lat: {}, lng: {}}}, radiusKm: 10, first: 10}}) {{ score band distanceKm etaMinutes quotedHourlyRate {{ formatted }} factors {{ factor score }} }} }}",
                p.lat(),
                p.lng()
            );
            let request = async_graphql::Request::new(query).data(RequestAuth::from_bearer(
                Some(&bearer),
                &services,
                client.clone(),
            ));
            let request = fundi::graphql::loaders::attach(request, &services);
            let t = Instant::now();
            let response = schema.execute(request).await;
            samples.push(t.elapsed());
            assert!(response.errors.is_empty(), "{:?}", response.errors);
        }
        report(
            &format!("matchTechnicians via GraphQL, {count} technicians"),
            samples,
            wall.elapsed(),
        );

        // Position updates into the directory.
        let updates = 500_000;
        let wall = Instant::now();
        for i in 0..updates {
            let id = Uuid::from_u128((i % count) as u128 + 1);
            services.matching.move_live(
                id,
                LivePosition {
                    point: point(&mut rng),
                    at: chrono::Utc::now(),
                },
            );
        }
        let elapsed = wall.elapsed();
        println!(
            "| position updates, {count} technicians | {updates} | - | - | {:.0}/s |",
            updates as f64 / elapsed.as_secs_f64()
        );
    }
    shutdown.cancel();
}
