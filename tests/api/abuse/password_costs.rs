//! Password and PIN checks cost Argon2 time: one per request, and a per-address allowance that a
//! load balancer's X-Forwarded-For can name only when the balancer is trusted.

use crate::support::*;
use serde_json::{Value, json};
use std::sync::Arc;

const LOGIN: &str =
    "login(input: {email: \"victim@example.com\", password: \"not the password\"}) { accessToken }";

fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| code(e).to_string()).collect())
        .unwrap_or_default()
}

async fn failed_sign_ins(s: &TestServer, session: &Session) -> usize {
    let data = s
        .ok(
            session.token(),
            "{ loginHistory(first: 100) { edges { node { success } } } }",
            json!({}),
        )
        .await;
    data["loginHistory"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["success"] == false)
        .count()
}

async fn post(s: &TestServer, body: Value, forwarded_for: Option<&str>) -> Value {
    let mut request = s.http().post(s.url("/graphql")).json(&body);
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn a_hundred_aliased_logins_in_one_request_check_one_password() {
    let s = TestServer::start().await;
    let victim = s.register("victim@example.com").await;
    let fields: Vec<String> = (0..100).map(|i| format!("a{i}: {LOGIN}")).collect();
    let query = format!("mutation {{ {} }}", fields.join(" "));
    let body = post(&s, json!({ "query": query }), None).await;
    let codes = codes(&body);
    assert_eq!(codes.len(), 100, "{body}");
    assert_eq!(
        codes.iter().filter(|c| *c == "UNAUTHENTICATED").count(),
        1,
        "{body}"
    );
    assert_eq!(
        codes.iter().filter(|c| *c == "RATE_LIMITED").count(),
        99,
        "{body}"
    );
    let refused = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| code(e) == "RATE_LIMITED")
        .unwrap();
    assert!(refused["extensions"]["retryAfterSeconds"].as_i64().unwrap() >= 1);
    assert_eq!(failed_sign_ins(&s, &victim).await, 1);
}

#[tokio::test]
async fn a_batch_of_operations_shares_one_password_check() {
    let s = TestServer::start().await;
    let victim = s.register("victim@example.com").await;
    let operation = json!({ "query": format!("mutation {{ {LOGIN} }}") });
    let batch = Value::Array(vec![operation; 5]);
    let body = post(&s, batch, None).await;
    let answers = body.as_array().expect("a batch answer");
    let codes: Vec<Vec<String>> = answers.iter().map(codes).collect();
    assert_eq!(codes[0], vec!["UNAUTHENTICATED"], "{body}");
    for later in &codes[1..] {
        assert_eq!(later, &vec!["RATE_LIMITED"], "{body}");
    }
    assert_eq!(failed_sign_ins(&s, &victim).await, 1);
}

#[tokio::test]
async fn each_password_operation_is_guarded() {
    let s = TestServer::start().await;
    let session = s.register("guarded@example.com").await;
    let pairs = [
        "changePassword(currentPassword: \"x\", newPassword: \"another long password\")",
        "disableTotp(password: \"x\", code: \"123456\")",
        "enableTotp(code: \"123456\")",
        "resetPassword(input: {email: \"guarded@example.com\", code: \"123456\", newPassword: \"another long password\"})",
    ];
    for field in pairs {
        let query = format!("mutation {{ a: {field} b: {field} }}");
        let body = s.gql(session.token(), &query, json!({})).await;
        let codes = codes(&body);
        assert_eq!(codes.len(), 2, "{field}: {body}");
        assert_eq!(codes[1], "RATE_LIMITED", "{field}: {body}");
        assert_ne!(codes[0], "RATE_LIMITED", "{field}: {body}");
    }
}

#[tokio::test]
async fn password_checks_are_limited_per_client_address() {
    let s = TestServer::start_with(vec![("FUNDI_PASSWORD_CHECKS_PER_MINUTE", "3".into())]).await;
    s.register("victim@example.com").await;
    let login = json!({ "query": format!("mutation {{ {LOGIN} }}") });
    for _ in 0..2 {
        // The registration used one of the three.
        let body = post(&s, login.clone(), None).await;
        assert_eq!(codes(&body), vec!["UNAUTHENTICATED"], "{body}");
    }
    // Without a trusted proxy, X-Forwarded-For is the client's own claim and changes nothing.
    let body = post(&s, login.clone(), Some("198.51.100.7")).await;
    assert_eq!(codes(&body), vec!["RATE_LIMITED"], "{body}");
    let retry = body["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_i64()
        .unwrap();
    assert!((1..=60).contains(&retry), "{body}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_allowance() {
    let s = TestServer::start_with(vec![
        ("FUNDI_PASSWORD_CHECKS_PER_MINUTE", "2".into()),
        ("FUNDI_TRUSTED_PROXIES", "127.0.0.0/8".into()),
    ])
    .await;
    let login = json!({ "query": format!("mutation {{ {LOGIN} }}") });
    for _ in 0..2 {
        let body = post(&s, login.clone(), Some("198.51.100.7")).await;
        assert_eq!(codes(&body), vec!["UNAUTHENTICATED"], "{body}");
    }
    let body = post(&s, login.clone(), Some("198.51.100.7")).await;
    assert_eq!(codes(&body), vec!["RATE_LIMITED"], "{body}");
    // A hop the client wrote itself, left of the proxy's, is not believed.
    let body = post(&s, login.clone(), Some("203.0.113.1, 198.51.100.7")).await;
    assert_eq!(codes(&body), vec!["RATE_LIMITED"], "{body}");
    let body = post(&s, login.clone(), Some("198.51.100.8")).await;
    assert_eq!(codes(&body), vec!["UNAUTHENTICATED"], "{body}");
}

#[tokio::test]
#[ignore = "needs FUNDI_TEST_REDIS_URL: two server instances sharing one Redis"]
async fn replicas_sharing_redis_share_each_address_allowance() {
    let redis = require_redis();
    let backend = Arc::new(Backend::new().await);
    let prefix = format!("fundi-test-{}", uuid::Uuid::now_v7().simple());
    let options = || Options {
        redis_url: Some(redis.clone()),
        channel_prefix: prefix.clone(),
        extra: vec![("FUNDI_PASSWORD_CHECKS_PER_MINUTE", "3".into())],
    };
    let a = TestServer::start_on(backend.clone(), options()).await;
    let b = TestServer::start_on(backend, options()).await;
    let login = json!({ "query": format!("mutation {{ {LOGIN} }}") });
    for server in [&a, &b, &a] {
        let body = post(server, login.clone(), None).await;
        assert_eq!(codes(&body), vec!["UNAUTHENTICATED"], "{body}");
    }
    let body = post(&b, login.clone(), None).await;
    assert_eq!(codes(&body), vec!["RATE_LIMITED"], "{body}");
}
