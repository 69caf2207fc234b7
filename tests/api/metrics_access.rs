//! /metrics kept off the public API port (FUNDI_METRICS_BIND) and behind a bearer token (FUNDI_METRICS_TOKEN).

use crate::support::*;

const TOKEN: &str = "scrape-token-0123456789";

#[tokio::test]
async fn metrics_move_to_their_own_address_when_one_is_set() {
    let s = TestServer::start_with(vec![("FUNDI_METRICS_BIND", "127.0.0.1:0".into())]).await;
    let on_api = s.http().get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(
        on_api.status(),
        404,
        "the API port no longer serves metrics"
    );
    let metrics_addr = s
        .server
        .as_ref()
        .unwrap()
        .metrics_addr
        .expect("a metrics listener");
    assert_ne!(metrics_addr, s.server.as_ref().unwrap().addr);
    let scraped = s
        .http()
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(
        scraped
            .text()
            .await
            .unwrap()
            .contains("fundi_http_requests_total")
    );
    let other = s
        .http()
        .post(format!("http://{metrics_addr}/graphql"))
        .json(&serde_json::json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404, "the metrics port serves nothing else");
}

#[tokio::test]
async fn metrics_need_the_bearer_token_when_one_is_set() {
    let s = TestServer::start_with(vec![("FUNDI_METRICS_TOKEN", TOKEN.into())]).await;
    let scrape = |auth: Option<&str>| {
        let mut request = s.http().get(s.url("/metrics"));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };
    for refused in [None, Some("Bearer wrong-token-0123456789"), Some(TOKEN)] {
        let response = scrape(refused).await.unwrap();
        assert_eq!(response.status(), 401, "{refused:?}");
        assert!(response.headers().contains_key("www-authenticate"));
    }
    let allowed = scrape(Some(&format!("Bearer {TOKEN}"))).await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert!(
        allowed
            .text()
            .await
            .unwrap()
            .contains("fundi_http_requests_total")
    );
}
