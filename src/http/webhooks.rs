//! Payment provider webhooks: POST /webhooks/stripe checks Stripe's signature over the raw body,
//! then hands the event to the webhook service, which applies each event id once.

use super::HttpState;
use crate::gateways::stripe::verify_signature;
use crate::services::webhooks::{self, StripeEvent};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde_json::json;

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// Stripe's events. 400 tells Stripe the delivery is bad and changes nothing; 500 makes it retry;
/// 200 (also for a replay or an event type we do not use) makes it stop.
pub async fn stripe(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(settings) = &state.config.stripe else {
        return refuse(StatusCode::NOT_FOUND, "Stripe is not set up on this server");
    };
    let Some(header) = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return refuse(StatusCode::BAD_REQUEST, "missing Stripe-Signature header");
    };
    let now = state.services.clock.now().timestamp();
    if let Err(e) = verify_signature(settings.webhook_secret.expose_secret(), header, &body, now) {
        tracing::warn!(error = %e, "Stripe webhook refused");
        return refuse(StatusCode::BAD_REQUEST, &e.to_string());
    }
    let event: StripeEvent = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(_) => return refuse(StatusCode::BAD_REQUEST, "not a Stripe event"),
    };
    match webhooks::apply_stripe_event(&state.services, &event).await {
        Ok(applied) => {
            tracing::info!(event = %event.id, kind = %event.kind, ?applied, "Stripe event");
            Json(json!({ "received": true })).into_response()
        }
        Err(e) => {
            tracing::error!(event = %event.id, error = ?e, "Stripe event not applied");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "not applied; retry later",
            )
        }
    }
}
