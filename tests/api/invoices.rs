//! Invoices: issued when a booking is paid, numbered per year without gaps (also under
//! concurrency), credit notes for refunds, and visible only to the booking's people.

use crate::booking_fixtures::*;
use crate::chat::staff;
use crate::fixtures::*;
use crate::payments::{completed, pay_input};
use crate::support::*;
use fundi::domain::account::Role;
use serde_json::{Value, json};
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

const PDF_URL: &str = "query($id: ID!) { invoice(bookingId: $id) { number pdfUrl } }";

/// A booking its customer has paid in full (balance and verification), so it has an invoice.
async fn invoiced(s: &TestServer, customer: &Session, tech: &Tech, key: &str) -> Value {
    let id = completed(s, customer, tech, key).await;
    s.ok(
        customer.token(),
        PAY,
        pay_input(&id, "BALANCE", "SANDBOX", &format!("{key}-balance"), None),
    )
    .await;
    step(s, customer, &id, "VERIFIED", None).await;
    id
}

/// GETs a link relative to the server and returns status, content type and body.
async fn download(s: &TestServer, link: &str) -> (u16, String, Vec<u8>) {
    let response = s.http().get(s.url(link)).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A refusal carries no part of the document.
fn refused(answer: &(u16, String, Vec<u8>), status: u16, number: &str) {
    assert_eq!(answer.0, status, "{}", String::from_utf8_lossy(&answer.2));
    assert!(!answer.2.starts_with(b"%PDF"));
    assert!(!contains(&answer.2, number.as_bytes()));
    assert!(!contains(&answer.2, b"Test Person"));
}

#[tokio::test]
async fn the_pdf_url_downloads_the_invoice_as_a_pdf_and_refuses_forged_or_expired_links() {
    let s = TestServer::start().await;
    let customer = s.register("invoice-pdf@example.com").await;
    let tech = ready(&s, "invoice-pdf-tech@example.com", NAIROBI, json!({})).await;
    let id = invoiced(&s, &customer, &tech, "invoice-pdf-01").await;
    let seen = s.ok(customer.token(), PDF_URL, json!({"id": id})).await;
    let number = seen["invoice"]["number"].as_str().unwrap().to_string();
    let link = seen["invoice"]["pdfUrl"].as_str().unwrap().to_string();
    assert!(link.starts_with("/invoices/"), "{link}");
    assert!(link.contains(".pdf?expires="), "{link}");

    let (status, content_type, body) = download(&s, &link).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/pdf");
    assert!(body.starts_with(b"%PDF-"));
    assert!(contains(&body, number.as_bytes()));
    assert!(
        contains(&body, b"Test Person"),
        "buyer and seller are named"
    );

    // The technician, who may see the invoice, gets a link that works too.
    let for_tech = s.ok(tech.session.token(), PDF_URL, json!({"id": id})).await;
    let tech_link = for_tech["invoice"]["pdfUrl"].as_str().unwrap();
    assert_eq!(download(&s, tech_link).await.0, 200);

    // Tampering with the signature, the expiry or the id, or leaving the signature out.
    let (path, query) = link.split_once('?').unwrap();
    let sig = query.split("sig=").nth(1).unwrap();
    let flipped = format!(
        "{}{}",
        &sig[..sig.len() - 1],
        if sig.ends_with('0') { '1' } else { '0' }
    );
    refused(
        &download(&s, &link.replace(sig, &flipped)).await,
        403,
        &number,
    );
    let expires = query
        .split('&')
        .find_map(|p| p.strip_prefix("expires="))
        .unwrap();
    let later = (expires.parse::<i64>().unwrap() + 3_600).to_string();
    refused(
        &download(&s, &link.replace(expires, &later)).await,
        403,
        &number,
    );
    let other = format!("/invoices/{}.pdf?{query}", uuid::Uuid::now_v7());
    refused(&download(&s, &other).await, 403, &number);
    refused(&download(&s, path).await, 403, &number);
    refused(&download(&s, "/invoices/not-an-id.pdf").await, 404, &number);
    refused(
        &download(&s, &link.replace(".pdf?", "?")).await,
        404,
        &number,
    );

    // A genuine signature for an id that is no invoice.
    let unknown = fundi::services::platform::storage::download_link(
        JWT_SECRET.as_bytes(),
        fundi::services::platform::storage::LinkKind::InvoicePdf,
        uuid::Uuid::now_v7(),
        s.services().clock.now(),
    );
    refused(&download(&s, &unknown.url).await, 404, &number);

    // The link works for five minutes; a fresh read signs a fresh one.
    s.advance_clock(chrono::Duration::minutes(6));
    refused(&download(&s, &link).await, 403, &number);
    let again = s.ok(customer.token(), PDF_URL, json!({"id": id})).await;
    let fresh = again["invoice"]["pdfUrl"].as_str().unwrap();
    assert_ne!(fresh, link);
    assert_eq!(download(&s, fresh).await.0, 200);
}

#[tokio::test]
async fn a_stranger_cannot_get_the_pdf_url_of_someone_elses_invoice() {
    let s = TestServer::start().await;
    let customer = s.register("invoice-pdf-owner@example.com").await;
    let tech = ready(&s, "invoice-pdf-owner-tech@example.com", NAIROBI, json!({})).await;
    let id = invoiced(&s, &customer, &tech, "invoice-pdf-owner-01").await;
    let stranger = s.register("invoice-pdf-stranger@example.com").await;
    let other_tech = ready(&s, "invoice-pdf-other-tech@example.com", NAIROBI, json!({})).await;
    for who in [&stranger, &other_tech.session] {
        for query in [
            PDF_URL,
            "query($id: ID!) { booking(id: $id) { invoices { pdfUrl } } }",
        ] {
            let answer = s.gql(who.token(), query, json!({"id": id})).await;
            assert_eq!(code(&answer["errors"][0]), "NOT_FOUND", "{answer}");
            assert!(!answer.to_string().contains("/invoices/"), "{answer}");
        }
    }
}

/// The text of a quoted-printable mail body, enough for the ASCII links fundi writes.
fn unfold_quoted_printable(raw: &str) -> String {
    raw.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

#[tokio::test]
async fn the_invoice_email_links_to_the_pdf_for_a_week() {
    let s = TestServer::start_with(vec![(
        "FUNDI_PUBLIC_URL",
        "https://api.fundi.example/".to_string(),
    )])
    .await;
    let customer = s.register("invoice-mail-link@example.com").await;
    let tech = ready(&s, "invoice-mail-link-tech@example.com", NAIROBI, json!({})).await;
    let id = invoiced(&s, &customer, &tech, "invoice-mail-link-01").await;
    let number = s.ok(customer.token(), PDF_URL, json!({"id": id})).await["invoice"]["number"]
        .as_str()
        .unwrap()
        .to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mail = loop {
        let found = std::fs::read_dir(&s.mail_dir).ok().and_then(|entries| {
            entries.flatten().find_map(|e| {
                let text = unfold_quoted_printable(&std::fs::read_to_string(e.path()).ok()?);
                (text.contains("invoice-mail-link@example.com")
                    && text.contains(&format!("Invoice {number}")))
                .then_some(text)
            })
        });
        if let Some(text) = found {
            break text;
        }
        assert!(std::time::Instant::now() < deadline, "no invoice email");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let start = mail
        .find("https://api.fundi.example/invoices/")
        .unwrap_or_else(|| panic!("no link in {mail}"));
    let link: String = mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let relative = link.strip_prefix("https://api.fundi.example").unwrap();
    let (status, content_type, body) = download(&s, relative).await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    assert!(body.starts_with(b"%PDF-"));
    assert!(contains(&body, number.as_bytes()));
    // Mail is read late: the link still works after six days, and not after eight.
    s.advance_clock(chrono::Duration::days(6));
    assert_eq!(download(&s, relative).await.0, 200);
    s.advance_clock(chrono::Duration::days(2));
    refused(&download(&s, relative).await, 403, &number);
}
