//! Bookings: requests, dispatch, the state machine by role, start codes, concurrency, expiry,
//! cancellation fees, privacy, and live updates over subscriptions.

use crate::booking_fixtures::*;
use crate::fixtures::*;
use crate::support::*;
use serde_json::{Value, json};
use std::time::Duration;

const VIEW: &str = "query($id: ID!) { booking(id: $id) { status startCode availableTransitions cancellationFee { amountMinor }
  events { from to role reason } technician { id } } }";

#[tokio::test]
async fn the_whole_job_runs_and_the_subscriber_sees_every_change_in_order() {
    let s = TestServer::start().await;
    let customer = s.register("happy@example.com").await;
    let tech = ready(&s, "happy-tech@example.com", NAIROBI, json!({})).await;
    let booking = direct(&s, &customer, &tech, "happy-path-1").await;
    let id = booking["id"].clone();
    assert_eq!(booking["status"], "ASSIGNED");
    let code = booking["startCode"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 4);

    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    ws.init(customer.token()).await;
    ws.subscribe("1", &format!("subscription {{ bookingUpdated(id: \"{}\") {{ sequence kind booking {{ status }} }} }}", id.as_str().unwrap())).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let path = [
        "ACCEPTED",
        "EN_ROUTE",
        "ARRIVED",
        "IN_PROGRESS",
        "PAUSED",
        "IN_PROGRESS",
        "COMPLETED",
    ];
    for to in path {
        ok_step(
            &s,
            &tech.session,
            &id,
            to,
            (to == "IN_PROGRESS").then_some(code.as_str()),
        )
        .await;
    }
    // Verification settles at once: the booking moves on to PAYMENT_PENDING in the same request.
    let verified = step(&s, &customer, &id, "VERIFIED", None).await;
    assert_eq!(
        verified["data"]["transitionBooking"]["status"], "PAYMENT_PENDING",
        "{verified}"
    );
    let view = s.ok(customer.token(), VIEW, json!({"id": id})).await;
    assert_eq!(
        view["booking"]["status"], "PAYMENT_PENDING",
        "verified with the total still owed"
    );

    let mut seen = Vec::new();
    let mut last = 0;
    while seen.len() < path.len() + 2 {
        let payload = ws.next_payload(Duration::from_secs(10)).await;
        let update = &payload["data"]["bookingUpdated"];
        // The offer was committed before the subscription; its event may still be in flight.
        if update["booking"]["status"] == "ASSIGNED" {
            continue;
        }
        let sequence = update["sequence"].as_i64().unwrap();
        assert!(
            sequence > last,
            "sequences increase: {sequence} after {last}"
        );
        last = sequence;
        seen.push(update["booking"]["status"].as_str().unwrap().to_string());
    }
    let mut expected: Vec<String> = path.iter().map(|s| s.to_string()).collect();
    expected.extend(["VERIFIED".into(), "PAYMENT_PENDING".into()]);
    assert_eq!(seen, expected);
    let events: Vec<Value> = view["booking"]["events"].as_array().unwrap().clone();
    assert_eq!(events.first().unwrap()["to"], "PENDING");
    assert!(
        events
            .iter()
            .any(|e| e["to"] == "ACCEPTED" && e["role"] == "TECHNICIAN")
    );
    let me = s
        .ok(
            tech.session.token(),
            "{ myTechnicianProfile { availability jobsCompleted } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["myTechnicianProfile"]["availability"], "AVAILABLE",
        "free again after the job"
    );
    assert_eq!(me["myTechnicianProfile"]["jobsCompleted"], 1);
}

