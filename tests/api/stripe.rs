//! STRIPE payments against a local mock of Stripe's API (wiremock): intents with the customer's
//! client secret, signed webhooks applied once, refused forgeries, and refunds through Stripe.

use crate::booking_fixtures::*;
use crate::chat::staff;
use crate::fixtures::*;
use crate::payments::{balance, completed, ledger_is_sound, pay_input, view};
use crate::support::*;
use fundi::domain::account::Role;
use fundi::domain::ledger::AccountKey;
use fundi::domain::money::Currency;
use fundi::gateways::stripe::sign;
use serde_json::{Value, json};
use std::collections::HashMap;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET_KEY: &str = "sk_test_fundi";
const WEBHOOK_SECRET: &str = "whsec_fundi_test";
const INTENT: &str = "pi_3Fundi";
const CLIENT_SECRET: &str = "pi_3Fundi_secret_abc";
const PAY_STRIPE: &str = "mutation($input: PayBookingInput!) { payBooking(input: $input) {
  id status gatewayReference nextAction clientSecret failureReason amount { amountMinor } } }";

/// A mock Stripe that creates one intent and refunds anything.
pub(crate) async fn mock_stripe() -> MockServer {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/payment_intents"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": INTENT, "object": "payment_intent", "client_secret": CLIENT_SECRET,
            "status": "requires_payment_method",
        })))
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/refunds"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "re_1Fundi", "object": "refund", "status": "succeeded",
        })))
        .mount(&mock)
        .await;
    mock
}

pub(crate) async fn stripe_server(mock: &MockServer) -> TestServer {
    let extra = vec![
        ("FUNDI_STRIPE_SECRET_KEY", SECRET_KEY.to_string()),
        ("FUNDI_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET.to_string()),
        ("FUNDI_STRIPE_API_BASE", mock.uri()),
    ];
    TestServer::start_with(extra).await
}

/// A mock Stripe that creates intents, but only after `seconds`.
async fn slow_stripe(seconds: u64) -> MockServer {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/payment_intents"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({
                    "id": INTENT, "object": "payment_intent", "client_secret": CLIENT_SECRET,
                    "status": "requires_payment_method",
                }))
                .set_delay(std::time::Duration::from_secs(seconds)),
        )
        .mount(&mock)
        .await;
    mock
}

async fn slow_stripe_server(mock: &MockServer, timeouts: &[(&'static str, &str)]) -> TestServer {
    let mut settings = vec![
        ("FUNDI_STRIPE_SECRET_KEY", SECRET_KEY.to_string()),
        ("FUNDI_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET.to_string()),
        ("FUNDI_STRIPE_API_BASE", mock.uri()),
    ];
    settings.extend(timeouts.iter().map(|(k, v)| (*k, v.to_string())));
    TestServer::start_with(settings).await
}

/// The form fields and headers of every call Stripe received at `at`.
async fn calls(
    mock: &MockServer,
    at: &str,
) -> Vec<(HashMap<String, String>, HashMap<String, String>)> {
    mock.received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == at)
        .map(|r| {
            let body = String::from_utf8(r.body.clone()).unwrap();
            let form = reqwest::Url::parse(&format!("http://x/?{body}"))
                .unwrap()
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let headers = r
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string()))
                .collect();
            (form, headers)
        })
        .collect()
}

fn event(id: &str, kind: &str, payment_id: uuid::Uuid, extra: Value) -> String {
    let mut object = json!({"id": INTENT, "object": "payment_intent",
        "metadata": {"payment_id": payment_id.to_string()}});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        object[k] = v;
    }
    json!({"id": id, "object": "event", "type": kind, "data": {"object": object}}).to_string()
}

fn signature(t: i64, body: &str) -> String {
    format!(
        "t={t},v1={}",
        hex::encode(sign(WEBHOOK_SECRET, t, body.as_bytes()))
    )
}

