//! WebSocket limits: operations per socket, sockets per account, and anonymous sockets that never sign in.

use crate::support::*;
use serde_json::json;
use std::time::Duration;

const ADDED: &str = "subscription { notificationAdded { kind } }";

async fn signed_in(s: &TestServer, session: &Session) -> WsClient {
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    assert_eq!(ws.init(session.token()).await["type"], "connection_ack");
    ws
}

#[tokio::test]
async fn a_socket_holds_at_most_the_configured_number_of_subscriptions() {
    let s = TestServer::start_with(vec![("FUNDI_WS_MAX_SUBSCRIPTIONS", "3".into())]).await;
    let session = s.register("many-subs@example.com").await;
    let mut ws = signed_in(&s, &session).await;
    for id in ["1", "2", "3", "4"] {
        ws.subscribe(id, ADDED).await;
    }
    let refused = ws.next_json(Duration::from_secs(5)).await.expect("open");
    assert_eq!(refused["id"], "4", "{refused}");
    assert_eq!(
        code(&refused["payload"]["errors"][0]),
        "RATE_LIMITED",
        "{refused}"
    );
    let done = ws.next_json(Duration::from_secs(5)).await.expect("open");
    assert_eq!(
        (done["id"].as_str(), done["type"].as_str()),
        (Some("4"), Some("complete"))
    );
    let metrics = s.server.as_ref().unwrap().metrics.clone();
    wait_until(Duration::from_secs(5), || {
        metrics.open_subscriptions.get() == 3
    })
    .await;

    // Completing one makes room for another.
    ws.send(json!({"id": "1", "type": "complete"})).await;
    ws.subscribe("5", ADDED).await;
    wait_until(Duration::from_secs(5), || {
        metrics.open_subscriptions.get() == 3
    })
    .await;
    ws.subscribe("6", ADDED).await;
    let refused = loop {
        let message = ws.next_json(Duration::from_secs(5)).await.expect("open");
        if message["id"] != "1" {
            break message;
        }
    };
    assert_eq!(refused["id"], "6", "{refused}");
    assert_eq!(
        code(&refused["payload"]["errors"][0]),
        "RATE_LIMITED",
        "{refused}"
    );
}

#[tokio::test]
async fn the_default_cap_refuses_the_hundred_and_first_subscription() {
    let s = TestServer::start().await;
    let session = s.register("default-cap@example.com").await;
    let mut ws = signed_in(&s, &session).await;
    for id in 1..=101 {
        ws.subscribe(&id.to_string(), ADDED).await;
    }
    let refused = ws.next_json(Duration::from_secs(5)).await.expect("open");
    assert_eq!(refused["id"], "101", "{refused}");
    assert_eq!(
        code(&refused["payload"]["errors"][0]),
        "RATE_LIMITED",
        "{refused}"
    );
}

#[tokio::test]
async fn a_reused_subscription_id_closes_the_socket_with_4409() {
    let s = TestServer::start().await;
    let session = s.register("dup-id@example.com").await;
    let mut ws = signed_in(&s, &session).await;
    ws.subscribe("1", ADDED).await;
    ws.subscribe("1", ADDED).await;
    assert_eq!(ws.close_code(Duration::from_secs(5)).await, Some(4409));
}

#[tokio::test]
async fn an_account_holds_at_most_the_configured_number_of_sockets() {
    let s = TestServer::start_with(vec![("FUNDI_WS_MAX_SOCKETS_PER_ACCOUNT", "2".into())]).await;
    let session = s.register("many-sockets@example.com").await;
    let other = s.register("other-sockets@example.com").await;
    let first = signed_in(&s, &session).await;
    let _second = signed_in(&s, &session).await;
    let mut third = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    third
        .send(json!({"type": "connection_init", "payload": {"token": session.access}}))
        .await;
    assert_eq!(third.close_code(Duration::from_secs(5)).await, Some(4429));
    // Another account is not affected, and closing a socket frees its place.
    signed_in(&s, &other).await;
    drop(first);
    let mut again = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        again
            .send(json!({"type": "connection_init", "payload": {"token": session.access}}))
            .await;
        match again.next_json(Duration::from_secs(5)).await {
            Some(ack) if ack["type"] == "connection_ack" => break,
            _ => {
                // The first socket's close had not reached the server yet.
                assert!(std::time::Instant::now() < deadline, "no place freed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                again = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
            }
        }
    }
}

#[tokio::test]
async fn an_anonymous_socket_with_nothing_open_is_closed_after_the_init_timeout() {
    let s = TestServer::start().await;
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    assert_eq!(ws.init(None).await["type"], "connection_ack");
    // Public queries still work meanwhile.
    ws.send(json!({"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}}))
        .await;
    assert_eq!(
        ws.next_payload(Duration::from_secs(5)).await["data"]["__typename"],
        "QueryRoot"
    );
    let started = std::time::Instant::now();
    assert_eq!(ws.close_code(Duration::from_secs(15)).await, Some(4401));
    assert!(started.elapsed() >= Duration::from_secs(8));
}