#[tokio::test]
async fn prices_follow_the_rules() {
    let s = TestServer::start().await;
    let customer = s.register("price@example.com").await;
    let tech = ready(&s, "price-tech@example.com", NAIROBI, json!({})).await;
    // KES 1,000/h for 90 minutes, URGENT (+20%): base 1,500, surge 300, job price 1,800;
    // platform fee 15% = 270; no tax; total 1,800; deposit 20% = 360.
    let booking = create(
        &s,
        &customer,
        "pricing-001",
        json!({"technicianId": tech.id, "estimatedDurationMinutes": 90}),
    )
    .await;
    let price = &booking["price"];
    assert_eq!(price["base"]["amountMinor"], 150000);
    assert_eq!(price["surge"]["amountMinor"], 30000);
    assert_eq!(price["platformFee"]["amountMinor"], 27000);
    assert_eq!(price["tax"]["amountMinor"], 0);
    assert_eq!(price["total"]["amountMinor"], 180000);
    assert_eq!(price["deposit"]["amountMinor"], 36000);
}

#[tokio::test]
async fn bad_requests_are_refused_field_by_field_and_retries_return_the_first_booking() {
    let s = TestServer::start().await;
    let customer = s.register("bad-request@example.com").await;
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let cases = [
        (json!({"title": "ab"}), "title"),
        (json!({"description": "x".repeat(2001)}), "description"),
        (json!({"category": "juggling"}), "category"),
        (
            json!({"location": {"lat": 100.0, "lng": 0.0}}),
            "location.lat",
        ),
        (
            json!({"budgetMin": {"amountMinor": 500000, "currency": "KES"}}),
            "budgetMax.amountMinor",
        ),
        (
            json!({"budgetMin": {"amountMinor": -1, "currency": "KES"}}),
            "budgetMin.amountMinor",
        ),
        (json!({"scheduledStart": past}), "scheduledStart"),
        (json!({"priority": "LOW"}), "scheduledStart"),
        (
            json!({"estimatedDurationMinutes": 10}),
            "estimatedDurationMinutes",
        ),
        (
            json!({"estimatedDurationMinutes": 721}),
            "estimatedDurationMinutes",
        ),
        (json!({"idempotencyKey": "short"}), "idempotencyKey"),
    ];
    for (i, (extra, field)) in cases.into_iter().enumerate() {
        let mut extra = extra;
        if extra.get("idempotencyKey").is_none() {
            extra["idempotencyKey"] = json!(format!("bad-request-{i:03}"));
        }
        let error = s
            .err(
                customer.token(),
                CREATE,
                request("unused-key", extra.clone()),
            )
            .await;
        assert_eq!(
            (code(&error), error["extensions"]["field"].as_str()),
            ("BAD_USER_INPUT", Some(field)),
            "{extra}"
        );
    }
    let first = create(&s, &customer, "retry-key-01", json!({})).await;
    let again = create(&s, &customer, "retry-key-01", json!({})).await;
    assert_eq!(first["id"], again["id"], "a retry returns the same booking");
    let list = s
        .ok(
            customer.token(),
            "{ bookings(first: 50) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list["bookings"]["edges"].as_array().unwrap().len(),
        1,
        "refused requests left nothing behind"
    );
}

