//! GraphQL over HTTP: POST with JSON (single or batched) or multipart uploads, GET for queries and the GraphiQL page, status codes by the spec.

use super::{
    HttpState, MAX_BATCH, MAX_BODY_BYTES, MAX_UPLOAD_BODY_BYTES, MAX_UPLOAD_FILE_BYTES,
    MAX_UPLOAD_FILES, graphiql, request_id,
};
use crate::error::REQUEST_ID;
use crate::graphql::context::RequestAuth;
use crate::services::sessions::ClientInfo;
use crate::services::storage::MAX_DOCUMENT_BYTES;
use async_graphql::http::MultipartOptions;
use async_graphql::parser::types::OperationType;
use async_graphql::{
    BatchRequest, BatchResponse, ParseRequestError, Request, Response as GqlResponse, ServerError,
};
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::net::SocketAddr;

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

pub fn client_info(headers: &HeaderMap, peer: SocketAddr) -> ClientInfo {
    ClientInfo {
        ip: Some(peer.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.to_string()),
    }
}

fn with_auth(
    state: &HttpState,
    headers: &HeaderMap,
    peer: SocketAddr,
    request: Request,
) -> Request {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let request = request.data(RequestAuth::from_bearer(
        bearer,
        &state.services,
        client_info(headers, peer),
    ));
    crate::graphql::loaders::attach(request, &state.services)
}

/// An error before anything ran (bad JSON, too big a batch), shaped as a GraphQL response.
fn request_error(status: StatusCode, message: &str, flavour: Flavour) -> Response {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", "BAD_USER_INPUT");
    error.extensions = Some(extensions);
    let body = GqlResponse::from_errors(vec![error]);
    json_response(status, &BatchResponse::Single(body), flavour)
}

fn json_response(status: StatusCode, body: &BatchResponse, flavour: Flavour) -> Response {
    let content_type = match flavour {
        Flavour::GraphqlResponse => GRAPHQL_RESPONSE_JSON,
        Flavour::Json => "application/json",
    };
    let bytes = serde_json::to_vec(body).expect("responses serialise");
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        bytes,
    )
        .into_response()
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

async fn execute(
    state: &HttpState,
    headers: &HeaderMap,
    batch: BatchRequest,
    flavour: Flavour,
) -> Response {
    let response = REQUEST_ID
        .scope(request_id(headers), state.schema.execute_batch(batch))
        .await;
    json_response(status_for(&response, flavour), &response, flavour)
}

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
    body: &[u8],
    flavour: Flavour,
) -> Result<BatchRequest, Response> {
    let options = MultipartOptions::default()
        .max_file_size(MAX_UPLOAD_FILE_BYTES)
        .max_num_files(MAX_UPLOAD_FILES);
    async_graphql::http::receive_batch_body(Some(content_type), body, options)
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
    let batch = match batch {
        BatchRequest::Single(request) => {
            BatchRequest::Single(with_auth(&state, &headers, peer, request))
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
                .map(|r| with_auth(&state, &headers, peer, r))
                .collect(),
        ),
    };
    execute(&state, &headers, batch, flavour).await
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
    let query_string = uri.query().unwrap_or("");
    if wants_html && !query_string.contains("query=") {
        if !state.config.introspection {
            return (
                StatusCode::NOT_FOUND,
                "GraphiQL is turned off on this server",
            )
                .into_response();
        }
        return graphiql::page("/graphql", "/graphql").into_response();
    }
    let request = match async_graphql::http::parse_query_string(query_string) {
        Ok(request) => request,
        Err(_) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                "GET needs ?query=... (and optional variables, operationName)",
                flavour,
            );
        }
    };
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
    let request = with_auth(&state, &headers, peer, request);
    execute(&state, &headers, BatchRequest::Single(request), flavour).await
}
