//! RAZORPAY payments against a local mock of Razorpay's API (wiremock): an order per payment,
//! Checkout's signature verified by the paying customer, signed webhooks applied once, refused
//! forgeries, and refunds against the Razorpay payment.

use crate::booking_fixtures::*;
use crate::chat::staff;
use crate::fixtures::*;
use crate::payments::{balance, completed, ledger_is_sound, pay_input, view};
use crate::support::*;
use base64::Engine;
use fundi::domain::account::Role;
use fundi::domain::ledger::AccountKey;
use fundi::domain::money::Currency;
use fundi::gateways::razorpay::{payment_message, sign};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY_ID: &str = "rzp_test_fundi";
const KEY_SECRET: &str = "rzp_secret_fundi";
const WEBHOOK_SECRET: &str = "rzp_webhook_fundi";
const ORDER: &str = "order_Fundi1";
const RZP_PAYMENT: &str = "pay_Fundi1";
const PAY_RAZORPAY: &str = "mutation($input: PayBookingInput!) { payBooking(input: $input) {
  id status gatewayReference nextAction clientSecret razorpayKeyId failureReason amount { amountMinor } } }";
const VERIFY: &str = "mutation($id: ID!, $rzp: String!, $sig: String!) {
  verifyRazorpayPayment(paymentId: $id, razorpayPaymentId: $rzp, signature: $sig) {
  id status gatewayReference nextAction } }";

/// A mock Razorpay that creates one order and refunds its payment.
async fn mock_razorpay() -> MockServer {
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/orders"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": ORDER, "entity": "order", "status": "created",
        })))
        .mount(&mock)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/payments/{RZP_PAYMENT}/refund")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "rfnd_Fundi1", "entity": "refund", "status": "processed",
        })))
        .mount(&mock)
        .await;
    mock
}

async fn razorpay_server(mock: &MockServer) -> TestServer {
    TestServer::start_with(razorpay_settings(mock)).await
}

fn razorpay_settings(mock: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("FUNDI_RAZORPAY_KEY_ID", KEY_ID.to_string()),
        ("FUNDI_RAZORPAY_KEY_SECRET", KEY_SECRET.to_string()),
        ("FUNDI_RAZORPAY_WEBHOOK_SECRET", WEBHOOK_SECRET.to_string()),
        ("FUNDI_RAZORPAY_API_BASE", mock.uri()),
    ]
}

fn basic_auth() -> String {
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{KEY_ID}:{KEY_SECRET}"));
    format!("Basic {pair}")
}

/// Checkout's signature of a payment made for `order`.
fn checkout_signature(order: &str, razorpay_payment: &str) -> String {
    let message = payment_message(order, razorpay_payment);
    hex::encode(sign(KEY_SECRET, message.as_bytes()))
}

/// A webhook body as Razorpay sends it: the payment entity, and the order entity for order.paid.
fn event(kind: &str, payment_fields: Value) -> String {
    let mut entity = json!({"id": RZP_PAYMENT, "entity": "payment", "order_id": ORDER,
        "amount": 1, "currency": "KES", "status": "captured"});
    for (k, v) in payment_fields.as_object().cloned().unwrap_or_default() {
        entity[k] = v;
    }
    let mut payload = json!({"payment": {"entity": entity}});
    if kind == "order.paid" {
        payload["order"] = json!({"entity": {"id": ORDER, "entity": "order", "status": "paid"}});
    }
    json!({"entity": "event", "account_id": "acc_Fundi", "event": kind,
        "contains": ["payment"], "payload": payload, "created_at": 1_700_000_000})
    .to_string()
}

fn webhook_signature(body: &str) -> String {
    hex::encode(sign(WEBHOOK_SECRET, body.as_bytes()))
}

