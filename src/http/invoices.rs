//! Invoice PDFs through signed links: `GET /invoices/{id}.pdf?expires=..&sig=..`, the link that
//! `Invoice.pdfUrl` and the customer's invoice email carry.

use super::HttpState;
use super::files::{LinkParams, refusal};
use crate::error::AppError;
use crate::services::money::invoices;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

/// Renders and sends one invoice or credit note. As with file downloads, the signed link is the
/// permission (no token), the answer is never cached, and it is offered as a download.
pub async fn pdf(
    State(state): State<HttpState>,
    Path(file): Path<String>,
    Query(params): Query<LinkParams>,
) -> Response {
    let Some(id) = file
        .strip_suffix(".pdf")
        .and_then(|id| Uuid::parse_str(id).ok())
    else {
        return refusal(StatusCode::NOT_FOUND, "no such invoice");
    };
    let (Some(expires), Some(sig)) = (
        params.expires.and_then(|e| e.parse::<i64>().ok()),
        params.sig,
    ) else {
        return refusal(StatusCode::FORBIDDEN, "this download link is invalid");
    };
    let rendered = match invoices::open_pdf(&state.services, id, expires, &sig).await {
        Ok(rendered) => rendered,
        Err(AppError::Forbidden(message)) => return refusal(StatusCode::FORBIDDEN, &message),
        Err(AppError::NotFound(_)) => return refusal(StatusCode::NOT_FOUND, "no such invoice"),
        Err(e) => {
            tracing::error!(error = ?e, "invoice PDF failed");
            return refusal(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", rendered.filename))
            .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        rendered.bytes,
    )
        .into_response()
}
