//! Money that matches no payment: M-Pesa successes for unknown or failed prompts and Stripe charges
//! nothing waits for are kept once for staff, held in UNMATCHED_FUNDS, and attached to a booking or
//! refunded by an admin; `ledger verify` checks the two agree.

use crate::booking_fixtures::*;
use crate::chat::staff;
use crate::fixtures::*;
use crate::mpesa::{
    PHONE, TOKEN, deliver, mock_daraja, mpesa_server, paid_callback, pending_balance,
};
use crate::payments::{balance, ledger_is_sound, view};
use crate::stripe::{deliver_signed, mock_stripe, stripe_server};
use crate::support::*;
use fundi::domain::account::Role;
use fundi::domain::ledger::AccountKey;
use fundi::domain::money::Currency;
use fundi::domain::unmatched::Provider;
use fundi::services::money::unmatched::{NewReceipt, record};
use serde_json::{Value, json};

const LIST: &str = "query($status: UnmatchedReceiptStatus) {
  unmatchedReceipts(status: $status, first: 10) { totalCount edges { node {
    id provider providerReference phone amount { amountMinor currency } status nearPaymentId detail
    resolvedBy resolvedAt attachedBookingId attachedPaymentId nextAction note } } } }";
const ATTACH: &str =
    "mutation($input: AttachUnmatchedReceiptInput!) { attachUnmatchedReceipt(input: $input) {
  id status attachedBookingId attachedPaymentId resolvedBy note } }";
const REFUND: &str =
    "mutation($input: RefundUnmatchedReceiptInput!) { refundUnmatchedReceipt(input: $input) {
  id status nextAction note } }";

fn unmatched_kes() -> AccountKey {
    AccountKey::unmatched_funds(Currency::KES)
}

/// A Daraja success callback for `checkout`.
fn success_for(checkout: &str, receipt: &str, shillings: i64) -> Value {
    let mut body = paid_callback(
        0,
        "The service request is processed successfully.",
        Some(receipt),
        shillings,
    );
    body["Body"]["stkCallback"]["CheckoutRequestID"] = json!(checkout);
    body
}

async fn listed(s: &TestServer, who: &Session, status: Option<&str>) -> Value {
    s.ok(who.token(), LIST, json!({"status": status})).await["unmatchedReceipts"].clone()
}

