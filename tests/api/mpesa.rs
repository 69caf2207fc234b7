//! MPESA payments against a local mock of Safaricom Daraja (wiremock): the STK Push prompt and its
//! OAuth token, callbacks applied once behind a secret path, refused phones, and the status query
//! that settles prompts whose callback never came.

use crate::booking_fixtures::*;
use crate::fixtures::*;
use crate::payments::{balance, completed, ledger_is_sound, pay_input, view};
use crate::support::*;
use base64::Engine;
use fundi::domain::ledger::AccountKey;
use fundi::domain::money::Currency;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "daraja-key";
const SECRET: &str = "daraja-secret";
const SHORTCODE: &str = "174379";
const PASSKEY: &str = "bfb279f9aa9bdbcf158e97dd71a467cd";
pub(crate) const TOKEN: &str = "callback-token-0123456789";
const CHECKOUT: &str = "ws_CO_23112026180000000712345678";
pub(crate) const PHONE: &str = "+254712345678";
pub(crate) const PAY_MPESA: &str =
    "mutation($input: PayBookingInput!) { payBooking(input: $input) {
  id status gatewayReference nextAction failureReason amount { amountMinor } } }";

/// A mock Daraja that hands out an OAuth access token and nothing else yet.
pub(crate) async fn daraja_with_token() -> MockServer {
    let mock = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oauth/v1/generate"))
        .and(query_param("grant_type", "client_credentials"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "daraja-access", "expires_in": "3599"})),
        )
        .mount(&mock)
        .await;
    mock
}

/// A mock Daraja: a token, an accepted prompt, and a query answer of `query_result`
/// (None: "still processing", as Daraja answers while the customer has not decided).
pub(crate) async fn mock_daraja(query_result: Option<&str>) -> MockServer {
    let mock = daraja_with_token().await;
    Mock::given(method("POST"))
        .and(path("/mpesa/stkpush/v1/processrequest"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "MerchantRequestID": "29115-34620561-1", "CheckoutRequestID": CHECKOUT,
            "ResponseCode": "0", "ResponseDescription": "Success. Request accepted for processing",
            "CustomerMessage": "Success. Request accepted for processing",
        })))
        .mount(&mock)
        .await;
    let query = match query_result {
        Some(code) => ResponseTemplate::new(200).set_body_json(json!({
            "ResponseCode": "0", "ResponseDescription": "The service request has been accepted successsfully",
            "MerchantRequestID": "29115-34620561-1", "CheckoutRequestID": CHECKOUT,
            "ResultCode": code, "ResultDesc": "The service request is processed successfully.",
        })),
        None => ResponseTemplate::new(500).set_body_json(json!({
            "requestId": "1234-5678", "errorCode": "500.001.1001",
            "errorMessage": "The transaction is being processed",
        })),
    };
    Mock::given(method("POST"))
        .and(path("/mpesa/stkpushquery/v1/query"))
        .respond_with(query)
        .mount(&mock)
        .await;
    mock
}

pub(crate) async fn mpesa_server(mock: &MockServer) -> TestServer {
    TestServer::start_with(mpesa_settings(mock)).await
}

fn mpesa_settings(mock: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("FUNDI_MPESA_CONSUMER_KEY", KEY.to_string()),
        ("FUNDI_MPESA_CONSUMER_SECRET", SECRET.to_string()),
        ("FUNDI_MPESA_SHORTCODE", SHORTCODE.to_string()),
        ("FUNDI_MPESA_PASSKEY", PASSKEY.to_string()),
        ("FUNDI_MPESA_CALLBACK_TOKEN", TOKEN.to_string()),
        (
            "FUNDI_MPESA_CALLBACK_BASE_URL",
            "https://api.fundi.test".to_string(),
        ),
        ("FUNDI_MPESA_API_BASE", mock.uri()),
    ]
}

fn callback(result_code: i64, desc: &str, receipt: Option<&str>) -> Value {
    paid_callback(result_code, desc, receipt, 960)
}

/// A callback saying `shillings` were paid.
pub(crate) fn paid_callback(
    result_code: i64,
    desc: &str,
    receipt: Option<&str>,
    shillings: i64,
) -> Value {
    let mut stk = json!({
        "MerchantRequestID": "29115-34620561-1", "CheckoutRequestID": CHECKOUT,
        "ResultCode": result_code, "ResultDesc": desc,
    });
    if let Some(receipt) = receipt {
        stk["CallbackMetadata"] = json!({"Item": [
            {"Name": "Amount", "Value": shillings},
            {"Name": "MpesaReceiptNumber", "Value": receipt},
            {"Name": "TransactionDate", "Value": 20261123180512u64},
            {"Name": "PhoneNumber", "Value": 254712345678u64},
        ]});
    }
    json!({"Body": {"stkCallback": stk}})
}