#[tokio::test]
async fn every_role_is_held_to_its_own_moves() {
    let s = TestServer::start().await;
    let customer = s.register("roles@example.com").await;
    let tech = ready(&s, "roles-tech@example.com", NAIROBI, json!({})).await;
    let booking = direct(&s, &customer, &tech, "roles-key-01").await;
    let id = booking["id"].clone();
    let refused = step(&s, &customer, &id, "ACCEPTED", None).await;
    assert_eq!(code(&refused["errors"][0]), "INVALID_TRANSITION");
    assert!(
        refused["errors"][0]["extensions"]["allowed"]
            .as_array()
            .unwrap()
            .contains(&json!("CANCELLED"))
    );
    ok_step(&s, &tech.session, &id, "ACCEPTED", None).await;
    assert_eq!(
        code(&step(&s, &tech.session, &id, "COMPLETED", None).await["errors"][0]),
        "INVALID_TRANSITION"
    );
    assert_eq!(
        code(&step(&s, &customer, &id, "EN_ROUTE", None).await["errors"][0]),
        "INVALID_TRANSITION"
    );
    ok_step(&s, &tech.session, &id, "EN_ROUTE", None).await;
    ok_step(&s, &tech.session, &id, "ARRIVED", None).await;
    let no_code = step(&s, &tech.session, &id, "IN_PROGRESS", None).await;
    assert_eq!(no_code["errors"][0]["extensions"]["field"], "startCode");
    let wrong_code = step(&s, &tech.session, &id, "IN_PROGRESS", Some("0000x")).await;
    assert_eq!(wrong_code["errors"][0]["extensions"]["field"], "startCode");
    let tech_view = s.ok(tech.session.token(), VIEW, json!({"id": id})).await;
    assert!(
        tech_view["booking"]["startCode"].is_null(),
        "only the customer sees the start code"
    );
    assert_eq!(
        tech_view["booking"]["availableTransitions"],
        json!(["IN_PROGRESS"])
    );
    let customer_view = s.ok(customer.token(), VIEW, json!({"id": id})).await;
    assert_eq!(
        customer_view["booking"]["availableTransitions"],
        json!(["CANCELLED"])
    );
    let start_code = customer_view["booking"]["startCode"]
        .as_str()
        .unwrap()
        .to_string();
    ok_step(&s, &tech.session, &id, "IN_PROGRESS", Some(&start_code)).await;
    assert_eq!(
        code_of_cancel(&s, &customer, &id).await,
        "INVALID_TRANSITION",
        "customers cannot cancel work in progress"
    );
    ok_step(&s, &tech.session, &id, "COMPLETED", None).await;
    assert_eq!(
        code(&step(&s, &tech.session, &id, "VERIFIED", None).await["errors"][0]),
        "INVALID_TRANSITION"
    );
}

async fn code_of_cancel(s: &TestServer, who: &Session, id: &Value) -> String {
    let answer = s
        .gql(
            who.token(),
            "mutation($id: ID!) { cancelBooking(id: $id, reason: \"changed my mind\") { status } }",
            json!({"id": id}),
        )
        .await;
    code(&answer["errors"][0]).to_string()
}

#[tokio::test]
async fn of_two_concurrent_accepts_exactly_one_wins() {
    let s = TestServer::start().await;
    let customer = s.register("race-customer@example.com").await;
    let tech = ready(&s, "race-tech@example.com", NAIROBI, json!({})).await;
    let booking = direct(&s, &customer, &tech, "race-key-001").await;
    let id = booking["id"].clone();
    let (a, b) = tokio::join!(
        step(&s, &tech.session, &id, "ACCEPTED", None),
        step(&s, &tech.session, &id, "ACCEPTED", None)
    );
    let wins = [&a, &b]
        .iter()
        .filter(|r| r["data"]["transitionBooking"]["status"] == "ACCEPTED")
        .count();
    assert_eq!(wins, 1, "{a} {b}");
    let loser = if a["errors"].is_array() { &a } else { &b };
    assert!(
        matches!(code(&loser["errors"][0]), "CONFLICT" | "INVALID_TRANSITION"),
        "{loser}"
    );
}

