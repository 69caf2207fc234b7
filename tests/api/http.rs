//! GraphQL over HTTP: methods, media types, status codes, limits, GraphiQL, health and metrics.

use crate::support::*;
use serde_json::{Value, json};

#[tokio::test]
async fn a_mutation_over_get_is_405() {
    let s = TestServer::start().await;
    let response = s
        .http()
        .get(s.url("/graphql"))
        .query(&[("query", "mutation { logout(refreshToken: \"x\") }")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
}

#[tokio::test]
async fn queries_run_over_get() {
    let s = TestServer::start().await;
    let session = s.register("get@example.com").await;
    let response = s
        .http()
        .get(s.url("/graphql"))
        .query(&[("query", "{ me { email } }")])
        .bearer_auth(&session.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["me"]["email"], "get@example.com");
}

async fn post_with_accept(s: &TestServer, accept: &str, query: &str) -> (u16, Value) {
    let response = s
        .http()
        .post(s.url("/graphql"))
        .header("accept", accept)
        .json(&json!({"query": query}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn graphql_response_json_gets_400_for_parse_and_validation_errors() {
    let s = TestServer::start().await;
    let modern = "application/graphql-response+json";
    let (status, body) = post_with_accept(&s, modern, "{ me { ").await;
    assert_eq!(status, 400);
    assert_eq!(code(&body["errors"][0]), "GRAPHQL_PARSE_FAILED");
    let (status, body) = post_with_accept(&s, modern, "{ me { noSuchField } }").await;
    assert_eq!(status, 400);
    assert_eq!(code(&body["errors"][0]), "GRAPHQL_VALIDATION_FAILED");
    let (status, body) = post_with_accept(&s, modern, "{ me { id } }").await;
    assert_eq!(status, 200, "an execution error is still 200: {body}");
    let (status, _) = post_with_accept(&s, "application/json", "{ me { ").await;
    assert_eq!(status, 200, "legacy clients keep 200");
}

#[tokio::test]
async fn batches_of_more_than_ten_operations_are_refused() {
    let s = TestServer::start().await;
    let one = json!({"query": "{ __typename }"});
    let response = s
        .http()
        .post(s.url("/graphql"))
        .json(&vec![one.clone(); 11])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = s
        .http()
        .post(s.url("/graphql"))
        .json(&vec![one; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body.as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn bodies_over_one_megabyte_get_413() {
    let s = TestServer::start().await;
    let padding = "x".repeat(1024 * 1024 + 1);
    let body = json!({"query": "{ __typename }", "variables": {"padding": padding}});
    let response = s
        .http()
        .post(s.url("/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn non_json_bodies_are_refused() {
    let s = TestServer::start().await;
    let response = s
        .http()
        .post(s.url("/graphql"))
        .header("content-type", "text/plain")
        .body("{ me { id } }")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let response = s
        .http()
        .post(s.url("/graphql"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn an_over_deep_query_is_refused_but_introspection_is_measured_on_its_own() {
    let s = TestServer::start().await;
    // Depth 13 against the default limit of 12.
    let deep = format!(
        "{{ me {{ {} id {} }} }}",
        "x { ".repeat(11),
        "} ".repeat(11)
    );
    let body = s.gql(None, &deep, json!({})).await;
    assert_eq!(code(&body["errors"][0]), "GRAPHQL_VALIDATION_FAILED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("deep"),
        "{body}"
    );
    // Introspection may nest deeper (graphql-js nests ofType nine levels), up to its own cap.
    let introspection = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(9),
        "} ".repeat(9)
    );
    assert!(s.gql(None, &introspection, json!({})).await["data"]["__schema"].is_object());
    let too_deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(13),
        "} ".repeat(13)
    );
    let body = s.gql(None, &too_deep, json!({})).await;
    assert_eq!(code(&body["errors"][0]), "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test]
async fn page_size_is_capped_at_one_hundred() {
    let s = TestServer::start().await;
    let session = s.register("pages@example.com").await;
    let error = s
        .err(
            session.token(),
            "{ notifications(first: 101) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (code(&error), error["extensions"]["field"].as_str()),
        ("BAD_USER_INPUT", Some("first"))
    );
}

#[tokio::test]
async fn graphiql_is_served_without_a_cdn() {
    let s = TestServer::start().await;
    let page = s.graphiql().await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for cdn in ["unpkg", "jsdelivr", "cdnjs", "https://"] {
        assert!(!html.contains(cdn), "page refers to {cdn}");
    }
    let scripts: Vec<&str> = html
        .split("/graphiql/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert!(!scripts.is_empty());
    for file in scripts {
        let asset = s
            .http()
            .get(s.url(&format!("/graphiql/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(asset.status(), 200, "{file}");
    }
}

#[tokio::test]
async fn graphiql_and_introspection_can_be_turned_off() {
    let backend = std::sync::Arc::new(Backend::new().await);
    let options = Options {
        extra: vec![("FUNDI_INTROSPECTION", "false".into())],
        ..Options::default()
    };
    let s = TestServer::start_on(backend, options).await;
    let page = s.graphiql().await;
    assert_eq!(page.status(), 404);
    let body = s
        .gql(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert!(
        body["data"]["__schema"].is_null(),
        "introspection answers nothing: {body}"
    );
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let s = TestServer::start().await;
    let health = s.http().get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready: Value = s
        .http()
        .get(s.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["database"], "ok");
    s.gql(None, "query Probe { me { id } }", json!({})).await;
    let metrics = s.metrics_text().await;
    assert!(metrics.contains("fundi_http_requests_total"));
    assert!(metrics.contains("fundi_http_request_duration_seconds"));
    assert!(
        metrics.contains(
            r#"fundi_graphql_operations_total{field="me",result="error",type="query"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"fundi_graphql_errors_total{code="UNAUTHENTICATED"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("fundi_graphql_open_subscriptions"));
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let s = TestServer::start().await;
    let response = s.http().get(s.url("/healthz")).send().await.unwrap();
    assert!(response.headers().get("x-request-id").is_some());
}

#[test]
fn schema_graphql_matches_the_printed_schema() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql exists");
    assert!(
        committed == fundi::graphql::sdl(),
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql`"
    );
}
