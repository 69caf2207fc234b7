//! Benchmark: live technician tracking. `FUNDI_BENCH_TECHNICIANS` technicians (default 5,000), each on
//! its own EN_ROUTE booking, share a position every 2 s through `shareLocation` over HTTP, phases
//! spread evenly over the 2 s. Every booking has two `technicianLocation` subscribers over
//! graphql-transport-ws: its customer, on the customer's own WebSocket (one socket per customer, as
//! each customer's phone would hold), and an admin, whose subscriptions are multiplexed many to a
//! socket (`FUNDI_BENCH_ADMIN_CONNECTIONS` sockets, default 50, like an operations dashboard).
//! So 5,000 technicians mean 10,000 subscriptions on 5,050 sockets.
//!
//! Each technician's job lies about 2.2 km from every point it sends, so the 100 m arrival geofence
//! never moves a booking to ARRIVED. Accounts, profiles, bookings, sessions and tracking heads are
//! written straight into the database (one Argon2 hash, reused) and access tokens are minted with
//! the server's own keys; only the measured traffic goes through the API. Each booking starts with
//! a head, so every subscription receives the latest point at once: that is how the bench knows all
//! subscriptions are live before the technicians start.
//!
//! Reported for the measured window (`FUNDI_BENCH_SECONDS`, default 20, after
//! `FUNDI_BENCH_WARMUP_SECONDS`, default 6, which covers the 5 s booking cache of the tracker):
//! accepted updates/s, refusals, the mutation's round trip, update -> subscriber latency (from just
//! before the request is sent to each subscriber's receipt, matched by booking and recordedAt),
//! deliveries/s, CPU of this process (server AND all clients, they share the process) and of the
//! whole machine (which includes PostgreSQL and anything else running), and database writes per
//! update (trail rows counted; on PostgreSQL also commits and rows written from pg_stat_database).
//!
//! `cargo bench --bench tracking` (SQLite). With PostgreSQL (a fresh database is created and
//! dropped): `FUNDI_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench tracking`;
//! add `FUNDI_BENCH_REDIS_URL=redis://127.0.0.1:6379` to route every point through Redis.

// A panic in a benchmark aborts the run, not a request: benches may unwrap and expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{database_url, drop_database, percentile};

use chrono::{DateTime, Utc};
use fundi::config::Config;
use fundi::db::entities::{booking, session, technician_profile, tracking_head, user};
use fundi::domain::account::Role;
use fundi::domain::booking_state::Status;
use fundi::domain::dispatch::DispatchMode;
use fundi::domain::money::Currency;
use fundi::domain::pricing::Priority;
use fundi::domain::technician::{Availability, KycStatus};
use fundi::graphql::ids::{self, Kind};
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, Statement, TransactionTrait};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

const PASSWORD: &str = "bench password long enough";
const NAIROBI: (f64, f64) = (-1.2921, 36.8219);
/// Each technician circles its job at this distance in degrees (about 2.2 km): never inside the geofence.
const ORBIT_DEG: f64 = 0.02;
const PERIOD: Duration = Duration::from_secs(2);
const SHARE: &str = "mutation($b: ID!, $i: LocationInput!) { shareLocation(bookingId: $b, input: $i) { etaMinutes } }";
const WATCH: &str = "subscription($b: ID!) { technicianLocation(bookingId: $b) { recordedAt lat lng headingDeg distanceKm etaMinutes } }";

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The points sent for one booking not yet matched by both subscribers: recordedAt (unix ms), when
/// the send began, whether it counts (began inside the measured window).
#[derive(Default)]
struct Ring {
    slots: [(i64, Option<Instant>, bool); 4],
    next: usize,
}

impl Ring {
    fn put(&mut self, recorded_ms: i64, at: Instant, counted: bool) {
        self.slots[self.next] = (recorded_ms, Some(at), counted);
        self.next = (self.next + 1) % self.slots.len();
    }

