//! HTTP surface: routes, middleware (request id, tracing, metrics, body limit, CORS) and their handlers.

pub mod files;
pub mod graphiql;
pub mod graphql;
pub mod health;
pub mod invoices;
pub mod metrics;
pub mod mpesa;
pub mod mpesa_b2c;
pub mod multipart_scan;
pub mod webhooks;
pub mod ws;

use crate::config::Config;
use crate::graphql::FundiSchema;
use crate::graphql::pipeline::persisted_queries::PersistedQueries;
use crate::metrics::Metrics;
use crate::services::Services;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Largest request body accepted on any route, except multipart uploads to POST /graphql.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest multipart request to POST /graphql: two 5 MB documents plus the operation and its map.
pub const MAX_UPLOAD_BODY_BYTES: usize = 11 * 1024 * 1024;
/// Most files in one multipart request.
pub const MAX_UPLOAD_FILES: usize = 2;
/// Largest single file the multipart parser takes. It is a little above the 5 MB document limit on
/// purpose: a file just over the limit then reaches the service, whose refusal names the argument.
pub const MAX_UPLOAD_FILE_BYTES: usize =
    crate::services::platform::storage::MAX_DOCUMENT_BYTES + 512 * 1024;
/// Most operations accepted in one batched POST.
pub const MAX_BATCH: usize = 10;

static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone)]
pub struct HttpState {
    pub schema: FundiSchema,
    pub services: Services,
    pub metrics: Metrics,
    pub config: Arc<Config>,
    pub shutdown: CancellationToken,
    /// Shared with the schema's pipeline: GET resolves persisted queries before choosing to run them.
    pub persisted: Arc<PersistedQueries>,
    /// Open WebSockets per account on this replica.
    pub sockets: Arc<ws::AccountSockets>,
}

pub fn router(state: HttpState) -> Router {
    let cors = cors(&state.config);
    Router::new()
        .route("/graphql", get(ws::graphql_get))
        .route("/graphql/ws", get(ws::upgrade))
        .route(graphiql::ASSET_ROUTE, get(graphiql::asset))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::on_api_port))
        .route("/files/kyc/{document_id}", get(files::kyc_document))
        .route("/files/chat/{message_id}", get(files::chat_attachment))
        .route("/invoices/{file}", get(invoices::pdf))
        .route("/webhooks/stripe", post(webhooks::stripe))
        .route("/webhooks/razorpay", post(webhooks::razorpay))
        .route("/webhooks/mpesa/{token}", post(mpesa::callback))
        .route("/webhooks/mpesa/{token}/b2c/result", post(mpesa_b2c::result))
        .route("/webhooks/mpesa/{token}/b2c/status", post(mpesa_b2c::status))
        .route("/webhooks/mpesa/{token}/b2c/timeout", post(mpesa_b2c::timeout))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // Added after the limit layers, so they do not cover it: POST /graphql bounds its own body,
        // 1 MB for JSON and more for multipart uploads.
        .route("/graphql", post(graphql::post_graphql))
        .layer(middleware::from_fn_with_state(state.clone(), record_metrics))
        .layer(compression())
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            // The path only: query strings can carry variables, and variables can carry secrets.
            // Secret path segments (the M-Pesa callback token) are redacted before the span holds them.
            let id = request.headers().get(&REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("-");
            let path = crate::telemetry::redact::path(request.uri().path());
            let span = tracing::info_span!("request", method = %request.method(), path = %path, request_id = %id);
            crate::telemetry::otlp::continue_trace(&span, request.headers());
            span
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER.clone(), MakeRequestUuid))
        .with_state(state)
}

fn cors(config: &Config) -> CorsLayer {
    let origins = if config.cors_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            config
                .cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(CLIENT_HEADERS.map(HeaderName::from_static))
        .expose_headers([REQUEST_ID_HEADER.clone()])
        .max_age(config.cors_max_age)
}

/// Request headers browsers may send: what GraphQL clients (Apollo, urql, graphql-request) and
/// tracing libraries add to every request.
const CLIENT_HEADERS: [&str; 10] = [
    "authorization",
    "content-type",
    "accept",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "traceparent",
    "tracestate",
    "x-request-id",
];

/// Smallest response worth compressing: below it the encoding overhead outweighs the savings.
const COMPRESS_ABOVE_BYTES: u16 = 1024;

/// gzip, Brotli or zstd as the client's Accept-Encoding prefers, for anything but images and streams.
fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new().compress_when(
        SizeAbove::new(COMPRESS_ABOVE_BYTES)
            .and(NotForContentType::IMAGES)
            .and(NotForContentType::SSE)
            .and(NotForContentType::GRPC),
    )
}

/// The request id set by the request-id layer, for error messages and logs.
pub fn request_id(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string()
}

async fn record_metrics(State(state): State<HttpState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    state
        .metrics
        .http_requests
        .with_label_values(&[method.as_str(), route.as_str(), status.as_str()])
        .inc();
    state
        .metrics
        .http_latency
        .with_label_values(&[route.as_str()])
        .observe(started.elapsed().as_secs_f64());
    response
}
