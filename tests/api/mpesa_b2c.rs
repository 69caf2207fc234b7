//! M-Pesa B2C payouts against a local mock of Safaricom Daraja (wiremock): the payment request a
//! processed withdrawal sends, result callbacks applied once behind the secret path, failures that
//! hand the money back, and the status query that settles payouts whose result never came.

use crate::booking_fixtures::*;
use crate::chat::staff;
use crate::fixtures::*;
use crate::payments::{balance, completed, ledger_is_sound, pay_input};
use crate::support::*;
use fundi::domain::account::Role;
use fundi::domain::ledger::AccountKey;
use fundi::domain::money::Currency;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "callback-token-0123456789";
const B2C_SHORTCODE: &str = "600996";
const INITIATOR: &str = "testapi";
const CREDENTIAL: &str = "encrypted-initiator-credential";
const PHONE: &str = "+254712345678";
pub(crate) const CONVERSATION: &str = "AG_20261123_00005797af5d7d75f652";
pub(crate) const RECEIPT: &str = "NLJ41HAY6Q";
/// KES 100, the default minimum withdrawal, in whole shillings as M-Pesa requires.
const AMOUNT: i64 = 10_000;
pub(crate) const PAYMENT_PATH: &str = "/mpesa/b2c/v3/paymentrequest";
pub(crate) const STATUS_PATH: &str = "/mpesa/transactionstatus/v1/query";

const SET_PIN: &str = "mutation($pin: String!, $password: String!) {
  setWithdrawalPin(pin: $pin, password: $password) }";
const SET_METHOD: &str =
    "mutation($input: PayoutMethodInput!) { setPayoutMethod(input: $input) { kind } }";
const REQUEST: &str = "mutation($input: WithdrawalInput!) { requestWithdrawal(input: $input) {
  id status reference failureReason } }";
const PROCESS: &str = "mutation($id: ID!) { processWithdrawal(id: $id) {
  id status reference failureReason } }";
const LIST: &str = "query($status: WithdrawalStatus) { withdrawals(status: $status, first: 20) {
  edges { node { id status reference failureReason } } } }";

/// A mock Daraja: a token, accepted B2C payments and accepted status queries.
pub(crate) async fn mock_daraja() -> MockServer {
    mock_daraja_answering(accepted_payment()).await
}

/// Daraja's answer to a B2C payment request it has queued.
pub(crate) fn accepted_payment() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "ConversationID": CONVERSATION,
        "OriginatorConversationID": "echoed",
        "ResponseCode": "0",
        "ResponseDescription": "Accept the service request successfully.",
    }))
}

/// A mock Daraja whose B2C payment request answers `payment`.
async fn mock_daraja_answering(payment: ResponseTemplate) -> MockServer {
    let mock = crate::mpesa::daraja_with_token().await;
    mount_b2c(&mock, payment).await;
    mock
}

/// Daraja's B2C routes on `mock`: payment requests answer `payment`, status queries are accepted.
pub(crate) async fn mount_b2c(mock: &MockServer, payment: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path(PAYMENT_PATH))
        .respond_with(payment)
        .mount(mock)
        .await;
    Mock::given(method("POST"))
        .and(path(STATUS_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "OriginatorConversationID": "1236-7134259-1",
            "ConversationID": "AG_20261123_0000702a5b1b5ef3d0b4",
            "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully.",
        })))
        .mount(mock)
        .await;
}

pub(crate) async fn b2c_server(mock: &MockServer) -> TestServer {
    TestServer::start_with(vec![
        ("FUNDI_MPESA_CONSUMER_KEY", "daraja-key".to_string()),
        ("FUNDI_MPESA_CONSUMER_SECRET", "daraja-secret".to_string()),
        ("FUNDI_MPESA_SHORTCODE", "174379".to_string()),
        (
            "FUNDI_MPESA_PASSKEY",
            "bfb279f9aa9bdbcf158e97dd71a467cd".to_string(),
        ),
        ("FUNDI_MPESA_CALLBACK_TOKEN", TOKEN.to_string()),
        (
            "FUNDI_MPESA_CALLBACK_BASE_URL",
            "https://api.fundi.test".to_string(),
        ),
        ("FUNDI_MPESA_API_BASE", mock.uri()),
        ("FUNDI_MPESA_B2C_SHORTCODE", B2C_SHORTCODE.to_string()),
        ("FUNDI_MPESA_B2C_INITIATOR_NAME", INITIATOR.to_string()),
        (
            "FUNDI_MPESA_B2C_SECURITY_CREDENTIAL",
            CREDENTIAL.to_string(),
        ),
        ("FUNDI_EARNINGS_HOLD_HOURS", "0".to_string()),
        ("FUNDI_PAYOUT_METHOD_HOLD_HOURS", "0".to_string()),
        ("FUNDI_AUTO_PAYOUTS", "false".to_string()),
    ])
    .await
}

