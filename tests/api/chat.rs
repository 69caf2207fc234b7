//! Booking chat: messages, receipts and unread counts, idempotent resends, images, privacy, typing,
//! history by sequence, the SYSTEM timeline, closing and retention.

use crate::booking_fixtures::*;
use crate::fixtures::*;
use crate::support::*;
use futures_util::StreamExt;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::time::Duration;

pub const SEND: &str =
    "mutation($b: ID!, $input: MessageInput!) { sendMessage(bookingId: $b, input: $input) {
  id sequence kind body isStaff senderRole clientMessageId deliveryState sender { fullName }
  location { lat lng } attachment { contentType sizeBytes url } } }";
const HISTORY: &str = "query($b: ID!, $first: Int, $after: String, $last: Int, $before: String, $since: Int) {
  messages(bookingId: $b, first: $first, after: $after, last: $last, before: $before, afterSequence: $since) {
    edges { cursor node { id sequence kind body deliveryState } } pageInfo { hasNextPage hasPreviousPage } } }";
const CONVERSATION: &str = "query($b: ID!) { conversation(bookingId: $b) { open closesAt lastSequence unreadCount } unreadMessageCount }";
const READ: &str = "mutation($b: ID!, $m: ID!) { markMessagesRead(bookingId: $b, upToMessageId: $m) { unreadCount } }";
const TYPING: &str = "mutation($b: ID!, $t: Boolean!) { setTyping(bookingId: $b, typing: $t) }";

pub const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
];

pub fn text(body: &str, client_id: Option<&str>) -> Value {
    json!({"kind": "TEXT", "body": body, "clientMessageId": client_id})
}

pub async fn send(s: &TestServer, who: &Session, booking: &Value, input: Value) -> Value {
    s.gql(who.token(), SEND, json!({"b": booking, "input": input}))
        .await
}

pub async fn ok_send(s: &TestServer, who: &Session, booking: &Value, input: Value) -> Value {
    let answer = send(s, who, booking, input).await;
    assert!(answer["errors"].is_null(), "{answer}");
    answer["data"]["sendMessage"].clone()
}

/// A customer and a technician with an accepted booking between them.
pub struct Job {
    pub customer: Session,
    pub tech: Tech,
    pub booking: Value,
}

pub async fn job(s: &TestServer, tag: &str) -> Job {
    let tech = ready(s, &format!("{tag}-tech@example.com"), NAIROBI, json!({})).await;
    let customer = s.register(&format!("{tag}-customer@example.com")).await;
    let booking = accepted_booking(s, &customer, &tech, tag, chrono::Duration::days(3)).await;
    Job {
        customer,
        tech,
        booking: booking["id"].clone(),
    }
}

pub async fn staff(s: &TestServer, email: &str, role: fundi::domain::account::Role) -> Session {
    fundi::services::accounts::account::create_staff(
        s.services(),
        email,
        PASSWORD,
        "Staff Member",
        role,
    )
    .await
    .unwrap();
    Session::from_payload(&s.login(email, PASSWORD).await["data"]["login"])
}

async fn history(s: &TestServer, who: &Session, booking: &Value, args: Value) -> Value {
    let mut variables = json!({"b": booking});
    for (k, v) in args.as_object().cloned().unwrap_or_default() {
        variables[k] = v;
    }
    s.ok(who.token(), HISTORY, variables).await["messages"].clone()
}

fn bodies(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["body"].as_str().unwrap_or("").to_string())
        .collect()
}

fn sequences(page: &Value) -> Vec<i64> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["sequence"].as_i64().unwrap())
        .collect()
}

pub async fn chat_events(s: &TestServer, who: &Session, booking: &Value) -> WsClient {
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    ws.init(who.token()).await;
    ws.subscribe(
        "chat",
        &format!(
            "subscription {{ chatEvents(bookingId: \"{}\") {{ __typename
              ... on MessageAddedEvent {{ message {{ sequence body kind }} }}
              ... on MessagesDelivered {{ userId upToSequence }}
              ... on MessagesRead {{ userId upToSequence }}
              ... on TypingStarted {{ userId expiresAt }}
              ... on TypingStopped {{ userId }} }} }}",
            booking.as_str().unwrap()
        ),
    )
    .await;
    // Let the subscription reach the bus before anything is published.
    tokio::time::sleep(Duration::from_millis(200)).await;
    ws
}

