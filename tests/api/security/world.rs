//! The one fixture set the matrix shares: a victim customer and their technician with objects of
//! every kind, the four kinds of attacker, an admin, and a snapshot of everything an attack could change.

use super::coverage::Fixture;
use crate::booking_fixtures::*;
use crate::fixtures::*;
use crate::support::*;
use fundi::domain::account::Role;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Someone with no right to the victims' objects; `session` is None for an anonymous caller.
pub struct Attacker {
    pub name: &'static str,
    pub session: Option<Session>,
}

impl Attacker {
    pub fn token(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.access.as_str())
    }
}

pub struct World {
    pub s: TestServer,
    pub customer: Session,
    pub tech: Tech,
    pub admin: Session,
    pub attackers: Vec<Attacker>,
    pub ids: HashMap<Fixture, String>,
}

const SUBMIT_KYC: &str = "mutation($governmentId: Upload!, $selfie: Upload!) {
  submitKyc(governmentId: $governmentId, selfie: $selfie) { id documents { id } } }";

/// A small JPEG: SOI, a JFIF APP0 segment, filler, EOI (the server judges files by their bytes).
fn jpeg() -> Vec<u8> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00,
    ];
    bytes.resize(2048, 0x5A);
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    bytes
}

fn string(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("an id: {value}"))
        .to_string()
}

impl World {
    pub async fn build() -> World {
        let s = TestServer::start().await;
        let admin = crate::chat::staff(&s, "sec-admin@example.com", Role::Admin).await;
        let mut ids = HashMap::new();
        let tech = approved_technician(&s, &admin, &mut ids).await;
        let customer = customer(&s, &mut ids).await;
        disputed_booking(&s, &customer, &tech, &admin, &mut ids).await;
        reviewed_booking(&s, &customer, &tech, &mut ids).await;
        active_booking(&s, &customer, &tech, &mut ids).await;
        technician_money_and_time(&s, &tech, &mut ids).await;
        let notifications = s
            .ok(
                customer.token(),
                "{ notifications(first: 1, unreadOnly: true) { nodes { id } } }",
                json!({}),
            )
            .await;
        ids.insert(
            Fixture::Notification,
            string(&notifications["notifications"]["nodes"][0]["id"]),
        );
        let categories = s.ok(None, "{ serviceCategories { id } }", json!({})).await;
        ids.insert(
            Fixture::ServiceCategory,
            string(&categories["serviceCategories"][0]["id"]),
        );
        let attackers = attackers(&s).await;
        World {
            s,
            customer,
            tech,
            admin,
            attackers,
            ids,
        }
    }

    pub fn id(&self, fixture: Fixture) -> &str {
        &self.ids[&fixture]
    }

    /// Everything of the victims' an attack could change, read by those entitled to it.
    pub async fn snapshot(&self) -> Value {
        let admin = self.s.ok(
            self.admin.token(),
            "query($active: ID!, $disputed: ID!, $tech: ID!, $withdrawal: ID!, $kyc: ID!, $review: ID!) {
              active: booking(id: $active) { ...state }
              disputed: booking(id: $disputed) { ...state }
              activeChat: messages(bookingId: $active, last: 50) { totalCount nodes { id body } }
              disputedChat: messages(bookingId: $disputed, last: 50) { totalCount }
              technician(id: $tech) { availability kycStatus availabilityExceptions { id date dayOff } }
              withdrawal: node(id: $withdrawal) { ... on Withdrawal { status amount { amountMinor } failureReason } }
              kyc: node(id: $kyc) { ... on KycSubmission { status reviewedAt } }
              review: node(id: $review) { ... on Review { rating comment hidden helpfulCount response { text } } }
              serviceCategories(includeInactive: true) { id slug name description active defaultHourlyRate { amountMinor } }
              ledgerBalances(currency: \"KES\") { account balance { amountMinor } }
              ledgerHealth { ok brokenInvariant }
            }
            fragment state on Booking {
              status version updatedAt scheduledStart cancellationReason
              technician { id } events { from to role actorId at }
              price { total { amountMinor } } escrow { amountMinor } amountDue { amountMinor }
              quotes { id status respondedAt } dispute { status outcome resolvedAt }
              payments { id status refunded { amountMinor } } invoices { number kind }
              trail { recordedAt }
            }",
            json!({
                "active": self.id(Fixture::ActiveBooking),
                "disputed": self.id(Fixture::DisputedBooking),
                "tech": self.tech.id,
                "withdrawal": self.id(Fixture::Withdrawal),
                "kyc": self.id(Fixture::KycSubmission),
                "review": self.id(Fixture::Review),
            }),
        );
        let customer = self.s.ok(
            self.customer.token(),
            "query($active: ID!) {
              me { email fullName phone addresses { id label line } }
              notifications(first: 50) { nodes { id read } }
              conversation(bookingId: $active) { lastSequence unreadCount }
              myMatchingPreferences { skill }
            }",
            json!({"active": self.id(Fixture::ActiveBooking)}),
        );
        let tech = self.s.ok(
            self.tech.session.token(),
            "query($active: ID!) {
              me { email fullName phone }
              myPayoutMethod { kind masked holdUntil }
              conversation(bookingId: $active) { lastSequence unreadCount }
            }",
            json!({"active": self.id(Fixture::ActiveBooking)}),
        );
        let (admin, customer, tech) = tokio::join!(admin, customer, tech);
        json!({"admin": admin, "customer": customer, "technician": tech})
    }
}