    fn find(&self, recorded_ms: i64) -> Option<(Instant, bool)> {
        self.slots
            .iter()
            .find(|(r, at, _)| *r == recorded_ms && at.is_some())
            .map(|(_, at, counted)| (at.unwrap(), *counted))
    }
}

type Sent = Arc<Vec<Mutex<Ring>>>;

#[derive(Default)]
struct SubscriberStats {
    /// Latencies of points whose send began inside the window.
    samples: Vec<Duration>,
    /// Points received that were sent before or after the window.
    outside: u64,
    /// Points not found among the recent sends of their booking (very late, or duplicated).
    unmatched: u64,
    errors: u64,
    first_error: Option<String>,
}

/// One WebSocket carrying one subscription per entry of `bookings`, identified by booking index.
#[allow(clippy::too_many_arguments)]
async fn subscriber_socket(
    addr: String,
    token: String,
    bookings: Vec<(usize, String)>,
    sent: Sent,
    setup_ms: i64,
    ready: Arc<AtomicUsize>,
    opening: Arc<tokio::sync::Semaphore>,
    stop: CancellationToken,
) -> SubscriberStats {
    let mut stats = SubscriberStats::default();
    let permit = opening.acquire().await.unwrap();
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("ws");
    ws.send(WsMessage::text(
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}})
            .to_string(),
    ))
    .await
    .unwrap();
    loop {
        match ws.next().await {
            Some(Ok(WsMessage::Text(text))) if text.contains("connection_ack") => break,
            Some(Ok(WsMessage::Text(text))) => panic!("no ack: {text}"),
            Some(Ok(_)) => continue,
            other => panic!("socket closed before ack: {other:?}"),
        }
    }
    for (index, booking) in &bookings {
        ws.send(WsMessage::text(
            json!({"id": index.to_string(), "type": "subscribe",
                "payload": {"query": WATCH, "variables": {"b": booking}}})
            .to_string(),
        ))
        .await
        .unwrap();
    }
    drop(permit);
    loop {
        let frame = tokio::select! {
            frame = ws.next() => frame,
            _ = stop.cancelled() => break,
        };
        let text = match frame {
            Some(Ok(WsMessage::Text(text))) => text,
            Some(Ok(_)) => continue,
            _ => break,
        };
        let received = Instant::now();
        let value: Value = serde_json::from_str(text.as_str()).unwrap();
        let point = &value["payload"]["data"]["technicianLocation"];
        let index = value["id"].as_str().and_then(|id| id.parse::<usize>().ok());
        let recorded = point["recordedAt"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
        let (Some(index), Some(recorded), Some("next")) = (index, recorded, value["type"].as_str())
        else {
            stats.errors += 1;
            stats.first_error.get_or_insert_with(|| text.to_string());
            continue;
        };
        let recorded_ms = recorded.timestamp_millis();
        if recorded_ms == setup_ms {
            // The head written at setup: the subscription is live.
            ready.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let found = sent[index].lock().unwrap().find(recorded_ms);
        match found {
            Some((at, true)) => stats.samples.push(received.duration_since(at)),
            Some((_, false)) => stats.outside += 1,
            None => stats.unmatched += 1,
        }
    }
    stats
}

#[derive(Default)]
struct TechnicianStats {
    sent: u64,
    accepted: u64,
    refused: BTreeMap<String, u64>,
    round_trips: Vec<Duration>,
}

/// One technician: a point every 2 s from `first`, sent one after the other, until `end`.
#[allow(clippy::too_many_arguments)]
async fn technician(
    index: usize,
    http: reqwest::Client,
    url: Arc<String>,
    token: String,
    booking: String,
    job: (f64, f64),
    sent: Sent,
    first: Instant,
    window: (Instant, Instant),
    inflight: Arc<tokio::sync::Semaphore>,
) -> TechnicianStats {
    let mut stats = TechnicianStats::default();
    let mut ticker = tokio::time::interval_at(first, PERIOD);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_ms = 0i64;
    let mut step = 0u64;
    loop {
        let tick = ticker.tick().await;
        if tick >= window.1 {
            break;
        }
        step += 1;
        let angle = (index as f64 * 0.7 + step as f64 * 0.05) % std::f64::consts::TAU;
        let (lat, lng) = (
            job.0 + ORBIT_DEG * angle.sin(),
            job.1 + ORBIT_DEG * angle.cos(),
        );
        let heading = (angle.to_degrees() + 90.0).rem_euclid(360.0);
        let recorded_ms = Utc::now().timestamp_millis().max(last_ms + 1);
        last_ms = recorded_ms;
        let recorded_at = DateTime::from_timestamp_millis(recorded_ms).unwrap();
        let started = Instant::now();
        let counted = started >= window.0 && started < window.1;
        sent[index]
            .lock()
            .unwrap()
            .put(recorded_ms, started, counted);
        let body = json!({"query": SHARE, "variables": {"b": booking, "i": {
            "lat": lat, "lng": lng, "accuracyM": 8.0, "headingDeg": heading, "speedKmh": 25.0,
            "recordedAt": recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)}}});
        let permit = inflight.acquire().await.unwrap();
        let response = http
            .post(url.as_str())
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        let text = match response {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(e) => format!("{{\"errors\":[{{\"extensions\":{{\"code\":\"HTTP {e}\"}}}}]}}"),
        };
        drop(permit);
        let took = started.elapsed();
        if !counted {
            continue;
        }
        stats.sent += 1;
        stats.round_trips.push(took);
        if text.contains("\"shareLocation\":{") {
            stats.accepted += 1;
        } else {
            let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let code = value["errors"][0]["extensions"]["code"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| text.chars().take(200).collect());
            *stats.refused.entry(code).or_default() += 1;
        }
    }
    stats
}

