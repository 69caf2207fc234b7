//! POST /webhooks/mpesa/{token}: Daraja's STK Push callback. Daraja does not sign callbacks, so the
//! secret path segment is the credential; a wrong one gets 404, as if the route did not exist.

use super::HttpState;
use crate::gateways::mpesa::parse_callback;
use crate::services::money::mpesa_checks;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

pub async fn callback(
    State(state): State<HttpState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let Some(mpesa) = &state.services.mpesa else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !mpesa.callback_token_matches(&token) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match serde_json::from_slice::<Value>(&body)
        .ok()
        .as_ref()
        .and_then(parse_callback)
    {
        // Accepted even when unreadable: Daraja cannot fix its body, and the status query settles
        // the payment anyway.
        None => tracing::warn!("unreadable M-Pesa callback ignored"),
        Some(callback) => {
            if let Err(e) = mpesa_checks::apply_callback(&state.services, callback).await {
                // Not acknowledged, so it is clear in Daraja's logs; the status query is the backstop.
                tracing::warn!(error = ?e.message(), "M-Pesa callback not applied");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        }
    }
    Json(json!({"ResultCode": 0, "ResultDesc": "Accepted"})).into_response()
}
