//! Booking fixtures: a customer's request, offered straight to a technician and moved step by step.

use crate::fixtures::*;
use crate::support::*;
use serde_json::{Value, json};

pub const CREATE: &str = "mutation($input: ServiceRequestInput!) { createServiceRequest(input: $input) {
  id status startCode technician { id } price { base { amountMinor } surge { amountMinor } platformFee { amountMinor } tax { amountMinor } total { amountMinor } deposit { amountMinor } } } }";
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

pub async fn create(s: &TestServer, customer: &Session, key: &str, extra: Value) -> Value {
    s.ok(customer.token(), CREATE, request(key, extra)).await["createServiceRequest"].clone()
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
