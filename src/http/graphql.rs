//! GraphQL over HTTP: POST with JSON (single or batched) or multipart uploads, GET for queries and the GraphiQL page, status codes by the spec.

use super::{
    HttpState, MAX_BATCH, MAX_BODY_BYTES, MAX_UPLOAD_BODY_BYTES, MAX_UPLOAD_FILE_BYTES,
    MAX_UPLOAD_FILES, graphiql, request_id,
};
use crate::domain::client_address::TrustedProxies;
use crate::error::REQUEST_ID;
use crate::graphql::accounts::password_guard::HashingBudget;
use crate::graphql::context::RequestAuth;
use crate::graphql::pipeline::cache_policy;
use crate::graphql::pipeline::extensions::{PARSE_FAILED, WritesStarted};
use crate::services::accounts::sessions::ClientInfo;
use crate::services::platform::storage::MAX_DOCUMENT_BYTES;
use async_graphql::http::MultipartOptions;
use async_graphql::parser::types::OperationType;
use async_graphql::{
    BatchRequest, BatchResponse, ParseRequestError, Request, Response as GqlResponse, ServerError,
};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::Arc;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// Which media type the client asked for. With the newer one, requests that fail before
/// execution (unparseable, invalid) get a 4xx status rather than 200.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Json,
    GraphqlResponse,
}

fn flavour(headers: &HeaderMap) -> Flavour {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains(GRAPHQL_RESPONSE_JSON) {
        Flavour::GraphqlResponse
    } else {
        Flavour::Json
    }
}

/// The client's address (from X-Forwarded-For only when the peer is a trusted proxy) and user agent.
pub fn client_info(headers: &HeaderMap, peer: SocketAddr, proxies: &TrustedProxies) -> ClientInfo {
    let forwarded_for = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    ClientInfo {
        ip: Some(proxies.client(peer.ip(), forwarded_for).to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.to_string()),
    }
}

/// Adds the caller's credentials, address, loaders and the HTTP request's one password-check budget
/// (shared by every operation of a batch).
fn with_auth(
    state: &HttpState,
    headers: &HeaderMap,
    peer: SocketAddr,
    request: Request,
    writes: &Arc<WritesStarted>,
    budget: &HashingBudget,
) -> Request {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let request = request
        .data(RequestAuth::from_bearer(
            bearer,
            &state.services,
            client_info(headers, peer, &state.config.abuse.trusted_proxies),
        ))
        .data(writes.clone())
        .data(budget.clone());
    crate::graphql::loaders::attach(request, &state.services)
}

/// An error before anything ran (too big a body or batch, wrong media type), shaped as a GraphQL response.
fn request_error(status: StatusCode, message: &str, flavour: Flavour) -> Response {
    coded_request_error(status, message, "BAD_USER_INPUT", flavour)
}

fn coded_request_error(
    status: StatusCode,
    message: &str,
    code: &str,
    flavour: Flavour,
) -> Response {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    let body = GqlResponse::from_errors(vec![error]);
    json_response(status, &BatchResponse::Single(body), flavour)
}

fn json_response(status: StatusCode, body: &BatchResponse, flavour: Flavour) -> Response {
    let content_type = match flavour {
        Flavour::GraphqlResponse => GRAPHQL_RESPONSE_JSON,
        Flavour::Json => "application/json",
    };
    let bytes = match serde_json::to_vec(body) {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(error = %e, "GraphQL response not serialised");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let digest = BodyDigest(hex::encode(&Sha256::digest(&bytes)[..16]));
    let mut response = (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        bytes,
    )
        .into_response();
    response.extensions_mut().insert(digest);
    response
}

/// A response whose errors all came before execution: it has no data and no error has a path.
fn failed_before_execution(response: &GqlResponse) -> bool {
    !response.errors.is_empty()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.path.is_empty())
}

fn status_for(response: &BatchResponse, flavour: Flavour) -> StatusCode {
    match (flavour, response) {
        (Flavour::GraphqlResponse, BatchResponse::Single(single))
            if failed_before_execution(single) =>
        {
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::OK,
    }
}

/// GET answers may be kept by HTTP caches, by the rules of `cache_policy`; POST answers never.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Get,
    Post,
}

/// Runs the batch within the request's time budget. A query still running then is cancelled; a
/// mutation is left to finish, so its effects are whole, while the client is told to retry with its
/// idempotency key.
async fn execute(
    state: &HttpState,
    headers: &HeaderMap,
    batch: BatchRequest,
    writes: Arc<WritesStarted>,
    flavour: Flavour,
    transport: Transport,
) -> Response {
    let schema = state.schema.clone();
    let running = REQUEST_ID.scope(request_id(headers), async move {
        crate::db::stats::measure(schema.execute_batch(batch)).await
    });
    let mut task = tokio::spawn(running);
    let budget = state.config.request_timeout;
    let (response, db) = match tokio::time::timeout(budget, &mut task).await {
        Ok(Ok(done)) => done,
        Ok(Err(failure)) => {
            tracing::error!(request_id = %request_id(headers), error = %failure, "GraphQL execution failed");
            return coded_request_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("internal error (request id {})", request_id(headers)),
                crate::graphql::pipeline::extensions::INTERNAL,
                flavour,
            );
        }
        Err(_) => {
            let writing = writes.get();
            if !writing {
                task.abort();
            }
            return timed_out(budget, writing, flavour);
        }
    };
    let status = status_for(&response, flavour);
    let mut answer = json_response(status, &response, flavour);
    if state.config.server_timing
        && let Ok(value) = HeaderValue::from_str(&db.server_timing())
    {
        answer.headers_mut().insert("server-timing", value);
    }
    if transport == Transport::Get
        && let BatchResponse::Single(single) = &response
    {
        return cacheable(answer, single, headers);
    }
    answer
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    answer
}