/// POSTs `body` to /webhooks/mpesa/{token}/b2c/{leaf}; returns the status and body.
pub(crate) async fn deliver(s: &TestServer, token: &str, leaf: &str, body: &Value) -> (u16, Value) {
    let response = s
        .http()
        .post(s.url(&format!("/webhooks/mpesa/{token}/b2c/{leaf}")))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Daraja's B2C result callback for the withdrawal `reference`.
pub(crate) fn result(reference: &str, code: i64, desc: &str) -> Value {
    let mut result = json!({
        "ResultType": 0, "ResultCode": code, "ResultDesc": desc,
        "OriginatorConversationID": reference, "ConversationID": CONVERSATION,
        "TransactionID": RECEIPT,
        "ReferenceData": {"ReferenceItem": {"Key": "QueueTimeoutURL",
            "Value": "https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit"}},
    });
    if code == 0 {
        result["ResultParameters"] = json!({"ResultParameter": [
            {"Key": "TransactionAmount", "Value": AMOUNT / 100},
            {"Key": "TransactionReceipt", "Value": RECEIPT},
            {"Key": "B2CRecipientIsRegisteredCustomer", "Value": "Y"},
            {"Key": "ReceiverPartyPublicName", "Value": "254712345678 - Jane Fundi"},
            {"Key": "TransactionCompletedDateTime", "Value": "23.11.2026 18:05:12"},
        ]});
    }
    json!({"Result": result})
}

/// Daraja's Transaction Status result: the query's own ids, our reference echoed as Occasion.
pub(crate) fn status_result(reference: &str, transaction_status: &str) -> Value {
    json!({"Result": {
        "ResultType": 0, "ResultCode": 0,
        "ResultDesc": "The service request is processed successfully.",
        "OriginatorConversationID": "1236-7134259-1",
        "ConversationID": "AG_20261123_0000702a5b1b5ef3d0b4",
        "TransactionID": "NLN0000000",
        "ResultParameters": {"ResultParameter": [
            {"Key": "DebitPartyName", "Value": "600996 - Fundi"},
            {"Key": "CreditPartyName", "Value": "254712345678 - Jane Fundi"},
            {"Key": "TransactionStatus", "Value": transaction_status},
            {"Key": "Amount", "Value": AMOUNT / 100},
            {"Key": "ReceiptNo", "Value": RECEIPT},
        ]},
        "ReferenceData": {"ReferenceItem": {"Key": "Occasion", "Value": reference}},
    }})
}

fn timeout_body(reference: &str) -> Value {
    json!({"Result": {
        "ResultType": 1, "ResultCode": "SFC_IC0003",
        "ResultDesc": "The request timed out in the queue",
        "OriginatorConversationID": reference, "ConversationID": CONVERSATION,
    }})
}

async fn stored(s: &TestServer, reference: &str) -> fundi::db::entities::withdrawal::Model {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    fundi::db::entities::withdrawal::Entity::find()
        .filter(fundi::db::entities::withdrawal::Column::Reference.eq(reference))
        .one(&s.services().db)
        .await
        .unwrap()
        .expect("the withdrawal")
}

/// A technician with earnings available (a paid job, no hold), a PIN and an M-Pesa payout method.
async fn earning_technician(s: &TestServer, name: &str) -> (Tech, i64) {
    let customer = s.register(&format!("{name}@example.com")).await;
    let tech = ready(s, &format!("{name}-tech@example.com"), NAIROBI, json!({})).await;
    let id = completed(s, &customer, &tech, &format!("{name}-job-01")).await;
    step(s, &customer, &id, "VERIFIED", None).await;
    let paid = s
        .ok(
            customer.token(),
            "mutation($input: PayBookingInput!) { payBooking(input: $input) { status } }",
            pay_input(&id, "BALANCE", "SANDBOX", &format!("{name}-pay-01"), None),
        )
        .await;
    assert_eq!(paid["payBooking"]["status"], "SUCCEEDED", "{paid}");
    fundi::services::bookings::timers::run_due(s.services())
        .await
        .unwrap();
    let available = balance(
        s,
        AccountKey::technician_available(tech.uuid, Currency::KES),
    )
    .await;
    assert!(available >= AMOUNT, "available {available}");

    let token = tech.session.token();
    s.ok(token, SET_PIN, json!({"pin": "4826", "password": PASSWORD}))
        .await;
    s.ok(
        token,
        SET_METHOD,
        json!({"input": {"kind": "MPESA", "mpesaPhone": PHONE}}),
    )
    .await;
    (tech, available)
}

/// A withdrawal of [`AMOUNT`] asked for and processed by staff: PROCESSING at Daraja.
async fn sent_withdrawal(s: &TestServer, tech: &Tech, key: &str) -> Value {
    let processed = processed_withdrawal(s, tech, key).await;
    assert_eq!(processed["status"], "PROCESSING", "{processed}");
    processed
}

/// A withdrawal of [`AMOUNT`] asked for and processed by staff, whatever Daraja said.
async fn processed_withdrawal(s: &TestServer, tech: &Tech, key: &str) -> Value {
    let asked = s
        .ok(
            tech.session.token(),
            REQUEST,
            json!({"input": {
                "amount": {"amountMinor": AMOUNT, "currency": "KES"},
                "pin": "4826",
                "idempotencyKey": key,
            }}),
        )
        .await["requestWithdrawal"]
        .clone();
    let admin = staff(s, &format!("{key}-admin@example.com"), Role::Admin).await;
    let processed = s
        .ok(admin.token(), PROCESS, json!({"id": asked["id"]}))
        .await["processWithdrawal"]
        .clone();
    assert_eq!(processed["reference"], asked["reference"]);
    processed
}

async fn listed_status(s: &TestServer, tech: &Tech, id: &Value) -> String {
    let page = s.ok(tech.session.token(), LIST, json!({})).await;
    page["withdrawals"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["id"] == *id)
        .map(|e| e["node"]["status"].as_str().unwrap().to_string())
        .expect("the withdrawal is listed")
}

fn reference_of(withdrawal: &Value) -> String {
    withdrawal["reference"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_b2c_payout_is_sent_and_its_success_callback_completes_it_once() {
    let mock = mock_daraja().await;
    let s = b2c_server(&mock).await;
    let (tech, available) = earning_technician(&s, "b2c-paid").await;
    let sent = sent_withdrawal(&s, &tech, "b2c-paid-wd-01").await;
    let reference = reference_of(&sent);
    let available_after_request = balance(
        &s,
        AccountKey::technician_available(tech.uuid, Currency::KES),
    )
    .await;
    assert_eq!(available_after_request, available - AMOUNT);

    let payments = calls(&mock, PAYMENT_PATH).await;
    assert_eq!(payments.len(), 1);
    let (request, auth) = &payments[0];
    assert_eq!(auth, "Bearer daraja-access");
    assert_eq!(request["OriginatorConversationID"], reference.as_str());
    assert_eq!(request["InitiatorName"], INITIATOR);
    assert_eq!(request["SecurityCredential"], CREDENTIAL);
    assert_eq!(request["CommandID"], "BusinessPayment");
    assert_eq!(request["Amount"], AMOUNT / 100, "whole shillings");
    assert_eq!(request["PartyA"], B2C_SHORTCODE);
    assert_eq!(request["PartyB"], "254712345678");
    assert_eq!(
        request["ResultURL"],
        format!("https://api.fundi.test/webhooks/mpesa/{TOKEN}/b2c/result")
    );
    assert_eq!(
        request["QueueTimeOutURL"],
        format!("https://api.fundi.test/webhooks/mpesa/{TOKEN}/b2c/timeout")
    );
    let processing = stored(&s, &reference).await;
    assert_eq!(processing.status.as_str(), "PROCESSING");
    assert_eq!(processing.gateway.as_str(), "MPESA");

    let success = result(
        &reference,
        0,
        "The service request is processed successfully.",
    );
    let (status, body) = deliver(&s, TOKEN, "result", &success).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"ResultCode": 0, "ResultDesc": "Accepted"}));
    let done = stored(&s, &reference).await;
    assert_eq!(done.status.as_str(), "COMPLETED");
    assert_eq!(done.gateway_reference.as_deref(), Some(RECEIPT));
    assert_eq!(listed_status(&s, &tech, &sent["id"]).await, "COMPLETED");
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_available(tech.uuid, Currency::KES)
        )
        .await,
        available - AMOUNT
    );
    ledger_is_sound(&s).await;

    // Daraja replays the result, and a stray failure follows: both accepted, nothing moves.
    for replay in [
        success.clone(),
        result(
            &reference,
            1,
            "The balance is insufficient for the transaction.",
        ),
    ] {
        let (status, body) = deliver(&s, TOKEN, "result", &replay).await;
        assert_eq!((status, body["ResultCode"].clone()), (200, json!(0)));
        assert_eq!(stored(&s, &reference).await, done);
    }
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_available(tech.uuid, Currency::KES)
        )
        .await,
        available - AMOUNT
    );
    // A result for no withdrawal at all is accepted too: Daraja would only retry it.
    let (status, _) = deliver(&s, TOKEN, "result", &result("WD-UNKNOWN", 0, "ok")).await;
    assert_eq!(status, 200);
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn a_failed_b2c_payout_fails_the_withdrawal_and_gives_the_money_back() {
    let mock = mock_daraja().await;
    let s = b2c_server(&mock).await;
    let (tech, available) = earning_technician(&s, "b2c-failed").await;
    let sent = sent_withdrawal(&s, &tech, "b2c-failed-wd-01").await;
    let reference = reference_of(&sent);
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_available(tech.uuid, Currency::KES)
        )
        .await,
        available - AMOUNT
    );

    let desc = "The initiator information is invalid.";
    let (status, _) = deliver(&s, TOKEN, "result", &result(&reference, 2001, desc)).await;
    assert_eq!(status, 200);
    let failed = stored(&s, &reference).await;
    assert_eq!(failed.status.as_str(), "FAILED");
    assert!(
        failed
            .failure_reason
            .as_deref()
            .unwrap_or("")
            .contains(desc),
        "{failed:?}"
    );
    assert_eq!(listed_status(&s, &tech, &sent["id"]).await, "FAILED");
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_available(tech.uuid, Currency::KES)
        )
        .await,
        available,
        "the money is back in available"
    );
    ledger_is_sound(&s).await;

    // A late success after the failure is accepted and changes nothing.
    let (status, _) = deliver(&s, TOKEN, "result", &result(&reference, 0, "ok")).await;
    assert_eq!(status, 200);
    assert_eq!(stored(&s, &reference).await, failed);
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_available(tech.uuid, Currency::KES)
        )
        .await,
        available
    );
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn a_timed_out_payout_stays_processing_until_the_status_query_answers() {
    let mock = mock_daraja().await;
    let s = b2c_server(&mock).await;
    let (tech, available) = earning_technician(&s, "b2c-timeout").await;
    let sent = sent_withdrawal(&s, &tech, "b2c-timeout-wd-01").await;
    let reference = reference_of(&sent);

    let (status, body) = deliver(&s, TOKEN, "timeout", &timeout_body(&reference)).await;
    assert_eq!((status, body["ResultCode"].clone()), (200, json!(0)));
    assert_eq!(stored(&s, &reference).await.status.as_str(), "PROCESSING");

    // Not yet due: Daraja is not asked.
    fundi::services::money::payout_checks::run(s.services())
        .await
        .unwrap();
    assert!(calls(&mock, STATUS_PATH).await.is_empty());

    let after = s.services().config.payouts.query_after_secs;
    s.advance_clock(chrono::Duration::seconds(after + 1));
    fundi::services::bookings::timers::run_due(s.services())
        .await
        .unwrap();
    // The server's own worker runs the same job every second and may have asked first.
    let mut asked = vec![];
    for _ in 0..100 {
        asked = calls(&mock, STATUS_PATH).await;
        if !asked.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(asked.len(), 1, "asked once per interval, not every round");
    let (query, auth) = &asked[0];
    assert_eq!(auth, "Bearer daraja-access");
    assert_eq!(query["CommandID"], "TransactionStatusQuery");
    assert_eq!(query["Initiator"], INITIATOR);
    assert_eq!(query["SecurityCredential"], CREDENTIAL);
    assert_eq!(query["OriginatorConversationID"], reference.as_str());
    assert_eq!(query["PartyA"], B2C_SHORTCODE);
    assert_eq!(query["IdentifierType"], "4");
    assert_eq!(
        query["ResultURL"],
        format!("https://api.fundi.test/webhooks/mpesa/{TOKEN}/b2c/status")
    );
    assert_eq!(
        query["QueueTimeOutURL"],
        format!("https://api.fundi.test/webhooks/mpesa/{TOKEN}/b2c/timeout")
    );
    // Daraja answers by callback; until then the withdrawal waits.
    assert_eq!(stored(&s, &reference).await.status.as_str(), "PROCESSING");
    fundi::services::money::payout_checks::run(s.services())
        .await
        .unwrap();
    assert_eq!(calls(&mock, STATUS_PATH).await.len(), 1);

    let (status, _) = deliver(&s, TOKEN, "status", &status_result(&reference, "Completed")).await;
    assert_eq!(status, 200);
    let done = stored(&s, &reference).await;
    assert_eq!(done.status.as_str(), "COMPLETED");
    assert_eq!(done.gateway_reference.as_deref(), Some(RECEIPT));
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_available(tech.uuid, Currency::KES)
        )
        .await,
        available - AMOUNT
    );
    // The status answer replayed, or the payout's own late result: accepted, nothing moves.
    for (leaf, body) in [
        ("status", status_result(&reference, "Completed")),
        ("result", result(&reference, 0, "ok")),
    ] {
        assert_eq!(deliver(&s, TOKEN, leaf, &body).await.0, 200);
        assert_eq!(stored(&s, &reference).await, done);
    }
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn b2c_callbacks_with_the_wrong_token_or_an_unreadable_body_change_nothing() {
    let mock = mock_daraja().await;
    let s = b2c_server(&mock).await;
    let (tech, available) = earning_technician(&s, "b2c-forged").await;
    let sent = sent_withdrawal(&s, &tech, "b2c-forged-wd-01").await;
    let reference = reference_of(&sent);
    let before = stored(&s, &reference).await;
    let forged = result(&reference, 1, "forged failure");
    for token in [
        "callback-token-0123456788",
        "x",
        "callback-token-01234567890",
    ] {
        for leaf in ["result", "status", "timeout"] {
            let (status, _) = deliver(&s, token, leaf, &forged).await;
            assert_eq!(status, 404, "{token} {leaf}");
        }
    }
    for malformed in [json!({}), json!({"Result": {"ResultCode": 0}}), json!([1])] {
        for leaf in ["result", "status"] {
            let (status, _) = deliver(&s, TOKEN, leaf, &malformed).await;
            assert_eq!(status, 400, "{leaf} {malformed}");
        }
    }
    let garbage = s
        .http()
        .post(s.url(&format!("/webhooks/mpesa/{TOKEN}/b2c/result")))
        .body("<xml/>")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status().as_u16(), 400);
    assert_eq!(stored(&s, &reference).await, before);
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_available(tech.uuid, Currency::KES)
        )
        .await,
        available - AMOUNT
    );

    // A server without B2C has no payout callback routes at all.
    let plain = TestServer::start().await;
    assert_eq!(deliver(&plain, TOKEN, "result", &forged).await.0, 404);
}

