//! Booking extras: quotes and the agreed price, rescheduling, disputes and their resolution, and dashboards.

use crate::fixtures::*;
use crate::support::*;
use chrono::{Datelike, Duration as Span, TimeZone, Utc, Weekday};
use serde_json::{Value, json};
use std::time::Duration;

const CREATE: &str = "mutation($input: ServiceRequestInput!) { createServiceRequest(input: $input) { id status startCode price { total { amountMinor } } } }";
const MOVE: &str = "mutation($id: ID!, $to: BookingStatus!, $code: String) { transitionBooking(id: $id, to: $to, startCode: $code) { status } }";
const VIEW: &str = "query($id: ID!) { booking(id: $id) { status version scheduledStart price { base { amountMinor } total { amountMinor } deposit { amountMinor } } } }";
const QUOTE: &str = "mutation($id: ID!, $input: QuoteInput!) { submitQuote(bookingId: $id, input: $input) { id status subtotal { amountMinor currency } lineItems { kind total { amountMinor } } } }";
const RESPOND: &str = "mutation($id: ID!, $d: QuoteDecision!) { respondToQuote(quoteId: $id, decision: $d) { id status respondedAt } }";
const QUOTES: &str = "query($id: ID!) { bookingQuotes(bookingId: $id) { id status } }";
const RESCHEDULE: &str = "mutation($id: ID!, $at: DateTime!, $reason: String) { rescheduleBooking(id: $id, newStart: $at, reason: $reason) { status scheduledStart } }";
const OPEN_DISPUTE: &str = "mutation($id: ID!, $reason: String!) { openDispute(bookingId: $id, reason: $reason, details: \"The tap still leaks\") { status } }";
const RESOLVE: &str = "mutation($id: ID!, $input: DisputeResolutionInput!) { resolveDispute(bookingId: $id, input: $input) { status } }";
const DISPUTE: &str = "query($id: ID!) { bookingDispute(bookingId: $id) { status outcome customerRefundPercent reason } }";
const NOTES: &str = "{ notifications(first: 20) { edges { node { kind title } } } }";

async fn booking(
    s: &TestServer,
    customer: &Session,
    tech: &Tech,
    key: &str,
    start: Option<chrono::DateTime<Utc>>,
) -> (Value, String) {
    let mut input = json!({
        "category": "plumbing", "title": "Leaking kitchen tap", "address": "12 Ngong Road, Nairobi",
        "location": {"lat": NAIROBI.0, "lng": NAIROBI.1}, "priority": "URGENT",
        "budgetMin": {"amountMinor": 100000, "currency": "KES"}, "budgetMax": {"amountMinor": 300000, "currency": "KES"},
        "estimatedDurationMinutes": 120, "technicianId": tech.id, "idempotencyKey": key,
    });
    if let Some(start) = start {
        input["scheduledStart"] = json!(start.to_rfc3339());
    }
    let created = s
        .ok(customer.token(), CREATE, json!({"input": input}))
        .await["createServiceRequest"]
        .clone();
    assert_eq!(created["status"], "PENDING", "{created}");
    crate::booking_fixtures::pay_deposit(s, customer, &created["id"]).await;
    (
        created["id"].clone(),
        created["startCode"].as_str().unwrap().to_string(),
    )
}

async fn step(s: &TestServer, who: &Session, id: &Value, to: &str, code: Option<&str>) {
    let answer = s
        .gql(who.token(), MOVE, json!({"id": id, "to": to, "code": code}))
        .await;
    assert_eq!(
        answer["data"]["transitionBooking"]["status"], to,
        "{to}: {answer}"
    );
}

async fn accepted(
    s: &TestServer,
    customer: &Session,
    tech: &Tech,
    key: &str,
    start: Option<chrono::DateTime<Utc>>,
) -> Value {
    let (id, _) = booking(s, customer, tech, key, start).await;
    step(s, &tech.session, &id, "ACCEPTED", None).await;
    id
}

async fn completed(s: &TestServer, customer: &Session, tech: &Tech, key: &str) -> Value {
    let (id, code) = booking(s, customer, tech, key, None).await;
    for to in [
        "ACCEPTED",
        "EN_ROUTE",
        "ARRIVED",
        "IN_PROGRESS",
        "COMPLETED",
    ] {
        step(
            s,
            &tech.session,
            &id,
            to,
            (to == "IN_PROGRESS").then_some(code.as_str()),
        )
        .await;
    }
    id
}

