//! Replicas sharing Redis: an event produced on one server reaches a subscriber on another.

use crate::support::*;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
#[ignore = "needs FUNDI_TEST_REDIS_URL: two server instances sharing one Redis"]
async fn a_subscriber_on_one_instance_receives_what_another_instance_publishes() {
    let redis = require_redis();
    let backend = Arc::new(Backend::new().await);
    let prefix = format!("fundi-test-{}", uuid::Uuid::now_v7().simple());
    let options = || Options { redis_url: Some(redis.clone()), channel_prefix: prefix.clone(), extra: Vec::new() };
    let a = TestServer::start_on(backend.clone(), options()).await;
    let b = TestServer::start_on(backend.clone(), options()).await;
    let session = a.register("replica@example.com").await;
    let mut ws = WsClient::connect(&a.ws_url, "graphql-transport-ws").await;
    ws.init(session.token()).await;
    ws.subscribe("1", "subscription { notificationAdded { kind } }").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let login = b.login("replica@example.com", PASSWORD).await;
    assert!(login["data"]["login"].is_object(), "{login}");
    let payload = ws.next_payload(Duration::from_secs(10)).await;
    assert_eq!(payload["data"]["notificationAdded"]["kind"], "NEW_SIGN_IN", "{payload}");
}