#[tokio::test]
async fn an_unanswered_offer_expires_and_goes_to_the_next_candidate() {
    let s = TestServer::start().await;
    let customer = s.register("expiry@example.com").await;
    let first = ready(&s, "first-choice@example.com", NAIROBI, json!({})).await;
    let second = ready(
        &s,
        "second-choice@example.com",
        north_of(NAIROBI, 3.0),
        json!({}),
    )
    .await;
    let booking = create(&s, &customer, "expiry-key-1", json!({})).await;
    let id = booking["id"].clone();
    assert_eq!(
        booking["technician"]["id"], first.id,
        "the best match is asked first"
    );
    let offers = s
        .ok(
            first.session.token(),
            "{ jobOffers { expiresAt booking { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(offers["jobOffers"][0]["booking"]["id"], id);
    s.advance_clock(chrono::Duration::seconds(121));
    fundi::services::bookings::timers::run_due(s.services())
        .await
        .unwrap();
    let view = s.ok(customer.token(), VIEW, json!({"id": id})).await;
    assert_eq!(view["booking"]["status"], "ASSIGNED");
    assert_eq!(
        view["booking"]["technician"]["id"], second.id,
        "offered to the next candidate"
    );
    let events: Vec<&str> = view["booking"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["to"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        vec![
            "PENDING", "MATCHING", "ASSIGNED", "REJECTED", "MATCHING", "ASSIGNED"
        ]
    );
    // Declining also moves on; with nobody left the booking is cancelled for want of a technician.
    let customer =
        Session::from_payload(&s.login("expiry@example.com", PASSWORD).await["data"]["login"]);
    let second_session = Session::from_payload(
        &s.login("second-choice@example.com", PASSWORD).await["data"]["login"],
    );
    let declined = step(&s, &second_session, &id, "REJECTED", None).await;
    assert_eq!(
        declined["data"]["transitionBooking"]["status"], "CANCELLED",
        "{declined}"
    );
    let view = s.ok(customer.token(), VIEW, json!({"id": id})).await;
    assert_eq!(view["booking"]["status"], "CANCELLED");
    let notes = s
        .ok(
            customer.token(),
            "{ notifications(first: 5) { edges { node { title } } } }",
            json!({}),
        )
        .await;
    assert!(notes.to_string().contains("Booking cancelled"), "{notes}");
}

#[tokio::test]
async fn a_request_with_no_candidates_is_cancelled_at_once() {
    let s = TestServer::start().await;
    let customer = s.register("lonely@example.com").await;
    let booking = create(&s, &customer, "lonely-key-1", json!({})).await;
    assert_eq!(booking["status"], "CANCELLED");
    let view = s
        .ok(
            customer.token(),
            "query($id: ID!) { booking(id: $id) { cancellationReason } }",
            json!({"id": booking["id"]}),
        )
        .await;
    assert_eq!(
        view["booking"]["cancellationReason"],
        "NO_TECHNICIAN_AVAILABLE"
    );
}

#[tokio::test]
async fn cancellation_fees_follow_the_time_left() {
    let s = TestServer::start().await;
    let customer = s.register("fees@example.com").await;
    let tech = ready(&s, "fees-tech@example.com", NAIROBI, json!({})).await;
    let cancel = "mutation($id: ID!) { cancelBooking(id: $id, reason: \"plans changed\") { status cancellationFee { amountMinor } } }";
    // Total for 60 minutes at KES 1,000/h, MEDIUM: 100,000 minor units.
    let minute = chrono::Duration::minutes(1);
    let cases = [
        (chrono::Duration::hours(24) + minute, 0),
        (chrono::Duration::hours(24) - minute, 25_000),
        (chrono::Duration::hours(6) + minute, 25_000),
        (chrono::Duration::hours(6) - minute, 50_000),
        (chrono::Duration::hours(2) + minute, 50_000),
        (chrono::Duration::hours(2) - minute, 75_000),
    ];
    for (i, (start_in, fee)) in cases.into_iter().enumerate() {
        let booking =
            accepted_booking(&s, &customer, &tech, &format!("fee-key-{i:03}"), start_in).await;
        let answer = s
            .ok(customer.token(), cancel, json!({"id": booking["id"]}))
            .await;
        assert_eq!(
            answer["cancelBooking"]["cancellationFee"]["amountMinor"], fee,
            "start in {start_in}"
        );
    }
    let start = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let unaccepted = create(
        &s,
        &customer,
        "fee-free-01",
        json!({"technicianId": tech.id, "scheduledStart": start, "priority": "MEDIUM"}),
    )
    .await;
    let answer = s
        .ok(customer.token(), cancel, json!({"id": unaccepted["id"]}))
        .await;
    assert_eq!(
        answer["cancelBooking"]["cancellationFee"]["amountMinor"], 0,
        "free before a technician accepts"
    );
    let me = s
        .ok(
            tech.session.token(),
            "{ myTechnicianProfile { availability } }",
            json!({}),
        )
        .await;
    assert_eq!(me["myTechnicianProfile"]["availability"], "AVAILABLE");
}

#[tokio::test]
async fn cancelling_through_transition_booking_costs_the_same_fee_as_cancel_booking() {
    let s = TestServer::start().await;
    let customer = s.register("fee-path@example.com").await;
    let tech = ready(&s, "fee-path-tech@example.com", NAIROBI, json!({})).await;
    // Total 100,000; under 2 hours left after acceptance: 75%.
    let start_in = chrono::Duration::hours(1);
    let booking = accepted_booking(&s, &customer, &tech, "fee-path-01", start_in).await;
    let moved = s
        .ok(
            customer.token(),
            "mutation($id: ID!) { transitionBooking(id: $id, to: CANCELLED, reason: \"plans changed\") {
               status cancellationFee { amountMinor } cancellationReason } }",
            json!({"id": booking["id"]}),
        )
        .await;
    assert_eq!(moved["transitionBooking"]["status"], "CANCELLED");
    assert_eq!(
        moved["transitionBooking"]["cancellationFee"]["amountMinor"], 75_000,
        "{moved}"
    );
    assert_eq!(
        moved["transitionBooking"]["cancellationReason"],
        "plans changed"
    );
}