/// POSTs a webhook with the given Stripe-Signature header (or none) and returns the status.
async fn deliver(s: &TestServer, header: Option<String>, body: &str) -> u16 {
    let mut request = s
        .http()
        .post(s.url("/webhooks/stripe"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(header) = header {
        request = request.header("Stripe-Signature", header);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Delivers an event signed now by the server's clock, as Stripe would.
pub(crate) async fn deliver_signed(s: &TestServer, body: &str) -> u16 {
    let now = s.services().clock.now().timestamp();
    deliver(s, Some(signature(now, body)), body).await
}

async fn payment_status(s: &TestServer, payment: uuid::Uuid) -> String {
    fundi::services::money::payments::find(&s.services().db, payment)
        .await
        .unwrap()
        .status
        .as_str()
        .to_owned()
}

#[tokio::test]
async fn a_stripe_balance_waits_for_a_signed_webhook_which_is_applied_once() {
    let mock = mock_stripe().await;
    let s = stripe_server(&mock).await;
    let customer = s.register("stripe-balance@example.com").await;
    let tech = ready(&s, "stripe-balance-tech@example.com", NAIROBI, json!({})).await;
    let id = completed(&s, &customer, &tech, "stripe-balance-01").await;
    step(&s, &customer, &id, "VERIFIED", None).await;
    let before = view(&s, &customer, &id).await;
    assert_eq!(before["status"], "PAYMENT_PENDING");
    let due = before["amountDue"]["amountMinor"].as_i64().unwrap();

    let paid = s
        .ok(
            customer.token(),
            PAY_STRIPE,
            pay_input(&id, "BALANCE", "STRIPE", "stripe-balance-pay", None),
        )
        .await["payBooking"]
        .clone();
    assert_eq!(paid["status"], "PENDING", "{paid}");
    assert_eq!(paid["gatewayReference"], INTENT);
    assert_eq!(paid["nextAction"], "STRIPE_CONFIRM_PAYMENT");
    assert_eq!(paid["clientSecret"], CLIENT_SECRET);
    let payment = uuid_of(paid["id"].as_str().unwrap());

    let intents = calls(&mock, "/v1/payment_intents").await;
    assert_eq!(intents.len(), 1);
    let (form, headers) = &intents[0];
    assert_eq!(form["amount"], due.to_string());
    assert_eq!(form["currency"], "kes");
    assert_eq!(form["metadata[payment_id]"], payment.to_string());
    assert_eq!(form["automatic_payment_methods[enabled]"], "true");
    assert_eq!(headers["authorization"], format!("Bearer {SECRET_KEY}"));
    assert_eq!(headers["idempotency-key"], payment.to_string());

    // Only the paying customer sees the client secret.
    let seen_by_tech = s
        .ok(
            tech.session.token(),
            "query($id: ID!) { booking(id: $id) { payments { method clientSecret } } }",
            json!({"id": id}),
        )
        .await;
    for p in seen_by_tech["booking"]["payments"].as_array().unwrap() {
        assert!(p["clientSecret"].is_null(), "{p}");
    }

    // Forgeries change nothing: no header, a tampered body, a stale timestamp.
    let body = event(
        "evt_balance_ok",
        "payment_intent.succeeded",
        payment,
        json!({}),
    );
    let now = s.services().clock.now().timestamp();
    assert_eq!(deliver(&s, None, &body).await, 400);
    let tampered = body.replace("evt_balance_ok", "evt_balance_forged");
    assert_eq!(
        deliver(&s, Some(signature(now, &body)), &tampered).await,
        400
    );
    assert_eq!(
        deliver(&s, Some(signature(now - 600, &body)), &body).await,
        400
    );
    assert_eq!(
        deliver(&s, Some(format!("t={now},v1=deadbeef")), &body).await,
        400
    );
    assert_eq!(payment_status(&s, payment).await, "PENDING");
    assert_eq!(view(&s, &customer, &id).await["status"], "PAYMENT_PENDING");

    // An event type we do not use is acknowledged and ignored.
    let other = event(
        "evt_balance_other",
        "payment_intent.created",
        payment,
        json!({}),
    );
    assert_eq!(deliver_signed(&s, &other).await, 200);
    assert_eq!(payment_status(&s, payment).await, "PENDING");

    assert_eq!(deliver_signed(&s, &body).await, 200);
    assert_eq!(payment_status(&s, payment).await, "SUCCEEDED");
    let after = view(&s, &customer, &id).await;
    assert_eq!(after["status"], "PAID", "{after}");
    assert_eq!(after["escrow"]["amountMinor"], 0);
    let revenue = balance(&s, AccountKey::platform_revenue(Currency::KES)).await;
    let earned = balance(&s, AccountKey::technician_pending(tech.uuid, Currency::KES)).await;
    let clearing = balance(&s, AccountKey::clearing("STRIPE", Currency::KES)).await;
    assert_eq!(clearing, -due);
    assert!(revenue > 0 && earned > 0);
    ledger_is_sound(&s).await;

    // Stripe redelivers: acknowledged, nothing posted twice.
    assert_eq!(deliver_signed(&s, &body).await, 200);
    assert_eq!(
        balance(&s, AccountKey::platform_revenue(Currency::KES)).await,
        revenue
    );
    assert_eq!(
        balance(&s, AccountKey::technician_pending(tech.uuid, Currency::KES)).await,
        earned
    );
    assert_eq!(
        balance(&s, AccountKey::clearing("STRIPE", Currency::KES)).await,
        clearing
    );
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn a_signature_made_before_the_clock_moved_five_minutes_on_is_refused() {
    let mock = mock_stripe().await;
    let s = stripe_server(&mock).await;
    let body = event(
        "evt_stale",
        "payment_intent.succeeded",
        uuid::Uuid::now_v7(),
        json!({}),
    );
    let signed = signature(s.services().clock.now().timestamp(), &body);
    s.advance_clock(chrono::Duration::minutes(10));
    assert_eq!(deliver(&s, Some(signed), &body).await, 400);
}

#[tokio::test]
async fn a_stripe_deposit_is_credited_to_escrow_and_an_admin_refund_goes_through_stripe() {
    let mock = mock_stripe().await;
    let s = stripe_server(&mock).await;
    let customer = s.register("stripe-deposit@example.com").await;
    let tech = ready(&s, "stripe-deposit-tech@example.com", NAIROBI, json!({})).await;
    let booking = create_unpaid(
        &s,
        &customer,
        "stripe-deposit-01",
        json!({"technicianId": tech.id}),
    )
    .await;
    let id = booking["id"].clone();
    let deposit = booking["price"]["deposit"]["amountMinor"].as_i64().unwrap();
    let paid = s
        .ok(
            customer.token(),
            PAY_STRIPE,
            pay_input(&id, "DEPOSIT", "STRIPE", "stripe-deposit-pay", None),
        )
        .await["payBooking"]
        .clone();
    assert_eq!(paid["status"], "PENDING", "{paid}");
    assert_eq!(view(&s, &customer, &id).await["status"], "PENDING");
    let payment = uuid_of(paid["id"].as_str().unwrap());

    let body = event(
        "evt_deposit_ok",
        "payment_intent.succeeded",
        payment,
        json!({}),
    );
    assert_eq!(deliver_signed(&s, &body).await, 200);
    let after = view(&s, &customer, &id).await;
    assert_eq!(after["escrow"]["amountMinor"], deposit, "{after}");
    assert_ne!(after["status"], "PENDING", "the deposit sets dispatch off");
    let escrow = AccountKey::escrow(uuid_of(id.as_str().unwrap()), Currency::KES);
    assert_eq!(balance(&s, escrow.clone()).await, deposit);

    let admin = staff(&s, "stripe-deposit-admin@example.com", Role::Admin).await;
    let refunded = s
        .ok(
            admin.token(),
            "mutation($id: ID!, $amount: MoneyInput!) { refundPayment(paymentId: $id, amount: $amount, reason: \"goodwill\") { status refunded { amountMinor } } }",
            json!({"id": paid["id"], "amount": {"amountMinor": 5_000, "currency": "KES"}}),
        )
        .await;
    assert_eq!(refunded["refundPayment"]["status"], "PARTIALLY_REFUNDED");
    let refunds = calls(&mock, "/v1/refunds").await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].0["payment_intent"], INTENT);
    assert_eq!(refunds[0].0["amount"], "5000");
    assert_eq!(balance(&s, escrow).await, deposit - 5_000);
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn a_failed_stripe_payment_is_recorded_with_stripes_reason() {
    let mock = mock_stripe().await;
    let s = stripe_server(&mock).await;
    let customer = s.register("stripe-failed@example.com").await;
    let tech = ready(&s, "stripe-failed-tech@example.com", NAIROBI, json!({})).await;
    let booking = create_unpaid(
        &s,
        &customer,
        "stripe-failed-01",
        json!({"technicianId": tech.id}),
    )
    .await;
    let paid = s
        .ok(
            customer.token(),
            PAY_STRIPE,
            pay_input(
                &booking["id"],
                "DEPOSIT",
                "STRIPE",
                "stripe-failed-pay",
                None,
            ),
        )
        .await["payBooking"]
        .clone();
    let payment = uuid_of(paid["id"].as_str().unwrap());
    let body = event(
        "evt_failed",
        "payment_intent.payment_failed",
        payment,
        json!({"last_payment_error": {"message": "Your card was declined."}}),
    );
    assert_eq!(deliver_signed(&s, &body).await, 200);
    let row = fundi::services::money::payments::find(&s.services().db, payment)
        .await
        .unwrap();
    assert_eq!(row.status.as_str(), "FAILED");
    assert_eq!(
        row.failure_reason.as_deref(),
        Some("Your card was declined.")
    );
    let after = view(&s, &customer, &booking["id"]).await;
    assert_eq!(after["status"], "PENDING");
    assert_eq!(after["escrow"]["amountMinor"], 0);
    // A late success for a failed payment changes nothing.
    let late = event("evt_late", "payment_intent.succeeded", payment, json!({}));
    assert_eq!(deliver_signed(&s, &late).await, 200);
    assert_eq!(payment_status(&s, payment).await, "FAILED");
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn a_stripe_call_slower_than_the_gateway_timeout_fails_the_payment_and_moves_no_money() {
    // Stripe answers, but only after three seconds; the server waits one.
    let mock = slow_stripe(3).await;
    let s = slow_stripe_server(&mock, &[("FUNDI_GATEWAY_TIMEOUT_SECONDS", "1")]).await;
    let customer = s.register("stripe-timeout@example.com").await;
    let tech = ready(&s, "stripe-timeout-tech@example.com", NAIROBI, json!({})).await;
    let booking = create_unpaid(
        &s,
        &customer,
        "stripe-timeout-01",
        json!({"technicianId": tech.id}),
    )
    .await;
    let started = std::time::Instant::now();
    let paid = s
        .ok(
            customer.token(),
            PAY_STRIPE,
            pay_input(
                &booking["id"],
                "DEPOSIT",
                "STRIPE",
                "stripe-timeout-pay",
                None,
            ),
        )
        .await["payBooking"]
        .clone();
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_millis(2_800),
        "the customer waited {waited:?}, longer than the timeout allows"
    );
    assert_eq!(paid["status"], "FAILED", "{paid}");
    assert_eq!(
        paid["failureReason"],
        "the payment provider could not be reached"
    );
    assert!(paid["clientSecret"].is_null());
    assert_eq!(calls(&mock, "/v1/payment_intents").await.len(), 1);

    let after = view(&s, &customer, &booking["id"]).await;
    assert_eq!(after["status"], "PENDING", "no deposit, no dispatch");
    assert_eq!(after["escrow"]["amountMinor"], 0);
    assert_eq!(
        balance(&s, AccountKey::clearing("STRIPE", Currency::KES)).await,
        0
    );
    let escrow = AccountKey::escrow(uuid_of(booking["id"].as_str().unwrap()), Currency::KES);
    assert_eq!(balance(&s, escrow).await, 0);
    ledger_is_sound(&s).await;
    let admin = staff(&s, "stripe-timeout-admin@example.com", Role::Admin).await;
    let health = s
        .ok(admin.token(), "{ ledgerHealth { ok } }", json!({}))
        .await;
    assert_eq!(health["ledgerHealth"]["ok"], true, "{health}");
}

#[tokio::test]
async fn a_payment_over_the_request_budget_is_answered_at_once_and_still_completes() {
    // Stripe takes two seconds, well inside the gateway timeout but over the request's budget.
    let mock = slow_stripe(2).await;
    let s = slow_stripe_server(
        &mock,
        &[
            ("FUNDI_GATEWAY_TIMEOUT_SECONDS", "10"),
            ("FUNDI_REQUEST_TIMEOUT_MS", "300"),
        ],
    )
    .await;
    let customer = s.register("stripe-budget@example.com").await;
    let tech = ready(&s, "stripe-budget-tech@example.com", NAIROBI, json!({})).await;
    let booking = create_unpaid(
        &s,
        &customer,
        "stripe-budget-01",
        json!({"technicianId": tech.id}),
    )
    .await;
    let input = pay_input(
        &booking["id"],
        "DEPOSIT",
        "STRIPE",
        "stripe-budget-pay",
        None,
    );
    let response = s
        .http()
        .post(s.url("/graphql"))
        .bearer_auth(customer.token().unwrap())
        .json(&json!({"query": PAY_STRIPE, "variables": input}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 504);
    let body: Value = response.json().await.unwrap();
    assert_eq!(code(&body["errors"][0]), "REQUEST_TIMEOUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("idempotency key")
    );

    // The mutation was not cut off halfway: retrying with the key finds the intent Stripe created.
    let mut status = Value::Null;
    // On a loaded machine a retry may itself run over the 300 ms budget; that answer is the same
    // REQUEST_TIMEOUT and the next retry goes on from where it got.
    for _ in 0..100 {
        let retry = s.gql(customer.token(), PAY_STRIPE, input.clone()).await;
        if let Some(errors) = retry.get("errors") {
            assert_eq!(code(&errors[0]), "REQUEST_TIMEOUT", "{retry}");
        } else {
            status = retry["data"]["payBooking"]["status"].clone();
            if status == "PENDING" {
                assert_eq!(retry["data"]["payBooking"]["clientSecret"], CLIENT_SECRET);
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, "PENDING");
    assert_eq!(calls(&mock, "/v1/payment_intents").await.len(), 1);
    ledger_is_sound(&s).await;
}
