//! A WebSocket belongs to one session: it closes with 4403 when that session ends (on any replica)
//! or its access token expires, unless the client refreshed the token in-band.

use crate::support::*;
use serde_json::{Value, json};
use std::time::Duration;

const REFRESH: &str = "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken user { id } } }";
const LOGOUT: &str = "mutation($t: String!) { logout(refreshToken: $t) }";
const ADDED: &str = "subscription { notificationAdded { kind } }";

/// A signed-in socket with one subscription open.
async fn bound_socket(s: &TestServer, session: &Session) -> WsClient {
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    assert_eq!(ws.init(session.token()).await["type"], "connection_ack");
    ws.subscribe("1", ADDED).await;
    ws
}

/// Runs `{ me { email } }` over the socket: proof that it is open and still signed in.
async fn me_over(ws: &mut WsClient, id: &str) -> Value {
    let (start, result) = if ws.protocol == "graphql-ws" {
        ("start", "data")
    } else {
        ("subscribe", "next")
    };
    ws.send(json!({"id": id, "type": start, "payload": {"query": "{ me { email } }"}}))
        .await;
    loop {
        let message = ws
            .next_json(Duration::from_secs(5))
            .await
            .expect("socket open");
        if message["id"] == id && message["type"] == result {
            return message["payload"]["data"]["me"]["email"].clone();
        }
    }
}

async fn ping_with(ws: &mut WsClient, payload: Value) {
    ws.send(json!({"type": "ping", "payload": payload})).await;
}

#[tokio::test]
async fn logout_closes_the_sessions_open_socket_with_4403() {
    let s = TestServer::start().await;
    let session = s.register("ws-logout@example.com").await;
    let mut ws = bound_socket(&s, &session).await;
    s.ok(None, LOGOUT, json!({"t": session.refresh})).await;
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4403));
}

#[tokio::test]
async fn a_password_change_closes_the_other_sessions_sockets_only() {
    let s = TestServer::start().await;
    let here = s.register("ws-password@example.com").await;
    let elsewhere =
        Session::from_payload(&s.login("ws-password@example.com", PASSWORD).await["data"]["login"]);
    let mut kept = bound_socket(&s, &here).await;
    let mut ended = bound_socket(&s, &elsewhere).await;
    s.ok(
        here.token(),
        "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }",
        json!({"c": PASSWORD, "n": "another horse battery"}),
    )
    .await;
    assert_eq!(ended.close_code(Duration::from_secs(5)).await, Some(4403));
    assert_eq!(me_over(&mut kept, "2").await, "ws-password@example.com");
}

#[tokio::test]
async fn reusing_a_refresh_token_closes_the_familys_sockets() {
    let s = TestServer::start().await;
    let first = s.register("ws-reuse@example.com").await;
    let second = Session::from_payload(
        &s.ok(None, REFRESH, json!({"t": first.refresh})).await["refreshSession"],
    );
    let mut ws = bound_socket(&s, &second).await;
    s.err(None, REFRESH, json!({"t": first.refresh})).await;
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4403));
}

#[tokio::test]
#[ignore = "needs FUNDI_TEST_REDIS_URL: two server instances sharing one Redis"]
async fn logout_on_one_replica_closes_the_socket_on_another() {
    let (a, b) = replicas().await;
    let session = a.register("ws-replicas@example.com").await;
    let mut ws = bound_socket(&a, &session).await;
    b.ok(None, LOGOUT, json!({"t": session.refresh})).await;
    assert_eq!(ws.close_code(Duration::from_secs(10)).await, Some(4403));
}

#[tokio::test]
async fn an_expired_access_token_closes_the_socket_with_4403() {
    let s = TestServer::start().await;
    let session = s.register("ws-expiry@example.com").await;
    let mut ws = bound_socket(&s, &session).await;
    assert_eq!(me_over(&mut ws, "2").await, "ws-expiry@example.com");
    s.advance_clock(chrono::Duration::minutes(16));
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4403));
}

#[tokio::test]
async fn a_token_refreshed_in_band_keeps_the_socket_open_until_the_new_one_expires() {
    let s = TestServer::start().await;
    let first = s.register("ws-refresh@example.com").await;
    let mut ws = bound_socket(&s, &first).await;
    s.advance_clock(chrono::Duration::minutes(10));
    let second = Session::from_payload(
        &s.ok(None, REFRESH, json!({"t": first.refresh})).await["refreshSession"],
    );
    ping_with(
        &mut ws,
        json!({"authorization": format!("Bearer {}", second.access)}),
    )
    .await;
    // The pong says the new token was taken; keep-alive pings without a token are answered too.
    let pong = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            use futures_util::StreamExt;
            if let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) =
                ws.socket.next().await
            {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "pong" {
                    return value;
                }
            }
        }
    })
    .await
    .expect("pong");
    assert_eq!(pong["type"], "pong");
    // Past the first token's expiry, within the second's.
    s.advance_clock(chrono::Duration::minutes(10));
    assert_eq!(me_over(&mut ws, "2").await, "ws-refresh@example.com");
    // Past the second's.
    s.advance_clock(chrono::Duration::minutes(6));
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4403));
}

#[tokio::test]
async fn a_token_of_another_session_in_a_ping_closes_the_socket() {
    let s = TestServer::start().await;
    let first = s.register("ws-other@example.com").await;
    let other =
        Session::from_payload(&s.login("ws-other@example.com", PASSWORD).await["data"]["login"]);
    let mut ws = bound_socket(&s, &first).await;
    ping_with(&mut ws, json!({"token": other.access})).await;
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4403));
}

#[tokio::test]
async fn the_legacy_protocol_takes_an_in_band_refresh_and_closes_on_logout() {
    let s = TestServer::start().await;
    let first = s.register("ws-legacy@example.com").await;
    let mut ws = WsClient::connect(&s.ws_url, "graphql-ws").await;
    assert_eq!(ws.init(first.token()).await["type"], "connection_ack");
    ws.subscribe("1", ADDED).await;
    s.advance_clock(chrono::Duration::minutes(10));
    let second = Session::from_payload(
        &s.ok(None, REFRESH, json!({"t": first.refresh})).await["refreshSession"],
    );
    ping_with(
        &mut ws,
        json!({"authorization": format!("Bearer {}", second.access)}),
    )
    .await;
    s.advance_clock(chrono::Duration::minutes(10));
    s.ok(None, LOGOUT, json!({"t": second.refresh})).await;
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4403));
}
