//! OpenTelemetry traces: with FUNDI_OTLP_ENDPOINT set, a local collector receives a span for the
//! GraphQL operation and for its database statements, in the trace an incoming `traceparent` named.

use crate::process::ServerProcess;
use crate::support::*;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Received = Arc<Mutex<Vec<(String, Bytes)>>>;

/// An OTLP/HTTP collector that keeps each POST /v1/traces body with its content type.
async fn collector() -> (String, Received) {
    let received: Received = Arc::default();
    let app =
        axum::Router::new()
            .route(
                "/v1/traces",
                post(
                    |State(received): State<Received>,
                     headers: axum::http::HeaderMap,
                     body: Bytes| async move {
                        let kind = headers
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        received.lock().unwrap().push((kind, body));
                        // An empty ExportTraceServiceResponse.
                        ([("content-type", "application/x-protobuf")], Bytes::new())
                    },
                ),
            )
            .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), received)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn spans_for_the_operation_and_its_statements_reach_the_collector_in_the_callers_trace() {
    let (endpoint, received) = collector().await;
    let backend = Backend::new().await;
    let env: Vec<(String, String)> = [
        ("FUNDI_BIND", "127.0.0.1:0".to_string()),
        (
            "FUNDI_DATA_DIR",
            backend.data_dir.path().display().to_string(),
        ),
        ("FUNDI_DATABASE_URL", backend.database_url.clone()),
        ("FUNDI_JWT_SECRET", JWT_SECRET.to_string()),
        ("FUNDI_LOG", "warn".to_string()),
        ("FUNDI_OTLP_ENDPOINT", endpoint),
        // Export every 100 ms instead of every 5 s, so the test need not wait.
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let server = ServerProcess::spawn(&env).expect("server starts");
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let answer: serde_json::Value = reqwest::Client::new()
        .post(server.url("/graphql"))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({
            "query": "mutation TracedSignUp($input: RegisterInput!) { register(input: $input) { accessToken } }",
            "variables": {"input": {"email": "traced@example.com", "password": PASSWORD, "fullName": "Traced Person"}},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer.get("errors").is_none(), "{answer}");
    let trace_id = hex::decode(trace_id).unwrap();
    let all = || {
        let received = received.lock().unwrap();
        received
            .iter()
            .flat_map(|(_, b)| b.to_vec())
            .collect::<Vec<u8>>()
    };
    wait_until(Duration::from_secs(20), || {
        let body = all();
        contains(&body, b"mutation TracedSignUp") && contains(&body, b"sea_orm.")
    })
    .await;
    let body = all();
    assert!(
        received
            .lock()
            .unwrap()
            .iter()
            .all(|(kind, _)| kind == "application/x-protobuf"),
        "OTLP over HTTP with protobuf bodies"
    );
    assert!(
        contains(&body, &trace_id),
        "the caller's trace id is continued"
    );
    assert!(
        contains(&body, b"INSERT"),
        "statement spans carry their operation"
    );
    assert!(
        !contains(&body, b"traced@example.com"),
        "no personal data in spans"
    );
    drop(server);
}
