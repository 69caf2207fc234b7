//! Benchmark: chat publish -> deliver latency. A technician sends messages through `sendMessage` over
//! HTTP at a fixed rate while 1, 100 or 1,000 WebSocket subscribers (graphql-transport-ws,
//! `messageAdded`) receive them; latency runs from the start of the send request to each
//! subscriber's receipt. With Redis, subscribers sit on a second server instance, so every message
//! crosses Redis between instances.
//!
//! `cargo bench --bench chat` (SQLite, one instance). With PostgreSQL and Redis:
//! `FUNDI_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres FUNDI_BENCH_REDIS_URL=redis://127.0.0.1:6379 cargo bench --bench chat`.
//! `FUNDI_BENCH_SECONDS` sets each step's length (default 5).

// A panic in a benchmark aborts the run, not a request: benches may unwrap and expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{database_url, drop_database, percentile};

use fundi::config::Config;
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;

const PASSWORD: &str = "bench password long enough";
const NAIROBI: (f64, f64) = (-1.2921, 36.8219);

async fn call(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut request = http
        .post(url)
        .json(&json!({"query": query, "variables": variables}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body: Value = request
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

async fn register(http: &reqwest::Client, url: &str, email: &str, role: &str) -> String {
    let data = call(
        http,
        url,
        None,
        "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        json!({"i": {"email": email, "password": PASSWORD, "fullName": "Bench", "role": role}}),
    )
    .await;
    data["register"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn instance(
    vars: &[(&str, String)],
    shutdown: &CancellationToken,
) -> (fundi::services::Services, String) {
    let config = Config::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    let services = fundi::app::build_services(config, shutdown).await.unwrap();
    let server = fundi::app::start_with(services.clone(), "127.0.0.1:0", shutdown.clone())
        .await
        .unwrap();
    (services, server.addr.to_string())
}

/// When each message's send began, by the number in its body.
type Sent = Arc<Mutex<HashMap<i64, Instant>>>;

/// Opens one subscriber and records how long each message took to reach it.
async fn subscriber(
    addr: String,
    token: String,
    booking: String,
    sent: Sent,
    samples: Arc<Mutex<Vec<Duration>>>,
    ready: Arc<tokio::sync::Barrier>,
) {
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
    let _ack = ws.next().await;
    let query = format!("subscription {{ messageAdded(bookingId: \"{booking}\") {{ body }} }}");
    ws.send(WsMessage::text(
        json!({"id": "1", "type": "subscribe", "payload": {"query": query}}).to_string(),
    ))
    .await
    .unwrap();
    ready.wait().await;
    while let Some(Ok(frame)) = ws.next().await {
        let WsMessage::Text(text) = frame else {
            continue;
        };
        let value: Value = serde_json::from_str(&text).unwrap();
        if value["type"] != "next" {
            continue;
        }
        let Some(body) = value["payload"]["data"]["messageAdded"]["body"].as_str() else {
            panic!("{value}");
        };
        let Some(n) = body
            .strip_prefix("bench message ")
            .and_then(|n| n.parse::<i64>().ok())
        else {
            continue;
        };
        let started = sent.lock().unwrap().get(&n).copied();
        if let Some(started) = started {
            samples.lock().unwrap().push(started.elapsed());
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let seconds: u64 = std::env::var("FUNDI_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(dir.path()).await;
    let redis = std::env::var("FUNDI_BENCH_REDIS_URL").ok();
    let mut vars = vec![
        ("FUNDI_DATA_DIR", dir.path().display().to_string()),
        ("FUNDI_DATABASE_URL", url.clone()),
        (
            "FUNDI_JWT_SECRET",
            "bench-secret-bench-secret-bench-secret".to_string(),
        ),
        ("FUNDI_LOG", "warn".to_string()),
        // Every subscriber is a device of one of the booking's two people, so each account holds
        // up to half the sockets of the largest step; the default cap (20) is for real devices.
        ("FUNDI_WS_MAX_SOCKETS_PER_ACCOUNT", "1000".to_string()),
    ];
    if let Some(redis) = &redis {
        vars.push(("FUNDI_REDIS_URL", redis.clone()));
        vars.push((
            "FUNDI_REDIS_CHANNEL_PREFIX",
            format!("bench-{}", uuid::Uuid::now_v7().simple()),
        ));
    }
    let shutdown = CancellationToken::new();
    let (services, publisher_addr) = instance(&vars, &shutdown).await;
    // With Redis, subscribers use a second instance: every delivery crosses Redis.
    let subscriber_addr = if redis.is_some() {
        instance(&vars, &shutdown).await.1
    } else {
        publisher_addr.clone()
    };
    eprintln!(
        "backend: {}, {}",
        if url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        if redis.is_some() {
            "two instances through Redis"
        } else {
            "one instance, in-process bus"
        }
    );
    let http = reqwest::Client::new();
    let gql = format!("http://{publisher_addr}/graphql");
    let customer = register(&http, &gql, "chat-bench-customer@example.com", "CUSTOMER").await;
    let technician = register(&http, &gql, "chat-bench-tech@example.com", "TECHNICIAN").await;
    let profile = call(&http, &gql, Some(&technician),
        "mutation($i: TechnicianProfileInput!) { updateTechnicianProfile(input: $i) { id } }",
        json!({"i": {"hourlyRate": {"amountMinor": 100000, "currency": "KES"}, "skills": [{"category": "plumbing", "years": 3}],
            "baseLocation": {"lat": NAIROBI.0, "lng": NAIROBI.1}}})).await;
    let technician_id = profile["updateTechnicianProfile"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    services
        .db
        .execute_raw(Statement::from_string(
            services.db.get_database_backend(),
            "UPDATE technician_profiles SET kyc_status = 'APPROVED'",
        ))
        .await
        .unwrap();

    println!("| subscribers | messages/s | deliveries/s | delivered | p50 | p99 |");
    println!("|---|---|---|---|---|---|");
    let mut best: HashMap<usize, f64> = HashMap::new();
    for (subscribers, rates) in [
        (1usize, vec![50.0, 200.0, 500.0, 1000.0]),
        (100, vec![10.0, 50.0, 100.0, 200.0, 400.0]),
        (1000, vec![1.0, 5.0, 10.0, 20.0, 40.0]),
    ] {
        // A fresh booking per group, so each group starts with an empty conversation.
        let created = call(&http, &gql, Some(&customer),
            "mutation($i: ServiceRequestInput!) { createServiceRequest(input: $i) { id } }",
            json!({"i": {"category": "plumbing", "title": "Chat bench", "address": "Bench Street 1",
                "location": {"lat": NAIROBI.0, "lng": NAIROBI.1}, "priority": "URGENT",
                "budgetMin": {"amountMinor": 0, "currency": "KES"}, "budgetMax": {"amountMinor": 500000, "currency": "KES"},
                "estimatedDurationMinutes": 60, "technicianId": technician_id,
                "idempotencyKey": format!("chat-bench-{subscribers}")}})).await;
        let booking = created["createServiceRequest"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        call(
            &http,
            &gql,
            Some(&customer),
            "mutation($i: PayBookingInput!) { payBooking(input: $i) { status } }",
            json!({"i": {"bookingId": booking, "kind": "DEPOSIT", "method": "SANDBOX",
                "idempotencyKey": format!("chat-bench-deposit-{subscribers}")}}),
        )
        .await;
        call(
            &http,
            &gql,
            Some(&technician),
            "mutation($id: ID!) { transitionBooking(id: $id, to: ACCEPTED) { status } }",
            json!({"id": booking}),
        )
        .await;

        let sent: Sent = Arc::default();
        let samples: Arc<Mutex<Vec<Duration>>> = Arc::default();
        let ready = Arc::new(tokio::sync::Barrier::new(subscribers + 1));
        let mut tasks = Vec::new();
        for n in 0..subscribers {
            // Alternate the booking's two participants, so neither account passes the socket cap.
            let viewer = if n % 2 == 0 { &customer } else { &technician };
            tasks.push(tokio::spawn(subscriber(
                subscriber_addr.clone(),
                viewer.clone(),
                booking.clone(),
                sent.clone(),
                samples.clone(),
                ready.clone(),
            )));
        }
        // Bounded by the connect loop above; spawn first so connections open concurrently.
        ready.wait().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        for rate in rates {
            samples.lock().unwrap().clear();
            let count = usize::try_from(fundi::domain::whole::saturating_i64(
                (rate * seconds as f64).ceil(),
            ))
            .unwrap();
            let interval = Duration::from_secs_f64(1.0 / rate);
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut sends = Vec::new();
            for n in 0..count {
                ticker.tick().await;
                let (http, gql, technician, booking, sent) = (
                    http.clone(),
                    gql.clone(),
                    technician.clone(),
                    booking.clone(),
                    sent.clone(),
                );
                let n = n as i64 + 1_000_000 * fundi::domain::whole::saturating_i64(rate);
                sends.push(tokio::spawn(async move {
                    sent.lock().unwrap().insert(n, Instant::now());
                    let body = json!({"query": "mutation($b: ID!, $i: MessageInput!) { sendMessage(bookingId: $b, input: $i) { sequence } }",
                        "variables": {"b": booking, "i": {"kind": "TEXT", "body": format!("bench message {n}")}}});
                    let answer: Value = http.post(&gql).bearer_auth(&technician).json(&body).send().await.unwrap().json().await.unwrap();
                    answer["data"]["sendMessage"]["sequence"].as_i64().expect("sent")
                }));
            }
            for send in sends {
                send.await.unwrap();
            }
            // Let the last deliveries land.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let mut taken = std::mem::take(&mut *samples.lock().unwrap());
            taken.sort();
            let expected = count * subscribers;
            let p99 = percentile(&taken, 0.99);
            println!(
                "| {subscribers} | {rate:.0} | {:.0} | {} of {expected} | {:.1} ms | {:.1} ms |",
                rate * subscribers as f64,
                taken.len(),
                percentile(&taken, 0.5).as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            );
            if p99 < Duration::from_millis(100) && taken.len() * 100 >= expected * 99 {
                let best_rate = best.entry(subscribers).or_insert(0.0);
                *best_rate = best_rate.max(rate);
            }
        }
        for task in tasks {
            task.abort();
        }
    }
    for subscribers in [1usize, 100, 1000] {
        println!(
            "highest rate with p99 under 100 ms, {subscribers} subscribers: {} messages/s",
            best.get(&subscribers)
                .map(|r| format!("{r:.0}"))
                .unwrap_or_else(|| "none tested".into())
        );
    }
    shutdown.cancel();
    drop(services);
    drop_database(&url).await;
}