/// The next chat event of the given type, skipping others.
pub async fn next_event(ws: &mut WsClient, typename: &str) -> Value {
    next_event_where(ws, typename, |_| true).await
}

/// The next chat event of the given type that `wanted` accepts, skipping others.
pub async fn next_event_where(
    ws: &mut WsClient,
    typename: &str,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    loop {
        let payload = ws.next_payload(Duration::from_secs(10)).await;
        let event = payload["data"]["chatEvents"].clone();
        assert!(!event.is_null(), "{payload}");
        if event["__typename"] == typename && wanted(&event) {
            return event;
        }
    }
}

/// The next message a person wrote; the SYSTEM lines of the job's earlier moves may still be
/// arriving from the outbox when a test subscribes.
pub async fn next_written_message(ws: &mut WsClient) -> Value {
    next_event_where(ws, "MessageAddedEvent", |e| {
        e["message"]["kind"] != "SYSTEM"
    })
    .await
}

#[tokio::test]
async fn participants_chat_with_receipts_and_unread_counts() {
    let s = TestServer::start().await;
    let j = job(&s, "chat-happy").await;
    let mut tech_feed = chat_events(&s, &j.tech.session, &j.booking).await;
    let mut customer_feed = chat_events(&s, &j.customer, &j.booking).await;

    let sent = ok_send(
        &s,
        &j.tech.session,
        &j.booking,
        text("On my way at 10", None),
    )
    .await;
    assert_eq!(sent["kind"], "TEXT");
    assert_eq!(sent["senderRole"], "TECHNICIAN");
    assert_eq!(sent["isStaff"], false);
    assert_eq!(sent["deliveryState"], "SENT");
    let seq = sent["sequence"].as_i64().unwrap();

    let added = next_written_message(&mut customer_feed).await;
    assert_eq!(added["message"]["body"], "On my way at 10");
    assert_eq!(added["message"]["sequence"], seq);
    // The customer's subscription received it: the technician hears it was delivered.
    let delivered = next_event_where(&mut tech_feed, "MessagesDelivered", |e| {
        e["upToSequence"].as_i64() >= Some(seq)
    })
    .await;
    assert_eq!(delivered["upToSequence"], seq);
    assert_eq!(delivered["userId"], j.customer.user_id);

    let conversation = s
        .ok(j.customer.token(), CONVERSATION, json!({"b": j.booking}))
        .await;
    assert_eq!(conversation["conversation"]["unreadCount"], 1);
    assert_eq!(conversation["conversation"]["open"], true);
    assert_eq!(conversation["conversation"]["lastSequence"], seq);
    assert_eq!(conversation["unreadMessageCount"], 1);
    let own = s
        .ok(
            j.tech.session.token(),
            CONVERSATION,
            json!({"b": j.booking}),
        )
        .await;
    assert_eq!(
        own["conversation"]["unreadCount"], 0,
        "own messages are read"
    );

    let read = s
        .ok(
            j.customer.token(),
            READ,
            json!({"b": j.booking, "m": sent["id"]}),
        )
        .await;
    assert_eq!(read["markMessagesRead"]["unreadCount"], 0);
    let read_event = next_event(&mut tech_feed, "MessagesRead").await;
    assert_eq!(read_event["upToSequence"], seq);
    let seen = history(&s, &j.tech.session, &j.booking, json!({})).await;
    let last = seen["edges"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["node"]["deliveryState"], "READ", "{seen}");
    let after = s
        .ok(j.customer.token(), CONVERSATION, json!({"b": j.booking}))
        .await;
    assert_eq!(after["unreadMessageCount"], 0);
}