async fn admin(s: &TestServer) -> Session {
    let email = "dispute-admin@example.com";
    fundi::services::accounts::account::create_staff(
        s.services(),
        email,
        PASSWORD,
        "Admin",
        fundi::domain::account::Role::Admin,
    )
    .await
    .unwrap();
    Session::from_payload(&s.login(email, PASSWORD).await["data"]["login"])
}

fn quote_input(s: &TestServer, labour: i64, valid_for: Span) -> Value {
    json!({
        "lineItems": [
            {"kind": "LABOUR", "description": "Replace cartridge", "quantity": 2, "unitPrice": {"amountMinor": labour, "currency": "KES"}},
            {"kind": "MATERIAL", "description": "Ceramic cartridge", "quantity": 1, "unitPrice": {"amountMinor": 50000, "currency": "KES"}},
        ],
        "validUntil": (s.services().clock.now() + valid_for).to_rfc3339(),
        "note": "Cartridge worn out",
    })
}

async fn quote(s: &TestServer, tech: &Tech, id: &Value, labour: i64, valid_for: Span) -> Value {
    s.ok(
        tech.session.token(),
        QUOTE,
        json!({"id": id, "input": quote_input(s, labour, valid_for)}),
    )
    .await["submitQuote"]
        .clone()
}

async fn respond(s: &TestServer, who: &Session, quote_id: &Value, decision: &str) -> Value {
    s.gql(who.token(), RESPOND, json!({"id": quote_id, "d": decision}))
        .await
}

/// Signs in again after the clock has moved past the access token's lifetime.
async fn relogin(s: &TestServer, email: &str) -> Session {
    Session::from_payload(&s.login(email, PASSWORD).await["data"]["login"])
}