#[tokio::test]
async fn strangers_cannot_read_list_subscribe_to_or_move_someone_elses_booking() {
    let s = TestServer::start().await;
    let customer = s.register("owner-b@example.com").await;
    let stranger = s.register("stranger-b@example.com").await;
    let tech = ready(&s, "owner-tech@example.com", NAIROBI, json!({})).await;
    let other_tech = ready(
        &s,
        "other-tech@example.com",
        north_of(NAIROBI, 40.0),
        json!({}),
    )
    .await;
    let booking = direct(&s, &customer, &tech, "private-key1").await;
    let id = booking["id"].clone();
    for who in [&stranger, &other_tech.session] {
        assert_eq!(
            code(&s.err(who.token(), VIEW, json!({"id": id})).await),
            "NOT_FOUND"
        );
        assert_eq!(
            code(&step(&s, who, &id, "CANCELLED", None).await["errors"][0]),
            "NOT_FOUND"
        );
        let node = s
            .err(
                who.token(),
                "query($id: ID!) { node(id: $id) { id } }",
                json!({"id": id}),
            )
            .await;
        assert_eq!(code(&node), "NOT_FOUND");
        let list = s
            .ok(
                who.token(),
                "{ bookings { edges { node { id } } } }",
                json!({}),
            )
            .await;
        assert!(list["bookings"]["edges"].as_array().unwrap().is_empty());
    }
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    ws.init(stranger.token()).await;
    ws.subscribe(
        "1",
        &format!(
            "subscription {{ bookingUpdated(id: \"{}\") {{ sequence }} }}",
            id.as_str().unwrap()
        ),
    )
    .await;
    let refused = ws.next_payload(Duration::from_secs(5)).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );
}