#[tokio::test]
async fn a_resend_with_the_same_client_id_is_the_same_message() {
    let s = TestServer::start().await;
    let j = job(&s, "chat-resend").await;
    let first = ok_send(
        &s,
        &j.customer,
        &j.booking,
        text("Gate code 4471", Some("c-1")),
    )
    .await;
    let again = ok_send(
        &s,
        &j.customer,
        &j.booking,
        text("Gate code 4471", Some("c-1")),
    )
    .await;
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["sequence"], again["sequence"]);
    // Concurrent resends after a dropped connection still make one message.
    let sends = (0..5).map(|_| {
        send(
            &s,
            &j.customer,
            &j.booking,
            text("Bring a ladder", Some("c-2")),
        )
    });
    let answers = futures_util::future::join_all(sends).await;
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .map(|a| {
            a["data"]["sendMessage"]["id"]
                .as_str()
                .expect("sent")
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    let page = history(&s, &j.customer, &j.booking, json!({"first": 100})).await;
    let texts = bodies(&page);
    assert_eq!(texts.iter().filter(|b| *b == "Gate code 4471").count(), 1);
    assert_eq!(texts.iter().filter(|b| *b == "Bring a ladder").count(), 1);
}

#[tokio::test]
async fn bad_messages_are_refused_by_field() {
    let s = TestServer::start().await;
    let j = job(&s, "chat-bad").await;
    let cases = [
        (json!({"kind": "TEXT", "body": ""}), "body"),
        (json!({"kind": "TEXT", "body": "x".repeat(4001)}), "body"),
        (json!({"kind": "LOCATION"}), "location"),
        (
            json!({"kind": "LOCATION", "location": {"lat": 91.0, "lng": 0.0}}),
            "location.lat",
        ),
        (json!({"kind": "IMAGE"}), "attachment"),
        (json!({"kind": "SYSTEM", "body": "fake"}), "kind"),
        (
            json!({"kind": "TEXT", "body": "hi", "clientMessageId": "x".repeat(101)}),
            "clientMessageId",
        ),
    ];
    for (input, field) in cases {
        let answer = send(&s, &j.customer, &j.booking, input.clone()).await;
        assert_eq!(
            code(&answer["errors"][0]),
            "BAD_USER_INPUT",
            "{input}: {answer}"
        );
        assert_eq!(answer["errors"][0]["extensions"]["field"], field, "{input}");
    }
    let located = ok_send(
        &s,
        &j.customer,
        &j.booking,
        json!({"kind": "LOCATION", "location": {"lat": -1.3, "lng": 36.8}, "body": "Blue gate"}),
    )
    .await;
    assert_eq!(located["location"]["lat"], -1.3);
    // Nothing refused was stored.
    let page = history(&s, &j.customer, &j.booking, json!({"first": 100})).await;
    assert!(!bodies(&page).iter().any(|b| b == "fake"));
    assert_eq!(
        page["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["node"]["kind"] != "SYSTEM")
            .count(),
        1
    );
}

/// Sends an IMAGE message as a GraphQL multipart request.
async fn send_image(s: &TestServer, who: &Session, booking: &Value, bytes: Vec<u8>) -> Value {
    let operations = json!({"query": SEND, "variables": {"b": booking,
        "input": {"kind": "IMAGE", "body": "The leak", "attachment": null}}});
    let map = json!({"0": ["variables.input.attachment"]});
    let form = Form::new()
        .text("operations", operations.to_string())
        .text("map", map.to_string())
        .part(
            "0",
            Part::bytes(bytes)
                .file_name("photo.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let response = s
        .http()
        .post(s.url("/graphql"))
        .bearer_auth(who.token().unwrap())
        .multipart(form)
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

#[tokio::test]
async fn images_are_checked_by_content_and_shared_through_signed_links() {
    let s = TestServer::start().await;
    let j = job(&s, "chat-image").await;
    let answer = send_image(&s, &j.customer, &j.booking, PNG.to_vec()).await;
    let message = answer["data"]["sendMessage"].clone();
    assert_eq!(
        message["attachment"]["contentType"], "image/png",
        "{answer}"
    );
    assert_eq!(message["attachment"]["sizeBytes"], PNG.len());
    let url = message["attachment"]["url"].as_str().unwrap().to_string();
    let download = s.http().get(s.url(&url)).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().await.unwrap().as_ref(), PNG);
    let tampered = url.replace("sig=", "sig=00");
    assert_eq!(
        s.http()
            .get(s.url(&tampered))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    let not_an_image = send_image(
        &s,
        &j.customer,
        &j.booking,
        b"GIF89a but really text".to_vec(),
    )
    .await;
    assert_eq!(
        code(&not_an_image["errors"][0]),
        "BAD_USER_INPUT",
        "{not_an_image}"
    );
    assert_eq!(
        not_an_image["errors"][0]["extensions"]["field"],
        "attachment"
    );
    let mut big = PNG.to_vec();
    big.resize(5 * 1024 * 1024 + 1, 0);
    let too_big = send_image(&s, &j.customer, &j.booking, big).await;
    assert_eq!(code(&too_big["errors"][0]), "BAD_USER_INPUT", "{too_big}");
    assert_eq!(too_big["errors"][0]["extensions"]["field"], "attachment");
}

#[tokio::test]
async fn outsiders_cannot_read_post_or_listen() {
    let s = TestServer::start().await;
    let j = job(&s, "chat-private").await;
    let sent = ok_send(&s, &j.customer, &j.booking, text("Private note", None)).await;
    let stranger = s.register("chat-stranger@example.com").await;
    let other_tech = ready(&s, "chat-other-tech@example.com", NAIROBI, json!({})).await;
    for outsider in [&stranger, &other_tech.session] {
        let attempts = [
            send(&s, outsider, &j.booking, text("hello", None)).await,
            s.gql(outsider.token(), HISTORY, json!({"b": j.booking}))
                .await,
            s.gql(outsider.token(), CONVERSATION, json!({"b": j.booking}))
                .await,
            s.gql(
                outsider.token(),
                READ,
                json!({"b": j.booking, "m": sent["id"]}),
            )
            .await,
            s.gql(outsider.token(), TYPING, json!({"b": j.booking, "t": true}))
                .await,
            s.gql(
                outsider.token(),
                "query($id: ID!) { node(id: $id) { id } }",
                json!({"id": sent["id"]}),
            )
            .await,
        ];
        for answer in attempts {
            assert_eq!(code(&answer["errors"][0]), "NOT_FOUND", "{answer}");
        }
        for field in ["messageAdded", "chatEvents"] {
            let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
            ws.init(outsider.token()).await;
            let selection = if field == "messageAdded" {
                "{ sequence }"
            } else {
                "{ __typename }"
            };
            ws.subscribe(
                "x",
                &format!(
                    "subscription {{ {field}(bookingId: \"{}\") {selection} }}",
                    j.booking.as_str().unwrap()
                ),
            )
            .await;
            let payload = ws.next_payload(Duration::from_secs(5)).await;
            assert!(payload["errors"].is_array(), "{field}: {payload}");
        }
    }
    // The participants can use node(id); staff may read and post, marked as staff.
    let node = s
        .ok(
            j.tech.session.token(),
            "query($id: ID!) { node(id: $id) { ... on Message { body } } }",
            json!({"id": sent["id"]}),
        )
        .await;
    assert_eq!(node["node"]["body"], "Private note");
    let support = staff(
        &s,
        "chat-support@example.com",
        fundi::domain::account::Role::Support,
    )
    .await;
    let staff_post = ok_send(&s, &support, &j.booking, text("Support here", None)).await;
    assert_eq!(staff_post["isStaff"], true);
    assert_eq!(staff_post["senderRole"], "SUPPORT");
    assert_eq!(staff_post["sender"]["fullName"], "Staff Member");
}

#[tokio::test]
async fn typing_shows_and_lapses_after_five_seconds() {
    let s = TestServer::start().await;
    let j = job(&s, "chat-typing").await;
    let mut feed = chat_events(&s, &j.customer, &j.booking).await;
    let typed = s
        .ok(
            j.tech.session.token(),
            TYPING,
            json!({"b": j.booking, "t": true}),
        )
        .await;
    assert_eq!(typed["setTyping"], true);
    let started_at = std::time::Instant::now();
    let started = next_event(&mut feed, "TypingStarted").await;
    assert_eq!(started["userId"], j.tech.session.user_id);
    let stopped = next_event(&mut feed, "TypingStopped").await;
    assert_eq!(stopped["userId"], j.tech.session.user_id);
    let waited = started_at.elapsed();
    assert!(
        waited >= Duration::from_millis(4500) && waited < Duration::from_secs(8),
        "lapsed after {waited:?}"
    );
    // Stopping explicitly ends it at once.
    s.ok(
        j.tech.session.token(),
        TYPING,
        json!({"b": j.booking, "t": true}),
    )
    .await;
    next_event(&mut feed, "TypingStarted").await;
    s.ok(
        j.tech.session.token(),
        TYPING,
        json!({"b": j.booking, "t": false}),
    )
    .await;
    let t = std::time::Instant::now();
    next_event(&mut feed, "TypingStopped").await;
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn history_pages_by_sequence_and_records_the_timeline() {
    let s = TestServer::start().await;
    let j = job(&s, "chat-history").await;
    for n in 1..=5 {
        ok_send(&s, &j.customer, &j.booking, text(&format!("m{n}"), None)).await;
    }
    ok_step(&s, &j.tech.session, &j.booking, "EN_ROUTE", None).await;
    let all = history(&s, &j.tech.session, &j.booking, json!({"first": 100})).await;
    let seqs = sequences(&all);
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "gapless, oldest first"
    );
    let kinds: Vec<&str> = all["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap())
        .collect();
    // Assigned and accepted before the texts, en route after them.
    assert_eq!(kinds[..2], ["SYSTEM", "SYSTEM"]);
    assert_eq!(*kinds.last().unwrap(), "SYSTEM");
    assert_eq!(bodies(&all).last().unwrap(), "Technician is on the way");

    let since = history(&s, &j.tech.session, &j.booking, json!({"since": 4})).await;
    assert_eq!(
        sequences(&since),
        (5..=seqs.len() as i64).collect::<Vec<_>>()
    );
    let first_two = history(&s, &j.tech.session, &j.booking, json!({"first": 2})).await;
    assert_eq!(sequences(&first_two), [1, 2]);
    assert_eq!(first_two["pageInfo"]["hasNextPage"], true);
    let cursor = first_two["edges"][1]["cursor"].clone();
    let next = history(
        &s,
        &j.tech.session,
        &j.booking,
        json!({"first": 2, "after": cursor}),
    )
    .await;
    assert_eq!(sequences(&next), [3, 4]);
    let newest = history(&s, &j.tech.session, &j.booking, json!({"last": 2})).await;
    let n = seqs.len() as i64;
    assert_eq!(sequences(&newest), [n - 1, n]);
    assert_eq!(newest["pageInfo"]["hasPreviousPage"], true);
    let before = history(
        &s,
        &j.tech.session,
        &j.booking,
        json!({"last": 2, "before": newest["edges"][0]["cursor"]}),
    )
    .await;
    assert_eq!(sequences(&before), [n - 3, n - 2]);
    let both = s
        .gql(
            j.tech.session.token(),
            HISTORY,
            json!({"b": j.booking, "first": 1, "last": 1}),
        )
        .await;
    assert_eq!(code(&both["errors"][0]), "BAD_USER_INPUT");
    let bad_cursor = s
        .gql(
            j.tech.session.token(),
            HISTORY,
            json!({"b": j.booking, "after": "abc"}),
        )
        .await;
    assert_eq!(bad_cursor["errors"][0]["extensions"]["field"], "after");
}

#[tokio::test]
async fn conversations_open_with_a_technician_and_close_a_week_after_the_job() {
    let s = TestServer::start().await;
    let tech = ready(&s, "chat-closing-tech@example.com", NAIROBI, json!({})).await;
    let customer = s.register("chat-closing-customer@example.com").await;
    // Automatic dispatch with nobody matching: no technician, no conversation.
    let lonely = create(
        &s,
        &customer,
        "lonely-chat-1",
        json!({"location": {"lat": 10.0, "lng": 10.0}}),
    )
    .await;
    let answer = send(&s, &customer, &lonely["id"], text("anyone?", None)).await;
    assert_eq!(code(&answer["errors"][0]), "FORBIDDEN", "{answer}");

    let booking = accepted_booking(
        &s,
        &customer,
        &tech,
        "closing-chat-1",
        chrono::Duration::days(3),
    )
    .await;
    let id = booking["id"].clone();
    let cancelled = s
        .ok(
            customer.token(),
            "mutation($id: ID!) { cancelBooking(id: $id, reason: \"changed plans\") { status } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(cancelled["cancelBooking"]["status"], "CANCELLED");
    ok_send(&s, &customer, &id, text("Sorry about that", None)).await;
    let view = s.ok(customer.token(), CONVERSATION, json!({"b": id})).await;
    assert!(view["conversation"]["closesAt"].is_string());
    s.advance_clock(chrono::Duration::days(8));
    let customer = Session::from_payload(
        &s.login("chat-closing-customer@example.com", PASSWORD).await["data"]["login"],
    );
    let late = send(&s, &customer, &id, text("Hello?", None)).await;
    assert_eq!(code(&late["errors"][0]), "FORBIDDEN", "{late}");
    // Still readable.
    let page = history(&s, &customer, &id, json!({})).await;
    assert!(bodies(&page).contains(&"Sorry about that".to_string()));
    let view = s.ok(customer.token(), CONVERSATION, json!({"b": id})).await;
    assert_eq!(view["conversation"]["open"], false);
}

#[tokio::test]
async fn old_messages_and_their_images_are_deleted_after_ninety_days() {
    let s = TestServer::start().await;
    let j = job(&s, "chat-retention").await;
    let image = send_image(&s, &j.customer, &j.booking, PNG.to_vec()).await;
    assert!(
        image["data"]["sendMessage"]["attachment"].is_object(),
        "{image}"
    );
    s.advance_clock(chrono::Duration::days(60));
    let customer = Session::from_payload(
        &s.login("chat-retention-customer@example.com", PASSWORD)
            .await["data"]["login"],
    );
    ok_send(&s, &customer, &j.booking, text("Newer message", None)).await;
    s.advance_clock(chrono::Duration::days(31));
    let purged = fundi::services::platform::retention::run(s.services())
        .await
        .unwrap();
    assert!(purged >= 3, "image, system lines: {purged}");
    let customer = Session::from_payload(
        &s.login("chat-retention-customer@example.com", PASSWORD)
            .await["data"]["login"],
    );
    let page = history(&s, &customer, &j.booking, json!({"first": 100})).await;
    assert_eq!(bodies(&page), ["Newer message"]);
    let stored = s
        .services()
        .storage
        .list(Some(&object_store::path::Path::from(format!(
            "chat/{}",
            uuid_of(j.booking.as_str().unwrap())
        ))))
        .next()
        .await;
    assert!(stored.is_none(), "the image went with its message");
}

/// What one message costs the request that sends it: the booking read for access, the
/// conversation's counter, the message, its outbox row (sequence and row in one statement on
/// PostgreSQL) and the sender's own receipt. A client id adds the resend lookup; the sender's name
/// and the delivery state add one statement each; a resend costs the access read and the lookup.
#[tokio::test]
async fn sending_a_message_runs_a_fixed_number_of_statements() {
    let s = TestServer::start().await;
    let j = job(&s, "chat-budget").await;
    ok_send(&s, &j.tech.session, &j.booking, text("warm", None)).await;
    outbox_drained(&s).await;
    let postgres = s.services().db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    let write = if postgres { 5 } else { 6 };
    let bare = "mutation($b: ID!, $input: MessageInput!) {
      sendMessage(bookingId: $b, input: $input) { id sequence body } }";
    let cases = [
        (bare, None, write),
        (bare, Some("budget-1"), write + 1),
        (SEND, None, write + 2),
        (SEND, Some("budget-2"), write + 3),
    ];
    for (query, client_id, budget) in cases {
        for round in 0..2 {
            let (body, statements) = counted(
                &s,
                j.tech.session.token(),
                query,
                json!({"b": j.booking, "input": text(&format!("counted {round}"), client_id)}),
            )
            .await;
            assert!(body["errors"].is_null(), "{body}");
            // The second round with a client id is a resend: the lookup finds the first message.
            let expected = if round == 1 && client_id.is_some() {
                if query == SEND { 4 } else { 2 }
            } else {
                budget
            };
            assert_eq!(
                statements, expected,
                "{query} with client id {client_id:?}, round {round}"
            );
        }
    }
}

/// A burst of messages reaches a subscriber once each and in order, and the relay marks every one
/// it sent.
#[tokio::test]
async fn a_burst_of_messages_arrives_once_each_in_order() {
    let s = TestServer::start().await;
    let j = job(&s, "chat-burst").await;
    outbox_drained(&s).await;
    let mut feed = chat_events(&s, &j.customer, &j.booking).await;
    let bodies: Vec<String> = (0..60).map(|n| format!("burst {n}")).collect();
    futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| ok_send(&s, &j.tech.session, &j.booking, text(body, None))),
    )
    .await;
    let mut sequences = Vec::new();
    while sequences.len() < 60 {
        let added = next_written_message(&mut feed).await;
        sequences.push(added["message"]["sequence"].as_i64().unwrap());
    }
    let mut sorted = sequences.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, sequences, "in order, once each");
    outbox_drained(&s).await;
    let extra = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            let payload = feed.next_payload(Duration::from_secs(5)).await;
            let event = &payload["data"]["chatEvents"];
            if event["__typename"] == "MessageAddedEvent" && event["message"]["kind"] != "SYSTEM" {
                return payload;
            }
        }
    })
    .await;
    assert!(extra.is_err(), "duplicate delivery: {extra:?}");
}
