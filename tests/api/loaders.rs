//! Relation fields through DataLoaders (a fixed number of SQL statements per page, counted from the
//! Server-Timing header), loader errors that keep their code, and totalCount on connections.

use crate::chat::{job, ok_send, text};
use crate::fixtures::uuid_of;
use crate::support::*;
use fundi::db::entities::{booking, payment, quote};
use fundi::services::Effects;
use fundi::services::notifications::in_app::{self, Kind, NewNotification};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

const PAGE: &str = "query($first: Int) { bookings(first: $first) { edges { node {
  id customer { id fullName } technician { id fullName } category { slug name }
  payments { id status amount { amountMinor } } quotes { id status subtotal { amountMinor } } } } } }";

const MONEY: &str = "query($first: Int) { bookings(first: $first) { edges { node {
  id escrow { amountMinor } amountDue { amountMinor } cancellationFeeCharged { amountMinor }
  events { to } invoices { number } dispute { status } trail { recordedAt } } } } }";

const QUOTE: &str =
    "mutation($id: ID!, $input: QuoteInput!) { submitQuote(bookingId: $id, input: $input) { id } }";

/// Copies `booking` (with its payments and quotes) `times` times straight into the database, so a
/// long page needs no long setup; the page itself is read over HTTP.
async fn copies(s: &TestServer, booking: uuid::Uuid, times: usize) {
    let db = &s.services().db;
    let original = booking::Entity::find_by_id(booking)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let payments = payment::Entity::find()
        .filter(payment::Column::BookingId.eq(booking))
        .all(db)
        .await
        .unwrap();
    let quotes = quote::Entity::find()
        .filter(quote::Column::BookingId.eq(booking))
        .all(db)
        .await
        .unwrap();
    let (mut bookings, mut paid, mut quoted) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..times {
        let id = uuid::Uuid::now_v7();
        let mut b: booking::ActiveModel = original.clone().into();
        b.id = Set(id);
        b.idempotency_key = Set(format!("{}-copy-{i}", original.idempotency_key));
        bookings.push(b);
        for p in &payments {
            let mut p: payment::ActiveModel = p.clone().into();
            p.id = Set(uuid::Uuid::now_v7());
            p.booking_id = Set(id);
            p.idempotency_key = Set(format!("copy-{i}-{}", uuid::Uuid::now_v7()));
            p.gateway_reference = Set(Some(format!("copy-{}", uuid::Uuid::now_v7())));
            paid.push(p);
        }
        for q in &quotes {
            let mut q: quote::ActiveModel = q.clone().into();
            q.id = Set(uuid::Uuid::now_v7());
            q.booking_id = Set(id);
            quoted.push(q);
        }
    }
    booking::Entity::insert_many(bookings)
        .exec(db)
        .await
        .unwrap();
    payment::Entity::insert_many(paid).exec(db).await.unwrap();
    quote::Entity::insert_many(quoted).exec(db).await.unwrap();
}

/// A customer with one accepted, deposit-paid, quoted booking copied to 50 in all.
async fn fifty_bookings(s: &TestServer) -> crate::chat::Job {
    let job = job(s, "loader-page").await;
    let input = json!({
        "lineItems": [{"kind": "LABOUR", "description": "Replace cartridge", "quantity": 1,
            "unitPrice": {"amountMinor": 150000, "currency": "KES"}}],
        "validUntil": (s.services().clock.now() + chrono::Duration::days(1)).to_rfc3339(),
    });
    s.ok(
        job.tech.session.token(),
        QUOTE,
        json!({"id": job.booking, "input": input}),
    )
    .await;
    copies(s, uuid_of(job.booking.as_str().unwrap()), 49).await;
    job
}

#[tokio::test]
async fn a_page_of_bookings_with_its_relations_runs_the_same_few_statements_for_5_or_50_rows() {
    let s = TestServer::start().await;
    let job = fifty_bookings(&s).await;
    let token = job.customer.token();

    let (small, small_count) = counted(&s, token, PAGE, json!({"first": 5})).await;
    let (large, large_count) = counted(&s, token, PAGE, json!({"first": 50})).await;

    assert!(small["errors"].is_null(), "{small}");
    assert!(large["errors"].is_null(), "{large}");
    let edges = large["data"]["bookings"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 50);
    assert_eq!(
        small["data"]["bookings"]["edges"].as_array().unwrap().len(),
        5
    );
    for edge in edges {
        let node = &edge["node"];
        assert!(node["customer"]["fullName"].is_string(), "{node}");
        assert_eq!(node["technician"]["id"], job.tech.id.as_str(), "{node}");
        assert_eq!(node["category"]["slug"], "plumbing", "{node}");
        assert_eq!(node["payments"].as_array().unwrap().len(), 1, "{node}");
        assert_eq!(node["quotes"].as_array().unwrap().len(), 1, "{node}");
    }
    // The page, then one statement per relation: users, technicians, categories, payments, quotes
    // (the customer's session, used before, is checked from memory).
    assert!(large_count <= 8, "{large_count} statements for 50 rows");
    assert_eq!(small_count, large_count, "5 rows and 50 rows differ");
    s.stop().await;
}

