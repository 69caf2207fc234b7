//! Replicas sharing Redis: an event produced on one server reaches a subscriber on another.

use crate::support::*;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
#[ignore = "needs FUNDI_TEST_REDIS_URL: two server instances sharing one Redis"]
async fn a_subscriber_on_one_instance_receives_what_another_instance_publishes() {
    let (a, b) = replicas().await;
    let session = a.register("replica@example.com").await;
    let mut ws = WsClient::connect(&a.ws_url, "graphql-transport-ws").await;
    ws.init(session.token()).await;
    ws.subscribe("1", "subscription { notificationAdded { kind } }")
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let login = b.login("replica@example.com", PASSWORD).await;
    assert!(login["data"]["login"].is_object(), "{login}");
    let payload = ws.next_payload(Duration::from_secs(10)).await;
    assert_eq!(
        payload["data"]["notificationAdded"]["kind"], "NEW_SIGN_IN",
        "{payload}"
    );
}

#[tokio::test]
#[ignore = "needs FUNDI_TEST_REDIS_URL: Redis cut off and restored through a local proxy"]
async fn events_committed_while_redis_is_down_arrive_when_it_returns() {
    let proxy = Proxy::to_test_redis().await;
    let backend = Arc::new(Backend::new().await);
    let options = Options {
        redis_url: Some(format!("redis://{}", proxy.addr)),
        ..Options::default()
    };
    let s = TestServer::start_on(backend, options).await;
    let session = s.register("outage@example.com").await;
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    ws.init(session.token()).await;
    ws.subscribe("1", "subscription { notificationAdded { kind } }")
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    proxy.cut();
    wait_until(Duration::from_secs(10), || {
        s.services().bus.is_redis_subscribed() == Some(false)
    })
    .await;
    let login = s.login("outage@example.com", PASSWORD).await;
    assert!(
        login["data"]["login"].is_object(),
        "the change commits while Redis is down: {login}"
    );
    let early = tokio::time::timeout(
        Duration::from_millis(700),
        ws.next_payload(Duration::from_secs(1)),
    )
    .await;
    assert!(
        early.is_err(),
        "nothing can be delivered while Redis is away"
    );

    proxy.restore();
    let payload = ws.next_payload(Duration::from_secs(15)).await;
    assert_eq!(
        payload["data"]["notificationAdded"]["kind"], "NEW_SIGN_IN",
        "{payload}"
    );
}

#[tokio::test]
#[ignore = "needs FUNDI_TEST_REDIS_URL: two server instances sharing one Redis"]
async fn a_position_update_on_one_instance_reaches_matching_on_another() {
    use crate::fixtures::*;
    let (a, b) = replicas().await;
    let tech = ready(
        &a,
        "roaming@example.com",
        north_of(NAIROBI, 30.0),
        serde_json::json!({"serviceRadiusKm": 50.0}),
    )
    .await;
    let customer = b.register("watcher@example.com").await;
    // B learns of the technician through the directory event A published when they went available.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while b.services().matching.get(tech.uuid).is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "directory change never reached the other instance"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        matches(&b, &customer, NAIROBI, serde_json::json!({"radiusKm": 5.0}))
            .await
            .is_empty()
    );
    let moved =
        "mutation($lat: Float!, $lng: Float!) { updateLocation(lat: $lat, lng: $lng) { id } }";
    a.ok(
        tech.session.token(),
        moved,
        serde_json::json!({"lat": NAIROBI.0, "lng": NAIROBI.1}),
    )
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found =
            ids(&matches(&b, &customer, NAIROBI, serde_json::json!({"radiusKm": 5.0})).await);
        if found == vec![tech.id.clone()] {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the position never reached the other instance"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
#[ignore = "needs FUNDI_TEST_REDIS_URL: two server instances sharing one Redis"]
async fn a_booking_change_on_one_instance_reaches_its_subscriber_on_another() {
    use crate::fixtures::*;
    use serde_json::json;
    let (a, b) = replicas().await;
    let customer = a.register("replica-booking@example.com").await;
    let tech = ready(&a, "replica-booking-tech@example.com", NAIROBI, json!({})).await;
    let create =
        "mutation($input: ServiceRequestInput!) { createServiceRequest(input: $input) { id } }";
    let input = json!({"input": {"category": "plumbing", "title": "Burst pipe", "address": "1 Moi Avenue",
        "location": {"lat": NAIROBI.0, "lng": NAIROBI.1}, "priority": "URGENT",
        "budgetMin": {"amountMinor": 0, "currency": "KES"}, "budgetMax": {"amountMinor": 500000, "currency": "KES"},
        "estimatedDurationMinutes": 60, "technicianId": tech.id, "idempotencyKey": "replica-booking-1"}});
    let id = a.ok(customer.token(), create, input).await["createServiceRequest"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    crate::booking_fixtures::pay_deposit(&a, &customer, &json!(id)).await;
    let mut ws = WsClient::connect(&b.ws_url, "graphql-transport-ws").await;
    ws.init(customer.token()).await;
    ws.subscribe(
        "1",
        &format!(
            "subscription {{ bookingUpdated(id: \"{id}\") {{ sequence booking {{ status }} }} }}"
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let accept = "mutation($id: ID!) { transitionBooking(id: $id, to: ACCEPTED) { status } }";
    a.ok(tech.session.token(), accept, json!({"id": id})).await;
    loop {
        let payload = ws.next_payload(Duration::from_secs(10)).await;
        let status = payload["data"]["bookingUpdated"]["booking"]["status"].clone();
        if status == "ACCEPTED" {
            break;
        }
        assert_eq!(
            status, "ASSIGNED",
            "only the offer may arrive before the acceptance: {payload}"
        );
    }
}
