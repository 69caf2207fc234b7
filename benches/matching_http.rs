//! Benchmark: `matchTechnicians` over HTTP against the release server, driven by wrk.
//!
//! The city: `FUNDI_BENCH_TECHNICIANS` technicians (default 1,000,000) spread uniformly over a
//! 0.54° × 0.54° box south-west of Nairobi's centre (about 60 × 60 km), 10 categories, every
//! technician approved with one skill, about half available, service radius 25 km, no live
//! positions. It is written with set-based SQL (`generate_series`), so a million technicians take
//! seconds, not an hour of single-row inserts; PostgreSQL only (`FUNDI_BENCH_DATABASE_URL`, an admin
//! URL; a fresh database is created and dropped).
//!
//! The release `fundi serve` runs as its own process on that database; one customer registers through
//! the API. wrk (Debian's `wrk` package) then runs `FUNDI_BENCH_RUNS` (3) closed-loop runs of
//! `FUNDI_BENCH_SECONDS` (15) at `FUNDI_BENCH_CONNECTIONS` (16) connections, each request a random
//! point in the box and a random category, radius 10 km, 20 results, selecting
//! `technician { id fullName } distanceKm etaMinutes score quotedHourlyRate { amountMinor }`. Every
//! response is checked in wrk's Lua (status 200, a `matchTechnicians` list, no `errors`); a run with
//! any bad response fails the bench.
//!
//! Printed per run and as medians: requests/s, p50 and p99 latency, the server's CPU per request
//! (from /proc), and PostgreSQL transactions per request (from pg_stat_database; a statement outside
//! a transaction is a transaction of its own). Also printed: how long the server took to become
//! ready and how much memory it held then, with how many technicians it indexed.
//!
//! `FUNDI_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench matching_http`

// A panic in a benchmark aborts the run, not a request: benches may unwrap and expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// South-west corner and size of the box, as in the peer comparison.
const SOUTH: f64 = -1.83;
const WEST: f64 = 36.28;
const SPAN_DEG: f64 = 0.54;
const CATEGORIES: usize = 10;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| v.replace('_', "").parse().expect(name))
        .unwrap_or(default)
}

