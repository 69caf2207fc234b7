//! Booking fixtures: a customer's request, offered straight to a technician and moved step by step.

use crate::fixtures::*;
use crate::support::*;
use serde_json::{Value, json};

pub const CREATE: &str = "mutation($input: ServiceRequestInput!) { createServiceRequest(input: $input) {
  id status startCode technician { id } price { base { amountMinor } surge { amountMinor } platformFee { amountMinor } tax { amountMinor } total { amountMinor } deposit { amountMinor } } } }";
const FIELDS: &str = "id status startCode technician { id } price { base { amountMinor } surge { amountMinor } platformFee { amountMinor } tax { amountMinor } total { amountMinor } deposit { amountMinor } }";
pub const PAY: &str = "mutation($input: PayBookingInput!) { payBooking(input: $input) {
  id kind method status amount { amountMinor currency } refunded { amountMinor } gatewayReference nextAction failureReason } }";
pub const MOVE: &str = "mutation($id: ID!, $to: BookingStatus!, $reason: String, $code: String) {
  transitionBooking(id: $id, to: $to, reason: $reason, startCode: $code) { id status availableTransitions } }";
pub fn request(key: &str, extra: Value) -> Value {
    let mut input = json!({
        "category": "plumbing", "title": "Leaking kitchen tap", "description": "Drips all night",
        "address": "12 Ngong Road, Nairobi", "location": {"lat": NAIROBI.0, "lng": NAIROBI.1},
        "priority": "URGENT", "budgetMin": {"amountMinor": 100000, "currency": "KES"},
        "budgetMax": {"amountMinor": 300000, "currency": "KES"}, "estimatedDurationMinutes": 60, "idempotencyKey": key,
    });
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        input[k] = v;
    }
    json!({"input": input})
}

/// Creates a request and, as a customer's app does, pays its deposit so dispatch starts; returns the
/// booking as it then is.
pub async fn create(s: &TestServer, customer: &Session, key: &str, extra: Value) -> Value {
    let created = create_unpaid(s, customer, key, extra).await;
    if created["status"] != "PENDING" {
        return created;
    }
    let paid = pay_deposit(s, customer, &created["id"]).await;
    // REFUNDED when nobody could take the job: dispatch ran and gave the deposit back.
    assert!(
        paid["status"] == "SUCCEEDED" || paid["status"] == "REFUNDED",
        "{paid}"
    );
    let view = format!("query($id: ID!) {{ booking(id: $id) {{ {FIELDS} }} }}");
    s.ok(customer.token(), &view, json!({"id": created["id"]}))
        .await["booking"]
        .clone()
}

/// Creates a request and leaves its deposit unpaid (the booking waits in PENDING).
pub async fn create_unpaid(s: &TestServer, customer: &Session, key: &str, extra: Value) -> Value {
    s.ok(customer.token(), CREATE, request(key, extra)).await["createServiceRequest"].clone()
}

/// Pays a booking's deposit through the sandbox.
pub async fn pay_deposit(s: &TestServer, customer: &Session, booking: &Value) -> Value {
    let input = json!({"bookingId": booking, "kind": "DEPOSIT", "method": "SANDBOX",
        "idempotencyKey": format!("deposit-{}", booking.as_str().unwrap())});
    s.ok(customer.token(), PAY, json!({"input": input})).await["payBooking"].clone()
}

/// A request offered straight to `tech`, as after picking them from matchTechnicians.
pub async fn direct(s: &TestServer, customer: &Session, tech: &Tech, key: &str) -> Value {
    create(s, customer, key, json!({"technicianId": tech.id})).await
}

pub async fn step(
    s: &TestServer,
    who: &Session,
    id: &Value,
    to: &str,
    code: Option<&str>,
) -> Value {
    s.gql(who.token(), MOVE, json!({"id": id, "to": to, "code": code}))
        .await
}

pub async fn ok_step(s: &TestServer, who: &Session, id: &Value, to: &str, code: Option<&str>) {
    let answer = step(s, who, id, to, code).await;
    assert_eq!(
        answer["data"]["transitionBooking"]["status"], to,
        "{to}: {answer}"
    );
}

pub async fn accepted_booking(
    s: &TestServer,
    customer: &Session,
    tech: &Tech,
    key: &str,
    start_in: chrono::Duration,
) -> Value {
    let start = (chrono::Utc::now() + start_in).to_rfc3339();
    let booking = create(
        s,
        customer,
        key,
        json!({"technicianId": tech.id, "scheduledStart": start, "priority": "MEDIUM"}),
    )
    .await;
    ok_step(s, &tech.session, &booking["id"], "ACCEPTED", None).await;
    booking
}
