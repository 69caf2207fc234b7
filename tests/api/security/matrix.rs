//! The authorization matrix: every operation that takes an id, generated from the served schema and
//! called with the victims' objects by every kind of attacker, over HTTP and WebSocket; then proof
//! that nothing changed and that the victims' own calls with the same arguments get through.

use super::arguments::{Call, call};
use super::coverage::{Case, Expect, Fixture, plan};
use super::schema::{Root, Schema};
use super::world::{Attacker, World};
use crate::support::*;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// The codes a refusal may carry: the object does not exist for you, you may not, or sign in first.
const REFUSALS: [&str; 3] = ["NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED"];

/// Answers from entitled people that still mean the generated arguments were not what the server
/// takes: the arguments are wrong, not the authorization.
const MALFORMED: [&str; 4] = [
    "BAD_USER_INPUT",
    "GRAPHQL_VALIDATION_FAILED",
    "GRAPHQL_PARSE_FAILED",
    "INTERNAL_SERVER_ERROR",
];

/// Entitled calls whose BAD_USER_INPUT is the rule working, not a generated argument gone wrong:
/// operation, the field the error names, why.
const EXPECTED_BAD_INPUT: &[(&str, &str, &str)] = &[
    ("payBooking", "kind", "the deposit is already paid"),
    (
        "confirmCashPayment",
        "paymentId",
        "the deposit went through the sandbox, not in cash",
    ),
    (
        "verifyRazorpayPayment",
        "paymentId",
        "the deposit went through the sandbox, not Razorpay",
    ),
];

/// POSTs a call and returns the HTTP status and body.
async fn post(s: &TestServer, token: Option<&str>, call: &Call) -> (u16, Value) {
    let mut request = s
        .http()
        .post(s.url("/graphql"))
        .json(&json!({"query": call.query, "variables": call.variables}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| code(e).to_string()).collect())
        .unwrap_or_default()
}

/// Why an attacker's answer is wrong, if it is.
fn judge(
    call: &Call,
    attacker: &Attacker,
    expect: &Expect,
    status: u16,
    body: &Value,
) -> Option<String> {
    let case = format!("{} by {}", call.label, attacker.name);
    if status >= 500 {
        return Some(format!("{case}: HTTP {status}: {body}"));
    }
    let data = &body["data"][&call.field];
    let found = codes(body);
    match expect {
        Expect::Ignored(answer) if attacker.session.is_some() => {
            let ignored = found.is_empty() && *data == json!(answer);
            (!ignored).then(|| format!("{case}: expected {answer} and no error: {body}"))
        }
        _ => {
            if !data.is_null() {
                return Some(format!("{case}: got data: {body}"));
            }
            let refused = !found.is_empty() && found.iter().all(|c| REFUSALS.contains(&c.as_str()));
            (!refused).then(|| format!("{case}: expected one of {REFUSALS:?}: {body}"))
        }
    }
}

