//! Refunds of M-Pesa payments sent back to the paying phone with B2C, against a local mock of
//! Daraja: what the worker sends, the result callback applied once, a refusal handed to staff, and
//! the status query that settles a refund whose result never came.

use crate::booking_fixtures::*;
use crate::chat::staff;
use crate::fixtures::*;
use crate::mpesa::{PAY_MPESA, PHONE, TOKEN, paid_callback};
use crate::mpesa_b2c::{
    PAYMENT_PATH, RECEIPT, STATUS_PATH, accepted_payment, b2c_server, mount_b2c, result,
    status_result,
};
use crate::payments::{balance, ledger_is_sound, pay_input, view};
use crate::support::*;
use fundi::domain::account::Role;
use fundi::domain::ledger::AccountKey;
use fundi::domain::money::Currency;
use serde_json::{Value, json};
use wiremock::{MockServer, ResponseTemplate};

const REFUND: &str = "mutation($id: ID!, $amount: MoneyInput!) {
  refundPayment(paymentId: $id, amount: $amount, reason: \"goodwill\") { status nextAction } }";
const PAYMENT: &str = "query($id: ID!) { node(id: $id) { ... on Payment { status nextAction
  mpesaRefunds { reference status amount { amountMinor } receipt failureReason processedAt } } } }";

/// Daraja with STK Push (for the deposit) and B2C answering `payment`, and a server using both.
async fn daraja_and_server(payment: ResponseTemplate) -> (MockServer, TestServer) {
    let mock = crate::mpesa::mock_daraja(None).await;
    mount_b2c(&mock, payment).await;
    let s = b2c_server(&mock).await;
    (mock, s)
}

/// A booking whose deposit was paid by M-Pesa: the customer, the booking and the payment.
async fn mpesa_deposit(s: &TestServer, name: &str) -> (Session, Value, Value) {
    let customer = s.register(&format!("{name}@example.com")).await;
    let tech = ready(s, &format!("{name}-tech@example.com"), NAIROBI, json!({})).await;
    let booking = create_unpaid(
        s,
        &customer,
        &format!("{name}-booking"),
        json!({"technicianId": tech.id}),
    )
    .await;
    let mut input = pay_input(
        &booking["id"],
        "DEPOSIT",
        "MPESA",
        &format!("{name}-pay"),
        None,
    );
    input["input"]["phone"] = json!(PHONE);
    let paid = s.ok(customer.token(), PAY_MPESA, input).await["payBooking"].clone();
    let shillings = paid["amount"]["amountMinor"].as_i64().unwrap() / 100;
    let (status, _) = crate::mpesa::deliver(
        s,
        TOKEN,
        &paid_callback(0, "ok", Some("NLJ7RT61SW"), shillings),
    )
    .await;
    assert_eq!(status, 200);
    (customer, booking, paid)
}

async fn refunded_by_admin(s: &TestServer, payment: &Value, amount_minor: i64) -> Value {
    let admin = staff(s, "refund-admin@example.com", Role::Admin).await;
    s.ok(
        admin.token(),
        REFUND,
        json!({"id": payment["id"], "amount": {"amountMinor": amount_minor, "currency": "KES"}}),
    )
    .await["refundPayment"]
        .clone()
}

async fn seen(s: &TestServer, who: &Session, payment: &Value) -> Value {
    s.ok(who.token(), PAYMENT, json!({"id": payment["id"]}))
        .await["node"]
        .clone()
}

