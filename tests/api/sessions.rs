//! Access-token checks, refresh-token rotation with reuse detection, and logout.

use crate::support::*;
use base64::Engine;
use serde_json::json;

pub const REFRESH: &str = "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken user { id } } }";

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

pub const ME: &str = "{ me { id } }";
pub const LOGOUT: &str = "mutation($t: String!) { logout(refreshToken: $t) }";
pub const CHANGE: &str =
    "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";

/// The session an access token belongs to.
pub fn session_of(s: &TestServer, session: &Session) -> uuid::Uuid {
    let services = s.services();
    services
        .tokens
        .verify(&session.access, services.clock.now())
        .expect("a valid token")
        .sid
}

/// Whether this server answers for `session` from memory now.
pub fn cached(s: &TestServer, session: &Session) -> bool {
    let services = s.services();
    services
        .session_cache
        .serves(session_of(s, session), services.bus.link())
}

pub fn refused(body: &serde_json::Value) -> bool {
    code(&body["errors"][0]) == "UNAUTHENTICATED"
}

#[tokio::test]
async fn a_session_is_checked_in_the_database_once_then_from_memory() {
    let s = TestServer::start().await;
    let session = s.register("cached@example.com").await;
    let (_, first) = counted(&s, session.token(), ME, json!({})).await;
    assert!(cached(&s, &session));
    let (body, second) = counted(&s, session.token(), ME, json!({})).await;
    assert_eq!(body["data"]["me"]["id"], session.user_id.as_str(), "{body}");
    assert_eq!(
        second + 1,
        first,
        "the session check is skipped once cached"
    );
}

#[tokio::test]
async fn with_the_cache_off_every_request_checks_the_database_and_endings_still_hold() {
    let s = TestServer::start_with(vec![("FUNDI_SESSION_CACHE_ENTRIES", "0".into())]).await;
    let session = s.register("uncached@example.com").await;
    let (_, first) = counted(&s, session.token(), ME, json!({})).await;
    let (_, second) = counted(&s, session.token(), ME, json!({})).await;
    assert_eq!(first, second);
    assert!(!cached(&s, &session));
    s.ok(None, LOGOUT, json!({"t": session.refresh})).await;
    assert!(refused(&s.gql(session.token(), ME, json!({})).await));
}

#[tokio::test]
async fn a_cached_session_is_refused_as_soon_as_it_is_logged_out_or_its_refresh_token_reused() {
    let s = TestServer::start().await;
    let out = s.register("cached-logout@example.com").await;
    s.ok(out.token(), ME, json!({})).await;
    assert!(cached(&s, &out));
    s.ok(None, LOGOUT, json!({"t": out.refresh})).await;
    assert!(
        refused(&s.gql(out.token(), ME, json!({})).await),
        "refused by the very next request"
    );

    // Forgotten by the replica that ended it before the call returns, not when the bus brings the
    // news back (the test's runtime runs nothing else until this test awaits again).
    let direct = s.register("cached-direct@example.com").await;
    s.ok(direct.token(), ME, json!({})).await;
    assert!(cached(&s, &direct));
    fundi::services::accounts::sessions::logout(s.services(), &direct.refresh)
        .await
        .unwrap();
    assert!(!cached(&s, &direct));

    let first = s.register("cached-reuse@example.com").await;
    let second = Session::from_payload(
        &s.ok(None, REFRESH, json!({"t": first.refresh})).await["refreshSession"],
    );
    s.ok(second.token(), ME, json!({})).await;
    assert!(cached(&s, &second));
    s.err(None, REFRESH, json!({"t": first.refresh})).await;
    assert!(refused(&s.gql(second.token(), ME, json!({})).await));
}

#[tokio::test]
async fn a_password_change_refuses_the_other_cached_sessions_at_once() {
    let s = TestServer::start().await;
    let changer = s.register("cached-change@example.com").await;
    let other = Session::from_payload(
        &s.login("cached-change@example.com", PASSWORD).await["data"]["login"],
    );
    for session in [&changer, &other] {
        s.ok(session.token(), ME, json!({})).await;
        assert!(cached(&s, session));
    }
    s.ok(
        changer.token(),
        CHANGE,
        json!({"c": PASSWORD, "n": "a brand new passphrase"}),
    )
    .await;
    assert!(refused(&s.gql(other.token(), ME, json!({})).await));
    assert!(
        s.ok(changer.token(), ME, json!({})).await["me"].is_object(),
        "the session that changed it stays"
    );
}

#[tokio::test]
async fn a_password_reset_refuses_every_cached_session_at_once() {
    let s = TestServer::start().await;
    let session = s.register("cached-reset@example.com").await;
    s.ok(session.token(), ME, json!({})).await;
    assert!(cached(&s, &session));
    s.ok(
        None,
        "mutation($e: String!) { requestPasswordReset(email: $e) }",
        json!({"e": "cached-reset@example.com"}),
    )
    .await;
    let code = s
        .mailed_code("cached-reset@example.com", "Reset your Fundi password")
        .await;
    s.ok(
        None,
        "mutation($input: ResetPasswordInput!) { resetPassword(input: $input) }",
        json!({"input": {"email": "cached-reset@example.com", "code": code, "newPassword": "a fresh long passphrase"}}),
    )
    .await;
    assert!(refused(&s.gql(session.token(), ME, json!({})).await));
}
