//! GraphQL over HTTP against whichever address a server has now (fault tests restart servers), where
//! a request that gets no answer is a value to look at rather than a panic.

use crate::support::{PASSWORD, Session};
use serde_json::{Value, json};
use std::time::Duration;

/// Longer than any request should take here; a request still unanswered then is a hang.
pub const HANG: Duration = Duration::from_secs(20);

/// POSTs one operation; `Err` says why no answer came (connection refused or reset, timeout).
pub async fn post(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: &Value,
) -> Result<Value, String> {
    let mut request = http
        .post(format!("{base}/graphql"))
        .timeout(HANG)
        .json(&json!({"query": query, "variables": variables}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| format!("{e:?}"))?;
    response.json().await.map_err(|e| format!("{e:?}"))
}

/// Runs an operation that must succeed and returns its `data`.
pub async fn ok(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let body = post(http, base, token, query, &variables)
        .await
        .unwrap_or_else(|e| panic!("no answer to {query}: {e}"));
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

pub async fn register(http: &reqwest::Client, base: &str, email: &str, role: &str) -> Session {
    let data = ok(
        http,
        base,
        None,
        "mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken user { id } } }",
        json!({"input": {"email": email, "password": PASSWORD, "fullName": "Fault Tester", "role": role}}),
    )
    .await;
    Session::from_payload(&data["register"])
}

pub async fn login(http: &reqwest::Client, base: &str, email: &str) -> Session {
    let data = ok(
        http,
        base,
        None,
        "mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken user { id } } }",
        json!({"input": {"email": email, "password": PASSWORD}}),
    )
    .await;
    Session::from_payload(&data["login"])
}

/// The first error's code, or None when the answer has no errors.
pub fn error_code(body: &Value) -> Option<&str> {
    body.get("errors")
        .map(|errors| errors[0]["extensions"]["code"].as_str().unwrap_or("<none>"))
}
