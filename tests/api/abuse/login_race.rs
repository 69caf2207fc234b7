//! The sign-in throttle holds when attempts arrive together: each is counted before its password is checked.

use crate::support::*;
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn sixty_wrong_passwords_at_once_get_at_most_ten_checks() {
    let s = Arc::new(TestServer::start().await);
    let owner = s.register("raced@example.com").await;
    let attempts = (0..60).map(|_| {
        let s = s.clone();
        tokio::spawn(async move { s.login("raced@example.com", "wrong password!").await })
    });
    let mut checked = 0;
    let mut throttled = 0;
    for attempt in attempts {
        let body = attempt.await.unwrap();
        match code(&body["errors"][0]) {
            "UNAUTHENTICATED" => checked += 1,
            "RATE_LIMITED" => throttled += 1,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(checked <= 10, "{checked} passwords were checked");
    assert_eq!(checked + throttled, 60);
    let history = s
        .ok(
            owner.token(),
            "{ loginHistory(first: 100) { edges { node { failureReason } } } }",
            json!({}),
        )
        .await;
    let wrong = history["loginHistory"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["failureReason"] == "wrong password")
        .count();
    assert!(wrong <= 10, "{wrong} wrong passwords recorded");
    // Locked means locked: the right password waits too.
    let body = s.login("raced@example.com", PASSWORD).await;
    assert_eq!(code(&body["errors"][0]), "RATE_LIMITED", "{body}");
}

#[tokio::test]
async fn a_successful_sign_in_starts_the_count_afresh() {
    let s = TestServer::start().await;
    s.register("fresh@example.com").await;
    for _ in 0..9 {
        s.login("fresh@example.com", "wrong password!").await;
    }
    assert!(s.login("fresh@example.com", PASSWORD).await["data"]["login"].is_object());
    for _ in 0..9 {
        let body = s.login("fresh@example.com", "wrong password!").await;
        assert_eq!(code(&body["errors"][0]), "UNAUTHENTICATED", "{body}");
    }
    assert!(s.login("fresh@example.com", PASSWORD).await["data"]["login"].is_object());
}