/// POSTs a callback to /webhooks/mpesa/{token}; returns the status and body.
pub(crate) async fn deliver(s: &TestServer, token: &str, body: &Value) -> (u16, Value) {
    let response = s
        .http()
        .post(s.url(&format!("/webhooks/mpesa/{token}")))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn payment(s: &TestServer, id: uuid::Uuid) -> fundi::db::entities::payment::Model {
    fundi::services::money::payments::find(&s.services().db, id)
        .await
        .unwrap()
}

/// Runs the status check until the payment leaves PENDING; the server's own worker runs the same
/// check every second and may get there first, which is as good.
async fn settled_by_query(s: &TestServer, id: uuid::Uuid) -> fundi::db::entities::payment::Model {
    for _ in 0..100 {
        fundi::services::money::mpesa_checks::check_pending(s.services())
            .await
            .unwrap();
        let current = payment(s, id).await;
        if current.status.as_str() != "PENDING" {
            return current;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("payment {id} is still PENDING");
}

/// The status queries Daraja received, waiting a little for one in flight.
async fn queries(mock: &MockServer) -> Vec<(Value, String)> {
    for _ in 0..100 {
        let seen = calls(mock, "/mpesa/stkpushquery/v1/query").await;
        if !seen.is_empty() {
            return seen;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    vec![]
}

/// A completed, verified job waiting for its balance, and the balance asked for over M-Pesa.
pub(crate) async fn pending_balance(s: &TestServer, name: &str) -> (Session, Value, i64, Value) {
    let customer = s.register(&format!("{name}@example.com")).await;
    let tech = ready(s, &format!("{name}-tech@example.com"), NAIROBI, json!({})).await;
    let id = completed(s, &customer, &tech, &format!("{name}-job-01")).await;
    step(s, &customer, &id, "VERIFIED", None).await;
    let due = view(s, &customer, &id).await["amountDue"]["amountMinor"]
        .as_i64()
        .unwrap();
    let mut input = pay_input(&id, "BALANCE", "MPESA", &format!("{name}-pay-01"), None);
    input["input"]["phone"] = json!(PHONE);
    let paid = s.ok(customer.token(), PAY_MPESA, input).await["payBooking"].clone();
    (customer, id, due, paid)
}

#[tokio::test]
async fn an_mpesa_balance_prompts_the_phone_and_a_callback_settles_it_once() {
    let mock = mock_daraja(None).await;
    let s = mpesa_server(&mock).await;
    let (customer, id, due, paid) = pending_balance(&s, "mpesa-paid").await;
    assert_eq!(paid["status"], "PENDING", "{paid}");
    assert_eq!(paid["nextAction"], "MPESA_APPROVE_ON_PHONE");
    assert_eq!(paid["gatewayReference"], CHECKOUT);
    let payment_id = uuid_of(paid["id"].as_str().unwrap());

    let tokens = calls(&mock, "/oauth/v1/generate").await;
    assert_eq!(tokens.len(), 1);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"));
    assert_eq!(tokens[0].1, format!("Basic {basic}"));
    let pushes = calls(&mock, "/mpesa/stkpush/v1/processrequest").await;
    assert_eq!(pushes.len(), 1);
    let (push, auth) = &pushes[0];
    assert_eq!(auth, "Bearer daraja-access");
    let timestamp = push["Timestamp"].as_str().unwrap();
    assert_eq!(timestamp.len(), 14);
    let password = base64::engine::general_purpose::STANDARD
        .encode(format!("{SHORTCODE}{PASSKEY}{timestamp}"));
    assert_eq!(push["Password"], password);
    assert_eq!(push["BusinessShortCode"], SHORTCODE);
    assert_eq!(push["TransactionType"], "CustomerPayBillOnline");
    assert_eq!(push["Amount"], due / 100, "whole shillings");
    assert_eq!(push["PartyA"], "254712345678");
    assert_eq!(push["PhoneNumber"], "254712345678");
    assert_eq!(push["PartyB"], SHORTCODE);
    assert_eq!(
        push["CallBackURL"],
        format!("https://api.fundi.test/webhooks/mpesa/{TOKEN}")
    );
    assert!(push["AccountReference"].as_str().unwrap().len() <= 12);

    let clearing = AccountKey::clearing("MPESA", Currency::KES);
    assert_eq!(balance(&s, clearing.clone()).await, 0);
    let success = callback(
        0,
        "The service request is processed successfully.",
        Some("NLJ7RT61SV"),
    );
    let (status, body) = deliver(&s, TOKEN, &success).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"ResultCode": 0, "ResultDesc": "Accepted"}));
    let settled = payment(&s, payment_id).await;
    assert_eq!(settled.status.as_str(), "SUCCEEDED");
    assert_eq!(settled.gateway_reference.as_deref(), Some("NLJ7RT61SV"));
    // The balance came out of M-Pesa clearing into escrow, and escrow paid the job out.
    assert_eq!(balance(&s, clearing.clone()).await, -due);
    let after = view(&s, &customer, &id).await;
    assert_eq!(after["status"], "PAID", "{after}");
    let revenue = balance(&s, AccountKey::platform_revenue(Currency::KES)).await;
    assert!(revenue > 0);
    ledger_is_sound(&s).await;

    // Daraja replays the callback: accepted, and nothing moves.
    let (status, body) = deliver(&s, TOKEN, &success).await;
    assert_eq!((status, body["ResultCode"].clone()), (200, json!(0)));
    assert_eq!(payment(&s, payment_id).await, settled);
    assert_eq!(balance(&s, clearing.clone()).await, -due);
    assert_eq!(
        balance(&s, AccountKey::platform_revenue(Currency::KES)).await,
        revenue
    );
    ledger_is_sound(&s).await;

    // A failure arriving after the success changes nothing either.
    let (status, _) = deliver(
        &s,
        TOKEN,
        &callback(1032, "Request cancelled by user", None),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(payment(&s, payment_id).await, settled);
}

#[tokio::test]
async fn a_prompt_cancelled_on_the_phone_fails_and_the_balance_stays_owed() {
    let mock = mock_daraja(None).await;
    let s = mpesa_server(&mock).await;
    let (customer, id, due, paid) = pending_balance(&s, "mpesa-cancelled").await;
    let payment_id = uuid_of(paid["id"].as_str().unwrap());
    let (status, _) = deliver(
        &s,
        TOKEN,
        &callback(1032, "Request cancelled by user", None),
    )
    .await;
    assert_eq!(status, 200);
    let failed = payment(&s, payment_id).await;
    assert_eq!(failed.status.as_str(), "FAILED");
    assert!(
        failed
            .failure_reason
            .as_deref()
            .unwrap()
            .contains("Request cancelled by user"),
        "{failed:?}"
    );
    let after = view(&s, &customer, &id).await;
    assert_eq!(after["status"], "PAYMENT_PENDING");
    assert_eq!(after["amountDue"]["amountMinor"], due);
    assert_eq!(
        balance(&s, AccountKey::clearing("MPESA", Currency::KES)).await,
        0
    );
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn a_callback_with_the_wrong_token_is_not_found_and_changes_nothing() {
    let mock = mock_daraja(None).await;
    let s = mpesa_server(&mock).await;
    let (_, _, _, paid) = pending_balance(&s, "mpesa-forged").await;
    let payment_id = uuid_of(paid["id"].as_str().unwrap());
    let forged = callback(0, "ok", Some("FORGED0001"));
    for token in [
        "callback-token-0123456788",
        "x",
        "callback-token-01234567890",
    ] {
        let (status, _) = deliver(&s, token, &forged).await;
        assert_eq!(status, 404, "{token}");
    }
    assert_eq!(payment(&s, payment_id).await.status.as_str(), "PENDING");
    // A server without M-Pesa has no callback route at all.
    let plain = TestServer::start().await;
    assert_eq!(deliver(&plain, TOKEN, &forged).await.0, 404);
}

#[tokio::test]
async fn mpesa_needs_a_kenyan_mobile_number() {
    let mock = mock_daraja(None).await;
    let s = mpesa_server(&mock).await;
    let customer = s.register("mpesa-phone@example.com").await;
    let tech = ready(&s, "mpesa-phone-tech@example.com", NAIROBI, json!({})).await;
    let id = completed(&s, &customer, &tech, "mpesa-phone-job-01").await;
    for (n, phone) in [
        None,
        Some("0712345678"),
        Some("+15551234567"),
        Some("+2547123"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut input = pay_input(
            &id,
            "BALANCE",
            "MPESA",
            &format!("mpesa-phone-{n:02}"),
            None,
        );
        if let Some(phone) = phone {
            input["input"]["phone"] = json!(phone);
        }
        let error = s.err(customer.token(), PAY_MPESA, input).await;
        assert_eq!(code(&error), "BAD_USER_INPUT", "{phone:?}: {error}");
        assert_eq!(error["extensions"]["field"], "phone", "{phone:?}");
    }
    assert!(
        calls(&mock, "/mpesa/stkpush/v1/processrequest")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_prompt_without_a_callback_is_settled_by_the_status_query_after_90_seconds() {
    let mock = mock_daraja(Some("0")).await;
    let s = mpesa_server(&mock).await;
    let (customer, id, due, paid) = pending_balance(&s, "mpesa-query").await;
    let payment_id = uuid_of(paid["id"].as_str().unwrap());

    // Not yet due: Daraja is left alone.
    fundi::services::money::mpesa_checks::check_pending(s.services())
        .await
        .unwrap();
    assert!(
        calls(&mock, "/mpesa/stkpushquery/v1/query")
            .await
            .is_empty()
    );
    assert_eq!(payment(&s, payment_id).await.status.as_str(), "PENDING");

    s.advance_clock(chrono::Duration::seconds(91));
    fundi::services::bookings::timers::run_due(s.services())
        .await
        .unwrap();
    let settled = settled_by_query(&s, payment_id).await;
    let asked = queries(&mock).await;
    let (query, auth) = &asked[0];
    assert_eq!(auth, "Bearer daraja-access");
    assert_eq!(query["CheckoutRequestID"], CHECKOUT);
    assert_eq!(query["BusinessShortCode"], SHORTCODE);
    let timestamp = query["Timestamp"].as_str().unwrap();
    let password = base64::engine::general_purpose::STANDARD
        .encode(format!("{SHORTCODE}{PASSKEY}{timestamp}"));
    assert_eq!(query["Password"], password);
    assert_eq!(settled.status.as_str(), "SUCCEEDED");
    assert_eq!(settled.gateway_reference.as_deref(), Some(CHECKOUT));
    assert_eq!(view(&s, &customer, &id).await["status"], "PAID");
    assert_eq!(
        balance(&s, AccountKey::clearing("MPESA", Currency::KES)).await,
        -due
    );
    // The token was fetched once and reused for the prompt and the query.
    assert_eq!(calls(&mock, "/oauth/v1/generate").await.len(), 1);
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn a_prompt_still_processing_stays_pending_and_a_timeout_fails_it() {
    let mock = mock_daraja(None).await;
    let s = mpesa_server(&mock).await;
    let (_, _, _, paid) = pending_balance(&s, "mpesa-waiting").await;
    let payment_id = uuid_of(paid["id"].as_str().unwrap());
    s.advance_clock(chrono::Duration::seconds(91));
    fundi::services::money::mpesa_checks::check_pending(s.services())
        .await
        .unwrap();
    assert!(!queries(&mock).await.is_empty());
    assert_eq!(payment(&s, payment_id).await.status.as_str(), "PENDING");

    // Daraja gives up on the phone: the next query after another interval fails the payment.
    mock.reset().await;
    Mock::given(method("POST"))
        .and(path("/mpesa/stkpushquery/v1/query"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ResponseCode": "0", "CheckoutRequestID": CHECKOUT,
            "ResultCode": "1037", "ResultDesc": "DS timeout user cannot be reached",
        })))
        .mount(&mock)
        .await;
    s.advance_clock(chrono::Duration::seconds(91));
    let failed = settled_by_query(&s, payment_id).await;
    assert_eq!(failed.status.as_str(), "FAILED");
    assert!(failed.failure_reason.unwrap().contains("cannot be reached"));
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn an_mpesa_deposit_starts_dispatch_and_its_refunds_are_booked_for_staff_to_send() {
    let mock = mock_daraja(None).await;
    let s = mpesa_server(&mock).await;
    let customer = s.register("mpesa-deposit@example.com").await;
    let tech = ready(&s, "mpesa-deposit-tech@example.com", NAIROBI, json!({})).await;
    let booking = create_unpaid(
        &s,
        &customer,
        "mpesa-deposit-01",
        json!({"technicianId": tech.id}),
    )
    .await;
    let mut input = pay_input(
        &booking["id"],
        "DEPOSIT",
        "MPESA",
        "mpesa-deposit-pay",
        None,
    );
    input["input"]["phone"] = json!(PHONE);
    let paid = s.ok(customer.token(), PAY_MPESA, input).await["payBooking"].clone();
    assert_eq!(paid["status"], "PENDING", "{paid}");
    let deposit_kes = paid["amount"]["amountMinor"].as_i64().unwrap() / 100;
    let success = paid_callback(0, "ok", Some("NLJ7RT61SW"), deposit_kes);
    let (status, _) = deliver(&s, TOKEN, &success).await;
    assert_eq!(status, 200);
    let seen = view(&s, &customer, &booking["id"]).await;
    assert_eq!(seen["status"], "ASSIGNED", "{seen}");
    let deposit = seen["price"]["deposit"]["amountMinor"].as_i64().unwrap();
    assert_eq!(seen["escrow"]["amountMinor"], deposit);

    let admin = crate::chat::staff(
        &s,
        "mpesa-admin@example.com",
        fundi::domain::account::Role::Admin,
    )
    .await;
    let refund = "mutation($id: ID!, $amount: MoneyInput!) { refundPayment(paymentId: $id, amount: $amount, reason: \"goodwill\") { status nextAction } }";
    let refunded = s
        .ok(
            admin.token(),
            refund,
            json!({"id": paid["id"], "amount": {"amountMinor": 100, "currency": "KES"}}),
        )
        .await["refundPayment"]
        .clone();
    // Daraja reversals are not wired in: the refund is booked and flagged for staff to send.
    assert_eq!(refunded["status"], "PARTIALLY_REFUNDED", "{refunded}");
    assert_eq!(refunded["nextAction"], "STAFF_SEND_MPESA_REFUND");
    assert_eq!(
        view(&s, &customer, &booking["id"]).await["escrow"]["amountMinor"],
        deposit - 100
    );
    // Cancelling before the technician accepts is free: the rest comes back the same way, and the
    // cancellation is not held up by the provider.
    let cancelled = s
        .ok(
            customer.token(),
            "mutation($id: ID!) { cancelBooking(id: $id, reason: \"changed plans\") { status } }",
            json!({"id": booking["id"]}),
        )
        .await;
    assert_eq!(cancelled["cancelBooking"]["status"], "CANCELLED");
    let seen = view(&s, &customer, &booking["id"]).await;
    assert_eq!(seen["escrow"]["amountMinor"], 0);
    assert_eq!(seen["payments"][0]["status"], "REFUNDED", "{seen}");
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn a_success_callback_for_another_amount_is_not_believed() {
    let mock = mock_daraja(None).await;
    let s = mpesa_server(&mock).await;
    let (customer, id, due, paid) = pending_balance(&s, "mpesa-amount").await;
    let payment_id = uuid_of(paid["id"].as_str().unwrap());
    let short = paid_callback(0, "ok", Some("NLJ7RT61SX"), due / 100 - 1);
    let (status, _) = deliver(&s, TOKEN, &short).await;
    assert_eq!(status, 200, "Daraja is answered, so it does not retry");
    assert_eq!(payment(&s, payment_id).await.status.as_str(), "PENDING");
    assert_eq!(view(&s, &customer, &id).await["status"], "PAYMENT_PENDING");
    assert_eq!(
        balance(&s, AccountKey::clearing("MPESA", Currency::KES)).await,
        0
    );

    let exact = paid_callback(0, "ok", Some("NLJ7RT61SX"), due / 100);
    deliver(&s, TOKEN, &exact).await;
    assert_eq!(payment(&s, payment_id).await.status.as_str(), "SUCCEEDED");
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn a_prompt_slower_than_the_gateway_timeout_fails_the_payment_and_leaves_the_balance_owed() {
    // Daraja answers the STK Push, but only after three seconds; the server waits one.
    let mock = daraja_with_token().await;
    Mock::given(method("POST"))
        .and(path("/mpesa/stkpush/v1/processrequest"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"CheckoutRequestID": CHECKOUT, "ResponseCode": "0"}))
                .set_delay(std::time::Duration::from_secs(3)),
        )
        .mount(&mock)
        .await;
    let mut settings = mpesa_settings(&mock);
    settings.push(("FUNDI_GATEWAY_TIMEOUT_SECONDS", "1".to_string()));
    let s = TestServer::start_with(settings).await;
    let (customer, id, due, paid) = pending_balance(&s, "mpesa-slow").await;
    assert_eq!(
        calls(&mock, "/mpesa/stkpush/v1/processrequest").await.len(),
        1
    );
    assert_eq!(paid["status"], "FAILED", "{paid}");
    assert_eq!(
        paid["failureReason"],
        "the payment provider could not be reached"
    );
    assert_eq!(paid["gatewayReference"], Value::Null);
    let after = view(&s, &customer, &id).await;
    assert_eq!(after["status"], "PAYMENT_PENDING");
    assert_eq!(after["amountDue"]["amountMinor"], due);
    assert_eq!(
        balance(&s, AccountKey::clearing("MPESA", Currency::KES)).await,
        0
    );
    ledger_is_sound(&s).await;
}
