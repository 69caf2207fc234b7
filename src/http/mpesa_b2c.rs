//! POST /webhooks/mpesa/{token}/b2c/{result,status,timeout}: Daraja's answers about B2C payouts
//! (withdrawals and refunds).
//! Like the STK callback, the secret path segment is the only credential, and a wrong one gets 404.

use super::HttpState;
use crate::gateways::mpesa_b2c::{
    B2cCallback, MpesaB2c, parse_payment_result, parse_status_result, parse_timeout,
};
use crate::gateways::payouts::PayoutQuery;
use crate::services::money::payout_checks::record_result;
use crate::services::money::withdrawals::PayoutResult;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::Arc;

/// The B2C client when `token` is the callback secret; None answers 404, as if there were no route.
fn authorised(state: &HttpState, token: &str) -> Option<Arc<MpesaB2c>> {
    let b2c = state.services.mpesa_b2c.clone()?;
    b2c.callback_token_matches(token).then_some(b2c)
}

/// Daraja's acknowledgement; anything but 2xx makes it deliver again.
fn accepted() -> Response {
    Json(json!({"ResultCode": 0, "ResultDesc": "Accepted"})).into_response()
}

/// The result of a B2C payment request (the request's ResultURL).
pub async fn result(
    State(state): State<HttpState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    settle(&state, &token, &body, "result", parse_payment_result).await
}

/// The result of a Transaction Status query sent by the payout check job.
pub async fn status(
    State(state): State<HttpState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    settle(&state, &token, &body, "status", parse_status_result).await
}

/// Daraja gave up waiting in its queue. That does not say whether the money moved, so the
/// withdrawal stays PROCESSING and the payout check job asks about it.
pub async fn timeout(
    State(state): State<HttpState>,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    if authorised(&state, &token).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    tracing::warn!(
        reference = parse_timeout(&body).as_deref().unwrap_or("unknown"),
        "M-Pesa B2C request timed out in Daraja's queue; the payout check will ask about it"
    );
    accepted()
}

async fn settle(
    state: &HttpState,
    token: &str,
    body: &[u8],
    kind: &'static str,
    parse: fn(&Value) -> Option<B2cCallback>,
) -> Response {
    if authorised(state, token).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(callback) = serde_json::from_slice::<Value>(body)
        .ok()
        .as_ref()
        .and_then(parse)
    else {
        tracing::warn!(kind, "unreadable M-Pesa B2C callback refused");
        return StatusCode::BAD_REQUEST.into_response();
    };
    // The webhook_events table keeps only provider event ids, and Daraja's results carry none of
    // their own; these fields are the record. The raw body is not logged: it names the recipient.
    tracing::info!(
        kind,
        reference = %callback.reference,
        result_code = ?callback.result_code,
        result_desc = %callback.result_desc,
        outcome = ?callback.outcome,
        "M-Pesa B2C callback"
    );
    let result = match callback.outcome {
        PayoutQuery::Completed { gateway_reference } => {
            PayoutResult::Completed { gateway_reference }
        }
        PayoutQuery::Failed { reason } => PayoutResult::Failed { reason },
        PayoutQuery::StillProcessing => return accepted(),
    };
    match record_result(&state.services, &callback.reference, result).await {
        Ok(changed) => {
            if !changed {
                tracing::info!(reference = %callback.reference, kind, "M-Pesa B2C callback changed nothing (replayed, or nothing PROCESSING by that reference)");
            }
            accepted()
        }
        Err(e) => {
            // Not acknowledged, so Daraja delivers it again; the status query is the backstop.
            tracing::warn!(reference = %callback.reference, error = ?e.message(), "M-Pesa B2C callback not applied");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