fn titles(notes: &Value) -> Vec<String> {
    notes["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn accepting_a_quote_makes_it_the_booking_price_and_publishes_the_change() {
    let s = TestServer::start().await;
    let customer = s.register("quote-accept@example.com").await;
    let tech = ready(&s, "quote-accept-tech@example.com", NAIROBI, json!({})).await;
    let id = accepted(&s, &customer, &tech, "quote-accept-1", None).await;
    let before = s.ok(customer.token(), VIEW, json!({"id": id})).await["booking"].clone();

    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    ws.init(customer.token()).await;
    ws.subscribe("1", &format!("subscription {{ bookingUpdated(id: \"{}\") {{ kind booking {{ price {{ total {{ amountMinor }} }} }} }} }}", id.as_str().unwrap())).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let q = quote(&s, &tech, &id, 150000, Span::hours(2)).await;
    assert_eq!(q["status"], "OPEN");
    assert_eq!(
        q["subtotal"]["amountMinor"], 350000,
        "2 × 1,500 + 500 shillings"
    );
    assert_eq!(q["lineItems"][0]["total"]["amountMinor"], 300000);
    let answer = respond(&s, &customer, &q["id"], "ACCEPT").await;
    assert_eq!(
        answer["data"]["respondToQuote"]["status"], "ACCEPTED",
        "{answer}"
    );

    let after = s.ok(customer.token(), VIEW, json!({"id": id})).await["booking"].clone();
    assert_eq!(after["price"]["base"]["amountMinor"], 350000);
    // URGENT adds 20%; tax is 0 by default; the deposit is 20% of the total.
    assert_eq!(after["price"]["total"]["amountMinor"], 420000);
    assert_eq!(after["price"]["deposit"]["amountMinor"], 84000);
    assert_eq!(after["status"], "ACCEPTED");
    assert!(after["version"].as_i64() > before["version"].as_i64());

    let mut kinds = vec![];
    while kinds.len() < 2 {
        let payload = ws.next_payload(Duration::from_secs(10)).await;
        let update = payload["data"]["bookingUpdated"].clone();
        // The acceptance may still be on its way from the outbox when the subscription starts.
        if update["kind"] == "STATUS" {
            continue;
        }
        kinds.push((
            update["kind"].as_str().unwrap().to_string(),
            update["booking"]["price"]["total"]["amountMinor"]
                .as_i64()
                .unwrap(),
        ));
    }
    assert_eq!(kinds[0].0, "QUOTE", "the new quote is announced");
    assert_eq!(
        kinds[1],
        ("QUOTE".to_string(), 420000),
        "the agreed price is published"
    );
    let tech_notes = s.ok(tech.session.token(), NOTES, json!({})).await;
    assert!(
        titles(&tech_notes)
            .iter()
            .any(|t| t.starts_with("Quote accepted")),
        "{tech_notes}"
    );
    let customer_notes = s.ok(customer.token(), NOTES, json!({})).await;
    assert!(
        titles(&customer_notes)
            .iter()
            .any(|t| t.starts_with("New quote")),
        "{customer_notes}"
    );
}

#[tokio::test]
async fn a_rejected_quote_leaves_the_price_alone() {
    let s = TestServer::start().await;
    let customer = s.register("quote-reject@example.com").await;
    let tech = ready(&s, "quote-reject-tech@example.com", NAIROBI, json!({})).await;
    let id = accepted(&s, &customer, &tech, "quote-reject-1", None).await;
    let before = s.ok(customer.token(), VIEW, json!({"id": id})).await["booking"]["price"].clone();
    let q = quote(&s, &tech, &id, 150000, Span::hours(2)).await;
    let answer = respond(&s, &customer, &q["id"], "REJECT").await;
    assert_eq!(
        answer["data"]["respondToQuote"]["status"], "REJECTED",
        "{answer}"
    );
    assert_eq!(
        s.ok(customer.token(), VIEW, json!({"id": id})).await["booking"]["price"],
        before
    );
    let again = respond(&s, &customer, &q["id"], "ACCEPT").await;
    assert_eq!(
        code(&again["errors"][0]),
        "CONFLICT",
        "an answered quote stays answered: {again}"
    );
}

#[tokio::test]
async fn an_expired_quote_cannot_be_accepted_and_is_marked_expired() {
    let s = TestServer::start().await;
    let customer = s.register("quote-expired@example.com").await;
    let tech = ready(&s, "quote-expired-tech@example.com", NAIROBI, json!({})).await;
    let id = accepted(&s, &customer, &tech, "quote-expired-1", None).await;
    let q = quote(&s, &tech, &id, 150000, Span::hours(1)).await;
    s.advance_clock(Span::hours(2));
    let (customer, tech_session) = (
        relogin(&s, "quote-expired@example.com").await,
        relogin(&s, "quote-expired-tech@example.com").await,
    );
    let answer = respond(&s, &customer, &q["id"], "ACCEPT").await;
    assert_eq!(code(&answer["errors"][0]), "CONFLICT", "{answer}");
    let quotes = s.ok(customer.token(), QUOTES, json!({"id": id})).await;
    assert_eq!(quotes["bookingQuotes"][0]["status"], "EXPIRED");
    let past = json!({"id": id, "input": quote_input(&s, 1000, Span::hours(-1))});
    let error = s.err(tech_session.token(), QUOTE, past).await;
    assert_eq!(
        (code(&error), error["extensions"]["field"].as_str()),
        ("BAD_USER_INPUT", Some("validUntil"))
    );
}

#[tokio::test]
async fn a_newer_quote_supersedes_the_open_one() {
    let s = TestServer::start().await;
    let customer = s.register("quote-newer@example.com").await;
    let tech = ready(&s, "quote-newer-tech@example.com", NAIROBI, json!({})).await;
    let id = accepted(&s, &customer, &tech, "quote-newer-1", None).await;
    let first = quote(&s, &tech, &id, 150000, Span::hours(2)).await;
    let second = quote(&s, &tech, &id, 120000, Span::hours(2)).await;
    let quotes =
        s.ok(tech.session.token(), QUOTES, json!({"id": id})).await["bookingQuotes"].clone();
    assert_eq!(quotes[0]["id"], first["id"]);
    assert_eq!(quotes[0]["status"], "SUPERSEDED");
    assert_eq!(quotes[1]["status"], "OPEN");
    let stale = respond(&s, &customer, &first["id"], "ACCEPT").await;
    assert_eq!(code(&stale["errors"][0]), "CONFLICT", "{stale}");
    let answer = respond(&s, &customer, &second["id"], "ACCEPT").await;
    assert_eq!(
        answer["data"]["respondToQuote"]["status"], "ACCEPTED",
        "{answer}"
    );
}

#[tokio::test]
async fn only_the_assigned_technician_can_quote_and_only_in_the_booking_currency() {
    let s = TestServer::start().await;
    let customer = s.register("quote-who@example.com").await;
    let tech = ready(&s, "quote-who-tech@example.com", NAIROBI, json!({})).await;
    let stranger = ready(&s, "quote-who-other@example.com", NAIROBI, json!({})).await;
    let (id, _) = booking(&s, &customer, &tech, "quote-who-1", None).await;
    let vars = || json!({"id": id, "input": quote_input(&s, 1000, Span::hours(2))});
    assert_eq!(
        code(&s.err(tech.session.token(), QUOTE, vars()).await),
        "CONFLICT",
        "not before the job is accepted"
    );
    step(&s, &tech.session, &id, "ACCEPTED", None).await;
    assert_eq!(
        code(&s.err(customer.token(), QUOTE, vars()).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&s.err(stranger.session.token(), QUOTE, vars()).await),
        "NOT_FOUND"
    );
    let mut dollars = vars();
    dollars["input"]["lineItems"][1]["unitPrice"]["currency"] = json!("USD");
    let error = s.err(tech.session.token(), QUOTE, dollars).await;
    assert_eq!(
        (code(&error), error["extensions"]["field"].as_str()),
        ("BAD_USER_INPUT", Some("lineItems[1].unitPrice.currency"))
    );
    let mut none = vars();
    none["input"]["lineItems"] = json!([]);
    assert_eq!(
        s.err(tech.session.token(), QUOTE, none).await["extensions"]["field"],
        "lineItems"
    );
}

/// The next `weekday` at least two days away, at `hour`:00 UTC.
fn next(weekday: Weekday, hour: u32) -> chrono::DateTime<Utc> {
    let mut day = Utc::now().date_naive() + Span::days(2);
    while day.weekday() != weekday {
        day += Span::days(1);
    }
    Utc.from_utc_datetime(&day.and_hms_opt(hour, 0, 0).unwrap())
}

#[tokio::test]
async fn a_reschedule_onto_another_accepted_job_of_the_technician_is_refused() {
    let s = TestServer::start().await;
    let customer = s.register("move-overlap@example.com").await;
    let tech = ready(&s, "move-overlap-tech@example.com", NAIROBI, json!({})).await;
    let morning = next(Weekday::Tue, 6);
    let _first = accepted(&s, &customer, &tech, "move-overlap-1", Some(morning)).await;
    let second = accepted(
        &s,
        &customer,
        &tech,
        "move-overlap-2",
        Some(morning + Span::hours(5)),
    )
    .await;
    let clash = s
        .gql(
            customer.token(),
            RESCHEDULE,
            json!({"id": second, "at": (morning + Span::hours(1)).to_rfc3339()}),
        )
        .await;
    assert_eq!(code(&clash["errors"][0]), "CONFLICT", "{clash}");
    let after = morning + Span::hours(2);
    let moved = s
        .ok(
            customer.token(),
            RESCHEDULE,
            json!({"id": second, "at": after.to_rfc3339()}),
        )
        .await;
    assert_eq!(
        moved["rescheduleBooking"]["status"], "ACCEPTED",
        "back to back is fine"
    );
}

#[tokio::test]
async fn a_reschedule_outside_the_technicians_working_hours_is_refused() {
    let s = TestServer::start().await;
    let customer = s.register("move-hours@example.com").await;
    let tech = ready(&s, "move-hours-tech@example.com", NAIROBI, json!({})).await;
    let id = accepted(&s, &customer, &tech, "move-hours-1", None).await;
    let hours: Vec<_> = (1..=5)
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "17:00"}))
        .collect();
    s.ok(
        tech.session.token(),
        "mutation($h: [WorkingHoursInput!]!) { setWorkingHours(hours: $h) { weekday } }",
        json!({"h": hours}),
    )
    .await;
    // Nairobi is UTC+3: Sunday 09:00 UTC is noon on a day off; Monday 07:00 UTC is 10:00 at work.
    let sunday = s
        .gql(
            customer.token(),
            RESCHEDULE,
            json!({"id": id, "at": next(Weekday::Sun, 9).to_rfc3339()}),
        )
        .await;
    assert_eq!(code(&sunday["errors"][0]), "CONFLICT", "{sunday}");
    let monday = s
        .ok(
            customer.token(),
            RESCHEDULE,
            json!({"id": id, "at": next(Weekday::Mon, 7).to_rfc3339()}),
        )
        .await;
    assert_eq!(monday["rescheduleBooking"]["status"], "ACCEPTED");
}

