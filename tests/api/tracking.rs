//! Live tracking: who may share and when, point admission (rate, order, clock), ETA, the arrival
//! geofence, the thinned trail and its retention, and the `technicianLocation` subscription.

use crate::booking_fixtures::*;
use crate::fixtures::*;
use crate::support::*;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::time::Duration;

const SHARE: &str =
    "mutation($id: ID!, $input: LocationInput!) { shareLocation(bookingId: $id, input: $input) {
  bookingId lat lng accuracyM headingDeg speedKmh recordedAt distanceKm etaMinutes } }";
const VIEW: &str = "query($id: ID!) { booking(id: $id) { status events { from to role } trail { lat lng recordedAt distanceKm etaMinutes } } }";

/// Just over the one-point-per-second limit, on the server's clock.
fn next_second(s: &TestServer) {
    s.advance_clock(chrono::Duration::milliseconds(1_100));
}

fn millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap()
}

fn server_now(s: &TestServer) -> DateTime<Utc> {
    s.services().clock.now()
}

fn reading(at: (f64, f64), recorded_at: DateTime<Utc>) -> Value {
    json!({"lat": at.0, "lng": at.1, "accuracyM": 8.0, "headingDeg": 180.0, "speedKmh": 25.0,
        "recordedAt": recorded_at.to_rfc3339()})
}

async fn share(s: &TestServer, who: &Session, id: &Value, input: Value) -> Value {
    s.gql(who.token(), SHARE, json!({"id": id, "input": input}))
        .await
}

/// Shares a point that must be accepted and returns it.
async fn shared(
    s: &TestServer,
    who: &Session,
    id: &Value,
    at: (f64, f64),
    recorded_at: DateTime<Utc>,
) -> Value {
    let answer = share(s, who, id, reading(at, recorded_at)).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["shareLocation"].clone()
}

fn first_error(answer: &Value) -> &Value {
    &answer["errors"][0]
}

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().expect("a time").parse().expect("RFC 3339")
}

/// A customer, a technician based in Nairobi and a booking they accepted (job at NAIROBI).
async fn accepted(s: &TestServer, name: &str) -> (Session, Tech, Value) {
    let customer = s.register(&format!("{name}-customer@example.com")).await;
    let tech = ready(s, &format!("{name}-tech@example.com"), NAIROBI, json!({})).await;
    let booking = accepted_booking(
        s,
        &customer,
        &tech,
        &format!("{name}-key-1"),
        chrono::Duration::hours(3),
    )
    .await;
    (customer, tech, booking)
}

async fn staff(s: &TestServer, email: &str) -> Session {
    fundi::services::accounts::account::create_staff(
        s.services(),
        email,
        PASSWORD,
        "Staff Person",
        fundi::domain::account::Role::Admin,
    )
    .await
    .unwrap();
    Session::from_payload(&s.login(email, PASSWORD).await["data"]["login"])
}

async fn watch(s: &TestServer, who: &Session, id: &Value) -> WsClient {
    let mut ws = WsClient::connect(&s.ws_url, "graphql-transport-ws").await;
    ws.init(who.token()).await;
    ws.subscribe(
        "1",
        &format!(
            "subscription {{ technicianLocation(bookingId: \"{}\") {{ lat lng recordedAt distanceKm etaMinutes }} }}",
            id.as_str().unwrap()
        ),
    )
    .await;
    ws
}

async fn next_point(ws: &mut WsClient) -> Value {
    let payload = ws.next_payload(Duration::from_secs(10)).await;
    assert!(payload.get("errors").is_none(), "{payload}");
    payload["data"]["technicianLocation"].clone()
}

