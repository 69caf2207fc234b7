//! Redis that stops answering under load (connections accepted and kept, nothing ever answered: the
//! worst way for it to fail). No request path waits on it for long: queries, sign-ins counted in
//! Redis, mutations whose events go through the outbox, and the live updates published directly.

use super::client::{error_code, post};
use super::link::{Link, Mode, host_port};
use crate::booking_fixtures::accepted_booking;
use crate::fixtures::{NAIROBI, ready};
use crate::support::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a request may spend on an unanswering Redis, with room for a busy test machine: the
/// longest wait the server allows itself on Redis is 2 s (a publish's response timeout).
const ANSWER_WITHIN: Duration = Duration::from_secs(4);
/// Requests of each kind sent at once.
const AT_ONCE: usize = 4;

/// One kind of request: who sends it, the operation, and whether it must succeed with Redis away.
struct Kind {
    name: &'static str,
    token: Option<String>,
    query: String,
    variables: Value,
    must_succeed: bool,
}

/// Sends every kind `AT_ONCE` times concurrently; returns (kind, took, error code) for each.
async fn burst(base: &str, kinds: &[Kind]) -> Vec<(&'static str, Duration, Option<String>)> {
    let http = &reqwest::Client::new();
    let requests = kinds.iter().flat_map(|kind| {
        (0..AT_ONCE).map(move |_| async move {
            let started = Instant::now();
            let answer = post(
                http,
                base,
                kind.token.as_deref(),
                &kind.query,
                &kind.variables,
            )
            .await;
            let code = match answer {
                Ok(body) => error_code(&body).map(str::to_string),
                Err(e) => Some(format!("no answer: {e}")),
            };
            (kind.name, started.elapsed(), code)
        })
    });
    futures_util::future::join_all(requests).await
}

#[tokio::test]
#[ignore = "needs FUNDI_TEST_REDIS_URL: Redis black-holed through a local link"]
async fn no_request_waits_on_a_redis_that_stopped_answering() {
    let redis = require_redis();
    let link = Link::start(&host_port(&redis)).await;
    let backend = Arc::new(Backend::new().await);
    let options = Options {
        redis_url: Some(format!("redis://{}", link.addr)),
        ..Options::default()
    };
    let s = TestServer::start_on(backend, options).await;
    let customer = s.register("redis-silent@example.com").await;
    let tech = ready(&s, "redis-silent-tech@example.com", NAIROBI, json!({})).await;
    let booking = accepted_booking(
        &s,
        &customer,
        &tech,
        "redis-silent-booking",
        chrono::Duration::hours(3),
    )
    .await;
    let id = booking["id"].clone();
    let kinds = [
        Kind {
            name: "me",
            token: Some(customer.access.clone()),
            query: "{ me { id } }".into(),
            variables: json!({}),
            must_succeed: true,
        },
        Kind {
            name: "login (counted in Redis)",
            token: None,
            query: "mutation($input: LoginInput!) { login(input: $input) { accessToken } }".into(),
            variables: json!({"input": {"email": "redis-silent@example.com", "password": PASSWORD}}),
            must_succeed: true,
        },
        Kind {
            name: "sendMessage (through the outbox)",
            token: Some(customer.access.clone()),
            query: "mutation($b: ID!) { sendMessage(bookingId: $b, input: {kind: TEXT, body: \"Still coming?\"}) { id } }".into(),
            variables: json!({"b": id}),
            must_succeed: true,
        },
        Kind {
            name: "updateLocation (published directly)",
            token: Some(tech.session.access.clone()),
            query: "mutation { updateLocation(lat: -1.2921, lng: 36.8219) { id } }".into(),
            variables: json!({}),
            must_succeed: true,
        },
        Kind {
            name: "setTyping (published directly)",
            token: Some(customer.access.clone()),
            query: "mutation($b: ID!) { setTyping(bookingId: $b, typing: true) }".into(),
            variables: json!({"b": id}),
            must_succeed: false,
        },
    ];
    // Every path once with Redis answering, so each holds its connection when it goes quiet.
    for (name, _, code) in burst(&s.base, &kinds).await {
        assert!(code.is_none(), "{name} with Redis up: {code:?}");
    }

    link.set(Mode::Blackhole);
    // The first round meets connections gone quiet, the second reconnects into the black hole.
    for round in 1..=2 {
        for (name, took, code) in burst(&s.base, &kinds).await {
            eprintln!("round {round} {name}: {took:?} {code:?}");
            assert!(
                took < ANSWER_WITHIN,
                "round {round}: {name} waited {took:?} on Redis ({code:?})"
            );
            let kind = kinds.iter().find(|k| k.name == name).unwrap();
            if kind.must_succeed {
                assert!(code.is_none(), "round {round}: {name} failed: {code:?}");
            }
        }
    }
    link.set(Mode::Forward);
}
