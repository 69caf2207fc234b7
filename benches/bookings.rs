//! Benchmark: 10,000 bookings driven create -> accepted -> en route -> arrived -> in progress ->
//! completed -> verified by 50 concurrent clients through the GraphQL HTTP endpoint, then a check of
//! the event log that no booking skipped a state or moved twice.
//!
//! Run with PostgreSQL: `FUNDI_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench bookings`
//! (without it the bench uses SQLite). `FUNDI_BENCH_BOOKINGS` and `FUNDI_BENCH_CLIENTS` change the size.

// A panic in a benchmark aborts the run, not a request: benches may unwrap and expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{database_url, drop_database, percentile};

use fundi::config::Config;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const NAIROBI: (f64, f64) = (-1.2921, 36.8219);

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    async fn call(&self, token: &str, query: &str, variables: Value) -> (Value, Duration) {
        let started = Instant::now();
        let response = self
            .http
            .post(&self.url)
            .bearer_auth(token)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await
            .expect("sent");
        let body: Value = response.json().await.expect("json");
        let elapsed = started.elapsed();
        assert!(body.get("errors").is_none(), "{body}");
        (body["data"].clone(), elapsed)
    }

    async fn register(&self, email: &str, role: &str) -> String {
        common::register(&self.http, &self.url, email, role).await
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let bookings: usize = std::env::var("FUNDI_BENCH_BOOKINGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let clients: usize = std::env::var("FUNDI_BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(dir.path()).await;
    let vars = [
        ("FUNDI_DATA_DIR", dir.path().display().to_string()),
        ("FUNDI_DATABASE_URL", url.clone()),
        (
            "FUNDI_JWT_SECRET",
            "bench-secret-bench-secret-bench-secret".to_string(),
        ),
        // Every client signs up from 127.0.0.1: lift the per-address allowances meant for the public.
        ("FUNDI_SIGNUPS_PER_HOUR", "1000000".to_string()),
        ("FUNDI_PASSWORD_CHECKS_PER_MINUTE", "1000000".to_string()),
    ];
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
    let client = std::sync::Arc::new(Client {
        http: reqwest::Client::new(),
        url: format!("http://{}/graphql", server.addr),
    });
    eprintln!(
        "backend: {}",
        if url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );

    // One customer and one technician per client, so every client's jobs run one after another.
    let mut pairs = Vec::new();
    for i in 0..clients {
        let customer = client
            .register(&format!("bench-customer-{i}@example.com"), "CUSTOMER")
            .await;
        let technician = client
            .register(&format!("bench-tech-{i}@example.com"), "TECHNICIAN")
            .await;
        let profile =
            "mutation($i: TechnicianProfileInput!) { updateTechnicianProfile(input: $i) { id } }";
        let input = json!({"i": {"hourlyRate": {"amountMinor": 100000, "currency": "KES"}, "skills": [{"category": "plumbing", "years": 3}],
            "baseLocation": {"lat": NAIROBI.0, "lng": NAIROBI.1}}});
        let (data, _) = client.call(&technician, profile, input).await;
        pairs.push((
            customer,
            technician,
            data["updateTechnicianProfile"]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        ));
    }
    let backend = services.db.get_database_backend();
    services
        .db
        .execute_raw(Statement::from_string(
            backend,
            "UPDATE technician_profiles SET kyc_status = 'APPROVED'",
        ))
        .await
        .unwrap();

    let per_client = bookings / clients;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (c, (customer, technician, technician_id)) in pairs.into_iter().enumerate() {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::with_capacity(per_client * 9);
            let create = "mutation($i: ServiceRequestInput!) { createServiceRequest(input: $i) { id startCode } }";
            let step = "mutation($id: ID!, $to: BookingStatus!, $code: String) { transitionBooking(id: $id, to: $to, startCode: $code) { status } }";
            let pay = "mutation($i: PayBookingInput!) { payBooking(input: $i) { status } }";
            for n in 0..per_client {
                let input = json!({"i": {"category": "plumbing", "title": "Bench job", "address": "Bench Street 1",
                    "location": {"lat": NAIROBI.0, "lng": NAIROBI.1}, "priority": "URGENT",
                    "budgetMin": {"amountMinor": 0, "currency": "KES"}, "budgetMax": {"amountMinor": 500000, "currency": "KES"},
                    "estimatedDurationMinutes": 60, "technicianId": technician_id, "idempotencyKey": format!("bench-{c}-{n}")}});
                let (data, took) = client.call(&customer, create, input).await;
                samples.push(took);
                let id = data["createServiceRequest"]["id"].clone();
                // The deposit starts dispatch.
                let deposit = json!({"i": {"bookingId": id, "kind": "DEPOSIT", "method": "SANDBOX",
                    "idempotencyKey": format!("bench-deposit-{c}-{n}")}});
                let (_, took) = client.call(&customer, pay, deposit).await;
                samples.push(took);
                let code = data["createServiceRequest"]["startCode"].clone();
                for to in ["ACCEPTED", "EN_ROUTE", "ARRIVED", "IN_PROGRESS", "COMPLETED"] {
                    let code = if to == "IN_PROGRESS" { code.clone() } else { Value::Null };
                    let (_, took) = client.call(&technician, step, json!({"id": id, "to": to, "code": code})).await;
                    samples.push(took);
                }
                let (_, took) = client.call(&customer, step, json!({"id": id, "to": "VERIFIED"})).await;
                samples.push(took);
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await.unwrap());
    }
    let wall = started.elapsed();
    samples.sort();
    println!("| bookings | clients | requests | wall | requests/s | p50 | p99 |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {} | {clients} | {} | {:.1} s | {:.0} | {:.1} ms | {:.1} ms |",
        per_client * clients,
        samples.len(),
        wall.as_secs_f64(),
        samples.len() as f64 / wall.as_secs_f64(),
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3
    );

    // The event log: every booking went through exactly this path, each step once.
    let expected = [
        "PENDING",
        "ASSIGNED",
        "ACCEPTED",
        "EN_ROUTE",
        "ARRIVED",
        "IN_PROGRESS",
        "COMPLETED",
        "VERIFIED",
        "PAYMENT_PENDING",
    ];
    let rows = services
        .db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT booking_id, to_status FROM booking_events ORDER BY booking_id, id",
        ))
        .await
        .unwrap();
    let mut paths: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for row in rows {
        let id: uuid::Uuid = row.try_get("", "booking_id").unwrap();
        paths
            .entry(id.to_string())
            .or_default()
            .push(row.try_get("", "to_status").unwrap());
    }
    let broken = paths
        .values()
        .filter(|p| p.iter().map(String::as_str).ne(expected.iter().copied()))
        .count();
    println!(
        "event log: {} bookings checked, {broken} skipped a state or moved twice",
        paths.len()
    );
    assert_eq!(broken, 0);
    assert_eq!(paths.len(), per_client * clients);
    server.stop().await.unwrap();
    drop(services);
    drop_database(&url).await;
}