#[tokio::test]
async fn a_technician_is_offered_jobs_live() {
    let s = TestServer::start().await;
    let customer = s.register("live-offer@example.com").await;
    let tech = ready(&s, "live-tech@example.com", NAIROBI, json!({})).await;
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    ws.init(tech.session.token()).await;
    ws.subscribe(
        "1",
        "subscription { jobOfferAdded { expiresAt booking { id title } } }",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let booking = create(&s, &customer, "live-offer-1", json!({})).await;
    let payload = ws.next_payload(Duration::from_secs(10)).await;
    assert_eq!(
        payload["data"]["jobOfferAdded"]["booking"]["id"], booking["id"],
        "{payload}"
    );
}

#[tokio::test]
async fn completed_jobs_are_verified_by_the_system_after_48_hours() {
    let s = TestServer::start().await;
    let customer = s.register("auto-verify@example.com").await;
    let tech = ready(&s, "auto-tech@example.com", NAIROBI, json!({})).await;
    let booking = direct(&s, &customer, &tech, "auto-verify1").await;
    let id = booking["id"].clone();
    let code = booking["startCode"].as_str().unwrap().to_string();
    for to in [
        "ACCEPTED",
        "EN_ROUTE",
        "ARRIVED",
        "IN_PROGRESS",
        "COMPLETED",
    ] {
        ok_step(
            &s,
            &tech.session,
            &id,
            to,
            (to == "IN_PROGRESS").then_some(code.as_str()),
        )
        .await;
    }
    s.advance_clock(chrono::Duration::hours(47));
    fundi::services::bookings::timers::run_due(s.services())
        .await
        .unwrap();
    let admin_email = "verify-admin@example.com";
    fundi::services::accounts::account::create_staff(
        s.services(),
        admin_email,
        PASSWORD,
        "Admin",
        fundi::domain::account::Role::Admin,
    )
    .await
    .unwrap();
    let admin = Session::from_payload(&s.login(admin_email, PASSWORD).await["data"]["login"]);
    assert_eq!(
        s.ok(admin.token(), VIEW, json!({"id": id})).await["booking"]["status"],
        "COMPLETED"
    );
    s.advance_clock(chrono::Duration::hours(2));
    fundi::services::bookings::timers::run_due(s.services())
        .await
        .unwrap();
    let admin = Session::from_payload(&s.login(admin_email, PASSWORD).await["data"]["login"]);
    let view = s.ok(admin.token(), VIEW, json!({"id": id})).await;
    assert_eq!(view["booking"]["status"], "PAYMENT_PENDING");
    assert!(
        view["booking"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["to"] == "VERIFIED" && e["role"] == "SYSTEM")
    );
}

#[tokio::test]
async fn an_admin_stops_work_in_progress_through_cancel_booking() {
    let s = TestServer::start().await;
    let customer = s.register("admin-cancel@example.com").await;
    let tech = ready(&s, "admin-cancel-tech@example.com", NAIROBI, json!({})).await;
    let booking = direct(&s, &customer, &tech, "admin-cancel-01").await;
    let id = booking["id"].clone();
    let code = booking["startCode"].as_str().unwrap().to_string();
    for to in ["ACCEPTED", "EN_ROUTE", "ARRIVED", "IN_PROGRESS"] {
        let code = (to == "IN_PROGRESS").then_some(code.as_str());
        ok_step(&s, &tech.session, &id, to, code).await;
    }
    fundi::services::accounts::account::create_staff(
        s.services(),
        "admin-cancel-admin@example.com",
        PASSWORD,
        "Admin",
        fundi::domain::account::Role::Admin,
    )
    .await
    .unwrap();
    let admin = Session::from_payload(
        &s.login("admin-cancel-admin@example.com", PASSWORD).await["data"]["login"],
    );
    let cancel = "mutation($id: ID!, $reason: String) { cancelBooking(id: $id, reason: $reason) { status } }";
    let done = s
        .ok(
            admin.token(),
            cancel,
            json!({"id": id, "reason": "unsafe site"}),
        )
        .await;
    assert_eq!(done["cancelBooking"]["status"], "CANCELLED");
    let refused = s
        .gql(
            customer.token(),
            cancel,
            json!({"id": id, "reason": "again"}),
        )
        .await;
    assert_eq!(code_of_first(&refused), "INVALID_TRANSITION");
}

fn code_of_first(answer: &Value) -> &str {
    code(&answer["errors"][0])
}

/// The requests the bookings benchmark sends, as it sends them, with each one's statement count.
async fn lifecycle_statements(s: &TestServer) -> Vec<(String, u64)> {
    let customer = s.register("budget-customer@example.com").await;
    let tech = ready(s, "budget-tech@example.com", NAIROBI, json!({})).await;
    let create =
        "mutation($i: ServiceRequestInput!) { createServiceRequest(input: $i) { id startCode } }";
    let pay = "mutation($i: PayBookingInput!) { payBooking(input: $i) { status } }";
    let step = "mutation($id: ID!, $to: BookingStatus!, $code: String) { transitionBooking(id: $id, to: $to, startCode: $code) { status } }";
    let mut counts = Vec::new();
    let input = json!({"i": {"category": "plumbing", "title": "Budget job", "address": "Budget Street 1",
        "location": {"lat": NAIROBI.0, "lng": NAIROBI.1}, "priority": "URGENT",
        "budgetMin": {"amountMinor": 0, "currency": "KES"}, "budgetMax": {"amountMinor": 500000, "currency": "KES"},
        "estimatedDurationMinutes": 60, "technicianId": tech.id, "idempotencyKey": "budget-1"}});
    let (body, n) = counted(s, customer.token(), create, input).await;
    counts.push(("create".to_string(), n));
    let id = body["data"]["createServiceRequest"]["id"].clone();
    let code = body["data"]["createServiceRequest"]["startCode"].clone();
    let deposit = json!({"i": {"bookingId": id, "kind": "DEPOSIT", "method": "SANDBOX",
        "idempotencyKey": "budget-deposit-1"}});
    let (body, n) = counted(s, customer.token(), pay, deposit).await;
    assert_eq!(body["data"]["payBooking"]["status"], "SUCCEEDED", "{body}");
    counts.push(("pay deposit".to_string(), n));
    for to in [
        "ACCEPTED",
        "EN_ROUTE",
        "ARRIVED",
        "IN_PROGRESS",
        "COMPLETED",
        "VERIFIED",
    ] {
        let who = if to == "VERIFIED" {
            &customer
        } else {
            &tech.session
        };
        let code = if to == "IN_PROGRESS" {
            code.clone()
        } else {
            Value::Null
        };
        let (body, n) = counted(
            s,
            who.token(),
            step,
            json!({"id": id, "to": to, "code": code}),
        )
        .await;
        assert!(body.get("errors").is_none(), "{to}: {body}");
        counts.push((to.to_string(), n));
    }
    counts
}

/// Statements per request on PostgreSQL, and the booking moves each makes: a move and its event-log
/// line are one statement there and two on SQLite, which has no writing `WITH`. A move costs the
/// compare-and-set with its log line (the moved row comes back from it), the booking's event, the
/// chat's status line and the notification (each with its outbox sequence and row), and only the
/// technician writes that change something.
const LIFECYCLE_BUDGET: [(&str, u64, u64); 8] = [
    ("create", 7, 0),
    ("pay deposit", 31, 1),
    ("ACCEPTED", 15, 1),
    ("EN_ROUTE", 11, 1),
    ("ARRIVED", 11, 1),
    ("IN_PROGRESS", 8, 1),
    ("COMPLETED", 14, 1),
    // Verification settles at once: a second move, to PAYMENT_PENDING.
    ("VERIFIED", 16, 2),
];

#[tokio::test]
async fn a_booking_s_lifecycle_stays_within_its_statement_budget() {
    let s = TestServer::start().await;
    let sqlite = s.services().db.get_database_backend() == sea_orm::DbBackend::Sqlite;
    let counts = lifecycle_statements(&s).await;
    eprintln!("statements per request: {counts:?}");
    for ((step, n), (budgeted, on_postgres, moves)) in counts.iter().zip(LIFECYCLE_BUDGET) {
        assert_eq!(step, budgeted);
        let budget = on_postgres + if sqlite { moves } else { 0 };
        assert!(
            *n <= budget,
            "{step}: {n} statements, budget {budget}: {counts:?}"
        );
    }
}
