//! GraphQL over WebSocket: both protocols, the token in connection_init, the init deadline and shutdown.

use crate::support::*;
use serde_json::json;
use std::time::Duration;

const ADDED: &str = "subscription { notificationAdded { kind title } }";

async fn notification_reaches_subscriber(protocol: &'static str) {
    notification_reaches_subscriber_at("/graphql/ws", protocol).await;
}

async fn notification_reaches_subscriber_at(path: &str, protocol: &'static str) {
    let s = TestServer::start().await;
    let session = s.register("ws@example.com").await;
    let url = s.url(path).replacen("http://", "ws://", 1);
    let mut ws = WsClient::connect(&url, protocol).await;
    assert_eq!(ws.init(session.token()).await["type"], "connection_ack");
    ws.subscribe("1", ADDED).await;
    // Give the subscription a moment to register before the event is produced.
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.login("ws@example.com", PASSWORD).await;
    let payload = ws.next_payload(Duration::from_secs(10)).await;
    assert_eq!(
        payload["data"]["notificationAdded"]["kind"], "NEW_SIGN_IN",
        "{payload}"
    );
}

#[tokio::test]
async fn notification_added_over_graphql_transport_ws() {
    notification_reaches_subscriber("graphql-transport-ws").await;
}

#[tokio::test]
async fn notification_added_over_the_legacy_graphql_ws_protocol() {
    notification_reaches_subscriber("graphql-ws").await;
}

#[tokio::test]
async fn graphql_transport_ws_is_served_at_the_graphql_url() {
    notification_reaches_subscriber_at("/graphql", "graphql-transport-ws").await;
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_is_served_at_the_graphql_url() {
    notification_reaches_subscriber_at("/graphql", "graphql-ws").await;
}

#[tokio::test]
async fn a_plain_get_on_the_graphql_url_still_answers_queries() {
    let s = TestServer::start().await;
    let response = s
        .http()
        .get(s.url("/graphql?query=%7B__typename%7D"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "QueryRoot", "{body}");
}

#[tokio::test]
async fn a_subscription_without_a_token_is_refused() {
    let s = TestServer::start().await;
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    assert_eq!(ws.init(None).await["type"], "connection_ack");
    ws.subscribe("1", ADDED).await;
    let payload = ws.next_payload(Duration::from_secs(5)).await;
    assert_eq!(
        payload["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{payload}"
    );
}

#[tokio::test]
async fn an_invalid_token_in_connection_init_closes_the_socket() {
    let s = TestServer::start().await;
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    ws.send(json!({"type": "connection_init", "payload": {"authorization": "Bearer forged.token.here"}})).await;
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4403));
}

#[tokio::test]
async fn a_socket_that_never_inits_is_closed_after_ten_seconds() {
    let s = TestServer::start().await;
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    let started = std::time::Instant::now();
    assert_eq!(ws.close_code(Duration::from_secs(15)).await, Some(4408));
    assert!(started.elapsed() >= Duration::from_secs(9));
}

#[tokio::test]
async fn shutdown_closes_sockets_with_1001() {
    let s = TestServer::start().await;
    let session = s.register("bye@example.com").await;
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    ws.init(session.token()).await;
    ws.subscribe("1", ADDED).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopping = tokio::spawn(s.stop());
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(1001));
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("stops within 10 s")
        .unwrap();
}

#[tokio::test]
async fn open_subscriptions_are_counted() {
    let s = TestServer::start().await;
    let session = s.register("gauge@example.com").await;
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    ws.init(session.token()).await;
    ws.subscribe("1", ADDED).await;
    let metrics = s.server.as_ref().unwrap().metrics.clone();
    wait_until(Duration::from_secs(5), || {
        metrics.open_subscriptions.get() == 1
    })
    .await;
    ws.send(json!({"id": "1", "type": "complete"})).await;
    wait_until(Duration::from_secs(5), || {
        metrics.open_subscriptions.get() == 0
    })
    .await;
}