#[tokio::test]
async fn money_and_history_on_a_page_of_bookings_cost_the_same_for_5_or_50_rows() {
    let s = TestServer::start().await;
    let job = fifty_bookings(&s).await;
    let token = job.customer.token();

    let (small, small_count) = counted(&s, token, MONEY, json!({"first": 5})).await;
    let (large, large_count) = counted(&s, token, MONEY, json!({"first": 50})).await;

    assert!(small["errors"].is_null(), "{small}");
    assert!(large["errors"].is_null(), "{large}");
    let edges = large["data"]["bookings"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 50);
    // Only the original has a ledger; its deposit sits in escrow.
    let escrow = |e: &Value| e["node"]["escrow"]["amountMinor"].as_i64().unwrap();
    assert!(edges.iter().any(|e| escrow(e) > 0), "{large}");
    assert_eq!(small_count, large_count, "5 rows and 50 rows differ");
    s.stop().await;
}

#[tokio::test]
async fn total_count_is_counted_only_when_selected() {
    let s = TestServer::start().await;
    let job = fifty_bookings(&s).await;
    let token = job.customer.token();
    let without = "{ bookings(first: 3) { edges { node { id } } } }";
    let with = "{ bookings(first: 3) { totalCount edges { node { id } } } }";

    let (plain, plain_count) = counted(&s, token, without, json!({})).await;
    let (totalled, totalled_count) = counted(&s, token, with, json!({})).await;

    assert!(plain["errors"].is_null(), "{plain}");
    assert_eq!(totalled["data"]["bookings"]["totalCount"], 50, "{totalled}");
    assert_eq!(totalled_count, plain_count + 1);
    s.stop().await;
}

#[tokio::test]
async fn an_error_inside_a_loader_reaches_the_client_with_its_code() {
    let s = TestServer::start().await;
    let job = job(&s, "loader-error").await;
    // Break the table the quotes loader reads, so its batch fails inside the loader.
    s.services()
        .db
        .execute_unprepared("ALTER TABLE quotes RENAME TO quotes_elsewhere")
        .await
        .unwrap();

    let body = s
        .gql(
            job.customer.token(),
            "{ bookings(first: 5) { edges { node { id quotes { id } } } } }",
            json!({}),
        )
        .await;

    let error = &body["errors"][0];
    assert_eq!(code(error), "INTERNAL_SERVER_ERROR", "{body}");
    assert!(error["extensions"]["requestId"].is_string(), "{body}");
    assert!(
        !error["message"].as_str().unwrap().contains("quotes"),
        "{body}"
    );
    assert_eq!(error["path"][4], "quotes", "{body}");
    s.stop().await;
}

/// `totalCount` with a one-item page equals the number of items over a page holding them all.
async fn total_matches_every_page(s: &TestServer, token: Option<&str>, field: &str, args: &str) {
    let whole = format!(
        "{{ {field}({args} first: 100) {{ totalCount edges {{ cursor }} pageInfo {{ hasNextPage }} }} }}"
    );
    let one = format!("{{ {field}({args} first: 1) {{ totalCount edges {{ cursor }} }} }}");
    let whole = s.ok(token, &whole, json!({})).await[field].clone();
    let one = s.ok(token, &one, json!({})).await[field].clone();
    let items = whole["edges"].as_array().unwrap().len();
    assert_eq!(whole["pageInfo"]["hasNextPage"], false);
    assert!(
        items > 1,
        "{field} needs more than one item to show the count: {whole}"
    );
    assert_eq!(whole["totalCount"], items, "{field}: {whole}");
    assert_eq!(one["totalCount"], items, "{field} with first: 1: {one}");
    assert_eq!(one["edges"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn total_count_covers_the_whole_list_on_every_connection() {
    let s = TestServer::start().await;
    let job = job(&s, "total-counts").await;
    for body in ["On my way", "Gate code is 1234", "Thanks"] {
        ok_send(&s, &job.customer, &job.booking, text(body, None)).await;
    }
    let other = s.register("someone-else@example.com").await;
    crate::booking_fixtures::create_unpaid(&s, &other, "not-counted-booking", json!({})).await;
    let customer = job.customer.token();
    let messages = format!("bookingId: \"{}\",", job.booking.as_str().unwrap());

    total_matches_every_page(&s, customer, "messages", &messages).await;
    let tech = job.tech.uuid;
    for title in ["Offer", "Reminder", "Payout"] {
        let note = NewNotification::new(tech, Kind::BookingUpdate, title, "Details");
        let now = s.services().clock.now();
        in_app::create(&s.services().db, &mut Effects::default(), now, note)
            .await
            .unwrap();
    }
    total_matches_every_page(&s, job.tech.session.token(), "notifications", "").await;
    let unread = s
        .ok(
            job.tech.session.token(),
            "{ notifications(first: 1, unreadOnly: true) { totalCount } }",
            json!({}),
        )
        .await;
    assert!(
        unread["notifications"]["totalCount"].as_u64().unwrap() >= 3,
        "{unread}"
    );
    for _ in 0..2 {
        s.login("total-counts-customer@example.com", PASSWORD).await;
    }
    total_matches_every_page(&s, customer, "loginHistory", "").await;
    crate::booking_fixtures::create_unpaid(&s, &job.customer, "second-booking", json!({})).await;
    total_matches_every_page(&s, customer, "bookings", "").await;
    // Filters count too: one booking of the two is still PENDING, and the other customer's is not theirs.
    let pending = s
        .ok(
            customer,
            "{ bookings(first: 1, status: PENDING) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(pending["bookings"]["totalCount"], 1, "{pending}");
    s.stop().await;
}

#[tokio::test]
async fn server_timing_is_left_out_when_turned_off() {
    let s = TestServer::start_with(vec![("FUNDI_SERVER_TIMING", "false".into())]).await;
    let response = s
        .http()
        .post(s.url("/graphql"))
        .json(&json!({"query": "{ serviceCategories { slug } }"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert!(response.headers().get("server-timing").is_none());
    s.stop().await;
}
