//! Access-token checks, refresh-token rotation with reuse detection, and logout.

use crate::support::*;
use base64::Engine;
use serde_json::json;

const REFRESH: &str = "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken user { id } } }";

#[tokio::test]
async fn refresh_rotates_the_token_pair() {
    let s = TestServer::start().await;
    let first = s.register("rotate@example.com").await;
    let data = s.ok(None, REFRESH, json!({"t": first.refresh})).await;
    let second = Session::from_payload(&data["refreshSession"]);
    assert_ne!(second.refresh, first.refresh);
    assert!(s.ok(second.token(), "{ me { id } }", json!({})).await["me"].is_object());
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let s = TestServer::start().await;
    let first = s.register("reuse@example.com").await;
    let second = Session::from_payload(
        &s.ok(None, REFRESH, json!({"t": first.refresh})).await["refreshSession"],
    );
    let replay = s.err(None, REFRESH, json!({"t": first.refresh})).await;
    assert_eq!(code(&replay), "UNAUTHENTICATED");
    let newest = s.err(None, REFRESH, json!({"t": second.refresh})).await;
    assert_eq!(
        code(&newest),
        "UNAUTHENTICATED",
        "the newest refresh token stops working too"
    );
    let access = s.err(second.token(), "{ me { id } }", json!({})).await;
    assert_eq!(
        code(&access),
        "UNAUTHENTICATED",
        "and so do the family's access tokens"
    );
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_leave_at_most_one_winner() {
    let s = TestServer::start().await;
    let first = s.register("race@example.com").await;
    let (a, b) = tokio::join!(
        s.gql(None, REFRESH, json!({"t": first.refresh})),
        s.gql(None, REFRESH, json!({"t": first.refresh}))
    );
    let wins = [&a, &b]
        .iter()
        .filter(|r| r["data"]["refreshSession"].is_object())
        .count();
    assert!(wins <= 1, "{a} {b}");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let s = TestServer::start().await;
    let session = s.register("logout@example.com").await;
    s.ok(
        None,
        "mutation($t: String!) { logout(refreshToken: $t) }",
        json!({"t": session.refresh}),
    )
    .await;
    assert_eq!(
        code(&s.err(None, REFRESH, json!({"t": session.refresh})).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        code(&s.err(session.token(), "{ me { id } }", json!({})).await),
        "UNAUTHENTICATED"
    );
}

fn forge(claims: serde_json::Value, secret: &[u8], alg: jsonwebtoken::Algorithm) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[tokio::test]
async fn expired_forged_wrong_audience_and_unsigned_tokens_are_refused() {
    let s = TestServer::start().await;
    let session = s.register("tokens@example.com").await;
    let payload = session.access.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    let with = |key: &str, value: serde_json::Value| {
        let mut c = claims.clone();
        c[key] = value;
        c
    };
    let hs = jsonwebtoken::Algorithm::HS256;
    let secret = JWT_SECRET.as_bytes();
    let none_header =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let cases = [
        ("expired", forge(with("exp", json!(now - 10)), secret, hs)),
        (
            "forged",
            forge(claims.clone(), b"some-other-secret-some-other-secret!", hs),
        ),
        (
            "wrong audience",
            forge(with("aud", json!("another-api")), secret, hs),
        ),
        (
            "wrong issuer",
            forge(with("iss", json!("someone")), secret, hs),
        ),
        (
            "wrong type",
            forge(with("typ", json!("refresh")), secret, hs),
        ),
        (
            "HS512",
            forge(claims.clone(), secret, jsonwebtoken::Algorithm::HS512),
        ),
        ("alg none", format!("{none_header}.{payload}.")),
        ("garbage", "not.a.jwt".to_string()),
    ];
    for (name, token) in cases {
        let error = s.err(Some(&token), "{ me { id } }", json!({})).await;
        assert_eq!(code(&error), "UNAUTHENTICATED", "{name}");
    }
    let expired = s
        .err(
            Some(&forge(with("exp", json!(now - 10)), secret, hs)),
            "{ me { id } }",
            json!({}),
        )
        .await;
    assert_eq!(expired["message"], "access token expired");
    assert!(
        s.ok(session.token(), "{ me { id } }", json!({})).await["me"].is_object(),
        "the real token still works"
    );
}

#[tokio::test]
async fn access_tokens_expire_after_fifteen_minutes() {
    let s = TestServer::start().await;
    let session = s.register("ttl@example.com").await;
    s.advance_clock(chrono::Duration::minutes(14));
    assert!(s.ok(session.token(), "{ me { id } }", json!({})).await["me"].is_object());
    s.advance_clock(chrono::Duration::minutes(2));
    assert_eq!(
        code(&s.err(session.token(), "{ me { id } }", json!({})).await),
        "UNAUTHENTICATED"
    );
    let refreshed = s.ok(None, REFRESH, json!({"t": session.refresh})).await;
    assert!(
        refreshed["refreshSession"]["accessToken"].is_string(),
        "the refresh token outlives the access token"
    );
}
