//! What GraphQL tools and client libraries rely on: the standard introspection query, request-level
//! error codes, persisted queries, compression, HTTP caching, CORS, bounded metrics, field order and
//! cost limits that hold before anything runs.

use crate::fixtures::*;
use crate::support::*;
use futures_util::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// graphql-js `getIntrospectionQuery({ descriptions, specifiedByUrl, directiveIsRepeatable,
/// schemaDescription, inputValueDeprecation })`, as GraphiQL, codegen and IDE plugins send it.
const INTROSPECTION: &str = include_str!("introspection.graphql");

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

async fn post_raw(s: &TestServer, body: Value, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = s.http().post(s.url("/graphql")).json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_standard_introspection_query_is_answered_at_the_default_limits() {
    let s = TestServer::start().await;
    let body = s.gql(None, INTROSPECTION, json!({})).await;
    assert!(body["errors"].is_null(), "{}", body["errors"]);
    let schema = &body["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "QueryRoot");
    let types = schema["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Booking"));
    assert!(!schema["directives"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn fragments_that_double_at_every_level_are_refused_before_validation() {
    let s = TestServer::start().await;
    let mut query = String::from("query { ...F29 }\nfragment F0 on QueryRoot { __typename }\n");
    for n in 1..=29 {
        query.push_str(&format!(
            "fragment F{n} on QueryRoot {{ ...F{p} a: __typename ...F{p} }}\n",
            p = n - 1
        ));
    }
    let body = s.gql(None, &query, json!({})).await;
    assert_eq!(
        code(&body["errors"][0]),
        "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("fragments are expanded")
    );
    let health = s.http().get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn request_errors_carry_a_code_clients_can_branch_on() {
    let s = TestServer::start().await;
    let cases = [
        ("{ me { ", json!({}), "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
        (
            "query($id: ID!) { booking(id: $id) { id } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "query($n: Int) { notifications(first: $n) { edges { cursor } } }",
            json!({"n": "many"}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "query A { __typename } query B { __typename }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ];
    for (query, variables, expected) in cases {
        let body = s.gql(None, query, variables).await;
        assert_eq!(code(&body["errors"][0]), expected, "{query}: {body}");
    }
    let body = s.gql(None, "{ me { id } }", json!({})).await;
    assert_eq!(code(&body["errors"][0]), "UNAUTHENTICATED");
    // A syntax error reads as one sentence; where it is comes in `locations`.
    let body = s.gql(None, "{ me { ", json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("syntax error: ") && !message.contains('\n'),
        "{message}"
    );
    assert!(body["errors"][0]["locations"].is_array());
}

#[tokio::test]
async fn get_without_a_query_is_a_clear_400_unless_a_browser_asks_for_graphiql() {
    let s = TestServer::start().await;
    let response = s.http().get(s.url("/graphql")).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body["errors"][0]), "GRAPHQL_PARSE_FAILED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("needs a query")
    );
    let page = s.graphiql().await;
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn get_honours_operation_name_and_variables() {
    let s = TestServer::start().await;
    let response = s
        .http()
        .get(s.url("/graphql"))
        .query(&[
            (
                "query",
                "query A { __typename } query B($named: Boolean!) { serviceCategories { slug name @include(if: $named) } }",
            ),
            ("operationName", "B"),
            ("variables", r#"{"named": true}"#),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert!(
        body["data"]["serviceCategories"][0]["name"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn automatic_persisted_queries_register_and_hit_over_post_and_get() {
    let s = TestServer::start().await;
    let query = "{ serviceCategories { slug } }";
    let extension = json!({"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}});

    let miss = s.post_json(json!({"extensions": extension})).await;
    assert_eq!(code(&miss["errors"][0]), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(miss["errors"][0]["message"], "PersistedQueryNotFound");

    let registered = s
        .post_json(json!({"query": query, "extensions": extension}))
        .await;
    assert!(
        registered["data"]["serviceCategories"].is_array(),
        "{registered}"
    );

    let hit = s.post_json(json!({"extensions": extension})).await;
    assert_eq!(hit["data"], registered["data"]);

    let over_get: Value = s
        .http()
        .get(s.url("/graphql"))
        .query(&[("extensions", extension.to_string())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_get["data"], registered["data"]);

    let wrong = s
        .post_json(json!({"query": "{ __typename }", "extensions": extension}))
        .await;
    assert_eq!(code(&wrong["errors"][0]), "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_persisted_mutation_is_refused_over_get() {
    let s = TestServer::start().await;
    let mutation = "mutation { logout(refreshToken: \"x\") }";
    let extension = json!({"persistedQuery": {"version": 1, "sha256Hash": sha256(mutation)}});
    s.post_json(json!({"query": mutation, "extensions": extension}))
        .await;
    let response = s
        .http()
        .get(s.url("/graphql"))
        .query(&[("extensions", extension.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn persisted_queries_can_be_turned_off() {
    let s = TestServer::start_with(vec![("FUNDI_PERSISTED_QUERIES", "0".into())]).await;
    let query = "{ __typename }";
    let body = s
        .post_json(json!({
            "query": query,
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}},
        }))
        .await;
    assert_eq!(code(&body["errors"][0]), "PERSISTED_QUERY_NOT_SUPPORTED");
}

#[tokio::test]
#[ignore = "needs FUNDI_TEST_REDIS_URL: two server instances sharing one Redis"]
async fn a_query_persisted_on_one_replica_is_found_on_another() {
    let (a, b) = replicas().await;
    let query = "{ serviceCategories { name } }";
    let extension = json!({"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}});
    let registered = a
        .post_json(json!({"query": query, "extensions": extension}))
        .await;
    assert!(registered["data"]["serviceCategories"].is_array());
    let hit = b.post_json(json!({"extensions": extension})).await;
    assert_eq!(hit["data"], registered["data"], "{hit}");
}

#[tokio::test]
async fn responses_are_compressed_as_the_client_accepts() {
    let s = TestServer::start().await;
    let plain = post_raw(&s, json!({"query": INTROSPECTION}), &[]).await;
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_len = plain.bytes().await.unwrap().len();
    for encoding in ["gzip", "br", "zstd"] {
        let response = post_raw(
            &s,
            json!({"query": INTROSPECTION}),
            &[("accept-encoding", encoding)],
        )
        .await;
        assert_eq!(response.headers()["content-encoding"], encoding);
        let compressed = response.bytes().await.unwrap().len();
        assert!(
            compressed * 4 < plain_len,
            "{encoding}: {compressed} of {plain_len}"
        );
    }
    // Tiny answers are not worth it.
    let small = post_raw(
        &s,
        json!({"query": "{ __typename }"}),
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert!(small.headers().get("content-encoding").is_none());
    // GraphiQL's bundle too.
    let page = s.graphiql().await.text().await.unwrap();
    let script = page
        .split("/graphiql/")
        .filter_map(|rest| rest.split('"').next())
        .find(|file| file.starts_with("graphiql-") && file.ends_with(".js"))
        .unwrap()
        .to_string();
    let asset = s
        .http()
        .get(s.url(&format!("/graphiql/{script}")))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(asset.headers()["content-encoding"], "br");
}

async fn get_query(
    s: &TestServer,
    query: &str,
    token: Option<&str>,
    etag: Option<&str>,
) -> reqwest::Response {
    let mut request = s.http().get(s.url("/graphql")).query(&[("query", query)]);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(etag) = etag {
        request = request.header("if-none-match", etag);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn get_queries_carry_cache_headers_and_revalidate_with_etags() {
    let s = TestServer::start().await;
    let customer = s.register("cache@example.com").await;
    let tech = ready(&s, "cache-tech@example.com", NAIROBI, json!({})).await;

    let catalogue = get_query(&s, "{ serviceCategories { slug } }", None, None).await;
    assert_eq!(catalogue.status(), 200);
    assert_eq!(catalogue.headers()["cache-control"], "public, max-age=300");
    let vary = catalogue.headers()["vary"].to_str().unwrap().to_lowercase();
    for header in ["authorization", "accept", "accept-encoding"] {
        assert!(vary.contains(header), "{vary}");
    }
    let etag = catalogue.headers()["etag"].to_str().unwrap().to_string();
    let again = get_query(&s, "{ serviceCategories { slug } }", None, Some(&etag)).await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert!(again.bytes().await.unwrap().is_empty());
    let other = get_query(&s, "{ serviceCategories { name } }", None, Some(&etag)).await;
    assert_eq!(other.status(), 200);

    let profile = format!("{{ technician(id: \"{}\") {{ fullName }} }}", tech.id);
    let public = get_query(&s, &profile, None, None).await;
    assert_eq!(public.headers()["cache-control"], "public, max-age=60");
    // The same field for a signed-in viewer may show more than the public: private.
    let signed_in = get_query(&s, &profile, customer.token(), None).await;
    assert_eq!(signed_in.headers()["cache-control"], "private, no-store");
    let mine = get_query(&s, "{ me { email } }", customer.token(), None).await;
    assert_eq!(mine.headers()["cache-control"], "private, no-store");
    let mixed = get_query(
        &s,
        "{ serviceCategories { slug } me { id } }",
        customer.token(),
        None,
    )
    .await;
    assert_eq!(mixed.headers()["cache-control"], "private, no-store");

    let posted = post_raw(&s, json!({"query": "{ serviceCategories { slug } }"}), &[]).await;
    assert_eq!(posted.headers()["cache-control"], "no-store");
    assert!(posted.headers().get("etag").is_none());
}

#[tokio::test]
async fn the_cors_preflight_allows_what_graphql_clients_send_and_is_cached() {
    let s = TestServer::start().await;
    let wanted = "authorization, content-type, apollographql-client-name, \
                  apollographql-client-version, apollo-require-preflight, traceparent, tracestate, \
                  x-request-id";
    let response = s
        .http()
        .request(reqwest::Method::OPTIONS, s.url("/graphql"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", wanted)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for header in wanted.split(", ") {
        assert!(allowed.contains(header.trim()), "{header} not in {allowed}");
    }
    assert_eq!(response.headers()["access-control-max-age"], "600");
    let actual = post_raw(
        &s,
        json!({"query": "{ __typename }"}),
        &[("origin", "https://app.example.com")],
    )
    .await;
    let exposed = actual.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(exposed.contains("x-request-id"));
}

#[tokio::test]
async fn operation_metrics_are_labelled_by_root_field_not_by_client_chosen_names() {
    let s = TestServer::start().await;
    for n in 0..100 {
        let name = format!("Op{}{n}", uuid::Uuid::now_v7().simple());
        s.gql(None, &format!("query {name} {{ __typename }}"), json!({}))
            .await;
    }
    s.gql(None, "{ me { ", json!({})).await;
    s.gql(None, "{ noSuchField }", json!({})).await;
    let metrics = s.metrics_text().await;
    let series: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("fundi_graphql_operations_total{"))
        .collect();
    assert!(series.len() <= 3, "{series:#?}");
    assert!(
        metrics.contains(
            r#"fundi_graphql_operations_total{field="__typename",result="ok",type="query"} 100"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains(r#"result="parse_failed""#));
    assert!(metrics.contains(r#"fundi_graphql_operations_total{field="none",result="validation_failed",type="query"} 1"#), "{metrics}");
    assert!(!metrics.contains("Op0"));
}

/// Position of `"key":` in a raw response body.
fn at(body: &str, key: &str) -> usize {
    body.find(&format!("\"{key}\":"))
        .unwrap_or_else(|| panic!("{key} in {body}"))
}

#[tokio::test]
async fn response_fields_follow_the_query_over_http_batches_and_websocket() {
    let s = TestServer::start().await;
    let customer = s.register("order@example.com").await;
    ready(
        &s,
        "order-tech@example.com",
        north_of(NAIROBI, 1.0),
        json!({}),
    )
    .await;
    // `technician` goes through a loader and finishes last; it is asked for first.
    let query = "query($input: MatchInput!) { matchTechnicians(input: $input) {
        technician { id fullName } distanceKm etaMinutes score quotedHourlyRate { amountMinor } } }";
    let variables = json!({"input": {"category": "plumbing", "location": {"lat": NAIROBI.0, "lng": NAIROBI.1}, "radiusKm": 20.0}});
    let check = |body: &str| {
        assert!(at(body, "technician") < at(body, "distanceKm"), "{body}");
        assert!(at(body, "distanceKm") < at(body, "etaMinutes"), "{body}");
        assert!(at(body, "etaMinutes") < at(body, "score"), "{body}");
        assert!(at(body, "score") < at(body, "quotedHourlyRate"), "{body}");
        assert!(at(body, "id") < at(body, "fullName"), "{body}");
    };
    let token = format!("Bearer {}", customer.access);
    let single = post_raw(
        &s,
        json!({"query": query, "variables": variables}),
        &[("authorization", &token)],
    )
    .await
    .text()
    .await
    .unwrap();
    check(&single);
    let batch = post_raw(
        &s,
        json!([{"query": "{ __typename }"}, {"query": query, "variables": variables}]),
        &[("authorization", &token)],
    )
    .await
    .text()
    .await
    .unwrap();
    check(&batch);

    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    ws.init(customer.token()).await;
    ws.send(json!({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}))
        .await;
    let raw = loop {
        match ws.socket.next().await.unwrap().unwrap() {
            tokio_tungstenite::tungstenite::Message::Text(text) if text.contains("\"next\"") => {
                break text.to_string();
            }
            _ => continue,
        }
    };
    check(&raw);
}

#[tokio::test]
async fn a_query_over_its_time_budget_is_cancelled_and_answered() {
    let s = TestServer::start_with(vec![("FUNDI_REQUEST_TIMEOUT_MS", "1".into())]).await;
    // A hundred catalogue reads, each its own database round trip: far more than a millisecond.
    let slow: String = (0..100)
        .map(|n| format!("c{n}: serviceCategories {{ slug }} "))
        .collect();
    let response = post_raw(&s, json!({"query": format!("{{ {slow} }}")}), &[]).await;
    assert_eq!(response.status(), 504);
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body["errors"][0]), "REQUEST_TIMEOUT");
    let health = tokio::time::timeout(
        Duration::from_secs(5),
        s.http().get(s.url("/healthz")).send(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(health.status(), 200);
}
