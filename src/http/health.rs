//! Liveness, readiness and Prometheus metrics endpoints.

use super::HttpState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// Alive as long as the process answers; checks no dependency, so a database outage does not restart pods.
pub async fn healthz() -> &'static str {
    "ok"
}

/// How long /readyz waits for the database: less than a probe's timeout, so an unreachable
/// database is answered 503 rather than left to time the probe out.
const READY_WITHIN: Duration = Duration::from_secs(2);

/// Ready when the database answers. Redis is reported but not required: without it events still
/// commit to the outbox and are relayed once it returns.
pub async fn readyz(State(state): State<HttpState>) -> impl IntoResponse {
    let database = tokio::time::timeout(READY_WITHIN, crate::db::ping(&state.services.db))
        .await
        .unwrap_or(false);
    let redis = match state.services.bus.is_redis_subscribed() {
        None => "disabled",
        Some(true) => "ok",
        Some(false) => "unavailable",
    };
    let status = if database && !state.shutdown.is_cancelled() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "database": if database { "ok" } else { "unavailable" },
        "redis": redis,
        "shuttingDown": state.shutdown.is_cancelled(),
    });
    (status, Json(body))
}

pub async fn metrics(State(state): State<HttpState>) -> Response {
    match state.metrics.render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics not rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