fn by_reference(list: &Value, reference: &str) -> Value {
    list["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .find(|n| n["providerReference"] == reference)
        .unwrap_or_else(|| panic!("{reference} not in {list}"))
}

fn code_and_field(error: &Value) -> (String, String) {
    (
        error["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        error["extensions"]["field"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

/// Keeps a receipt as a provider event would, straight through the service.
async fn kept(s: &TestServer, reference: &str, amount_minor: i64) -> String {
    let new = NewReceipt {
        provider: Provider::Mpesa,
        reference: reference.into(),
        phone: Some(PHONE.into()),
        amount_minor,
        currency: Currency::KES,
        near_payment_id: None,
        detail: "test".into(),
    };
    assert!(record(s.services(), &new).await.unwrap());
    let row = fundi::db::entities::unmatched_receipt::Entity::find()
        .filter(fundi::db::entities::unmatched_receipt::Column::ProviderReference.eq(reference))
        .one(&s.services().db)
        .await
        .unwrap()
        .unwrap();
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("UnmatchedReceipt:{}", row.id))
}

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

#[tokio::test]
async fn mpesa_successes_no_payment_can_take_are_kept_once_and_staff_attach_or_refund_them() {
    let mock = mock_daraja(None).await;
    let s = mpesa_server(&mock).await;
    let admin = staff(&s, "um-admin@example.com", Role::Admin).await;
    let (customer, booking, due, paid) = pending_balance(&s, "um-late").await;
    let payment_id = paid["id"].as_str().unwrap().to_string();

    // The phone did not answer in time, so the payment failed; then the customer paid anyway.
    let timeout = paid_callback(1037, "DS timeout user cannot be reached", None, 0);
    assert_eq!(deliver(&s, TOKEN, &timeout).await.0, 200);
    let late = paid_callback(
        0,
        "The service request is processed successfully.",
        Some("LATE000001"),
        due / 100,
    );
    assert_eq!(deliver(&s, TOKEN, &late).await.0, 200);
    // A success for a prompt we never heard back about (our request timed out), delivered twice.
    let orphan = success_for("ws_CO_UNKNOWN_0001", "ORPHAN0001", 500);
    for _ in 0..2 {
        let (status, body) = deliver(&s, TOKEN, &orphan).await;
        assert_eq!((status, body["ResultCode"].clone()), (200, json!(0)));
    }
    assert_eq!(
        deliver(&s, TOKEN, &late).await.0,
        200,
        "a replay is accepted"
    );

    let open = listed(&s, &admin, Some("OPEN")).await;
    assert_eq!(open["totalCount"], 2, "{open}");
    let late_receipt = by_reference(&open, "LATE000001");
    assert_eq!(late_receipt["provider"], "MPESA");
    assert_eq!(late_receipt["phone"], PHONE);
    assert_eq!(
        late_receipt["amount"],
        json!({"amountMinor": due, "currency": "KES"})
    );
    assert_eq!(late_receipt["nearPaymentId"], payment_id.as_str());
    assert_eq!(late_receipt["status"], "OPEN");
    let orphan_receipt = by_reference(&open, "ORPHAN0001");
    assert_eq!(orphan_receipt["phone"], PHONE);
    assert_eq!(orphan_receipt["amount"]["amountMinor"], 50_000);
    assert!(
        orphan_receipt["detail"]
            .as_str()
            .unwrap()
            .contains("ws_CO_UNKNOWN_0001")
    );
    assert_eq!(balance(&s, unmatched_kes()).await, due + 50_000);
    assert_eq!(
        balance(&s, AccountKey::clearing("MPESA", Currency::KES)).await,
        -(due + 50_000)
    );
    ledger_is_sound(&s).await;

    // Attached, the late payment settles the booking as the balance would have.
    let input = json!({"input": {"receiptId": late_receipt["id"], "bookingId": booking, "note": "customer paid late"}});
    let attached =
        s.ok(admin.token(), ATTACH, input.clone()).await["attachUnmatchedReceipt"].clone();
    assert_eq!(attached["status"], "ATTACHED");
    assert_eq!(attached["attachedBookingId"], booking);
    assert_eq!(attached["note"], "customer paid late");
    assert_eq!(attached["resolvedBy"], admin.user_id.as_str());
    let after = view(&s, &customer, &booking).await;
    assert_eq!(after["status"], "PAID", "{after}");
    assert_eq!(after["amountDue"]["amountMinor"], 0);
    assert!(
        after["payments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["kind"] == "BALANCE"
                && p["status"] == "SUCCEEDED"
                && p["amount"]["amountMinor"] == due),
        "{after}"
    );
    assert_eq!(balance(&s, unmatched_kes()).await, 50_000);
    ledger_is_sound(&s).await;
    let again = s.err(admin.token(), ATTACH, input).await;
    assert_eq!(
        code_and_field(&again),
        ("BAD_USER_INPUT".into(), "receiptId".into()),
        "{again}"
    );

    // Refunded, the orphan leaves for the payer's phone by hand.
    let input = json!({"input": {"receiptId": orphan_receipt["id"], "note": "not ours"}});
    let refunded =
        s.ok(admin.token(), REFUND, input.clone()).await["refundUnmatchedReceipt"].clone();
    assert_eq!(refunded["status"], "REFUNDED");
    assert_eq!(refunded["nextAction"], "STAFF_SEND_MPESA_REFUND");
    assert_eq!(balance(&s, unmatched_kes()).await, 0);
    ledger_is_sound(&s).await;
    let again = s.err(admin.token(), REFUND, input).await;
    assert_eq!(
        code_and_field(&again),
        ("BAD_USER_INPUT".into(), "receiptId".into())
    );

    assert_eq!(listed(&s, &admin, Some("OPEN")).await["totalCount"], 0);
    assert_eq!(listed(&s, &admin, None).await["totalCount"], 2);
}

#[tokio::test]
async fn a_stripe_charge_no_payment_waits_for_is_kept_once_and_refunded_through_stripe() {
    let mock = mock_stripe().await;
    let s = stripe_server(&mock).await;
    let admin = staff(&s, "um-stripe-admin@example.com", Role::Admin).await;
    let customer = s.register("um-stripe@example.com").await;
    let booking = create_unpaid(&s, &customer, "um-stripe-job-01", json!({})).await;
    let intent = json!({"id": "pi_orphan", "object": "payment_intent", "amount": 2500,
        "amount_received": 2500, "currency": "usd", "metadata": {}});
    for event in ["evt_orphan_1", "evt_orphan_2"] {
        let body = json!({"id": event, "object": "event", "type": "payment_intent.succeeded",
            "data": {"object": intent}})
        .to_string();
        assert_eq!(deliver_signed(&s, &body).await, 200);
    }
    let open = listed(&s, &admin, Some("OPEN")).await;
    assert_eq!(
        open["totalCount"], 1,
        "two events about one charge keep it once: {open}"
    );
    let receipt = by_reference(&open, "pi_orphan");
    assert_eq!(receipt["provider"], "STRIPE");
    assert_eq!(
        receipt["amount"],
        json!({"amountMinor": 2500, "currency": "USD"})
    );
    assert_eq!(
        balance(
            &s,
            AccountKey::unmatched_funds(Currency::parse("USD").unwrap())
        )
        .await,
        2500
    );
    ledger_is_sound(&s).await;

    // A KES booking cannot take dollars; nothing is written.
    let wrong = s
        .err(
            admin.token(),
            ATTACH,
            json!({"input": {"receiptId": receipt["id"], "bookingId": booking["id"]}}),
        )
        .await;
    assert_eq!(
        code_and_field(&wrong),
        ("BAD_USER_INPUT".into(), "bookingId".into()),
        "{wrong}"
    );
    assert_eq!(
        by_reference(&listed(&s, &admin, None).await, "pi_orphan")["status"],
        "OPEN"
    );

    let refunded = s
        .ok(
            admin.token(),
            REFUND,
            json!({"input": {"receiptId": receipt["id"]}}),
        )
        .await["refundUnmatchedReceipt"]
        .clone();
    assert_eq!(refunded["status"], "REFUNDED");
    assert_eq!(
        refunded["nextAction"],
        Value::Null,
        "Stripe sent it back itself"
    );
    let refunds: Vec<String> = mock
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/v1/refunds")
        .map(|r| String::from_utf8_lossy(&r.body).to_string())
        .collect();
    assert_eq!(refunds.len(), 1);
    assert!(
        refunds[0].contains("payment_intent=pi_orphan") && refunds[0].contains("amount=2500"),
        "{refunds:?}"
    );
    assert_eq!(
        balance(
            &s,
            AccountKey::unmatched_funds(Currency::parse("USD").unwrap())
        )
        .await,
        0
    );
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn only_staff_see_unmatched_receipts_only_admins_resolve_them_and_bad_input_writes_nothing() {
    let s = TestServer::start().await;
    let admin = staff(&s, "um-rules-admin@example.com", Role::Admin).await;
    let support = staff(&s, "um-rules-support@example.com", Role::Support).await;
    let customer = s.register("um-rules@example.com").await;
    let tech = ready(&s, "um-rules-tech@example.com", NAIROBI, json!({})).await;
    // Offered straight to a technician, so the deposit's dispatch has someone to offer it to.
    let booking = create_unpaid(
        &s,
        &customer,
        "um-rules-job-01",
        json!({"technicianId": tech.id}),
    )
    .await;
    let deposit = booking["price"]["deposit"]["amountMinor"].as_i64().unwrap();
    let exact = kept(&s, "RULES00001", deposit).await;
    let short = kept(&s, "RULES00002", deposit - 100).await;

    let refused = s.err(customer.token(), LIST, json!({})).await;
    assert_eq!(refused["extensions"]["code"], "FORBIDDEN");
    let anonymous = s.err(None, LIST, json!({})).await;
    assert_eq!(anonymous["extensions"]["code"], "UNAUTHENTICATED");
    assert_eq!(listed(&s, &support, None).await["totalCount"], 2);
    let attach = |receipt: &str, booking: &Value| json!({"input": {"receiptId": receipt, "bookingId": booking}});
    for who in [&customer, &support] {
        let e = s
            .err(who.token(), ATTACH, attach(&exact, &booking["id"]))
            .await;
        assert_eq!(e["extensions"]["code"], "FORBIDDEN", "{e}");
        let e = s
            .err(who.token(), REFUND, json!({"input": {"receiptId": exact}}))
            .await;
        assert_eq!(e["extensions"]["code"], "FORBIDDEN", "{e}");
    }

    let cases = [
        (
            attach("not-an-id", &booking["id"]),
            "BAD_USER_INPUT",
            "receiptId",
        ),
        (
            attach(booking["id"].as_str().unwrap(), &booking["id"]),
            "BAD_USER_INPUT",
            "receiptId",
        ),
        (attach(&exact, &json!(exact)), "BAD_USER_INPUT", "bookingId"),
        (
            attach(
                &{
                    use base64::Engine;
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .encode(format!("UnmatchedReceipt:{}", uuid::Uuid::now_v7()))
                },
                &booking["id"],
            ),
            "NOT_FOUND",
            "",
        ),
        // Part of a deposit is not a deposit: the booking cannot take it.
        (
            attach(&short, &booking["id"]),
            "BAD_USER_INPUT",
            "bookingId",
        ),
        (
            json!({"input": {"receiptId": exact, "bookingId": booking["id"], "note": "x".repeat(501)}}),
            "BAD_USER_INPUT",
            "note",
        ),
    ];
    for (input, code, field) in cases {
        let e = s.err(admin.token(), ATTACH, input.clone()).await;
        assert_eq!(
            code_and_field(&e),
            (code.to_string(), field.to_string()),
            "{input}: {e}"
        );
    }
    assert_eq!(
        listed(&s, &admin, Some("OPEN")).await["totalCount"],
        2,
        "nothing resolved"
    );
    assert_eq!(
        view(&s, &customer, &booking["id"]).await["payments"],
        json!([])
    );
    ledger_is_sound(&s).await;

    // The whole deposit lands in escrow as a SUCCEEDED deposit and dispatch starts.
    let attached = s
        .ok(admin.token(), ATTACH, attach(&exact, &booking["id"]))
        .await;
    assert_eq!(attached["attachUnmatchedReceipt"]["status"], "ATTACHED");
    let after = view(&s, &customer, &booking["id"]).await;
    assert_ne!(after["status"], "PENDING", "{after}");
    assert_eq!(
        after["payments"],
        json!([{"kind": "DEPOSIT", "status": "SUCCEEDED", "amount": {"amountMinor": deposit}, "refunded": {"amountMinor": 0}}])
    );
    assert_eq!(balance(&s, unmatched_kes()).await, deposit - 100);
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn attaching_and_refunding_one_receipt_at_once_resolves_it_once() {
    let s = TestServer::start().await;
    let admin = staff(&s, "um-race-admin@example.com", Role::Admin).await;
    let customer = s.register("um-race@example.com").await;
    let tech = ready(&s, "um-race-tech@example.com", NAIROBI, json!({})).await;
    let booking = create_unpaid(
        &s,
        &customer,
        "um-race-job-01",
        json!({"technicianId": tech.id}),
    )
    .await;
    let deposit = booking["price"]["deposit"]["amountMinor"].as_i64().unwrap();
    let receipt = kept(&s, "RACE000001", deposit).await;
    let attach = json!({"input": {"receiptId": receipt, "bookingId": booking["id"]}});
    let refund = json!({"input": {"receiptId": receipt}});
    let (a, r) = tokio::join!(
        s.gql(admin.token(), ATTACH, attach),
        s.gql(admin.token(), REFUND, refund)
    );
    let wins = [&a, &r]
        .iter()
        .filter(|b| b.get("errors").is_none())
        .count();
    assert_eq!(wins, 1, "{a} {r}");
    assert_eq!(balance(&s, unmatched_kes()).await, 0);
    let payments = view(&s, &customer, &booking["id"]).await["payments"].clone();
    let attached = a.get("errors").is_none();
    assert_eq!(
        payments.as_array().unwrap().len(),
        usize::from(attached),
        "{payments}"
    );
    ledger_is_sound(&s).await;
}

#[tokio::test]
async fn ledger_verify_reports_unmatched_funds_that_disagree_with_the_open_receipts() {
    let s = TestServer::start().await;
    kept(&s, "VERIFY0001", 1_000).await;
    ledger_is_sound(&s).await;
    // A receipt marked resolved without its money leaving UNMATCHED_FUNDS.
    fundi::db::entities::unmatched_receipt::Entity::update_many()
        .col_expr(
            fundi::db::entities::unmatched_receipt::Column::Status,
            sea_orm::sea_query::Expr::value("REFUNDED"),
        )
        .exec(&s.services().db)
        .await
        .unwrap();
    let verdict = fundi::services::money::ledger::verify(&s.services().db)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(verdict.code(), "UNMATCHED_FUNDS_MISMATCH");
    assert!(
        verdict
            .to_string()
            .contains("UNMATCHED_FUNDS:KES holds 1000"),
        "{verdict}"
    );
}

#[tokio::test]
async fn a_receipt_stored_with_an_unknown_status_is_an_error_naming_it_not_an_open_one() {
    use fundi::db::entities::unmatched_receipt::{Column, Entity};
    let s = TestServer::start().await;
    let admin = staff(&s, "um-corrupt@example.com", Role::Admin).await;
    kept(&s, "CORRUPT0001", 1_000).await;
    let db = &s.services().db;
    let id = Entity::find()
        .filter(Column::ProviderReference.eq("CORRUPT0001"))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id;
    Entity::update_many()
        .col_expr(Column::Status, sea_orm::sea_query::Expr::value("LOST"))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await
        .unwrap();

    let error = Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("ReceiptStatus"), "{error}");
    assert!(error.contains("\"LOST\""), "{error}");
    assert!(error.contains(&id.to_string()), "{error}");
    // Staff are told something is wrong rather than shown the receipt as waiting for them.
    let listed = s.err(admin.token(), LIST, json!({"status": null})).await;
    assert_eq!(
        listed["extensions"]["code"], "INTERNAL_SERVER_ERROR",
        "{listed}"
    );
}