/// A technician approved through the real KYC review, so their submission and documents exist.
async fn approved_technician(
    s: &TestServer,
    admin: &Session,
    ids: &mut HashMap<Fixture, String>,
) -> Tech {
    let tech = technician(s, "sec-victim-tech@example.com", Some(NAIROBI), json!({})).await;
    let part = |name: &'static str| {
        Part::bytes(jpeg())
            .file_name(name)
            .mime_str("image/jpeg")
            .expect("mime type")
    };
    let operations =
        json!({"query": SUBMIT_KYC, "variables": {"governmentId": null, "selfie": null}});
    let map = json!({"0": ["variables.governmentId"], "1": ["variables.selfie"]});
    let form = Form::new()
        .text("operations", operations.to_string())
        .text("map", map.to_string())
        .part("0", part("id-card.jpg"))
        .part("1", part("selfie.jpg"));
    let body: Value = s
        .http()
        .post(s.url("/graphql"))
        .bearer_auth(&tech.session.access)
        .multipart(form)
        .send()
        .await
        .expect("request sent")
        .json()
        .await
        .expect("JSON body");
    assert!(body["errors"].is_null(), "{body}");
    let submission = &body["data"]["submitKyc"];
    ids.insert(Fixture::KycSubmission, string(&submission["id"]));
    ids.insert(
        Fixture::KycDocument,
        string(&submission["documents"][0]["id"]),
    );
    s.ok(
        admin.token(),
        "mutation($t: ID!) { reviewKyc(technicianId: $t, decision: APPROVE) { status } }",
        json!({"t": tech.id}),
    )
    .await;
    let answer = set_available(s, &tech, true).await;
    assert_eq!(
        answer["data"]["setAvailability"]["availability"], "AVAILABLE",
        "{answer}"
    );
    ids.insert(Fixture::Technician, tech.id.clone());
    tech
}

/// The victim customer, with a saved address and a sign-in on record.
async fn customer(s: &TestServer, ids: &mut HashMap<Fixture, String>) -> Session {
    let customer = s.register("sec-victim@example.com").await;
    ids.insert(Fixture::User, customer.user_id.clone());
    let me = s
        .ok(
            customer.token(),
            "mutation { updateMe(input: {addresses: [{label: \"Home\", line: \"12 Ngong Road\", city: \"Nairobi\"}]}) { addresses { id } } }",
            json!({}),
        )
        .await;
    ids.insert(
        Fixture::Address,
        string(&me["updateMe"]["addresses"][0]["id"]),
    );
    let login = s.login("sec-victim@example.com", PASSWORD).await;
    assert!(login["errors"].is_null(), "{login}");
    let history = s
        .ok(
            customer.token(),
            "{ loginHistory(first: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    ids.insert(
        Fixture::LoginEvent,
        string(&history["loginHistory"]["nodes"][0]["id"]),
    );
    customer
}

