//! Invoices: issued when a booking is paid, numbered per year without gaps (also under
//! concurrency), credit notes for refunds, and visible only to the booking's people.

use crate::booking_fixtures::*;
use crate::chat::staff;
use crate::fixtures::*;
use crate::payments::{completed, pay_input};
use crate::support::*;
use fundi::domain::account::Role;
use serde_json::json;
use std::time::Duration;

const INVOICE: &str = "query($id: ID!) { invoice(bookingId: $id) { number kind seller { fullName } buyer { fullName }
  lines { kind description amount { amountMinor } } subtotal { amountMinor } tax { amountMinor } total { amountMinor currency } }
  booking(id: $id) { price { total { amountMinor } tax { amountMinor } } invoices { number kind total { amountMinor } } } }";

#[tokio::test]
async fn a_paid_booking_gets_a_numbered_invoice_and_the_customer_an_email() {
    let s = TestServer::start().await;
    let customer = s.register("invoice-one@example.com").await;
    let tech = ready(&s, "invoice-one-tech@example.com", NAIROBI, json!({})).await;
    let id = completed(&s, &customer, &tech, "invoice-one-01").await;
    let before = s.ok(customer.token(), INVOICE, json!({"id": id})).await;
    assert!(before["invoice"].is_null(), "no invoice before payment");
    s.ok(
        customer.token(),
        PAY,
        pay_input(&id, "TIP", "SANDBOX", "invoice-one-tip", Some(5_000)),
    )
    .await;
    s.ok(
        customer.token(),
        PAY,
        pay_input(&id, "BALANCE", "SANDBOX", "invoice-one-balance", None),
    )
    .await;
    step(&s, &customer, &id, "VERIFIED", None).await;
    let seen = s.ok(customer.token(), INVOICE, json!({"id": id})).await;
    let invoice = &seen["invoice"];
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(invoice["number"], format!("FND-{year}-000001"), "{seen}");
    assert_eq!(invoice["kind"], "INVOICE");
    assert_eq!(invoice["buyer"]["fullName"], "Test Person");
    assert!(invoice["seller"]["fullName"].is_string());
    let total = seen["booking"]["price"]["total"]["amountMinor"]
        .as_i64()
        .unwrap();
    let tax = seen["booking"]["price"]["tax"]["amountMinor"]
        .as_i64()
        .unwrap();
    assert_eq!(invoice["lines"][0]["kind"], "LABOUR");
    assert_eq!(invoice["lines"][0]["amount"]["amountMinor"], total - tax);
    assert_eq!(invoice["lines"][1]["kind"], "TIP");
    assert_eq!(invoice["lines"][1]["amount"]["amountMinor"], 5_000);
    assert_eq!(invoice["total"]["amountMinor"], total + 5_000);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mailed = std::fs::read_dir(&s.mail_dir)
            .map(|entries| {
                entries.flatten().any(|e| {
                    let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                    text.contains("invoice-one@example.com")
                        && text.contains(&format!("Invoice FND-{year}-000001"))
                })
            })
            .unwrap_or(false);
        if mailed {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no invoice email");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stranger = s.register("invoice-stranger@example.com").await;
    let hidden = s.gql(stranger.token(), INVOICE, json!({"id": id})).await;
    assert_eq!(code(&hidden["errors"][0]), "NOT_FOUND");
}

#[tokio::test]
async fn numbers_have_no_gaps_under_concurrency_and_refunds_get_credit_notes() {
    let s = TestServer::start().await;
    let customer = s.register("invoice-many@example.com").await;
    let tech = ready(&s, "invoice-many-tech@example.com", NAIROBI, json!({})).await;
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(completed(&s, &customer, &tech, &format!("invoice-many-{n:02}")).await);
    }
    // Four customers' apps settle at once.
    let settle = ids.iter().enumerate().map(|(n, id)| {
        let (s, customer) = (&s, &customer);
        async move {
            s.ok(
                customer.token(),
                PAY,
                pay_input(
                    id,
                    "BALANCE",
                    "SANDBOX",
                    &format!("invoice-many-bal-{n}"),
                    None,
                ),
            )
            .await;
            step(s, customer, id, "VERIFIED", None).await;
        }
    });
    futures_util::future::join_all(settle).await;
    let mut numbers = Vec::new();
    for id in &ids {
        let seen = s.ok(customer.token(), INVOICE, json!({"id": id})).await;
        numbers.push(
            seen["invoice"]["number"]
                .as_str()
                .expect("invoiced")
                .to_string(),
        );
    }
    numbers.sort();
    let year = chrono::Utc::now().format("%Y").to_string();
    let expected: Vec<String> = (1..=4).map(|n| format!("FND-{year}-{n:06}")).collect();
    assert_eq!(numbers, expected);

    // A partial refund by an admin: a credit note with the next number.
    let refundable = s.register("invoice-refund@example.com").await;
    let booking = direct(&s, &refundable, &tech, "invoice-refund-01").await;
    let payment = s
        .ok(
            refundable.token(),
            "query($id: ID!) { booking(id: $id) { payments { id } } }",
            json!({"id": booking["id"]}),
        )
        .await["booking"]["payments"][0]["id"]
        .clone();
    let admin = staff(&s, "invoice-admin@example.com", Role::Admin).await;
    s.ok(
        admin.token(),
        "mutation($id: ID!) { refundPayment(paymentId: $id, amount: {amountMinor: 1000, currency: \"KES\"}, reason: \"goodwill\") { status } }",
        json!({"id": payment}),
    )
    .await;
    let seen = s
        .ok(refundable.token(), INVOICE, json!({"id": booking["id"]}))
        .await;
    let documents = seen["booking"]["invoices"].as_array().unwrap();
    assert_eq!(documents.len(), 1, "{seen}");
    assert_eq!(documents[0]["kind"], "CREDIT_NOTE");
    assert_eq!(documents[0]["number"], format!("FND-{year}-000005"));
    assert_eq!(documents[0]["total"]["amountMinor"], -1000);
}