#[tokio::test]
async fn a_payout_daraja_refuses_fails_at_once_and_gives_the_money_back() {
    let mock = mock_daraja_answering(ResponseTemplate::new(400).set_body_json(json!({
        "requestId": "11728-2929992-1",
        "errorCode": "400.002.02",
        "errorMessage": "Bad Request - Invalid PartyB",
    })))
    .await;
    let s = b2c_server(&mock).await;
    let (tech, available) = earning_technician(&s, "b2c-refused").await;
    let processed = processed_withdrawal(&s, &tech, "b2c-refused-wd-01").await;
    assert_eq!(processed["status"], "FAILED", "{processed}");
    assert!(
        processed["failureReason"]
            .as_str()
            .unwrap_or("")
            .contains("Invalid PartyB"),
        "{processed}"
    );
    assert_eq!(calls(&mock, PAYMENT_PATH).await.len(), 1);
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_available(tech.uuid, Currency::KES)
        )
        .await,
        available
    );
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn an_unreachable_daraja_leaves_the_payout_processing_with_the_money_held() {
    let mock = mock_daraja_answering(ResponseTemplate::new(503).set_body_json(json!({
        "requestId": "11728-2929992-1",
        "errorCode": "500.003.02",
        "errorMessage": "Error Occured: Spike Arrest Violation",
    })))
    .await;
    let s = b2c_server(&mock).await;
    let (tech, available) = earning_technician(&s, "b2c-unreachable").await;
    let processed = processed_withdrawal(&s, &tech, "b2c-unreachable-wd-01").await;
    // Whether Daraja took the request is unknown, so nothing is handed back yet: the result
    // callback or the status query settles it.
    assert_eq!(processed["status"], "PROCESSING", "{processed}");
    assert!(processed["failureReason"].is_null());
    assert_eq!(
        balance(
            &s,
            AccountKey::technician_available(tech.uuid, Currency::KES)
        )
        .await,
        available - AMOUNT
    );
    let reference = reference_of(&processed);
    let (status, _) = deliver(&s, TOKEN, "result", &result(&reference, 0, "ok")).await;
    assert_eq!(status, 200);
    assert_eq!(stored(&s, &reference).await.status.as_str(), "COMPLETED");
    ledger_is_sound(&s).await;
}