/// Categories 1..=10 (`bench-0` .. `bench-9`), users, profiles and skills, all set-based.
async fn build_city(db: &DatabaseConnection, technicians: usize) {
    let statements = [
        "CREATE EXTENSION IF NOT EXISTS pgcrypto".to_string(),
        format!(
            "INSERT INTO service_categories (id, slug, name, description, active, default_hourly_rate_minor, currency, created_at, updated_at) \
             SELECT gen_random_uuid(), 'bench-' || g, 'Bench ' || g, 'benchmark category', true, 150000, 'KES', now(), now() \
             FROM generate_series(0, {}) g",
            CATEGORIES - 1
        ),
        // A plain table, not a temporary one: each statement may run on another pooled connection.
        format!(
            "CREATE UNLOGGED TABLE bench_city AS SELECT g, gen_random_uuid() AS id, \
                 {SOUTH} + random() * {SPAN_DEG} AS lat, {WEST} + random() * {SPAN_DEG} AS lng \
             FROM generate_series(1, {technicians}) g"
        ),
        "INSERT INTO users (id, email, phone, password_hash, full_name, role, email_verified_at, login_failures, created_at, updated_at) \
         SELECT id, 'tech-' || g || '@bench.example', NULL, 'not-a-hash', 'Technician ' || g, 'TECHNICIAN', now(), 0, now(), now() FROM bench_city"
            .to_string(),
        "INSERT INTO technician_profiles (id, bio, years_of_experience, hourly_rate_minor, currency, service_radius_km, \
             base_lat, base_lng, time_zone, kyc_status, availability, rating_average, rating_count, \
             jobs_completed, jobs_withdrawn, jobs_cancelled, created_at, updated_at) \
         SELECT id, '', g % 25, 80000 + (g % 50) * 2000, 'KES', 25.0, lat, lng, 'Africa/Nairobi', 'APPROVED', \
             CASE WHEN g % 2 = 0 THEN 'AVAILABLE' ELSE 'OFFLINE' END, 0, 0, 0, 0, 0, now(), now() FROM bench_city"
            .to_string(),
        "INSERT INTO technician_skills (id, technician_id, category_id, years, created_at, updated_at) \
         SELECT gen_random_uuid(), city.id, c.id, city.g % 12, now(), now() FROM bench_city city \
         JOIN (SELECT id, row_number() OVER (ORDER BY slug) - 1 AS n FROM service_categories WHERE slug LIKE 'bench-%') c \
           ON c.n = city.g % 10"
            .to_string(),
        "DROP TABLE bench_city".to_string(),
        "ANALYZE".to_string(),
    ];
    for sql in statements {
        db.execute_unprepared(&sql)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
}

struct Server {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl Server {
    async fn start(database_url: &str, dir: &std::path::Path) -> (Server, Duration) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("server.log");
        let started = Instant::now();
        let child = Command::new(env!("CARGO_BIN_EXE_fundi"))
            .arg("serve")
            .env("FUNDI_DATA_DIR", dir)
            .env("FUNDI_DATABASE_URL", database_url)
            .env("FUNDI_BIND", format!("127.0.0.1:{port}"))
            .env("FUNDI_LOG", "info")
            .env_remove("FUNDI_REDIS_URL")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("fundi starts");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let ready = http.get(format!("{}/readyz", server.base)).send();
            if matches!(ready.await, Ok(r) if r.status().is_success()) {
                return (server, started.elapsed());
            }
            assert!(
                Instant::now() < deadline,
                "server not ready; see {}",
                server.log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// User plus system CPU time the server has used so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // Fields after the command name, which is in parentheses and may hold spaces.
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // Clock ticks: USER_HZ is 100 on every mainstream Linux build.
        Duration::from_millis(ticks * 10)
    }

    fn resident_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kb / 1000.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// wrk's script: a random request per call, every response checked, one JSON line of results.
fn wrk_script(token: &str) -> String {
    format!(
        r#"
local threads = {{}}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  bad = 0
  sample = ""
  math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16))
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
local query = "query($c: String!, $lat: Float!, $lng: Float!) {{ matchTechnicians(input: {{category: $c, location: {{lat: $lat, lng: $lng}}, radiusKm: 10, first: 20}}) {{ technician {{ id fullName }} distanceKm etaMinutes score quotedHourlyRate {{ amountMinor }} }} }}"
function request()
  local body = string.format('{{"query":"%s","variables":{{"c":"bench-%d","lat":%.6f,"lng":%.6f}}}}',
    query, math.random(0, {last}), {south} + math.random() * {span}, {west} + math.random() * {span})
  return wrk.format(nil, "/graphql", nil, body)
end
function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) or not body:find('"matchTechnicians":[', 1, true) then
    bad = bad + 1
    if sample == "" then sample = status .. " " .. body:sub(1, 300) end
  end
end
function done(summary, latency, requests)
  local bad_total = 0
  local sample = ""
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
    local s = thread:get("sample")
    if s ~= "" then sample = s end
  end
  io.write(string.format('RESULT {{"requests":%d,"seconds":%f,"p50_us":%d,"p99_us":%d,"errors":%d,"bad":%d,"sample":%q}}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    bad_total, sample))
end
"#,
        last = CATEGORIES - 1,
        south = SOUTH,
        west = WEST,
        span = SPAN_DEG,
    )
}

async fn commits(db: &DatabaseConnection) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_ms_per_request: f64,
    transactions_per_request: f64,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let Ok(_) = std::env::var("FUNDI_BENCH_DATABASE_URL") else {
        eprintln!(
            "matching_http needs PostgreSQL: FUNDI_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres"
        );
        std::process::exit(2);
    };
    assert!(
        Command::new("wrk").arg("--version").output().is_ok(),
        "wrk is not installed (Debian: apt-get install wrk)"
    );
    let technicians = setting("FUNDI_BENCH_TECHNICIANS", 1_000_000);
    let runs = setting("FUNDI_BENCH_RUNS", 3);
    let seconds = setting("FUNDI_BENCH_SECONDS", 15);
    let connections = setting("FUNDI_BENCH_CONNECTIONS", 16);

    let dir = tempfile::tempdir().unwrap();
    let url = common::database_url(dir.path()).await;
    let db = sea_orm::Database::connect(&url).await.unwrap();
    fundi::db::migrate_up(&db).await.unwrap();
    let built = Instant::now();
    build_city(&db, technicians).await;
    eprintln!(
        "built a city of {technicians} technicians in {:.1} s",
        built.elapsed().as_secs_f64()
    );

    let (server, startup) = Server::start(&url, dir.path()).await;
    let indexed = std::fs::read_to_string(&server.log)
        .unwrap_or_default()
        .lines()
        .rfind(|l| l.contains("matching index loaded"))
        .unwrap_or("")
        .to_owned();
    eprintln!(
        "server ready in {:.2} s holding {:.1} MB{}",
        startup.as_secs_f64(),
        server.resident_mb(),
        if indexed.is_empty() {
            String::new()
        } else {
            format!("; log: {indexed}")
        }
    );
    let token = common::register(
        &reqwest::Client::new(),
        &format!("{}/graphql", server.base),
        "customer@bench.example",
        "CUSTOMER",
    )
    .await;
    let script = dir.path().join("match.lua");
    std::fs::write(&script, wrk_script(&token)).unwrap();

    let wrk = |duration: usize| {
        let output = Command::new("wrk")
            .args([
                "-t2",
                &format!("-c{connections}"),
                &format!("-d{duration}s"),
                "-s",
                script.to_str().unwrap(),
                &format!("{}/graphql", server.base),
            ])
            .output()
            .expect("wrk runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("RESULT "))
            .unwrap_or_else(|| panic!("wrk printed no result: {stdout}"));
        serde_json::from_str::<Value>(line).unwrap()
    };
    // Warm-up: caches, connection pools and the allocator settle before anything is counted.
    wrk(3);

    let mut results = Vec::new();
    for run in 1..=runs {
        let cpu_before = server.cpu();
        let commits_before = commits(&db).await;
        let result = wrk(seconds);
        let cpu = server.cpu() - cpu_before;
        // The two statistics reads are transactions of their own on the same database.
        let transactions = commits(&db).await - commits_before - 1;
        let requests = result["requests"].as_f64().unwrap();
        assert!(
            result["bad"] == 0 && result["errors"] == 0,
            "bad responses in run {run}: {result}"
        );
        let measured = Run {
            rps: requests / result["seconds"].as_f64().unwrap(),
            p50_ms: result["p50_us"].as_f64().unwrap() / 1000.0,
            p99_ms: result["p99_us"].as_f64().unwrap() / 1000.0,
            cpu_ms_per_request: cpu.as_secs_f64() * 1000.0 / requests,
            transactions_per_request: transactions as f64 / requests,
        };
        println!(
            "run {run}: {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms, server CPU {:.3} ms/request, {:.2} PostgreSQL transactions/request",
            measured.rps,
            measured.p50_ms,
            measured.p99_ms,
            measured.cpu_ms_per_request,
            measured.transactions_per_request
        );
        results.push(measured);
    }
    println!(
        "median of {runs}: {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms, server CPU {:.3} ms/request, {:.2} transactions/request ({technicians} technicians, {connections} connections, {seconds} s runs)",
        median(results.iter().map(|r| r.rps).collect()),
        median(results.iter().map(|r| r.p50_ms).collect()),
        median(results.iter().map(|r| r.p99_ms).collect()),
        median(results.iter().map(|r| r.cpu_ms_per_request).collect()),
        median(results.iter().map(|r| r.transactions_per_request).collect()),
    );
    drop(server);
    drop(db);
    common::drop_database(&url).await;
}
