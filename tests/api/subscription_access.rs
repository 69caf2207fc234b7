//! Subscriptions re-check the viewer's right on every event: whoever stops taking part in a booking
//! stops receiving it, on a socket that is already open.

use crate::booking_fixtures::*;
use crate::chat::{job, ok_send, text};
use crate::fixtures::{NAIROBI, ready};
use crate::support::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

fn booking_subscriptions(booking: &Value) -> Vec<(&'static str, String)> {
    let id = booking.as_str().unwrap();
    vec![
        (
            "chat",
            format!(r#"subscription {{ messageAdded(bookingId: "{id}") {{ body }} }}"#),
        ),
        (
            "events",
            format!(
                r#"subscription {{ chatEvents(bookingId: "{id}") {{ __typename ... on MessageAddedEvent {{ message {{ body }} }} }} }}"#
            ),
        ),
        (
            "updates",
            format!(
                r#"subscription {{ bookingUpdated(id: "{id}") {{ kind booking {{ status address }} }} }}"#
            ),
        ),
        (
            "location",
            format!(r#"subscription {{ technicianLocation(bookingId: "{id}") {{ lat lng }} }}"#),
        ),
    ]
}

async fn open(s: &TestServer, who: &Session, subscriptions: &[(&'static str, String)]) -> WsClient {
    outbox_drained(s).await;
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    assert_eq!(ws.init(who.token()).await["type"], "connection_ack");
    for (id, query) in subscriptions {
        ws.subscribe(id, query).await;
    }
    ws
}

/// The booking's technician withdraws; another technician nearby keeps the job (and its chat) alive.
async fn withdraw(s: &TestServer, tech: &Session, booking: &Value, tag: &str) {
    ready(s, &format!("{tag}-next@example.com"), NAIROBI, json!({})).await;
    let answer = step(s, tech, booking, "REJECTED", None).await;
    assert!(answer["errors"].is_null(), "{answer}");
}

/// Reads until every subscription in `ids` has ended; returns what each received, in order.
async fn until_ended(ws: &mut WsClient, ids: &[&str]) -> HashMap<String, Vec<Value>> {
    let mut seen: HashMap<String, Vec<Value>> = HashMap::new();
    let mut open: Vec<&str> = ids.to_vec();
    while !open.is_empty() {
        let message = ws
            .next_json(Duration::from_secs(10))
            .await
            .expect("socket open");
        let id = message["id"].as_str().unwrap_or_default().to_string();
        match message["type"].as_str() {
            Some("next") => seen.entry(id).or_default().push(message["payload"].clone()),
            Some("complete") => open.retain(|o| *o != id),
            _ => {}
        }
    }
    seen
}

#[tokio::test]
async fn a_technician_who_rejects_the_job_stops_receiving_everything_about_it() {
    let s = TestServer::start().await;
    let job = job(&s, "leaver-job").await;
    let metrics = s.server.as_ref().unwrap().metrics.clone();
    let subscriptions = booking_subscriptions(&job.booking);
    let mut tech = open(&s, &job.tech.session, &subscriptions).await;
    let mut customer = open(&s, &job.customer, &subscriptions[..1]).await;
    wait_until(Duration::from_secs(5), || {
        metrics.open_subscriptions.get() == 5
    })
    .await;

    withdraw(&s, &job.tech.session, &job.booking, "leaver").await;
    ok_send(
        &s,
        &job.customer,
        &job.booking,
        text("gate code 4411", None),
    )
    .await;
    // The customer still takes part, and receives it.
    loop {
        let mine = customer.next_payload(Duration::from_secs(10)).await;
        assert!(mine["errors"].is_null(), "{mine}");
        if mine["data"]["messageAdded"]["body"] == "gate code 4411" {
            break;
        }
    }

    let ids: Vec<&str> = subscriptions.iter().map(|(id, _)| *id).collect();
    let seen = until_ended(&mut tech, &ids).await;
    for id in ids {
        let payloads = &seen[id];
        let last = payloads.last().expect("an error ends the stream");
        assert_eq!(code(&last["errors"][0]), "NOT_FOUND", "{id}: {payloads:?}");
        assert!(
            !format!("{payloads:?}").contains("gate code"),
            "{id} delivered the customer's message after the rejection: {payloads:?}"
        );
        assert!(
            payloads.iter().all(|p| p["errors"].is_array()),
            "{id} delivered an event after the rejection: {payloads:?}"
        );
    }
}

#[tokio::test]
async fn a_technician_who_rejects_the_job_produces_no_delivery_receipts() {
    let s = TestServer::start().await;
    let job = job(&s, "receipts-job").await;
    let metrics = s.server.as_ref().unwrap().metrics.clone();
    let subscriptions = booking_subscriptions(&job.booking);
    let mut tech = open(&s, &job.tech.session, &subscriptions[..1]).await;
    wait_until(Duration::from_secs(5), || {
        metrics.open_subscriptions.get() == 1
    })
    .await;
    withdraw(&s, &job.tech.session, &job.booking, "receipts").await;
    let sent = ok_send(
        &s,
        &job.customer,
        &job.booking,
        text("are you coming?", None),
    )
    .await;
    until_ended(&mut tech, &["chat"]).await;
    fundi::services::chat::delivery::flush(s.services()).await;
    let history = s
        .ok(
            job.customer.token(),
            "query($b: ID!) { messages(bookingId: $b, last: 5) { edges { node { id deliveryState } } } }",
            json!({"b": job.booking}),
        )
        .await;
    let edges = history["messages"]["edges"].as_array().unwrap();
    let mine = edges
        .iter()
        .find(|e| e["node"]["id"] == sent["id"])
        .expect("sent message");
    assert_eq!(mine["node"]["deliveryState"], "SENT", "{history}");
}

/// Writes the booking as a change on another replica would leave it (its technician gone, the
/// version moved on) without that change's event, which is still on its way; returns the new version.
async fn removed_behind_the_bus(s: &TestServer, booking: uuid::Uuid) -> i32 {
    use fundi::db::entities::booking;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
    let db = &s.services().db;
    let row = booking::Entity::find_by_id(booking)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let version = row.version + 1;
    let mut changed: booking::ActiveModel = row.into();
    changed.technician_id = Set(None);
    changed.status = Set(fundi::domain::booking_state::Status::Matching);
    changed.version = Set(version);
    changed.update(db).await.unwrap();
    version
}

#[tokio::test]
async fn an_event_that_overtakes_the_change_removing_the_technician_is_not_delivered_to_them() {
    use fundi::realtime::{BusMessage, Topic};
    use fundi::services::chat::events::{ChatBusEvent, ChatEvent};
    use fundi::services::tracking::positions::TrackingPoint;
    let s = TestServer::start().await;
    let job = job(&s, "overtaken").await;
    let booking = crate::fixtures::uuid_of(job.booking.as_str().unwrap());
    let customer = crate::fixtures::uuid_of(&job.customer.user_id);
    let metrics = s.server.as_ref().unwrap().metrics.clone();
    let subscriptions = booking_subscriptions(&job.booking);
    let watched = [subscriptions[1].clone(), subscriptions[3].clone()];
    let mut tech = open(&s, &job.tech.session, &watched).await;
    wait_until(Duration::from_secs(5), || {
        metrics.open_subscriptions.get() == 2
    })
    .await;

    // A point of their own reaches them, judged on (and leaving) this replica's copy of the booking.
    let share = "mutation($id: ID!, $input: LocationInput!) { shareLocation(bookingId: $id, input: $input) { lat } }";
    let reading = json!({"lat": NAIROBI.0, "lng": NAIROBI.1, "recordedAt": s.services().clock.now().to_rfc3339()});
    s.ok(
        job.tech.session.token(),
        share,
        json!({"id": job.booking, "input": reading}),
    )
    .await;
    let own = tech.next_payload(Duration::from_secs(10)).await;
    assert_eq!(own["data"]["technicianLocation"]["lat"], NAIROBI.0, "{own}");

    // The technician is taken off the job; before that change is heard of here, events produced
    // after it arrive on the booking's other topics: the next technician's position, the customer typing.
    let version = removed_behind_the_bus(&s, booking).await;
    let point = TrackingPoint {
        booking_id: booking,
        lat: -1.3,
        lng: 36.9,
        accuracy_m: None,
        heading_deg: None,
        speed_kmh: None,
        recorded_at: s.services().clock.now(),
        distance_km: 1.0,
        eta_minutes: 5,
        booking_version: version,
    };
    let typing = ChatBusEvent::new(
        version,
        ChatEvent::Typing {
            user_id: customer,
            typing: true,
        },
    );
    let bus = &s.services().bus;
    let location = BusMessage::new(
        Topic::Tracking(booking).key(),
        None,
        serde_json::to_value(&point).unwrap(),
    );
    bus.publish(location).await.unwrap();
    let chat = BusMessage::new(
        Topic::Chat(booking).key(),
        None,
        typing.to_payload().unwrap(),
    );
    bus.publish(chat).await.unwrap();

    // What each subscription says next is the refusal that ends it, not the overtaking event.
    let mut first: HashMap<String, Value> = HashMap::new();
    while first.len() < 2 {
        let message = tech
            .next_json(Duration::from_secs(10))
            .await
            .expect("socket open");
        if message["type"] == "next" {
            let id = message["id"].as_str().unwrap_or_default().to_string();
            first.entry(id).or_insert(message["payload"].clone());
        }
    }
    for (id, payload) in first {
        assert_eq!(
            code(&payload["errors"][0]),
            "NOT_FOUND",
            "{id} delivered an event produced after the technician was removed: {payload}"
        );
    }
}