fn timed_out(budget: std::time::Duration, writing: bool, flavour: Flavour) -> Response {
    let mut message = format!(
        "the request took longer than its time budget of {} ms",
        budget.as_millis()
    );
    if writing {
        message
            .push_str("; the mutation may still complete: retry it with the same idempotency key");
    }
    coded_request_error(
        StatusCode::GATEWAY_TIMEOUT,
        &message,
        "REQUEST_TIMEOUT",
        flavour,
    )
}

/// Headers caches go by, and 304 when the client already holds this exact answer.
fn cacheable(mut answer: Response, response: &GqlResponse, headers: &HeaderMap) -> Response {
    let policy = if response.errors.is_empty() {
        cache_policy::header_value(&response.cache_control)
    } else {
        cache_policy::header_value(&cache_policy::PRIVATE)
    };
    let vary = HeaderValue::from_static("Authorization, Accept, Accept-Encoding");
    let Ok(cache_control) = HeaderValue::from_str(&policy) else {
        return answer;
    };
    answer
        .headers_mut()
        .insert(header::CACHE_CONTROL, cache_control.clone());
    answer.headers_mut().insert(header::VARY, vary.clone());
    let Some(etag) = answer
        .extensions()
        .get::<BodyDigest>()
        .and_then(|digest| HeaderValue::from_str(&format!("W/\"{}\"", digest.0)).ok())
    else {
        return answer;
    };
    answer.headers_mut().insert(header::ETAG, etag.clone());
    if if_none_match(headers, &etag) {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        let kept = not_modified.headers_mut();
        kept.insert(header::ETAG, etag);
        kept.insert(header::CACHE_CONTROL, cache_control);
        kept.insert(header::VARY, vary);
        return not_modified;
    }
    answer
}

/// Whether `If-None-Match` names this entity tag (weakly compared, as RFC 9110 asks for GET).
fn if_none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(wanted) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let ours = etag.to_str().unwrap_or("").trim_start_matches("W/");
    wanted
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours)
}

/// SHA-256 of a response body as sent before compression, kept for its entity tag.
#[derive(Clone)]
struct BodyDigest(String);

/// Reads at most `limit` bytes of body; a larger one is refused with 413 without reading it all.
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    flavour: Flavour,
) -> Result<Bytes, Response> {
    let too_large = || {
        request_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "the request body is larger than {} MB",
                limit / (1024 * 1024)
            ),
            flavour,
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(too_large()),
        Err(_) => Err(request_error(
            StatusCode::BAD_REQUEST,
            "the request body could not be read",
            flavour,
        )),
    }
}

/// Parses a GraphQL multipart request (operations, map, then the files) with per-file limits.
async fn parse_multipart(
    content_type: &str,
    body: &Bytes,
    flavour: Flavour,
) -> Result<BatchRequest, Response> {
    // Counted before async-graphql stores anything: it writes each file part to a temporary file of
    // its own and never enforces its own file-count option.
    match super::multipart_scan::check(content_type, body, MAX_UPLOAD_FILES).await {
        Ok(()) => {}
        Err(super::multipart_scan::Refusal::TooMany(message)) => {
            return Err(request_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &message,
                flavour,
            ));
        }
        Err(super::multipart_scan::Refusal::Malformed(message)) => {
            return Err(request_error(
                StatusCode::BAD_REQUEST,
                &format!("not a GraphQL multipart request: {message}"),
                flavour,
            ));
        }
    }
    let options = MultipartOptions::default()
        .max_file_size(MAX_UPLOAD_FILE_BYTES)
        .max_num_files(MAX_UPLOAD_FILES);
    async_graphql::http::receive_batch_body(Some(content_type), body.as_ref(), options)
        .await
        .map_err(|e| match e {
            ParseRequestError::PayloadTooLarge => request_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "an uploaded file is too large; at most {MAX_UPLOAD_FILES} files of {} MB each",
                    MAX_DOCUMENT_BYTES / (1024 * 1024)
                ),
                flavour,
            ),
            other => request_error(
                StatusCode::BAD_REQUEST,
                &format!("not a GraphQL multipart request: {other}"),
                flavour,
            ),
        })
}

