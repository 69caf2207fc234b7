//! Payment provider webhooks: POST /webhooks/stripe and POST /webhooks/razorpay check the
//! provider's signature over the raw body, then hand the event to the webhook service, which
//! applies each event id once.

use super::HttpState;
use crate::gateways::razorpay;
use crate::gateways::stripe::verify_signature;
use crate::services::money::webhooks::{self, RazorpayEvent, StripeEvent};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::{Digest, Sha256};

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

/// Razorpay's events, answered like Stripe's: 400 for a missing or wrong `X-Razorpay-Signature`
/// (HMAC-SHA256 of the raw body under the webhook secret), 500 to be retried, 200 otherwise.
pub async fn razorpay(State(state): State<HttpState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(settings) = &state.config.razorpay else {
        return refuse(
            StatusCode::NOT_FOUND,
            "Razorpay is not set up on this server",
        );
    };
    let Some(signature) = headers
        .get("x-razorpay-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "missing X-Razorpay-Signature header",
        );
    };
    if !razorpay::verify_signature(settings.webhook_secret.expose_secret(), &body, signature) {
        tracing::warn!("Razorpay webhook refused: signature mismatch");
        return refuse(StatusCode::BAD_REQUEST, "the signature does not match");
    }
    let event: RazorpayEvent = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(_) => return refuse(StatusCode::BAD_REQUEST, "not a Razorpay event"),
    };
    // Razorpay names each event in this header and keeps it across redeliveries. Without it, the
    // signed body itself identifies the delivery, so an identical redelivery is still a replay.
    let event_id = match headers
        .get("x-razorpay-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|id| !id.is_empty() && id.len() <= 100)
    {
        Some(id) => id.to_string(),
        None => format!("sha256:{}", hex::encode(Sha256::digest(&body))),
    };
    match webhooks::apply_razorpay_event(&state.services, &event_id, &event).await {
        Ok(applied) => {
            tracing::info!(event = %event_id, kind = %event.event, ?applied, "Razorpay event");
            Json(json!({ "received": true })).into_response()
        }
        Err(e) => {
            tracing::error!(event = %event_id, error = ?e, "Razorpay event not applied");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "not applied; retry later",
            )
        }
    }
}