#[tokio::test]
async fn a_reschedule_moves_the_start_and_notifies_the_other_party() {
    let s = TestServer::start().await;
    let customer = s.register("move-ok@example.com").await;
    let tech = ready(&s, "move-ok-tech@example.com", NAIROBI, json!({})).await;
    let id = accepted(&s, &customer, &tech, "move-ok-1", None).await;
    let at = next(Weekday::Wed, 8);
    let past = s
        .err(
            customer.token(),
            RESCHEDULE,
            json!({"id": id, "at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        (code(&past), past["extensions"]["field"].as_str()),
        ("BAD_USER_INPUT", Some("newStart"))
    );
    let moved = s
        .ok(
            customer.token(),
            RESCHEDULE,
            json!({"id": id, "at": at.to_rfc3339(), "reason": "Away that morning"}),
        )
        .await;
    let start = moved["rescheduleBooking"]["scheduledStart"]
        .as_str()
        .unwrap();
    assert_eq!(chrono::DateTime::parse_from_rfc3339(start).unwrap(), at);
    let notes = s.ok(tech.session.token(), NOTES, json!({})).await;
    assert!(
        titles(&notes)
            .iter()
            .any(|t| t.starts_with("Booking rescheduled")),
        "{notes}"
    );
    let back = s
        .ok(
            tech.session.token(),
            RESCHEDULE,
            json!({"id": id, "at": (at + Span::hours(1)).to_rfc3339()}),
        )
        .await;
    assert_eq!(back["rescheduleBooking"]["status"], "ACCEPTED");
    let notes = s.ok(customer.token(), NOTES, json!({})).await;
    assert!(
        titles(&notes)
            .iter()
            .any(|t| t.starts_with("Booking rescheduled")),
        "{notes}"
    );
}

#[tokio::test]
async fn rescheduling_after_the_technician_sets_off_is_refused() {
    let s = TestServer::start().await;
    let customer = s.register("move-late@example.com").await;
    let tech = ready(&s, "move-late-tech@example.com", NAIROBI, json!({})).await;
    let id = accepted(&s, &customer, &tech, "move-late-1", None).await;
    step(&s, &tech.session, &id, "EN_ROUTE", None).await;
    let error = s
        .err(
            customer.token(),
            RESCHEDULE,
            json!({"id": id, "at": next(Weekday::Wed, 8).to_rfc3339()}),
        )
        .await;
    assert_eq!(code(&error), "CONFLICT", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("before the technician sets off"),
        "{error}"
    );
}

#[tokio::test]
async fn the_customer_disputes_a_completed_job_and_only_an_admin_resolves_it() {
    let s = TestServer::start().await;
    let customer = s.register("dispute-open@example.com").await;
    let tech = ready(&s, "dispute-open-tech@example.com", NAIROBI, json!({})).await;
    let early = accepted(&s, &customer, &tech, "dispute-early", None).await;
    let refused = s
        .err(
            customer.token(),
            OPEN_DISPUTE,
            json!({"id": early, "reason": "Not happy"}),
        )
        .await;
    assert_eq!(
        code(&refused),
        "INVALID_TRANSITION",
        "no dispute before the work is done: {refused}"
    );
    s.ok(
        customer.token(),
        "mutation($id: ID!) { cancelBooking(id: $id) { status } }",
        json!({"id": early}),
    )
    .await;

    let id = completed(&s, &customer, &tech, "dispute-open-1").await;
    let opened = s
        .ok(
            customer.token(),
            OPEN_DISPUTE,
            json!({"id": id, "reason": "Still leaking"}),
        )
        .await;
    assert_eq!(opened["openDispute"]["status"], "DISPUTED");
    let dispute =
        s.ok(tech.session.token(), DISPUTE, json!({"id": id})).await["bookingDispute"].clone();
    assert_eq!(
        (dispute["status"].as_str(), dispute["reason"].as_str()),
        (Some("OPEN"), Some("Still leaking"))
    );

    let split = |percent: Option<i32>| json!({"id": id, "input": {"outcome": "SPLIT", "customerRefundPercent": percent}});
    assert_eq!(
        code(&s.err(customer.token(), RESOLVE, split(Some(30))).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&s.err(tech.session.token(), RESOLVE, split(Some(30))).await),
        "FORBIDDEN"
    );
    let admin = admin(&s).await;
    for missing in [None, Some(0), Some(100)] {
        let error = s.err(admin.token(), RESOLVE, split(missing)).await;
        assert_eq!(
            (code(&error), error["extensions"]["field"].as_str()),
            ("BAD_USER_INPUT", Some("customerRefundPercent"))
        );
    }
    let resolved = s.ok(admin.token(), RESOLVE, split(Some(30))).await;
    assert_eq!(resolved["resolveDispute"]["status"], "PAID");
    let dispute =
        s.ok(customer.token(), DISPUTE, json!({"id": id})).await["bookingDispute"].clone();
    assert_eq!(
        dispute,
        json!({"status": "RESOLVED", "outcome": "SPLIT", "customerRefundPercent": 30, "reason": "Still leaking"})
    );
    let again = s
        .err(
            customer.token(),
            OPEN_DISPUTE,
            json!({"id": id, "reason": "Again"}),
        )
        .await;
    assert_eq!(code(&again), "CONFLICT", "a resolution is final: {again}");
}

#[tokio::test]
async fn a_dispute_stored_with_an_unknown_outcome_is_an_error_naming_it_not_an_unresolved_one() {
    use fundi::db::entities::dispute::{Column, Entity};
    use sea_orm::{EntityTrait, QuerySelect};
    let s = TestServer::start().await;
    let customer = s.register("dispute-corrupt@example.com").await;
    let tech = ready(&s, "dispute-corrupt-tech@example.com", NAIROBI, json!({})).await;
    let id = completed(&s, &customer, &tech, "dispute-corrupt-1").await;
    s.ok(
        customer.token(),
        OPEN_DISPUTE,
        json!({"id": id, "reason": "Still leaking"}),
    )
    .await;
    let admin = admin(&s).await;
    s.ok(
        admin.token(),
        RESOLVE,
        json!({"id": id, "input": {"outcome": "REFUND_CUSTOMER"}}),
    )
    .await;
    let db = &s.services().db;
    // The only dispute in this database; its id read alone, since the whole row no longer reads.
    let dispute: uuid::Uuid = Entity::find()
        .select_only()
        .column(Column::Id)
        .into_tuple()
        .one(db)
        .await
        .unwrap()
        .unwrap();
    Entity::update_many()
        .col_expr(Column::Outcome, sea_orm::sea_query::Expr::value("HALVED"))
        .exec(db)
        .await
        .unwrap();

    let error = Entity::find_by_id(dispute)
        .one(db)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("Outcome"), "{error}");
    assert!(error.contains("\"HALVED\""), "{error}");
    assert!(error.contains(&dispute.to_string()), "{error}");
    // The customer is told something is wrong rather than shown a dispute without an outcome.
    let shown = s.err(customer.token(), DISPUTE, json!({"id": id})).await;
    assert_eq!(code(&shown), "INTERNAL_SERVER_ERROR", "{shown}");
}

#[tokio::test]
async fn an_admin_can_release_to_the_technician_or_refund_the_customer() {
    let s = TestServer::start().await;
    let customer = s.register("dispute-outcomes@example.com").await;
    let tech = ready(&s, "dispute-outcomes-tech@example.com", NAIROBI, json!({})).await;
    let admin = admin(&s).await;
    for (key, outcome, status) in [
        ("dispute-release", "RELEASE_TO_TECHNICIAN", "PAID"),
        ("dispute-refund", "REFUND_CUSTOMER", "REFUNDED"),
    ] {
        let id = completed(&s, &customer, &tech, key).await;
        // The technician may raise it too; it is checked by the customer's rule.
        s.ok(
            tech.session.token(),
            OPEN_DISPUTE,
            json!({"id": id, "reason": "Customer will not verify"}),
        )
        .await;
        let resolved = s
            .ok(
                admin.token(),
                RESOLVE,
                json!({"id": id, "input": {"outcome": outcome, "note": "Photos reviewed"}}),
            )
            .await;
        assert_eq!(resolved["resolveDispute"]["status"], status, "{outcome}");
        let with_percent = s
            .err(
                admin.token(),
                RESOLVE,
                json!({"id": id, "input": {"outcome": outcome}}),
            )
            .await;
        assert!(
            matches!(code(&with_percent), "CONFLICT" | "INVALID_TRANSITION"),
            "resolved once: {with_percent}"
        );
    }
}

const CUSTOMER_DASHBOARD: &str =
    "{ customerDashboard { active completed cancelled totalSpent { amountMinor currency } } }";
const TECHNICIAN_DASHBOARD: &str = "{ technicianDashboard { offersWaiting activeJobs completedThisWeek completedThisMonth acceptanceRate medianResponseSeconds } }";

#[tokio::test]
async fn dashboards_count_bookings_offers_and_money_spent() {
    let s = TestServer::start().await;
    let customer = s.register("dash@example.com").await;
    let tech = ready(&s, "dash-tech@example.com", NAIROBI, json!({})).await;
    let fresh = s
        .ok(tech.session.token(), TECHNICIAN_DASHBOARD, json!({}))
        .await["technicianDashboard"]
        .clone();
    assert_eq!(
        (
            fresh["acceptanceRate"].clone(),
            fresh["medianResponseSeconds"].clone()
        ),
        (Value::Null, Value::Null)
    );
    let empty =
        s.ok(customer.token(), CUSTOMER_DASHBOARD, json!({})).await["customerDashboard"].clone();
    assert_eq!(
        empty,
        json!({"active": 0, "completed": 0, "cancelled": 0, "totalSpent": {"amountMinor": 0, "currency": "KES"}})
    );

    let admin = admin(&s).await;
    let paid = completed(&s, &customer, &tech, "dash-paid-1").await;
    s.ok(
        customer.token(),
        OPEN_DISPUTE,
        json!({"id": paid, "reason": "Check the work"}),
    )
    .await;
    s.ok(
        admin.token(),
        RESOLVE,
        json!({"id": paid, "input": {"outcome": "RELEASE_TO_TECHNICIAN"}}),
    )
    .await;
    let total = s.ok(customer.token(), VIEW, json!({"id": paid})).await["booking"]["price"]["total"]["amountMinor"].clone();
    let (cancelled, _) = booking(&s, &customer, &tech, "dash-cancel-1", None).await;
    s.ok(
        customer.token(),
        "mutation($id: ID!) { cancelBooking(id: $id) { status } }",
        json!({"id": cancelled}),
    )
    .await;
    let (_waiting, _) = booking(&s, &customer, &tech, "dash-waiting-1", None).await;
    let _active = accepted(&s, &customer, &tech, "dash-active-1", None).await;

    let mine =
        s.ok(customer.token(), CUSTOMER_DASHBOARD, json!({})).await["customerDashboard"].clone();
    assert_eq!(
        mine,
        json!({"active": 2, "completed": 1, "cancelled": 1, "totalSpent": {"amountMinor": total, "currency": "KES"}})
    );
    let work = s
        .ok(tech.session.token(), TECHNICIAN_DASHBOARD, json!({}))
        .await["technicianDashboard"]
        .clone();
    assert_eq!(work["offersWaiting"], 1, "{work}");
    assert_eq!(work["activeJobs"], 1, "{work}");
    assert_eq!(
        (
            work["completedThisWeek"].clone(),
            work["completedThisMonth"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(
        work["acceptanceRate"], 1.0,
        "both answered offers were accepted (a withdrawn one is not an answer)"
    );
    assert!(
        work["medianResponseSeconds"]
            .as_i64()
            .is_some_and(|n| n >= 0),
        "{work}"
    );

    s.advance_clock(Span::days(8));
    let tech_session = relogin(&s, "dash-tech@example.com").await;
    let later = s
        .ok(tech_session.token(), TECHNICIAN_DASHBOARD, json!({}))
        .await["technicianDashboard"]
        .clone();
    assert_eq!(
        (
            later["completedThisWeek"].clone(),
            later["completedThisMonth"].clone()
        ),
        (json!(0), json!(1))
    );
}