pub async fn post_graphql(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let flavour = flavour(&headers);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Uploads follow the GraphQL multipart request spec. Tokens travel in the Authorization header,
    // never in cookies, so a cross-site form cannot submit one on a signed-in user's behalf.
    let multipart = content_type.starts_with("multipart/form-data");
    if !multipart
        && !content_type.starts_with("application/json")
        && !content_type.starts_with(GRAPHQL_RESPONSE_JSON)
    {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send GraphQL requests as application/json (or multipart/form-data with files)",
            flavour,
        );
    }
    let limit = if multipart {
        MAX_UPLOAD_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    };
    let body = match read_body(&headers, body, limit, flavour).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let batch: BatchRequest = if multipart {
        match parse_multipart(content_type, &body, flavour).await {
            Ok(batch) => batch,
            Err(refusal) => return refusal,
        }
    } else {
        match serde_json::from_slice(&body) {
            Ok(batch) => batch,
            Err(_) => {
                return request_error(
                    StatusCode::BAD_REQUEST,
                    "the body is not a GraphQL request in JSON",
                    flavour,
                );
            }
        }
    };
    let writes = Arc::new(WritesStarted::default());
    let budget = HashingBudget::default();
    let batch = match batch {
        BatchRequest::Single(request) => {
            BatchRequest::Single(with_auth(&state, &headers, peer, request, &writes, &budget))
        }
        BatchRequest::Batch(requests) if requests.len() > MAX_BATCH => {
            return request_error(
                StatusCode::BAD_REQUEST,
                &format!("at most {MAX_BATCH} operations per batch"),
                flavour,
            );
        }
        BatchRequest::Batch(requests) => BatchRequest::Batch(
            requests
                .into_iter()
                .map(|r| with_auth(&state, &headers, peer, r, &writes, &budget))
                .collect(),
        ),
    };
    execute(&state, &headers, batch, writes, flavour, Transport::Post).await
}

/// The operation a GET request would run, if its document parses: mutations are refused over GET.
fn operation_type(request: &Request) -> Option<OperationType> {
    let document = async_graphql::parser::parse_query(&request.query).ok()?;
    let operations: Vec<_> = document.operations.iter().collect();
    let chosen = match &request.operation_name {
        Some(name) => operations
            .into_iter()
            .find(|(n, _)| n.map(|n| n.as_str()) == Some(name.as_str())),
        None if operations.len() == 1 => operations.into_iter().next(),
        None => None,
    };
    chosen.map(|(_, op)| op.node.ty)
}

/// The GraphQL-over-HTTP query parameters of a GET request.
#[derive(Deserialize)]
struct GetParams {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// Reads `?query=…&operationName=…&variables=…&extensions=…`, the last two as JSON.
fn get_request(uri: &Uri) -> Result<Request, &'static str> {
    let Query(params) = Query::<GetParams>::try_from_uri(uri)
        .map_err(|_| "the query string is not valid GraphQL-over-HTTP parameters")?;
    let json =
        |text: Option<String>, what: &'static str| -> Result<serde_json::Value, &'static str> {
            match text {
                Some(text) => serde_json::from_str(&text).map_err(|_| what),
                None => Ok(serde_json::Value::Null),
            }
        };
    let mut body =
        serde_json::json!({ "query": params.query, "operationName": params.operation_name });
    let variables = json(params.variables, "the variables parameter is not JSON")?;
    if !variables.is_null() {
        body["variables"] = variables;
    }
    let extensions = json(params.extensions, "the extensions parameter is not JSON")?;
    if !extensions.is_null() {
        body["extensions"] = extensions;
    }
    serde_json::from_value(body)
        .map_err(|_| "the variables and extensions parameters must be JSON objects")
}

pub async fn get_graphql(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let flavour = flavour(&headers);
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let mut request = match get_request(&uri) {
        Ok(request) => request,
        Err(why) => {
            return coded_request_error(StatusCode::BAD_REQUEST, why, PARSE_FAILED, flavour);
        }
    };
    let persisted = request.extensions.contains_key("persistedQuery");
    if request.query.is_empty() && !persisted {
        if wants_html {
            if !state.config.introspection {
                return (
                    StatusCode::NOT_FOUND,
                    "GraphiQL is turned off on this server",
                )
                    .into_response();
            }
            return graphiql::page("/graphql", "/graphql").into_response();
        }
        return coded_request_error(
            StatusCode::BAD_REQUEST,
            "GET /graphql needs a query parameter (or a persisted query hash in extensions); open it in a browser for GraphiQL",
            PARSE_FAILED,
            flavour,
        );
    }
    // A hash-only request is looked up first, so a persisted mutation is refused over GET like any other.
    if let Some(text) = state.persisted.known_text(&request).await {
        request.query = text.to_string();
    }
    if matches!(
        operation_type(&request),
        Some(OperationType::Mutation | OperationType::Subscription)
    ) {
        let mut response = request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations must be sent with POST",
            flavour,
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let writes = Arc::new(WritesStarted::default());
    let budget = HashingBudget::default();
    let request = with_auth(&state, &headers, peer, request, &writes, &budget);
    execute(
        &state,
        &headers,
        BatchRequest::Single(request),
        writes,
        flavour,
        Transport::Get,
    )
    .await
}