/// A job paid in full (so invoiced), then disputed by the customer.
async fn disputed_booking(
    s: &TestServer,
    customer: &Session,
    tech: &Tech,
    admin: &Session,
    ids: &mut HashMap<Fixture, String>,
) {
    let id = crate::payments::completed(s, customer, tech, "sec-disputed").await;
    step(s, customer, &id, "VERIFIED", None).await;
    let balance = json!({"input": {"bookingId": id, "kind": "BALANCE", "method": "SANDBOX",
        "idempotencyKey": "sec-disputed-balance"}});
    s.ok(customer.token(), PAY, balance).await;
    s.ok(
        customer.token(),
        "mutation($id: ID!) { openDispute(bookingId: $id, reason: \"The tap still leaks\") { status } }",
        json!({"id": id}),
    )
    .await;
    let view = s
        .ok(
            admin.token(),
            "query($id: ID!) { booking(id: $id) { status invoices { number } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(view["booking"]["status"], "DISPUTED", "{view}");
    assert!(
        !view["booking"]["invoices"].as_array().unwrap().is_empty(),
        "{view}"
    );
    ids.insert(Fixture::DisputedBooking, string(&id));
}

/// A job paid in full, reviewed by both sides (so published); the technician's review of the
/// customer is the fixture, read only by the two of them and staff.
async fn reviewed_booking(
    s: &TestServer,
    customer: &Session,
    tech: &Tech,
    ids: &mut HashMap<Fixture, String>,
) {
    use crate::reviews::{by_customer, by_technician, ok_submit, paid_job};
    let id = paid_job(s, customer, tech, "sec-reviewed").await;
    ok_submit(s, customer, &id, by_customer(4, [4; 5], "Tidy work")).await;
    let review = ok_submit(s, &tech.session, &id, by_technician(5, "Paid promptly")).await;
    ids.insert(Fixture::Review, string(&review["id"]));
}

/// A job in progress: deposit paid, a route on record, a quote open and a conversation going.
async fn active_booking(
    s: &TestServer,
    customer: &Session,
    tech: &Tech,
    ids: &mut HashMap<Fixture, String>,
) {
    let booking =
        accepted_booking(s, customer, tech, "sec-active", chrono::Duration::days(3)).await;
    let id = booking["id"].clone();
    let code = booking["startCode"].as_str().unwrap().to_string();
    ok_step(s, &tech.session, &id, "EN_ROUTE", None).await;
    let (lat, lng) = north_of(NAIROBI, 3.0);
    s.ok(
        tech.session.token(),
        "mutation($id: ID!, $input: LocationInput!) { shareLocation(bookingId: $id, input: $input) { lat } }",
        json!({"id": id, "input": {"lat": lat, "lng": lng, "recordedAt": s.services().clock.now().to_rfc3339()}}),
    )
    .await;
    ok_step(s, &tech.session, &id, "ARRIVED", None).await;
    ok_step(s, &tech.session, &id, "IN_PROGRESS", Some(&code)).await;
    let quote = s
        .ok(
            tech.session.token(),
            "mutation($id: ID!, $input: QuoteInput!) { submitQuote(bookingId: $id, input: $input) { id } }",
            json!({"id": id, "input": {
                "lineItems": [{"kind": "MATERIAL", "description": "Ceramic cartridge", "quantity": 1,
                    "unitPrice": {"amountMinor": 50000, "currency": "KES"}}],
                "validUntil": (s.services().clock.now() + chrono::Duration::days(2)).to_rfc3339()}}),
        )
        .await;
    ids.insert(Fixture::Quote, string(&quote["submitQuote"]["id"]));
    let message =
        crate::chat::ok_send(s, customer, &id, crate::chat::text("gate code 4411", None)).await;
    ids.insert(Fixture::Message, string(&message["id"]));
    crate::chat::ok_send(s, &tech.session, &id, crate::chat::text("on it", None)).await;
    let payments = s
        .ok(
            customer.token(),
            "query($id: ID!) { booking(id: $id) { payments { id kind status } } }",
            json!({"id": id}),
        )
        .await;
    let deposit = &payments["booking"]["payments"][0];
    assert_eq!(deposit["kind"], "DEPOSIT", "{payments}");
    ids.insert(Fixture::Payment, string(&deposit["id"]));
    ids.insert(Fixture::ActiveBooking, string(&id));
}

/// A pending withdrawal (PIN, payout method, earnings) and a day off.
async fn technician_money_and_time(
    s: &TestServer,
    tech: &Tech,
    ids: &mut HashMap<Fixture, String>,
) {
    use crate::withdrawals::{SET_METHOD, SET_PIN, fund, request_mutation, withdrawal_input};
    s.ok(
        tech.session.token(),
        SET_PIN,
        json!({"pin": crate::withdrawals::PIN, "password": PASSWORD}),
    )
    .await;
    s.ok(
        tech.session.token(),
        SET_METHOD,
        json!({"input": {"kind": "MPESA", "mpesaPhone": "+254712345678"}}),
    )
    .await;
    fund(s, tech.uuid, 500_000).await;
    let withdrawal = s
        .ok(
            tech.session.token(),
            &request_mutation(),
            withdrawal_input(100_000, "sec-withdrawal"),
        )
        .await;
    ids.insert(
        Fixture::Withdrawal,
        string(&withdrawal["requestWithdrawal"]["id"]),
    );
    let day_off = s
        .ok(
            tech.session.token(),
            "mutation { addAvailabilityException(input: {date: \"2031-01-06\", dayOff: true}) { id } }",
            json!({}),
        )
        .await;
    ids.insert(
        Fixture::AvailabilityException,
        string(&day_off["addAvailabilityException"]["id"]),
    );
}

/// Another customer, another approved technician (too far away to be matched to the victims' jobs),
/// a technician not yet approved, and nobody signed in.
async fn attackers(s: &TestServer) -> Vec<Attacker> {
    let other_customer = s.register("sec-other-customer@example.com").await;
    let other_technician = ready(
        s,
        "sec-other-tech@example.com",
        north_of(NAIROBI, 40.0),
        json!({}),
    )
    .await;
    let unapproved = technician(
        s,
        "sec-unapproved-tech@example.com",
        Some(NAIROBI),
        json!({}),
    )
    .await;
    vec![
        Attacker {
            name: "another customer",
            session: Some(other_customer),
        },
        Attacker {
            name: "another technician",
            session: Some(other_technician.session),
        },
        Attacker {
            name: "an unapproved technician",
            session: Some(unapproved.session),
        },
        Attacker {
            name: "anonymous",
            session: None,
        },
    ]
}