fn report(failures: Vec<String>, what: &str) {
    assert!(
        failures.is_empty(),
        "{} {what}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every query and mutation case, by every attacker, a few at a time.
async fn attack_over_http(world: &World, calls: &[(Case, Call)]) -> usize {
    let jobs: Vec<(&Case, &Call, &Attacker)> = calls
        .iter()
        .filter(|(case, _)| case.operation.root != Root::Subscription)
        .flat_map(|(case, call)| world.attackers.iter().map(move |a| (case, call, a)))
        .collect();
    let count = jobs.len();
    let failures: Vec<String> = futures_util::stream::iter(jobs)
        .map(|(case, call, attacker)| async move {
            let (status, body) = post(&world.s, attacker.token(), call).await;
            judge(call, attacker, &case.expect, status, &body)
        })
        .buffer_unordered(8)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    report(failures, "attacks over HTTP were not refused");
    count
}

/// The next JSON message other than a keep-alive; None once the socket closes or stays silent for `limit`.
async fn next_message(ws: &mut WsClient, limit: Duration) -> Option<Value> {
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let frame = tokio::time::timeout(limit, ws.socket.next()).await.ok()??;
        match frame.ok()? {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).expect("JSON frame");
                if !matches!(value["type"].as_str(), Some("ka" | "ping" | "pong")) {
                    return Some(value);
                }
            }
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// What one subscription came to: an error payload, a close, or data.
async fn subscription_outcomes(
    world: &World,
    token: Option<&str>,
    calls: &[&Call],
    limit: Duration,
) -> HashMap<String, Value> {
    let mut ws = WsClient::connect(&world.s.ws_url, "graphql-transport-ws").await;
    assert_eq!(ws.init(token).await["type"], "connection_ack");
    for (i, call) in calls.iter().enumerate() {
        ws.send(json!({"id": i.to_string(), "type": "subscribe",
            "payload": {"query": call.query, "variables": call.variables}}))
            .await;
    }
    let mut outcomes = HashMap::new();
    while outcomes.len() < calls.len() {
        // None: closed (every subscription still waiting was refused with the socket) or silent.
        let Some(message) = next_message(&mut ws, limit).await else {
            break;
        };
        let Some(i) = message["id"].as_str().and_then(|i| i.parse::<usize>().ok()) else {
            continue;
        };
        let payload = match message["type"].as_str() {
            Some("next") => message["payload"].clone(),
            Some("error") => json!({"errors": message["payload"]}),
            _ => continue,
        };
        outcomes.entry(calls[i].label.clone()).or_insert(payload);
    }
    outcomes
}

/// Every subscription case, by every attacker, each attacker on one socket, all at once.
async fn attack_over_websocket(world: &World, calls: &[(Case, Call)]) -> usize {
    let subscriptions: Vec<&Call> = calls
        .iter()
        .filter(|(case, _)| case.operation.root == Root::Subscription)
        .map(|(_, call)| call)
        .collect();
    let sockets = world.attackers.iter().map(|attacker| {
        subscription_outcomes(
            world,
            attacker.token(),
            &subscriptions,
            Duration::from_secs(5),
        )
    });
    let outcomes = futures_util::future::join_all(sockets).await;
    let mut failures = Vec::new();
    for (attacker, outcomes) in world.attackers.iter().zip(outcomes) {
        for call in &subscriptions {
            let case = format!("{} by {}", call.label, attacker.name);
            match outcomes.get(&call.label) {
                None => failures.push(format!("{case}: neither refused nor closed in 5 s")),
                Some(payload) => {
                    if let Some(failure) = judge(call, attacker, &Expect::Refused, 200, payload) {
                        failures.push(failure);
                    }
                }
            }
        }
    }
    report(failures, "subscriptions were not refused");
    subscriptions.len() * world.attackers.len()
}

/// A technician's public profile shows strangers nothing private, by `technician(id)` or `node(id)`
/// (which anonymous callers may not use at all).
async fn public_profiles_hide_private_fields(world: &World) {
    const PRIVATE: [&str; 6] = [
        "kycStatus",
        "email",
        "phone",
        "baseLocation { lat }",
        "lastPosition { lat }",
        "availabilityExceptions { id }",
    ];
    let fields = PRIVATE.join(" ");
    let queries = [
        (
            "technician",
            format!("query($id: ID!) {{ technician(id: $id) {{ id {fields} }} }}"),
        ),
        (
            "node",
            format!(
                "query($id: ID!) {{ node(id: $id) {{ ... on Technician {{ id {fields} }} }} }}"
            ),
        ),
    ];
    for attacker in &world.attackers {
        for (root, query) in &queries {
            let body = world
                .s
                .gql(attacker.token(), query, json!({"id": world.tech.id}))
                .await;
            let profile = &body["data"][root];
            if profile.is_null() {
                let refused = attacker.session.is_none() && codes(&body) == ["UNAUTHENTICATED"];
                assert!(refused, "{root} by {}: {body}", attacker.name);
                continue;
            }
            assert_eq!(
                profile["id"],
                world.tech.id.as_str(),
                "{}: {body}",
                attacker.name
            );
            for field in PRIVATE {
                let name = field.split(' ').next().unwrap();
                assert!(
                    profile[name].is_null(),
                    "{root}.{name} shown to {}: {body}",
                    attacker.name
                );
            }
        }
    }
}

/// The victims' side of every case: the first entitled person (customer, technician, admin) whose
/// same call gets past authorization is not refused for its arguments. Runs last: these calls
/// change things, so each stops at the first person it gets through for.
async fn entitled_calls_get_through(world: &World, calls: &[(Case, Call)]) {
    let parties = [
        ("the customer", &world.customer),
        ("the technician", &world.tech.session),
        ("an admin", &world.admin),
    ];
    let mut failures = Vec::new();
    for (case, call) in calls
        .iter()
        .filter(|(case, _)| case.operation.root != Root::Subscription)
    {
        let mut authorized = false;
        let mut seen = Vec::new();
        for (who, session) in parties {
            let (status, body) = post(&world.s, session.token(), call).await;
            let found = codes(&body);
            let malformed = found.iter().any(|c| MALFORMED.contains(&c.as_str()))
                && !expected_bad_input(&case.operation.name, &body);
            if status >= 500 || malformed {
                failures.push(format!("{} by {who}: HTTP {status}: {body}", call.label));
            }
            seen.push(format!("{who}: {body}"));
            if !found.iter().any(|c| REFUSALS.contains(&c.as_str())) {
                authorized = true;
                break;
            }
        }
        if !authorized {
            failures.push(format!(
                "{}: refused to every entitled person, so the generated call proves nothing:\n  {}",
                call.label,
                seen.join("\n  ")
            ));
        }
    }
    report(failures, "entitled calls did not get through");
}

fn expected_bad_input(operation: &str, body: &Value) -> bool {
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    !errors.is_empty()
        && errors.iter().all(|e| {
            code(e) == "BAD_USER_INPUT"
                && EXPECTED_BAD_INPUT
                    .iter()
                    .any(|(op, field, _)| *op == operation && e["extensions"]["field"] == *field)
        })
}

/// The customer's own subscriptions open, and each delivers once the job moves: the technician
/// writes, pauses and resumes (the route's latest point comes at once).
async fn entitled_subscriptions_deliver(world: &World, calls: &[(Case, Call)]) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let subscriptions: Vec<&Call> = calls
        .iter()
        .filter(|(case, _)| case.operation.root == Root::Subscription)
        .map(|(_, call)| call)
        .collect();
    let booking = json!(world.id(Fixture::ActiveBooking));
    let tech = &world.tech.session;
    let s = &world.s;
    let delivered = AtomicBool::new(false);
    // Pub/sub replays nothing and nothing tells when a subscription has reached the bus, so the
    // job moves round after round until every subscription has delivered.
    let events = async {
        for round in 0..20 {
            if delivered.load(Ordering::SeqCst) {
                break;
            }
            let text = crate::chat::text(&format!("matrix round {round}"), None);
            crate::chat::ok_send(s, tech, &booking, text).await;
            crate::booking_fixtures::ok_step(s, tech, &booking, "PAUSED", None).await;
            crate::booking_fixtures::ok_step(s, tech, &booking, "IN_PROGRESS", None).await;
        }
    };
    let watch = async {
        let outcomes = subscription_outcomes(
            world,
            world.customer.token(),
            &subscriptions,
            Duration::from_secs(10),
        )
        .await;
        delivered.store(true, Ordering::SeqCst);
        outcomes
    };
    let ((), outcomes) = tokio::join!(events, watch);
    let mut failures = Vec::new();
    for call in &subscriptions {
        match outcomes.get(&call.label) {
            Some(payload)
                if payload["errors"].is_null() && !payload["data"][&call.field].is_null() => {}
            other => failures.push(format!(
                "{}: the customer's subscription did not deliver: {other:?}",
                call.label
            )),
        }
    }
    report(failures, "entitled subscriptions did not deliver");
}

#[tokio::test]
async fn strangers_get_nothing_from_any_operation_on_someone_elses_objects() {
    let schema = Schema::served();
    let cases = plan(&schema).unwrap_or_else(|problems| panic!("{}", problems.join("\n")));
    let world = World::build().await;
    let now = world.s.services().clock.now();
    let calls: Vec<(Case, Call)> = cases
        .into_iter()
        .map(|case| {
            let call = call(&schema, &case, &world.ids, now);
            (case, call)
        })
        .collect();
    let before = world.snapshot().await;
    assert_eq!(before["admin"]["ledgerHealth"]["ok"], true, "{before}");

    let over_http = attack_over_http(&world, &calls).await;
    let over_websocket = attack_over_websocket(&world, &calls).await;
    public_profiles_hide_private_fields(&world).await;
    // Four attackers against the 31 queries and mutations that take an id (when this was written)
    // plus `node` for each of 12 private types, and against the 4 subscriptions that take one.
    assert!(over_http >= 4 * 43, "only {over_http} attacks over HTTP");
    assert!(
        over_websocket >= 4 * 4,
        "only {over_websocket} subscriptions"
    );

    let after = world.snapshot().await;
    assert_eq!(after, before, "an attack changed the victims' objects");
    let ledger = fundi::services::money::ledger::verify(&world.s.services().db)
        .await
        .unwrap();
    assert!(ledger.is_ok(), "{:?}", ledger.err());

    entitled_subscriptions_deliver(&world, &calls).await;
    // Afresh, with the clock past the route's one point per second: `recordedAt` must be later
    // than the technician's last point.
    world.s.advance_clock(chrono::Duration::seconds(2));
    let now = world.s.services().clock.now();
    let calls: Vec<(Case, Call)> = calls
        .into_iter()
        .map(|(case, _)| {
            let call = call(&schema, &case, &world.ids, now);
            (case, call)
        })
        .collect();
    entitled_calls_get_through(&world, &calls).await;
}
