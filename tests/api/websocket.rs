//! GraphQL over WebSocket: both protocols, the token in connection_init, the init deadline and shutdown.

use crate::support::*;
use serde_json::json;
use std::time::Duration;

const ADDED: &str = "subscription { notificationAdded { kind title } }";

async fn notification_reaches_subscriber(protocol: &'static str) {
    let s = TestServer::start().await;
    let session = s.register("ws@example.com").await;
    let mut ws = WsClient::connect(&s.ws_url, protocol).await;
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