#[tokio::test]
async fn only_the_technician_shares_and_only_while_the_job_is_active() {
    let s = TestServer::start().await;
    let customer = s.register("who-customer@example.com").await;
    let tech = ready(&s, "who-tech@example.com", NAIROBI, json!({})).await;
    let stranger = ready(&s, "who-stranger@example.com", NAIROBI, json!({})).await;
    let admin = staff(&s, "who-admin@example.com").await;
    let booking = direct(&s, &customer, &tech, "who-key-1").await;
    let (id, code) = (
        booking["id"].clone(),
        booking["startCode"].as_str().unwrap().to_string(),
    );
    let away = north_of(NAIROBI, 3.0);

    let offered = share(&s, &tech.session, &id, reading(away, server_now(&s))).await;
    assert_eq!(
        code_of(&offered),
        "FORBIDDEN",
        "before acceptance: {offered}"
    );

    ok_step(&s, &tech.session, &id, "ACCEPTED", None).await;
    shared(&s, &tech.session, &id, away, server_now(&s)).await;
    for (who, want) in [
        (&customer, "FORBIDDEN"),
        (&admin, "FORBIDDEN"),
        (&stranger.session, "NOT_FOUND"),
    ] {
        next_second(&s);
        let refused = share(&s, who, &id, reading(away, server_now(&s))).await;
        assert_eq!(code_of(&refused), want, "{refused}");
    }

    for (to, code) in [
        ("EN_ROUTE", None),
        ("ARRIVED", None),
        ("IN_PROGRESS", Some(code.as_str())),
    ] {
        ok_step(&s, &tech.session, &id, to, code).await;
        next_second(&s);
        shared(&s, &tech.session, &id, away, server_now(&s)).await;
    }

    // The change reaches this replica's booking cache through the booking's own event, quickly.
    ok_step(&s, &tech.session, &id, "COMPLETED", None).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        next_second(&s);
        let answer = share(&s, &tech.session, &id, reading(away, server_now(&s))).await;
        if code_of(&answer) == "FORBIDDEN" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still accepted after COMPLETED: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn code_of(answer: &Value) -> &str {
    code(first_error(answer))
}

#[tokio::test]
async fn two_points_within_a_second_are_rate_limited() {
    let s = TestServer::start().await;
    let (_, tech, booking) = accepted(&s, "rate").await;
    let id = &booking["id"];
    let away = north_of(NAIROBI, 2.0);
    let start = server_now(&s);
    shared(&s, &tech.session, id, away, start).await;
    let burst = share(
        &s,
        &tech.session,
        id,
        reading(away, start + chrono::Duration::milliseconds(500)),
    )
    .await;
    assert_eq!(code_of(&burst), "RATE_LIMITED", "{burst}");
    next_second(&s);
    shared(
        &s,
        &tech.session,
        id,
        away,
        start + chrono::Duration::milliseconds(600),
    )
    .await;
}

#[tokio::test]
async fn points_out_of_order_too_far_ahead_or_out_of_range_are_refused() {
    let s = TestServer::start().await;
    let (_, tech, booking) = accepted(&s, "order").await;
    let id = &booking["id"];
    let away = north_of(NAIROBI, 2.0);
    let first = server_now(&s);
    shared(&s, &tech.session, id, away, first).await;

    next_second(&s);
    let now = server_now(&s);
    let cases = [
        (
            "older than the last",
            reading(away, first - chrono::Duration::seconds(1)),
            "recordedAt",
        ),
        ("same time as the last", reading(away, first), "recordedAt"),
        (
            "three minutes ahead",
            reading(away, now + chrono::Duration::minutes(3)),
            "recordedAt",
        ),
        ("latitude", reading((91.0, 0.0), now), "lat"),
        (
            "speed",
            json!({"lat": away.0, "lng": away.1, "speedKmh": 400.0, "recordedAt": now.to_rfc3339()}),
            "speedKmh",
        ),
        (
            "heading",
            json!({"lat": away.0, "lng": away.1, "headingDeg": -1.0, "recordedAt": now.to_rfc3339()}),
            "headingDeg",
        ),
    ];
    for (name, input, field) in cases {
        let refused = share(&s, &tech.session, id, input).await;
        let error = first_error(&refused);
        assert_eq!(code(error), "BAD_USER_INPUT", "{name}: {refused}");
        assert_eq!(error["extensions"]["field"], field, "{name}: {refused}");
    }
    // Up to two minutes ahead is clock skew, not an error.
    let skewed = shared(
        &s,
        &tech.session,
        id,
        away,
        now + chrono::Duration::seconds(90),
    )
    .await;
    assert_eq!(
        time(&skewed["recordedAt"]),
        millis(now + chrono::Duration::seconds(90)),
        "kept to the millisecond"
    );
}

#[tokio::test]
async fn each_point_tells_the_distance_and_eta_to_the_job() {
    let s = TestServer::start().await;
    let (_, tech, booking) = accepted(&s, "eta").await;
    let id = &booking["id"];
    // ACCEPTED, not EN_ROUTE, so even a point at the door does not mark arrival.
    let cases = [(10.0, 30), (3.2, 10), (2.0, 6), (1.0, 5), (0.0, 5)];
    for (km, minutes) in cases {
        next_second(&s);
        let point = shared(&s, &tech.session, id, north_of(NAIROBI, km), server_now(&s)).await;
        let distance = point["distanceKm"].as_f64().unwrap();
        assert!((distance - km).abs() < 0.01, "{km} km: {point}");
        assert_eq!(point["etaMinutes"], minutes, "{km} km: {point}");
    }
    let view = s.ok(tech.session.token(), VIEW, json!({"id": id})).await;
    assert_eq!(view["booking"]["status"], "ACCEPTED");
}

#[tokio::test]
async fn the_eta_follows_the_configured_travel_speed() {
    let backend = std::sync::Arc::new(Backend::new().await);
    let options = Options {
        extra: vec![("FUNDI_TRACKING_SPEED_KMH", "40".into())],
        ..Options::default()
    };
    let s = TestServer::start_on(backend, options).await;
    let (_, tech, booking) = accepted(&s, "speed").await;
    let point = shared(
        &s,
        &tech.session,
        &booking["id"],
        north_of(NAIROBI, 10.0),
        server_now(&s),
    )
    .await;
    assert_eq!(point["etaMinutes"], 15, "{point}");
}

#[tokio::test]
async fn entering_the_geofence_en_route_marks_the_booking_arrived() {
    let s = TestServer::start().await;
    let (customer, tech, booking) = accepted(&s, "fence").await;
    let id = &booking["id"];
    ok_step(&s, &tech.session, id, "EN_ROUTE", None).await;

    shared(
        &s,
        &tech.session,
        id,
        north_of(NAIROBI, 1.0),
        server_now(&s),
    )
    .await;
    let view = s.ok(customer.token(), VIEW, json!({"id": id})).await;
    assert_eq!(
        view["booking"]["status"], "EN_ROUTE",
        "a kilometre away is not there yet"
    );

    next_second(&s);
    let near = shared(
        &s,
        &tech.session,
        id,
        north_of(NAIROBI, 0.05),
        server_now(&s),
    )
    .await;
    assert_eq!(near["etaMinutes"], 5);
    let view = s.ok(customer.token(), VIEW, json!({"id": id})).await;
    assert_eq!(view["booking"]["status"], "ARRIVED", "{view}");
    let last = view["booking"]["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last,
        json!({"from": "EN_ROUTE", "to": "ARRIVED", "role": "SYSTEM"})
    );
    let notes = s
        .ok(
            customer.token(),
            "{ notifications(first: 5) { edges { node { title } } } }",
            json!({}),
        )
        .await;
    assert!(
        notes.to_string().contains("Your technician has arrived"),
        "{notes}"
    );

    // Later points inside the fence change nothing more.
    next_second(&s);
    shared(&s, &tech.session, id, NAIROBI, server_now(&s)).await;
    let view = s.ok(customer.token(), VIEW, json!({"id": id})).await;
    let arrivals = view["booking"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["to"] == "ARRIVED")
        .count();
    assert_eq!(arrivals, 1);
}

#[tokio::test]
async fn the_trail_keeps_one_point_per_interval_for_whoever_sees_the_booking() {
    let s = TestServer::start().await;
    let (customer, tech, booking) = accepted(&s, "trail").await;
    let id = &booking["id"];
    let start = server_now(&s) - chrono::Duration::minutes(1);
    for (i, offset) in [0, 5, 10, 15, 20, 31].into_iter().enumerate() {
        if i > 0 {
            next_second(&s);
        }
        let at = north_of(NAIROBI, 5.0 - i as f64 * 0.5);
        shared(
            &s,
            &tech.session,
            id,
            at,
            start + chrono::Duration::seconds(offset),
        )
        .await;
    }
    let expected: Vec<DateTime<Utc>> = [0, 15, 31]
        .iter()
        .map(|o| start + chrono::Duration::seconds(*o))
        .map(millis)
        .collect();
    for who in [&customer, &tech.session] {
        let view = s.ok(who.token(), VIEW, json!({"id": id})).await;
        let trail = view["booking"]["trail"].as_array().unwrap().clone();
        let times: Vec<DateTime<Utc>> = trail.iter().map(|p| time(&p["recordedAt"])).collect();
        assert_eq!(times, expected, "{view}");
        assert_eq!(trail[0]["etaMinutes"], 15, "5 km at 20 km/h");
    }
}

#[tokio::test]
async fn a_watcher_gets_the_latest_point_first_then_live_ones() {
    let s = TestServer::start().await;
    let (customer, tech, booking) = accepted(&s, "watch").await;
    let id = &booking["id"];
    let first = shared(
        &s,
        &tech.session,
        id,
        north_of(NAIROBI, 4.0),
        server_now(&s),
    )
    .await;

    let admin = staff(&s, "watch-admin@example.com").await;
    let mut watchers = vec![];
    for who in [&customer, &tech.session, &admin] {
        let mut ws = watch(&s, who, id).await;
        let latest = next_point(&mut ws).await;
        assert_eq!(time(&latest["recordedAt"]), time(&first["recordedAt"]));
        assert_eq!(latest["etaMinutes"], 12);
        watchers.push(ws);
    }

    next_second(&s);
    let second = shared(
        &s,
        &tech.session,
        id,
        north_of(NAIROBI, 3.0),
        server_now(&s),
    )
    .await;
    for ws in &mut watchers {
        let live = next_point(ws).await;
        assert_eq!(time(&live["recordedAt"]), time(&second["recordedAt"]));
        assert_eq!(live["etaMinutes"], 9);
    }
}

#[tokio::test]
async fn people_outside_the_booking_cannot_watch_the_technician() {
    let s = TestServer::start().await;
    let (_, tech, booking) = accepted(&s, "peek").await;
    let id = &booking["id"];
    shared(
        &s,
        &tech.session,
        id,
        north_of(NAIROBI, 4.0),
        server_now(&s),
    )
    .await;
    let other_customer = s.register("peek-other@example.com").await;
    let other_tech = ready(&s, "peek-other-tech@example.com", NAIROBI, json!({})).await;
    for who in [&other_customer, &other_tech.session] {
        let mut ws = watch(&s, who, id).await;
        let refused = ws.next_payload(Duration::from_secs(5)).await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{refused}"
        );
    }
}

