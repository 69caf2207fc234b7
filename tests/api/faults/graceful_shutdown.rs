//! SIGTERM to the real process under load: payments waiting on a slow gateway finish and are
//! answered, every open WebSocket is closed with 1001, and the process exits on its own within its
//! grace period.

use super::child::{Fundi, base_env};
use super::client::{self, error_code, post};
use super::invariants;
use crate::fixtures::{NAIROBI, UPDATE_PROFILE, uuid_of};
use crate::support::{Backend, WsClient};
use serde_json::json;
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// How long the payment gateway takes to answer: the payments are still in flight at SIGTERM.
const GATEWAY_DELAY: Duration = Duration::from_millis(1500);
const PAYMENTS: usize = 2;
const SOCKETS: usize = 3;

/// A Stripe that creates a payment intent, slowly.
async fn slow_stripe() -> MockServer {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/payment_intents"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "pi_shutdown", "object": "payment_intent",
                    "client_secret": "pi_shutdown_secret", "status": "requires_payment_method"}))
                .set_delay(GATEWAY_DELAY),
        )
        .mount(&mock)
        .await;
    mock
}

#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish_closes_sockets_with_1001_and_exits_in_time() {
    let stripe = slow_stripe().await;
    let backend = Backend::new().await;
    let mut env = base_env(&backend);
    env.extend(
        [
            ("FUNDI_STRIPE_SECRET_KEY", "sk_test_fundi".to_string()),
            (
                "FUNDI_STRIPE_WEBHOOK_SECRET",
                "whsec_fundi_test".to_string(),
            ),
            ("FUNDI_STRIPE_API_BASE", stripe.uri()),
        ]
        .map(|(k, v)| (k.to_string(), v)),
    );
    let mut server = Fundi::start(env);
    let (http, base) = (reqwest::Client::new(), server.base.clone());
    let customer = client::register(&http, &base, "sigterm@example.com", "CUSTOMER").await;
    let tech = client::register(&http, &base, "sigterm-tech@example.com", "TECHNICIAN").await;
    let profile = json!({"input": {"bio": "Fixes leaks fast", "yearsOfExperience": 10,
        "hourlyRate": {"amountMinor": 100000, "currency": "KES"}, "serviceRadiusKm": 10.0,
        "skills": [{"category": "plumbing", "years": 5}], "timeZone": "Africa/Nairobi"}});
    let technician = client::ok(&http, &base, tech.token(), UPDATE_PROFILE, profile).await
        ["updateTechnicianProfile"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let db = invariants::connect(&backend.database_url).await;
    {
        use sea_orm::ConnectionTrait;
        db.execute_raw(fundi::db::sql::stmt(
            db.get_database_backend(),
            "UPDATE technician_profiles SET kyc_status = 'APPROVED' WHERE id = $1",
            [uuid_of(&technician).into()],
        ))
        .await
        .unwrap();
    }
    let mut bookings = Vec::new();
    for n in 0..PAYMENTS {
        let start = (chrono::Utc::now() + chrono::Duration::hours(3)).to_rfc3339();
        let input = json!({"input": {"category": "plumbing", "title": "Leaking kitchen tap",
            "address": "12 Ngong Road, Nairobi", "location": {"lat": NAIROBI.0, "lng": NAIROBI.1},
            "priority": "MEDIUM", "budgetMin": {"amountMinor": 100000, "currency": "KES"},
            "budgetMax": {"amountMinor": 300000, "currency": "KES"}, "estimatedDurationMinutes": 60,
            "technicianId": technician, "scheduledStart": start,
            "idempotencyKey": format!("sigterm-booking-{n}")}});
        let created = client::ok(
            &http,
            &base,
            customer.token(),
            "mutation($input: ServiceRequestInput!) { createServiceRequest(input: $input) { id } }",
            input,
        )
        .await;
        bookings.push(created["createServiceRequest"]["id"].clone());
    }

    let ws_url = format!("{}/graphql/ws", base.replacen("http://", "ws://", 1));
    let mut sockets = Vec::new();
    for (n, booking) in bookings.iter().cycle().take(SOCKETS).enumerate() {
        let mut ws = WsClient::connect(&ws_url, "graphql-transport-ws").await;
        let ack = ws.init(customer.token()).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws.subscribe(
            &n.to_string(),
            &format!(
                "subscription {{ bookingUpdated(id: \"{}\") {{ sequence }} }}",
                booking.as_str().unwrap()
            ),
        )
        .await;
        sockets.push(ws);
    }

    let payments: Vec<_> = bookings
        .iter()
        .enumerate()
        .map(|(n, booking)| {
            let (http, base, token) = (http.clone(), base.clone(), customer.access.clone());
            let input = json!({"input": {"bookingId": booking, "kind": "DEPOSIT", "method": "STRIPE",
                "idempotencyKey": format!("sigterm-pay-{n}")}});
            tokio::spawn(async move {
                post(
                    &http,
                    &base,
                    Some(&token),
                    "mutation($input: PayBookingInput!) { payBooking(input: $input) { id status gatewayReference } }",
                    &input,
                )
                .await
            })
        })
        .collect();
    // In flight for sure: the gateway has every payment and is taking its time.
    let deadline = Instant::now() + Duration::from_secs(10);
    while stripe.received_requests().await.unwrap_or_default().len() < PAYMENTS {
        assert!(
            Instant::now() < deadline,
            "the payments never reached the gateway"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let signalled = Instant::now();
    server.terminate();
    for ws in &mut sockets {
        assert_eq!(
            ws.close_code(Duration::from_secs(5)).await,
            Some(1001),
            "sockets close as the server goes away"
        );
    }
    for payment in payments {
        let answer = payment
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("an in-flight payment lost its answer: {e}"));
        assert!(error_code(&answer).is_none(), "{answer}");
        assert_eq!(
            answer["data"]["payBooking"]["gatewayReference"], "pi_shutdown",
            "{answer}"
        );
    }
    let grace = fundi::app::SHUTDOWN_GRACE;
    let exit = server.exit_within(grace).await;
    let took = signalled.elapsed();
    let status = exit.unwrap_or_else(|| panic!("still running {took:?} after SIGTERM"));
    assert!(status.success(), "exited with {status}");
    assert!(took < grace, "exited {took:?} after SIGTERM");
    // What was answered was committed.
    for booking in &bookings {
        let found = invariants::payments(&db, uuid_of(booking.as_str().unwrap())).await;
        assert_eq!(found, [("DEPOSIT".to_string(), "PENDING".to_string())]);
    }
}