/// utime + stime of this process, in seconds.
fn process_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// utime + stime of every PostgreSQL process on the machine, in seconds (0 when there are none).
fn postgres_cpu() -> f64 {
    let mut ticks = 0.0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        if !head.ends_with("(postgres") {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        ticks +=
            fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    }
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// (busy, total) jiffies of the whole machine.
fn machine_cpu() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let values: Vec<u64> = stat
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|v| v.parse().unwrap())
        .collect();
    let total: u64 = values.iter().sum();
    (total - values[3] - values[4], total)
}

async fn count(db: &impl ConnectionTrait, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// (xact_commit, tup_inserted + tup_updated + tup_deleted) of the bench database.
async fn pg_stats(db: &impl ConnectionTrait) -> (i64, i64) {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()",
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get_by_index::<i64>(0).unwrap(),
        row.try_get_by_index::<i64>(1).unwrap(),
    )
}

struct Party {
    technician_token: String,
    customer_token: String,
    booking: String,
    job: (f64, f64),
}

/// Writes everything the run needs straight into the database and mints the tokens.
async fn seed(
    services: &fundi::services::Services,
    count: usize,
    setup_ms: i64,
) -> (Vec<Party>, String) {
    let db = &services.db;
    let now = Utc::now();
    let password_hash = fundi::services::accounts::passwords::hash(PASSWORD.to_string())
        .await
        .unwrap();
    let category: Uuid = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM service_categories WHERE slug = 'plumbing'",
        ))
        .await
        .unwrap()
        .expect("plumbing category seeded")
        .try_get_by_index(0)
        .unwrap();
    let account = |id: Uuid, email: String, role: Role| user::ActiveModel {
        id: Set(id),
        email: Set(email),
        phone: Set(None),
        password_hash: Set(password_hash.clone()),
        full_name: Set("Bench".into()),
        role: Set(role),
        email_verified_at: Set(Some(now)),
        totp_secret: Set(None),
        totp_pending_secret: Set(None),
        totp_last_step: Set(None),
        login_locked_until: Set(None),
        login_failures: Set(0),
        login_window_started_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let open_session = |user_id: Uuid| session::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        expires_at: Set(now + chrono::Duration::days(1)),
        revoked_at: Set(None),
        revoked_reason: Set(None),
        ip: Set(None),
        user_agent: Set(Some("tracking bench".into())),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let admin_id = Uuid::now_v7();
    let mut users = vec![account(
        admin_id,
        "tracking-bench-admin@example.com".into(),
        Role::Admin,
    )];
    let mut profiles = Vec::new();
    let mut bookings = Vec::new();
    let mut sessions = vec![open_session(admin_id)];
    let mut heads = Vec::new();
    let mut parties = Vec::new();
    for i in 0..count {
        let (technician_id, customer_id, booking_id) =
            (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        users.push(account(
            technician_id,
            format!("tracking-bench-tech-{i}@example.com"),
            Role::Technician,
        ));
        users.push(account(
            customer_id,
            format!("tracking-bench-customer-{i}@example.com"),
            Role::Customer,
        ));
        // Jobs spread over about 20 x 20 km of Nairobi.
        let job = (
            NAIROBI.0 + ((i * 7_919) % 200) as f64 / 1_000.0 - 0.1,
            NAIROBI.1 + ((i * 104_729) % 200) as f64 / 1_000.0 - 0.1,
        );
        profiles.push(technician_profile::ActiveModel {
            id: Set(technician_id),
            bio: Set(String::new()),
            years_of_experience: Set(3),
            hourly_rate_minor: Set(100_000),
            currency: Set(Currency::KES),
            service_radius_km: Set(10.0),
            base_lat: Set(Some(job.0)),
            base_lng: Set(Some(job.1)),
            time_zone: Set("Africa/Nairobi".into()),
            kyc_status: Set(KycStatus::Approved),
            // What the platform sets while a job is active.
            availability: Set(Availability::Busy),
            live_lat: Set(None),
            live_lng: Set(None),
            live_accuracy_m: Set(None),
            live_heading_deg: Set(None),
            live_speed_kmh: Set(None),
            live_at: Set(None),
            rating_average: Set(0.0),
            rating_count: Set(0),
            jobs_completed: Set(0),
            jobs_withdrawn: Set(0),
            jobs_cancelled: Set(0),
            median_response_secs: Set(None),
            rating_sum: Set(0),
            quality_sum: Set(0),
            punctuality_sum: Set(0),
            communication_sum: Set(0),
            value_sum: Set(0),
            professionalism_sum: Set(0),
            stars_1: Set(0),
            stars_2: Set(0),
            stars_3: Set(0),
            stars_4: Set(0),
            stars_5: Set(0),
            rating_bayesian: Set(0.0),
            created_at: Set(now),
            updated_at: Set(now),
        });
        bookings.push(booking::ActiveModel {
            id: Set(booking_id),
            customer_id: Set(customer_id),
            technician_id: Set(Some(technician_id)),
            category_id: Set(category),
            title: Set("Tracking bench job".into()),
            description: Set(String::new()),
            address: Set("Bench Street 1".into()),
            lat: Set(job.0),
            lng: Set(job.1),
            priority: Set(Priority::Medium),
            budget_min_minor: Set(0),
            budget_max_minor: Set(500_000),
            currency: Set(Currency::KES),
            scheduled_start: Set(None),
            estimated_duration_minutes: Set(60),
            status: Set(Status::EnRoute),
            version: Set(4),
            start_code: Set("1234".into()),
            dispatch_mode: Set(DispatchMode::Direct),
            price_base: Set(100_000),
            price_surge: Set(0),
            price_platform_fee: Set(10_000),
            price_tax: Set(16_000),
            price_total: Set(126_000),
            price_deposit: Set(0),
            cancellation_fee_minor: Set(None),
            cancellation_reason: Set(None),
            idempotency_key: Set(format!("tracking-bench-{i}")),
            status_changed_at: Set(now),
            accepted_at: Set(Some(now)),
            completed_at: Set(None),
            paid_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        });
        // The booking's last accepted point, well in the past so the first live one is admitted.
        heads.push(tracking_head::ActiveModel {
            booking_id: Set(booking_id),
            technician_id: Set(technician_id),
            lat: Set(job.0 + ORBIT_DEG),
            lng: Set(job.1),
            accuracy_m: Set(Some(8.0)),
            heading_deg: Set(None),
            speed_kmh: Set(None),
            recorded_ms: Set(setup_ms),
            accepted_ms: Set(setup_ms),
            trail_ms: Set(setup_ms),
            created_at: Set(now),
            updated_at: Set(now),
        });
        let (technician_session, customer_session) =
            (open_session(technician_id), open_session(customer_id));
        let ttl = services.config.access_token_ttl;
        let technician_token = services
            .tokens
            .issue(
                technician_id,
                *technician_session.id.as_ref(),
                "TECHNICIAN",
                now,
                ttl,
            )
            .unwrap()
            .0;
        let customer_token = services
            .tokens
            .issue(
                customer_id,
                *customer_session.id.as_ref(),
                "CUSTOMER",
                now,
                ttl,
            )
            .unwrap()
            .0;
        sessions.push(technician_session);
        sessions.push(customer_session);
        parties.push(Party {
            technician_token,
            customer_token,
            booking: ids::encode(Kind::Booking, booking_id).0,
            job,
        });
    }
    let admin_token = services
        .tokens
        .issue(
            admin_id,
            *sessions[0].id.as_ref(),
            "ADMIN",
            now,
            services.config.access_token_ttl,
        )
        .unwrap()
        .0;
    let txn = db.begin().await.unwrap();
    const CHUNK: usize = 400;
    for chunk in users.chunks(CHUNK) {
        user::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    for chunk in profiles.chunks(CHUNK) {
        technician_profile::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    for chunk in bookings.chunks(CHUNK) {
        booking::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    for chunk in heads.chunks(CHUNK) {
        tracking_head::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    for chunk in sessions.chunks(CHUNK) {
        session::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();
    (parties, admin_token)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let technicians: usize = env_num("FUNDI_BENCH_TECHNICIANS", 5_000);
    let seconds: u64 = env_num("FUNDI_BENCH_SECONDS", 20);
    let warmup: u64 = env_num("FUNDI_BENCH_WARMUP_SECONDS", 6);
    let admin_sockets: usize =
        env_num("FUNDI_BENCH_ADMIN_CONNECTIONS", 50).clamp(1, technicians.min(1_000));
    let max_inflight: usize = env_num("FUNDI_BENCH_MAX_INFLIGHT", 1_024);
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(dir.path()).await;
    let postgres = url.starts_with("postgres");
    let redis = std::env::var("FUNDI_BENCH_REDIS_URL").ok();
    let mut vars = vec![
        ("FUNDI_DATA_DIR", dir.path().display().to_string()),
        ("FUNDI_DATABASE_URL", url.clone()),
        (
            "FUNDI_JWT_SECRET",
            "bench-secret-bench-secret-bench-secret".to_string(),
        ),
        ("FUNDI_LOG", "warn".to_string()),
        // Setup plus run can outlast the default 15 minutes on a slow machine.
        ("FUNDI_ACCESS_TOKEN_MINUTES", "240".to_string()),
        // The admin's sockets stand for an operations team's dashboards, more than the default cap
        // of 20 sockets per account allows.
        ("FUNDI_WS_MAX_SOCKETS_PER_ACCOUNT", "1000".to_string()),
    ];
    if let Some(redis) = &redis {
        vars.push(("FUNDI_REDIS_URL", redis.clone()));
        vars.push((
            "FUNDI_REDIS_CHANNEL_PREFIX",
            format!("bench-{}", Uuid::now_v7().simple()),
        ));
    }
    let config = Config::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    let shutdown = CancellationToken::new();
    let services = fundi::app::build_services(config, &shutdown).await.unwrap();
    let server = fundi::app::start_with(services.clone(), "127.0.0.1:0", shutdown.clone())
        .await
        .unwrap();
    let addr = server.addr.to_string();
    if redis.is_some() {
        let deadline = Instant::now() + Duration::from_secs(10);
        while services.bus.is_redis_subscribed() != Some(true) {
            assert!(Instant::now() < deadline, "redis subscriber not connected");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let backend = format!(
        "{}{}",
        if postgres { "PostgreSQL" } else { "SQLite" },
        if redis.is_some() { " + Redis bus" } else { "" }
    );
    eprintln!("backend: {backend}; {technicians} technicians");

    let setup_started = Instant::now();
    let setup_ms = Utc::now().timestamp_millis() - 60_000;
    let (parties, admin_token) = seed(&services, technicians, setup_ms).await;
    eprintln!(
        "seeded {} accounts, {technicians} bookings in {:.1} s",
        2 * technicians + 1,
        setup_started.elapsed().as_secs_f64()
    );

    // Subscribers: one socket per customer, admin subscriptions multiplexed over a few sockets.
    let sent: Sent = Arc::new((0..technicians).map(|_| Mutex::default()).collect());
    let ready = Arc::new(AtomicUsize::new(0));
    let opening = Arc::new(tokio::sync::Semaphore::new(64));
    let stop = CancellationToken::new();
    let mut sockets = Vec::new();
    for (i, party) in parties.iter().enumerate() {
        sockets.push(tokio::spawn(subscriber_socket(
            addr.clone(),
            party.customer_token.clone(),
            vec![(i, party.booking.clone())],
            sent.clone(),
            setup_ms,
            ready.clone(),
            opening.clone(),
            stop.clone(),
        )));
    }
    for s in 0..admin_sockets {
        let share: Vec<(usize, String)> = (s..technicians)
            .step_by(admin_sockets)
            .map(|i| (i, parties[i].booking.clone()))
            .collect();
        sockets.push(tokio::spawn(subscriber_socket(
            addr.clone(),
            admin_token.clone(),
            share,
            sent.clone(),
            setup_ms,
            ready.clone(),
            opening.clone(),
            stop.clone(),
        )));
    }
    let subscriptions = 2 * technicians;
    let deadline = Instant::now() + Duration::from_secs(300);
    while ready.load(Ordering::Relaxed) < subscriptions {
        assert!(
            Instant::now() < deadline,
            "only {} of {subscriptions} subscriptions live",
            ready.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "{subscriptions} subscriptions live on {} sockets after {:.1} s",
        technicians + admin_sockets,
        setup_started.elapsed().as_secs_f64()
    );

    // Technicians: phases spread evenly over the period; warm-up, then the measured window.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(max_inflight)
        .build()
        .unwrap();
    let gql = Arc::new(format!("http://{addr}/graphql"));
    let inflight = Arc::new(tokio::sync::Semaphore::new(max_inflight));
    let start = Instant::now() + Duration::from_millis(200);
    let window = (
        start + Duration::from_secs(warmup),
        start + Duration::from_secs(warmup + seconds),
    );
    let mut senders = Vec::new();
    for (i, party) in parties.iter().enumerate() {
        let phase = PERIOD.mul_f64(i as f64 / technicians as f64);
        senders.push(tokio::spawn(technician(
            i,
            http.clone(),
            gql.clone(),
            party.technician_token.clone(),
            party.booking.clone(),
            party.job,
            sent.clone(),
            start + phase,
            window,
            inflight.clone(),
        )));
    }

    let db = &services.db;
    let trail_sql = "SELECT COUNT(*) FROM tracking_points";
    tokio::time::sleep_until(window.0).await;
    let (cpu0, pg_cpu0, machine0) = (process_cpu(), postgres_cpu(), machine_cpu());
    let (trail0, pg0) = (
        count(db, trail_sql).await,
        if postgres {
            Some(pg_stats(db).await)
        } else {
            None
        },
    );
    tokio::time::sleep_until(window.1).await;
    let (cpu1, pg_cpu1, machine1) = (process_cpu(), postgres_cpu(), machine_cpu());
    let pg1 = if postgres {
        Some(pg_stats(db).await)
    } else {
        None
    };
    let mut tech = TechnicianStats::default();
    for sender in senders {
        let s = sender.await.unwrap();
        tech.sent += s.sent;
        tech.accepted += s.accepted;
        tech.round_trips.extend(s.round_trips);
        for (code, n) in s.refused {
            *tech.refused.entry(code).or_default() += n;
        }
    }
    let trail1 = count(db, trail_sql).await;
    // Let the last deliveries land.
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.cancel();
    let mut subs = SubscriberStats::default();
    for socket in sockets {
        let s = socket.await.unwrap();
        subs.samples.extend(s.samples);
        subs.outside += s.outside;
        subs.unmatched += s.unmatched;
        subs.errors += s.errors;
        if subs.first_error.is_none() {
            subs.first_error = s.first_error;
        }
    }

    let span = seconds as f64;
    subs.samples.sort();
    tech.round_trips.sort();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as f64;
    let process_cores = (cpu1 - cpu0) / span;
    let postgres_cores = (pg_cpu1 - pg_cpu0) / span;
    let machine_cores =
        (machine1.0 - machine0.0) as f64 / (machine1.1 - machine0.1).max(1) as f64 * cores;
    let accepted = tech.accepted.max(1) as f64;
    let pg = match (pg0, pg1) {
        (Some(a), Some(b)) => format!(
            "{:.2} / {:.2}",
            (b.0 - a.0) as f64 / accepted,
            (b.1 - a.1) as f64 / accepted
        ),
        _ => "n/a".into(),
    };
    println!(
        "| backend | technicians | subscriptions (sockets) | window | sent | accepted/s | refused | shareLocation p50 / p99 | deliveries/s | delivered | latency p50 | latency p99 | bench process CPU | PostgreSQL CPU | CPU ms per update | machine CPU | trail rows/update | PG commits / rows written per update |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {backend} | {technicians} | {subscriptions} ({}) | {seconds} s | {} | {:.0} | {} | {:.1} / {:.1} ms | {:.0} | {} of {} | {:.1} ms | {:.1} ms | {:.2} cores | {} | {:.2} | {:.2} of {cores:.0} cores | {:.3} | {pg} |",
        technicians + admin_sockets,
        tech.sent,
        tech.accepted as f64 / span,
        tech.sent - tech.accepted,
        ms(percentile(&tech.round_trips, 0.5)),
        ms(percentile(&tech.round_trips, 0.99)),
        subs.samples.len() as f64 / span,
        subs.samples.len(),
        2 * tech.accepted,
        ms(percentile(&subs.samples, 0.5)),
        ms(percentile(&subs.samples, 0.99)),
        process_cores,
        if postgres {
            format!("{postgres_cores:.2} cores")
        } else {
            "n/a".into()
        },
        (process_cores + if postgres { postgres_cores } else { 0.0 }) * span * 1e3 / accepted,
        machine_cores,
        (trail1 - trail0) as f64 / accepted,
    );
    if !tech.refused.is_empty() {
        println!("refusals: {:?}", tech.refused);
    }
    println!(
        "subscriber frames outside the window: {}, unmatched: {}, errors: {}{}",
        subs.outside,
        subs.unmatched,
        subs.errors,
        subs.first_error
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
    let p99 = percentile(&subs.samples, 0.99);
    let met = subs.samples.len() as f64 / span >= 10_000.0 && p99 < Duration::from_millis(50);
    println!(
        "offered: {:.0} updates/s, {:.0} deliveries/s; target 10,000 deliveries/s with p99 under 50 ms: {}",
        technicians as f64 / PERIOD.as_secs_f64(),
        2.0 * technicians as f64 / PERIOD.as_secs_f64(),
        if met { "met" } else { "missed" }
    );

    drop((parties, http));
    server.stop().await.unwrap();
    drop(services);
    drop_database(&url).await;
}