#[tokio::test]
async fn a_message_over_one_megabyte_closes_the_socket() {
    let s = TestServer::start().await;
    let session = s.register("big-frame@example.com").await;
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    ws.init(session.token()).await;
    let query = format!("{{ me {{ id }} }} # {}", "x".repeat(1024 * 1024));
    ws.send(serde_json::json!({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        .await;
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(1009));
}

/// Opens a socket, sends `connection_init` with `payload`, and says whether a subscription works.
async fn subscribes_with_init_payload(s: &TestServer, payload: serde_json::Value) -> bool {
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    ws.send(json!({"type": "connection_init", "payload": payload}))
        .await;
    let ack = ws.next_json(Duration::from_secs(5)).await;
    assert_eq!(
        ack.as_ref().map(|a| a["type"].clone()),
        Some(json!("connection_ack"))
    );
    ws.subscribe("1", "subscription { notificationAdded { kind } }")
        .await;
    ws.send(json!({"id": "2", "type": "subscribe", "payload": {"query": "{ me { email } }"}}))
        .await;
    loop {
        let message = ws.next_json(Duration::from_secs(5)).await.expect("open");
        if message["id"] == "2" && message["type"] == "next" {
            return message["payload"]["data"]["me"]["email"] == "keys@example.com";
        }
        if message["id"] == "1" && message["type"] == "next" {
            return false;
        }
    }
}

#[tokio::test]
async fn connection_init_accepts_the_token_under_every_common_key() {
    let s = TestServer::start().await;
    let token = s.register("keys@example.com").await.access;
    let bearer = format!("Bearer {token}");
    for payload in [
        json!({"authorization": bearer}),
        json!({"Authorization": bearer}),
        json!({"headers": {"Authorization": bearer}}),
        json!({"headers": {"authorization": token}}),
        json!({"authToken": token}),
        json!({"authToken": bearer}),
        json!({"token": token}),
        json!({"token": bearer}),
    ] {
        assert!(
            subscribes_with_init_payload(&s, payload.clone()).await,
            "{payload}"
        );
    }
}

async fn refused_token_closes_with_4403(protocol: &'static str, payload: serde_json::Value) {
    let s = TestServer::start().await;
    let mut ws = WsClient::connect(&s.ws_url, protocol).await;
    ws.send(json!({"type": "connection_init", "payload": payload}))
        .await;
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4403));
}

#[tokio::test]
async fn a_bad_token_under_any_key_closes_the_socket_with_4403() {
    for payload in [
        json!({"token": "forged.token.here"}),
        json!({"authToken": "Bearer nope"}),
        json!({"headers": {"Authorization": "Bearer nope"}}),
        json!({"authorization": 42}),
    ] {
        refused_token_closes_with_4403("graphql-transport-ws", payload).await;
    }
}

#[tokio::test]
async fn the_legacy_protocol_closes_on_a_bad_token_with_4403_too() {
    refused_token_closes_with_4403("graphql-ws", json!({"authorization": "Bearer forged"})).await;
}

#[tokio::test]
async fn an_expired_token_in_connection_init_closes_the_socket_with_4403() {
    let s = TestServer::start().await;
    let token = s.register("late@example.com").await.access;
    s.advance_clock(chrono::Duration::hours(1));
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let mut ws = WsClient::connect(&s.ws_url, protocol).await;
        ws.send(json!({"type": "connection_init", "payload": {"token": token}}))
            .await;
        assert_eq!(
            ws.close_code(Duration::from_secs(5)).await,
            Some(4403),
            "{protocol}"
        );
    }
}

#[tokio::test]
async fn a_token_of_a_logged_out_session_closes_the_socket_with_4403() {
    let s = TestServer::start().await;
    let session = s.register("gone@example.com").await;
    s.ok(
        session.token(),
        "mutation($t: String!) { logout(refreshToken: $t) }",
        json!({"t": session.refresh}),
    )
    .await;
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    ws.send(json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {}", session.access)}}))
        .await;
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4403));
}