/// The customer's REFUND_UPDATE notifications.
async fn refund_notes(s: &TestServer, customer: &Session) -> Vec<Value> {
    let listed = s
        .ok(
            customer.token(),
            "{ notifications(first: 50) { edges { node { kind title body } } } }",
            json!({}),
        )
        .await;
    listed["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .filter(|n| n["kind"] == "REFUND_UPDATE")
        .collect()
}

async fn run_worker(s: &TestServer) {
    fundi::services::bookings::timers::run_due(s.services())
        .await
        .unwrap();
}

/// POSTs a B2C callback to /webhooks/mpesa/{token}/b2c/{leaf}.
async fn deliver(s: &TestServer, leaf: &str, body: &Value) -> u16 {
    crate::mpesa_b2c::deliver(s, TOKEN, leaf, body).await.0
}

#[tokio::test]
async fn an_mpesa_refund_goes_back_to_the_paying_phone_and_its_result_completes_it_once() {
    let (mock, s) = daraja_and_server(accepted_payment()).await;
    let (customer, _, paid) = mpesa_deposit(&s, "refund-back").await;
    let refunded = refunded_by_admin(&s, &paid, 10_000).await;
    assert_eq!(refunded["status"], "PARTIALLY_REFUNDED", "{refunded}");
    assert_eq!(
        refunded["nextAction"],
        Value::Null,
        "nothing for staff to do"
    );
    let queued = seen(&s, &customer, &paid).await["mpesaRefunds"][0].clone();
    assert_eq!(queued["status"], "PENDING", "{queued}");
    assert_eq!(queued["amount"]["amountMinor"], 10_000);
    let reference = queued["reference"].as_str().unwrap().to_string();
    assert!(reference.starts_with("RF-"), "{reference}");

    run_worker(&s).await;
    run_worker(&s).await;
    let sent = calls(&mock, PAYMENT_PATH).await;
    assert_eq!(sent.len(), 1, "sent once, however often the worker runs");
    let (body, auth) = &sent[0];
    assert_eq!(auth, "Bearer daraja-access");
    assert_eq!(body["CommandID"], "BusinessPayment");
    assert_eq!(body["Amount"], 100, "whole shillings");
    assert_eq!(body["PartyB"], PHONE.trim_start_matches('+'));
    assert_eq!(body["OriginatorConversationID"], reference.as_str());
    assert_eq!(
        seen(&s, &customer, &paid).await["mpesaRefunds"][0]["status"],
        "PROCESSING"
    );

    assert_eq!(
        deliver(&s, "result", &result(&reference, 0, "ok")).await,
        200
    );
    let done = seen(&s, &customer, &paid).await["mpesaRefunds"][0].clone();
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["receipt"], RECEIPT);
    // A replay, or a late failure for the same refund, changes nothing.
    assert_eq!(
        deliver(&s, "result", &result(&reference, 0, "ok")).await,
        200
    );
    let late_failure = result(&reference, 2001, "The initiator information is invalid.");
    assert_eq!(deliver(&s, "result", &late_failure).await, 200);
    let after = seen(&s, &customer, &paid).await;
    assert_eq!(after["mpesaRefunds"][0], done);
    assert_eq!(after["nextAction"], Value::Null);
    let told = refund_notes(&s, &customer).await;
    assert_eq!(told.len(), 1, "told once: {told:?}");
    assert_eq!(told[0]["title"], "Refund sent");
    assert!(told[0]["body"].as_str().unwrap().contains(RECEIPT));
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn a_refund_mpesa_refuses_is_handed_to_staff_and_the_cancellation_stands() {
    let (mock, s) = daraja_and_server(accepted_payment()).await;
    let (customer, booking, paid) = mpesa_deposit(&s, "refund-refused").await;
    let deposit = paid["amount"]["amountMinor"].as_i64().unwrap();
    let cancelled = s
        .ok(
            customer.token(),
            "mutation($id: ID!) { cancelBooking(id: $id, reason: \"changed plans\") { status } }",
            json!({"id": booking["id"]}),
        )
        .await;
    assert_eq!(cancelled["cancelBooking"]["status"], "CANCELLED");
    run_worker(&s).await;
    let sent = calls(&mock, PAYMENT_PATH).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0["Amount"], deposit / 100);
    let reference = sent[0].0["OriginatorConversationID"]
        .as_str()
        .unwrap()
        .to_string();

    let refused = result(&reference, 2001, "The initiator information is invalid.");
    assert_eq!(deliver(&s, "result", &refused).await, 200);
    let payment = seen(&s, &customer, &paid).await;
    assert_eq!(payment["status"], "REFUNDED", "{payment}");
    assert_eq!(payment["nextAction"], "STAFF_SEND_MPESA_REFUND");
    let failed = &payment["mpesaRefunds"][0];
    assert_eq!(failed["status"], "FAILED");
    assert!(
        failed["failureReason"]
            .as_str()
            .unwrap()
            .contains("initiator")
    );
    assert_eq!(failed["receipt"], Value::Null);
    let told = refund_notes(&s, &customer).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["title"], "Refund delayed");
    let booking = view(&s, &customer, &booking["id"]).await;
    assert_eq!(booking["status"], "CANCELLED");
    assert_eq!(booking["escrow"]["amountMinor"], 0);
    assert_eq!(
        balance(&s, AccountKey::clearing("MPESA", Currency::KES)).await,
        0,
        "paid in and booked back out"
    );
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn a_refund_whose_result_never_came_is_settled_by_the_status_query() {
    // Daraja is unwell when the refund is sent: it may or may not have queued it.
    let unwell = ResponseTemplate::new(503).set_body_json(json!({
        "requestId": "7821-4427-1", "errorCode": "503.001.01", "errorMessage": "Service Unavailable",
    }));
    let (mock, s) = daraja_and_server(unwell).await;
    let (customer, _, paid) = mpesa_deposit(&s, "refund-asked").await;
    refunded_by_admin(&s, &paid, 10_000).await;
    run_worker(&s).await;
    let sent = calls(&mock, PAYMENT_PATH).await;
    assert_eq!(sent.len(), 1);
    let reference = sent[0].0["OriginatorConversationID"]
        .as_str()
        .unwrap()
        .to_string();
    let waiting = seen(&s, &customer, &paid).await;
    assert_eq!(waiting["mpesaRefunds"][0]["status"], "PROCESSING");
    assert_eq!(waiting["nextAction"], Value::Null);

    run_worker(&s).await;
    assert!(
        calls(&mock, STATUS_PATH).await.is_empty(),
        "not asked before the interval"
    );
    s.advance_clock(chrono::Duration::minutes(11));
    // Only the payout check: other timed work (offers expiring) is not what this test is about.
    fundi::services::money::payout_checks::run(s.services())
        .await
        .unwrap();
    let asked = calls(&mock, STATUS_PATH).await;
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].0["Occasion"], reference.as_str());
    assert_eq!(
        calls(&mock, PAYMENT_PATH).await.len(),
        1,
        "never sent twice"
    );

    let answer = status_result(&reference, "Completed");
    assert_eq!(deliver(&s, "status", &answer).await, 200);
    let done = seen(&s, &customer, &paid).await["mpesaRefunds"][0].clone();
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["receipt"], RECEIPT);
    ledger_is_sound(&s).await;
}
