//! File downloads through signed links: `GET /files/kyc/{documentId}` and
//! `GET /files/chat/{messageId}`, each with `?expires=..&sig=..`.

use super::HttpState;
use crate::error::AppError;
use crate::error::AppResult;
use crate::services::{chat::messages, platform::storage, technicians::kyc};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

/// A signed link's query: when it expires (Unix seconds) and its signature.
#[derive(Deserialize)]
pub struct LinkParams {
    pub(super) expires: Option<String>,
    pub(super) sig: Option<String>,
}

/// Streams a KYC document. The signed link is the permission, so no token is needed, and the
/// response is never cached and always saved rather than shown inline.
pub async fn kyc_document(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    Query(params): Query<LinkParams>,
) -> Response {
    serve(id, params, |id, expires, sig| async move {
        kyc::open_download(&state.services, id, expires, &sig).await
    })
    .await
}

/// Streams a chat image, on the same terms as KYC documents.
pub async fn chat_attachment(
    State(state): State<HttpState>,
    Path(id): Path<String>,
    Query(params): Query<LinkParams>,
) -> Response {
    serve(id, params, |id, expires, sig| async move {
        messages::open_attachment(&state.services, id, expires, &sig).await
    })
    .await
}

async fn serve<F, Fut>(id: String, params: LinkParams, open: F) -> Response
where
    F: FnOnce(Uuid, i64, String) -> Fut,
    Fut: std::future::Future<Output = AppResult<storage::Download>>,
{
    let Ok(id) = Uuid::parse_str(&id) else {
        return refusal(StatusCode::NOT_FOUND, "no such file");
    };
    let (Some(expires), Some(sig)) = (
        params.expires.and_then(|e| e.parse::<i64>().ok()),
        params.sig,
    ) else {
        return refusal(StatusCode::FORBIDDEN, "this download link is invalid");
    };
    let download = match open(id, expires, sig).await {
        Ok(download) => download,
        Err(AppError::Forbidden(message)) => return refusal(StatusCode::FORBIDDEN, &message),
        Err(AppError::NotFound(_)) => return refusal(StatusCode::NOT_FOUND, "no such file"),
        Err(e) => {
            tracing::error!(error = ?e, "download failed");
            return refusal(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let content_type = HeaderValue::from_str(&download.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", download.filename))
            .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_LENGTH, HeaderValue::from(download.size)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
            // The stored type was decided by sniffing once; browsers must not second-guess it.
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        Body::from_stream(download.body),
    )
        .into_response()
}

/// A refusal says only what kind it is: nothing about the stored object or why the signature failed.
pub(super) fn refusal(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        axum::Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}