/// POSTs a webhook with the given signature and event id headers (or none); returns the status.
async fn deliver(s: &TestServer, signature: Option<String>, event_id: &str, body: &str) -> u16 {
    let mut request = s
        .http()
        .post(s.url("/webhooks/razorpay"))
        .header("content-type", "application/json")
        .header("X-Razorpay-Event-Id", event_id)
        .body(body.to_string());
    if let Some(signature) = signature {
        request = request.header("X-Razorpay-Signature", signature);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn deliver_signed(s: &TestServer, event_id: &str, body: &str) -> u16 {
    deliver(s, Some(webhook_signature(body)), event_id, body).await
}

async fn payment_row(s: &TestServer, payment: uuid::Uuid) -> fundi::db::entities::payment::Model {
    fundi::services::money::payments::find(&s.services().db, payment)
        .await
        .unwrap()
}

/// A booking offered to a technician, its deposit asked for through Razorpay: (booking id,
/// deposit, the payment as payBooking answered it).
async fn razorpay_deposit(
    s: &TestServer,
    customer: &Session,
    tech: &Tech,
    key: &str,
) -> (Value, i64, Value) {
    let booking = create_unpaid(s, customer, key, json!({"technicianId": tech.id})).await;
    let deposit = booking["price"]["deposit"]["amountMinor"].as_i64().unwrap();
    let paid = s
        .ok(
            customer.token(),
            PAY_RAZORPAY,
            pay_input(
                &booking["id"],
                "DEPOSIT",
                "RAZORPAY",
                &format!("{key}-pay"),
                None,
            ),
        )
        .await["payBooking"]
        .clone();
    (booking["id"].clone(), deposit, paid)
}

#[tokio::test]
async fn a_razorpay_deposit_is_an_order_that_checkouts_signature_completes_and_refunds_go_through_razorpay()
 {
    let mock = mock_razorpay().await;
    let s = razorpay_server(&mock).await;
    let customer = s.register("rzp-deposit@example.com").await;
    let tech = ready(&s, "rzp-deposit-tech@example.com", NAIROBI, json!({})).await;
    let (id, deposit, paid) = razorpay_deposit(&s, &customer, &tech, "rzp-deposit-01").await;
    assert_eq!(paid["status"], "PENDING", "{paid}");
    assert_eq!(paid["gatewayReference"], ORDER);
    assert_eq!(
        paid["razorpayKeyId"], KEY_ID,
        "Checkout opens with the public key id"
    );
    assert_eq!(paid["nextAction"], "RAZORPAY_CHECKOUT");
    assert!(paid["clientSecret"].is_null());
    let payment = uuid_of(paid["id"].as_str().unwrap());

    let orders = calls(&mock, "/v1/orders").await;
    assert_eq!(orders.len(), 1);
    let (body, auth) = &orders[0];
    assert_eq!(auth, &basic_auth());
    assert_eq!(body["amount"], deposit);
    assert_eq!(body["currency"], "KES");
    assert_eq!(body["receipt"], payment.simple().to_string());
    assert!(body["receipt"].as_str().unwrap().len() <= 40);
    assert_eq!(body["notes"]["payment_id"], payment.to_string());

    // Only the paying customer verifies; the technician is refused and nothing changes.
    let right = checkout_signature(ORDER, RZP_PAYMENT);
    let vars = |sig: &str| json!({"id": paid["id"], "rzp": RZP_PAYMENT, "sig": sig});
    let answer = s.gql(tech.session.token(), VERIFY, vars(&right)).await;
    assert_eq!(code(&answer["errors"][0]), "FORBIDDEN", "{answer}");
    assert_eq!(payment_row(&s, payment).await.status.as_str(), "PENDING");

    // A wrong signature (another order's, another key's, not hex) changes nothing.
    for wrong in [
        checkout_signature("order_Other", RZP_PAYMENT),
        hex::encode(sign("another_secret", b"order_Fundi1|pay_Fundi1")),
        "not-hex".to_string(),
    ] {
        let answer = s.gql(customer.token(), VERIFY, vars(&wrong)).await;
        let error = &answer["errors"][0];
        assert_eq!(code(error), "BAD_USER_INPUT", "{answer}");
        assert_eq!(error["extensions"]["field"], "signature", "{answer}");
    }
    assert_eq!(payment_row(&s, payment).await.status.as_str(), "PENDING");
    assert_eq!(view(&s, &customer, &id).await["escrow"]["amountMinor"], 0);

    let verified =
        s.ok(customer.token(), VERIFY, vars(&right)).await["verifyRazorpayPayment"].clone();
    assert_eq!(verified["status"], "SUCCEEDED", "{verified}");
    assert_eq!(verified["gatewayReference"], RZP_PAYMENT);
    assert!(verified["nextAction"].is_null());
    let after = view(&s, &customer, &id).await;
    assert_eq!(after["escrow"]["amountMinor"], deposit, "{after}");
    assert_ne!(after["status"], "PENDING", "the deposit sets dispatch off");
    let escrow = AccountKey::escrow(uuid_of(id.as_str().unwrap()), Currency::KES);
    assert_eq!(balance(&s, escrow.clone()).await, deposit);
    assert_eq!(
        balance(&s, AccountKey::clearing("RAZORPAY", Currency::KES)).await,
        -deposit
    );
    ledger_is_sound(&s).await;

    // A retried verification returns the payment as it is; nothing is posted twice.
    let again = s.ok(customer.token(), VERIFY, vars(&right)).await["verifyRazorpayPayment"].clone();
    assert_eq!(again, verified);
    assert_eq!(balance(&s, escrow.clone()).await, deposit);

    let admin = staff(&s, "rzp-deposit-admin@example.com", Role::Admin).await;
    let refunded = s
        .ok(
            admin.token(),
            "mutation($id: ID!, $amount: MoneyInput!) { refundPayment(paymentId: $id, amount: $amount, reason: \"goodwill\") { status refunded { amountMinor } } }",
            json!({"id": paid["id"], "amount": {"amountMinor": 5_000, "currency": "KES"}}),
        )
        .await;
    assert_eq!(refunded["refundPayment"]["status"], "PARTIALLY_REFUNDED");
    let refunds = calls(&mock, &format!("/v1/payments/{RZP_PAYMENT}/refund")).await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].0, json!({"amount": 5_000}));
    assert_eq!(refunds[0].1, basic_auth());
    assert_eq!(balance(&s, escrow).await, deposit - 5_000);
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn a_signed_razorpay_webhook_is_applied_once_and_forgeries_change_nothing() {
    let mock = mock_razorpay().await;
    let s = razorpay_server(&mock).await;
    let customer = s.register("rzp-webhook@example.com").await;
    let tech = ready(&s, "rzp-webhook-tech@example.com", NAIROBI, json!({})).await;
    let (id, deposit, paid) = razorpay_deposit(&s, &customer, &tech, "rzp-webhook-01").await;
    let payment = uuid_of(paid["id"].as_str().unwrap());

    let body = event("payment.captured", json!({}));
    let tampered = body.replace("\"amount\":1", "\"amount\":2");
    assert_ne!(tampered, body);
    assert_eq!(deliver(&s, None, "evt_rzp_1", &body).await, 400);
    assert_eq!(
        deliver(&s, Some(webhook_signature(&body)), "evt_rzp_1", &tampered).await,
        400
    );
    let other_secret = hex::encode(sign("another_secret", body.as_bytes()));
    assert_eq!(
        deliver(&s, Some(other_secret), "evt_rzp_1", &body).await,
        400
    );
    assert_eq!(
        deliver(&s, Some("deadbeef".into()), "evt_rzp_1", &body).await,
        400
    );
    assert_eq!(payment_row(&s, payment).await.status.as_str(), "PENDING");
    assert_eq!(view(&s, &customer, &id).await["escrow"]["amountMinor"], 0);

    // An event type we do not use is acknowledged and ignored.
    let other = event("payment.authorized", json!({"status": "authorized"}));
    assert_eq!(deliver_signed(&s, "evt_rzp_0", &other).await, 200);
    assert_eq!(payment_row(&s, payment).await.status.as_str(), "PENDING");

    assert_eq!(deliver_signed(&s, "evt_rzp_1", &body).await, 200);
    let row = payment_row(&s, payment).await;
    assert_eq!(row.status.as_str(), "SUCCEEDED");
    assert_eq!(row.gateway_reference.as_deref(), Some(RZP_PAYMENT));
    let escrow = AccountKey::escrow(uuid_of(id.as_str().unwrap()), Currency::KES);
    assert_eq!(balance(&s, escrow.clone()).await, deposit);
    ledger_is_sound(&s).await;

    // A redelivery, and then order.paid for the same order: acknowledged, nothing posted twice.
    assert_eq!(deliver_signed(&s, "evt_rzp_1", &body).await, 200);
    let order_paid = event("order.paid", json!({}));
    assert_eq!(deliver_signed(&s, "evt_rzp_2", &order_paid).await, 200);
    assert_eq!(balance(&s, escrow).await, deposit);
    assert_eq!(
        balance(&s, AccountKey::clearing("RAZORPAY", Currency::KES)).await,
        -deposit
    );
    ledger_is_sound(&s).await;

    // The customer's app verifying afterwards gets the payment as it is.
    let right = checkout_signature(ORDER, RZP_PAYMENT);
    let verified = s
        .ok(
            customer.token(),
            VERIFY,
            json!({"id": paid["id"], "rzp": RZP_PAYMENT, "sig": right}),
        )
        .await;
    assert_eq!(verified["verifyRazorpayPayment"]["status"], "SUCCEEDED");
}

#[tokio::test]
async fn order_paid_settles_a_razorpay_balance() {
    let mock = mock_razorpay().await;
    let s = razorpay_server(&mock).await;
    let customer = s.register("rzp-balance@example.com").await;
    let tech = ready(&s, "rzp-balance-tech@example.com", NAIROBI, json!({})).await;
    let id = completed(&s, &customer, &tech, "rzp-balance-01").await;
    step(&s, &customer, &id, "VERIFIED", None).await;
    let due = view(&s, &customer, &id).await["amountDue"]["amountMinor"]
        .as_i64()
        .unwrap();
    let paid = s
        .ok(
            customer.token(),
            PAY_RAZORPAY,
            pay_input(&id, "BALANCE", "RAZORPAY", "rzp-balance-pay", None),
        )
        .await["payBooking"]
        .clone();
    assert_eq!(paid["status"], "PENDING", "{paid}");
    assert_eq!(calls(&mock, "/v1/orders").await[0].0["amount"], due);
    let body = event("order.paid", json!({}));
    assert_eq!(deliver_signed(&s, "evt_rzp_balance", &body).await, 200);
    let after = view(&s, &customer, &id).await;
    assert_eq!(after["status"], "PAID", "{after}");
    assert_eq!(after["escrow"]["amountMinor"], 0);
    assert!(balance(&s, AccountKey::technician_pending(tech.uuid, Currency::KES)).await > 0);
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn a_failed_attempt_leaves_the_order_open_for_a_retry_that_settles_it() {
    let mock = mock_razorpay().await;
    let s = razorpay_server(&mock).await;
    let customer = s.register("rzp-failed@example.com").await;
    let tech = ready(&s, "rzp-failed-tech@example.com", NAIROBI, json!({})).await;
    let (id, _, paid) = razorpay_deposit(&s, &customer, &tech, "rzp-failed-01").await;
    let payment = uuid_of(paid["id"].as_str().unwrap());
    let body = event(
        "payment.failed",
        json!({"status": "failed", "error_code": "BAD_REQUEST_ERROR",
            "error_description": "Payment failed because the card was declined"}),
    );
    assert_eq!(deliver_signed(&s, "evt_rzp_failed", &body).await, 200);
    assert_eq!(payment_row(&s, payment).await.status.as_str(), "PENDING");
    let after = view(&s, &customer, &id).await;
    assert_eq!(after["status"], "PENDING");
    assert_eq!(after["escrow"]["amountMinor"], 0);
    // The customer retries within the same order and the capture settles the payment.
    let retried = event("payment.captured", json!({}));
    assert_eq!(deliver_signed(&s, "evt_rzp_retry", &retried).await, 200);
    assert_eq!(payment_row(&s, payment).await.status.as_str(), "SUCCEEDED");
    let after = view(&s, &customer, &id).await;
    assert_eq!(
        after["escrow"]["amountMinor"],
        after["price"]["deposit"]["amountMinor"]
    );
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn an_order_slower_than_the_gateway_timeout_fails_the_payment_and_moves_no_money() {
    // Razorpay creates the order, but only after three seconds; the server waits one.
    let mock = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/orders"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": ORDER, "entity": "order", "status": "created"}))
                .set_delay(std::time::Duration::from_secs(3)),
        )
        .mount(&mock)
        .await;
    let mut settings = razorpay_settings(&mock);
    settings.push(("FUNDI_GATEWAY_TIMEOUT_SECONDS", "1".to_string()));
    let s = TestServer::start_with(settings).await;
    let customer = s.register("rzp-slow@example.com").await;
    let tech = ready(&s, "rzp-slow-tech@example.com", NAIROBI, json!({})).await;
    let (id, _, paid) = razorpay_deposit(&s, &customer, &tech, "rzp-slow-01").await;
    assert_eq!(paid["status"], "FAILED", "{paid}");
    assert_eq!(
        paid["failureReason"],
        "the payment provider could not be reached"
    );
    assert_eq!(paid["gatewayReference"], Value::Null);
    assert_eq!(paid["nextAction"], Value::Null);
    let after = view(&s, &customer, &id).await;
    assert_eq!(after["status"], "PENDING", "no deposit, no dispatch");
    assert_eq!(after["escrow"]["amountMinor"], 0);
    assert_eq!(
        balance(&s, AccountKey::clearing("RAZORPAY", Currency::KES)).await,
        0
    );
    ledger_is_sound(&s).await;
}
