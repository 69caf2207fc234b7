//! Notifications: listing with paging and filters, marking read, and privacy by every path including node(id).

use crate::support::*;
use serde_json::json;

const LIST: &str = "query($first: Int, $after: String, $unread: Boolean) {
  notifications(first: $first, after: $after, unreadOnly: $unread) { edges { cursor node { id kind read } } pageInfo { hasNextPage endCursor } }
}";

#[tokio::test]
async fn sign_ins_without_two_factor_notify_and_pages_follow_cursors() {
    let s = TestServer::start().await;
    let session = s.register("notes@example.com").await;
    for _ in 0..3 {
        s.login("notes@example.com", PASSWORD).await;
    }
    let first = s.ok(session.token(), LIST, json!({"first": 2})).await;
    let edges = first["notifications"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    assert_eq!(edges[0]["node"]["kind"], "NEW_SIGN_IN");
    assert_eq!(first["notifications"]["pageInfo"]["hasNextPage"], true);
    let cursor = first["notifications"]["pageInfo"]["endCursor"].clone();
    let second = s
        .ok(session.token(), LIST, json!({"first": 2, "after": cursor}))
        .await;
    let rest = second["notifications"]["edges"].as_array().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(second["notifications"]["pageInfo"]["hasNextPage"], false);
    assert_ne!(rest[0]["node"]["id"], edges[1]["node"]["id"]);
}

#[tokio::test]
async fn marking_read_changes_only_the_viewers_notifications() {
    let s = TestServer::start().await;
    let owner = s.register("owner@example.com").await;
    let other = s.register("other@example.com").await;
    s.login("owner@example.com", PASSWORD).await;
    s.login("other@example.com", PASSWORD).await;
    let mine =
        s.ok(owner.token(), LIST, json!({})).await["notifications"]["edges"][0]["node"]["id"]
            .clone();
    let theirs =
        s.ok(other.token(), LIST, json!({})).await["notifications"]["edges"][0]["node"]["id"]
            .clone();
    let marked = s
        .ok(
            owner.token(),
            "mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }",
            json!({"ids": [mine, theirs]}),
        )
        .await;
    assert_eq!(
        marked["markNotificationsRead"], 1,
        "someone else's id is ignored"
    );
    let unread = s.ok(owner.token(), LIST, json!({"unread": true})).await;
    assert!(
        unread["notifications"]["edges"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let count = s
        .ok(other.token(), "{ unreadNotificationCount }", json!({}))
        .await;
    assert_eq!(count["unreadNotificationCount"], 1);
}

#[tokio::test]
async fn node_finds_own_objects_and_hides_everyone_elses() {
    let s = TestServer::start().await;
    let owner = s.register("node-owner@example.com").await;
    let stranger = s.register("node-stranger@example.com").await;
    s.login("node-owner@example.com", PASSWORD).await;
    let id = s.ok(owner.token(), LIST, json!({})).await["notifications"]["edges"][0]["node"]["id"]
        .clone();
    let query = "query($id: ID!) { node(id: $id) { id ... on Notification { kind } ... on User { email } } }";
    let found = s.ok(owner.token(), query, json!({"id": id})).await;
    assert_eq!(found["node"]["kind"], "NEW_SIGN_IN");
    let hidden = s.err(stranger.token(), query, json!({"id": id})).await;
    assert_eq!(code(&hidden), "NOT_FOUND");
    let user = s
        .err(stranger.token(), query, json!({"id": owner.user_id}))
        .await;
    assert_eq!(
        code(&user),
        "NOT_FOUND",
        "another customer's account is not visible"
    );
    let me = s
        .ok(owner.token(), query, json!({"id": owner.user_id}))
        .await;
    assert_eq!(me["node"]["email"], "node-owner@example.com");
    let anonymous = s.err(None, query, json!({"id": id})).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");
    let garbage = s.err(owner.token(), query, json!({"id": "???"})).await;
    assert_eq!(code(&garbage), "BAD_USER_INPUT");
}