async fn stored_points(s: &TestServer, booking: &Value) -> u64 {
    use fundi::db::entities::tracking_point;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let id = uuid_of(booking["id"].as_str().unwrap());
    tracking_point::Entity::find()
        .filter(tracking_point::Column::BookingId.eq(id))
        .count(&s.services().db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_finished_bookings_trail_is_deleted_after_the_retention_period() {
    let s = TestServer::start().await;
    let (customer, tech, cancelled) = accepted(&s, "purge").await;
    let (_, other_tech, active) = accepted(&s, "purge-active").await;
    shared(
        &s,
        &tech.session,
        &cancelled["id"],
        north_of(NAIROBI, 2.0),
        server_now(&s),
    )
    .await;
    shared(
        &s,
        &other_tech.session,
        &active["id"],
        north_of(NAIROBI, 2.0),
        server_now(&s),
    )
    .await;
    s.ok(
        customer.token(),
        "mutation($id: ID!) { cancelBooking(id: $id) { status } }",
        json!({"id": cancelled["id"]}),
    )
    .await;

    let purge = || fundi::services::tracking::positions::purge_expired(s.services());
    assert_eq!(purge().await.unwrap(), 0);
    s.advance_clock(chrono::Duration::days(29));
    assert_eq!(purge().await.unwrap(), 0, "29 days after cancelling");
    s.advance_clock(chrono::Duration::days(2));
    assert_eq!(purge().await.unwrap(), 1, "31 days after cancelling");
    assert_eq!(stored_points(&s, &cancelled).await, 0);
    assert_eq!(
        stored_points(&s, &active).await,
        1,
        "an active job keeps its trail"
    );
}

#[tokio::test]
#[ignore = "needs FUNDI_TEST_REDIS_URL: two server instances sharing one PostgreSQL/SQLite and Redis"]
async fn a_location_shared_on_one_replica_reaches_a_watcher_on_another() {
    let (a, b) = replicas().await;
    let (customer, tech, booking) = accepted(&a, "replica").await;
    let id = &booking["id"];
    let first = shared(
        &a,
        &tech.session,
        id,
        north_of(NAIROBI, 4.0),
        server_now(&a),
    )
    .await;

    // B never saw that point go by; it reads the latest from the shared store.
    let mut ws = watch(&b, &customer, id).await;
    let latest = next_point(&mut ws).await;
    assert_eq!(time(&latest["recordedAt"]), time(&first["recordedAt"]));

    next_second(&a);
    let second = shared(
        &a,
        &tech.session,
        id,
        north_of(NAIROBI, 3.0),
        server_now(&a),
    )
    .await;
    let live = next_point(&mut ws).await;
    assert_eq!(time(&live["recordedAt"]), time(&second["recordedAt"]));

    // The one-per-second limit and the order hold across replicas, not per process.
    let later = time(&second["recordedAt"]) + chrono::Duration::milliseconds(500);
    let burst = share(
        &b,
        &tech.session,
        id,
        reading(north_of(NAIROBI, 2.9), later),
    )
    .await;
    assert_eq!(code_of(&burst), "RATE_LIMITED", "{burst}");
}

/// What one `shareLocation` may cost the database, measured on the statements the server runs per
/// request: a point is judged and published from memory (or one Redis round trip between
/// replicas), and only a point due in the trail (one per trail interval) writes, in one
/// transaction: the trail point, the booking's head and the technician's matching position.
#[tokio::test]
async fn sharing_a_location_costs_statements_only_when_a_trail_point_is_due() {
    let s = TestServer::start().await;
    let (_, tech, booking) = accepted(&s, "budget").await;
    let id = &booking["id"];
    let token = tech.session.token();
    let away = north_of(NAIROBI, 3.0);
    let start = server_now(&s);
    let vars = |at: DateTime<Utc>| json!({"id": id, "input": reading(away, at)});
    // The booking's own events (its acceptance) are out, so none invalidates the cached booking.
    outbox_drained(&s).await;
    // The first point reads the booking and its stored head, then stores the trail's first point.
    let (answer, first) = counted(&s, token, SHARE, vars(start)).await;
    assert!(answer.get("errors").is_none(), "{answer}");

    // (statements, whether the point was due in the trail) for each point after the first.
    let mut costs = Vec::new();
    let mut last_trail = start;
    for i in 1..=40 {
        next_second(&s);
        let at = start + chrono::Duration::milliseconds(1_100 * i);
        let (answer, statements) = counted(&s, token, SHARE, vars(at)).await;
        assert!(answer.get("errors").is_none(), "{answer}");
        let due = at - last_trail >= chrono::Duration::seconds(15);
        if due {
            last_trail = at;
        }
        costs.push((statements, due));
    }
    eprintln!("first point: {first} statements; then {costs:?}");
    assert!(first <= 6, "first point ran {first} statements");
    let trail_points = costs.iter().filter(|(_, due)| *due).count();
    for (i, (statements, due)) in costs.iter().enumerate() {
        if *due {
            assert!(
                *statements <= 3,
                "trail point {} ran {statements} statements",
                i + 1
            );
        } else {
            assert_eq!(
                *statements,
                0,
                "point {} between trail points ran statements",
                i + 1
            );
        }
    }
    assert_eq!(trail_points, 2);
    assert_eq!(stored_points(&s, &booking).await, 3);
}
