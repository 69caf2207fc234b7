//! Replicas sharing Redis: a session that ends on one replica is refused by another that had it in
//! memory, within a bounded wait; a replica cut off from Redis checks every session in the database.

use crate::sessions::{CHANGE, LOGOUT, ME, REFRESH, cached, refused};
use crate::support::*;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an ending may take to reach another replica: one publish through Redis, with room for a
/// loaded machine.
const WITHIN: Duration = Duration::from_secs(3);

/// Uses `session` on `server` until it is served from memory there.
async fn cache_on(server: &TestServer, session: &Session) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        server.ok(session.token(), ME, json!({})).await;
        if cached(server, session) {
            return;
        }
        assert!(Instant::now() < deadline, "the session was never cached");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asks `server` with `session` until it is refused; fails past `WITHIN`.
async fn refused_soon(server: &TestServer, session: &Session, what: &str) {
    let started = Instant::now();
    while !refused(&server.gql(session.token(), ME, json!({})).await) {
        assert!(
            started.elapsed() < WITHIN,
            "{what}: still accepted on the other replica after {WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
#[ignore = "needs FUNDI_TEST_REDIS_URL: two server instances sharing one Redis"]
async fn a_session_ended_on_one_replica_is_refused_by_another_that_cached_it() {
    let (a, b) = replicas().await;

    let out = a.register("replica-logout@example.com").await;
    cache_on(&b, &out).await;
    a.ok(None, LOGOUT, json!({"t": out.refresh})).await;
    refused_soon(&b, &out, "logout").await;

    let changer = a.register("replica-change@example.com").await;
    let other = Session::from_payload(
        &b.login("replica-change@example.com", PASSWORD).await["data"]["login"],
    );
    cache_on(&b, &other).await;
    cache_on(&b, &changer).await;
    a.ok(
        changer.token(),
        CHANGE,
        json!({"c": PASSWORD, "n": "a brand new passphrase"}),
    )
    .await;
    refused_soon(&b, &other, "password change").await;
    assert!(
        b.ok(changer.token(), ME, json!({})).await["me"].is_object(),
        "the session that changed the password stays"
    );

    let first = a.register("replica-reuse@example.com").await;
    let second = Session::from_payload(
        &a.ok(None, REFRESH, json!({"t": first.refresh})).await["refreshSession"],
    );
    cache_on(&b, &second).await;
    a.err(None, REFRESH, json!({"t": first.refresh})).await;
    refused_soon(&b, &second, "refresh-token reuse").await;
}

#[tokio::test]
#[ignore = "needs FUNDI_TEST_REDIS_URL: Redis cut off and restored through a local proxy"]
async fn a_replica_cut_off_from_redis_checks_sessions_in_the_database_and_starts_afresh() {
    let redis = require_redis();
    let proxy = Proxy::to_test_redis().await;
    let backend = Arc::new(Backend::new().await);
    let prefix = format!("fundi-test-{}", uuid::Uuid::now_v7().simple());
    let a = TestServer::start_on(
        backend.clone(),
        Options {
            redis_url: Some(redis.clone()),
            channel_prefix: prefix.clone(),
            extra: Vec::new(),
        },
    )
    .await;
    let b = TestServer::start_on(
        backend,
        Options {
            redis_url: Some(format!("redis://{}", proxy.addr)),
            channel_prefix: prefix,
            extra: Vec::new(),
        },
    )
    .await;
    let ended = a.register("cut-off-ended@example.com").await;
    let live = a.register("cut-off-live@example.com").await;
    cache_on(&b, &ended).await;
    cache_on(&b, &live).await;

    proxy.cut();
    wait_until(Duration::from_secs(10), || {
        b.services().bus.is_redis_subscribed() == Some(false)
    })
    .await;
    assert!(
        !cached(&b, &ended) && !cached(&b, &live),
        "nothing is served from memory while endings cannot arrive"
    );
    a.ok(None, LOGOUT, json!({"t": ended.refresh})).await;
    assert!(
        refused(&b.gql(ended.token(), ME, json!({})).await),
        "refused at once: the database is asked"
    );
    assert!(b.ok(live.token(), ME, json!({})).await["me"].is_object());
    assert!(!cached(&b, &live), "and its answer is not kept");

    proxy.restore();
    wait_until(Duration::from_secs(15), || {
        b.services().bus.is_redis_subscribed() == Some(true)
    })
    .await;
    assert!(refused(&b.gql(ended.token(), ME, json!({})).await));
    cache_on(&b, &live).await;
    a.ok(None, LOGOUT, json!({"t": live.refresh})).await;
    refused_soon(&b, &live, "logout after the link came back").await;
}
