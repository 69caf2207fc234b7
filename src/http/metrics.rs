//! Who may read /metrics: on the API port by default, on its own address with FUNDI_METRICS_BIND, and
//! behind a bearer token with FUNDI_METRICS_TOKEN.

use super::{HttpState, health};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

/// GET /metrics on the API port: absent (404) when metrics have their own address.
pub async fn on_api_port(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    if state.config.metrics_bind.is_some() {
        return StatusCode::NOT_FOUND.into_response();
    }
    scrape(State(state), headers).await
}

/// The router of the dedicated metrics listener: /metrics and nothing else.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

async fn scrape(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.config.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let allowed: bool = given
            .as_bytes()
            .ct_eq(expected.expose_secret().as_bytes())
            .into();
        if !allowed {
            let mut refused =
                (StatusCode::UNAUTHORIZED, "metrics need the bearer token").into_response();
            refused.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"metrics\""),
            );
            return refused;
        }
    }
    health::metrics(State(state)).await.into_response()
}
