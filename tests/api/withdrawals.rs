//! Withdrawals: PIN and payout method first, never more than available (even 50 at once), one
//! effect per idempotency key, lockout after wrong PINs, holds after a method change, and the
//! admin and automatic ways a withdrawal is paid, failed or cancelled.

use crate::chat::staff;
use crate::fixtures::uuid_of;
use crate::support::*;
use fundi::domain::account::Role;
use fundi::domain::ledger::{AccountKey, Posting, TransactionKind};
use fundi::domain::money::Currency;
use fundi::services::money::ledger::{self, JournalEntry};
use serde_json::{Value, json};
use uuid::Uuid;

const KES: &str = "KES";
pub const PIN: &str = "4829";

pub const SET_PIN: &str = "mutation($pin: String!, $password: String!) { setWithdrawalPin(pin: $pin, password: $password) }";
pub const SET_METHOD: &str = "mutation($input: PayoutMethodInput!) {
  setPayoutMethod(input: $input) { kind masked holdUntil } }";
const FIELDS: &str =
    "id status amount { amountMinor currency formatted } method methodKind reference
  gateway gatewayReference bankReference failureReason requestedAt processedAt";

pub fn request_mutation() -> String {
    format!(
        "mutation($input: WithdrawalInput!) {{ requestWithdrawal(input: $input) {{ {FIELDS} }} }}"
    )
}

fn by_id(operation: &str) -> String {
    format!("mutation($id: ID!) {{ {operation}(id: $id) {{ {FIELDS} }} }}")
}

/// A technician account (no profile needed to withdraw) and its user id.
pub async fn technician(s: &TestServer, email: &str) -> (Session, Uuid) {
    let session = s.register_as(email, "TECHNICIAN").await;
    let id = uuid_of(&session.user_id);
    (session, id)
}

/// Credits `amount` to the technician's available earnings, as released jobs would have.
pub async fn fund(s: &TestServer, technician: Uuid, amount: i64) {
    let db = &s.services().db;
    let txn = fundi::db::begin_write(db).await.unwrap();
    ledger::post(
        &txn,
        chrono::Utc::now(),
        JournalEntry {
            kind: TransactionKind::EarningsAvailable,
            booking_id: None,
            reference: Some(format!("fund:{}", Uuid::now_v7())),
            memo: None,
            postings: vec![
                Posting::new(AccountKey::clearing("SANDBOX", Currency::KES), -amount),
                Posting::new(
                    AccountKey::technician_available(technician, Currency::KES),
                    amount,
                ),
            ],
        },
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
}

/// PIN and an M-Pesa payout method set, and `amount` available.
pub async fn ready(s: &TestServer, email: &str, amount: i64) -> (Session, Uuid) {
    let (session, id) = technician(s, email).await;
    s.ok(
        session.token(),
        SET_PIN,
        json!({"pin": PIN, "password": PASSWORD}),
    )
    .await;
    s.ok(
        session.token(),
        SET_METHOD,
        json!({"input": {"kind": "MPESA", "mpesaPhone": "+254712345678"}}),
    )
    .await;
    fund(s, id, amount).await;
    (session, id)
}

pub fn withdrawal_input(amount: i64, key: &str) -> Value {
    json!({"input": {"amount": {"amountMinor": amount, "currency": KES}, "pin": PIN, "idempotencyKey": key}})
}

async fn withdraw(s: &TestServer, who: &Session, amount: i64, key: &str) -> Value {
    s.gql(
        who.token(),
        &request_mutation(),
        withdrawal_input(amount, key),
    )
    .await
}

async fn withdrawn(s: &TestServer, who: &Session, amount: i64, key: &str) -> Value {
    let answer = withdraw(s, who, amount, key).await;
    assert!(answer["errors"].is_null(), "{answer}");
    answer["data"]["requestWithdrawal"].clone()
}

async fn balance(s: &TestServer, account: AccountKey) -> i64 {
    ledger::balance(&s.services().db, &account).await.unwrap()
}

async fn assert_sound(s: &TestServer) {
    let outcome = ledger::verify(&s.services().db).await.unwrap();
    assert!(outcome.is_ok(), "ledger broken: {}", outcome.unwrap_err());
}

/// A fresh session, for after the test clock has jumped past the old token's lifetime.
async fn signed_in(s: &TestServer, email: &str) -> Session {
    Session::from_payload(&s.login(email, PASSWORD).await["data"]["login"])
}

fn first_error(answer: &Value) -> &Value {
    &answer["errors"][0]
}

#[tokio::test]
async fn fifty_concurrent_withdrawals_never_overdraw() {
    let s = TestServer::start().await;
    let (tech, id) = ready(&s, "race@example.com", 100_000).await;
    let amount = 30_000;
    let attempts = (0..50).map(|i| {
        let (s, tech) = (&s, &tech);
        async move { withdraw(s, tech, amount, &format!("race-key-{i:02}")).await }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let succeeded = answers.iter().filter(|a| a["errors"].is_null()).count();
    assert_eq!(
        succeeded,
        usize::try_from(100_000 / amount).unwrap(),
        "floor(available / amount)"
    );
    for refused in answers.iter().filter(|a| !a["errors"].is_null()) {
        let error = first_error(refused);
        assert_eq!(code(error), "BAD_USER_INPUT", "{refused}");
        assert_eq!(error["extensions"]["field"], "amount", "{refused}");
    }
    assert_eq!(
        balance(&s, AccountKey::technician_available(id, Currency::KES)).await,
        10_000
    );
    assert_eq!(
        balance(&s, AccountKey::payout_in_flight(id, Currency::KES)).await,
        90_000
    );
    assert_sound(&s).await;
}

#[tokio::test]
async fn a_retried_withdrawal_returns_the_first_and_moves_money_once() {
    let s = TestServer::start().await;
    let (tech, id) = ready(&s, "retry@example.com", 100_000).await;
    let first = withdrawn(&s, &tech, 20_000, "retry-key-1").await;
    let again = withdrawn(&s, &tech, 20_000, "retry-key-1").await;
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["status"], "PENDING");
    assert!(first["reference"].as_str().unwrap().starts_with("WD-"));

    let concurrent = (0..20).map(|_| {
        let (s, tech) = (&s, &tech);
        async move { withdrawn(s, tech, 15_000, "retry-key-2").await }
    });
    let answers = futures_util::future::join_all(concurrent).await;
    assert!(answers.iter().all(|a| a["id"] == answers[0]["id"]));
    assert_eq!(
        balance(&s, AccountKey::technician_available(id, Currency::KES)).await,
        65_000
    );

    let other_amount = withdraw(&s, &tech, 25_000, "retry-key-1").await;
    assert_eq!(
        code(first_error(&other_amount)),
        "CONFLICT",
        "{other_amount}"
    );
    assert_sound(&s).await;
}

#[tokio::test]
async fn five_wrong_pins_lock_withdrawals_for_fifteen_minutes() {
    let s = TestServer::start().await;
    let (tech, _) = ready(&s, "pins@example.com", 100_000).await;
    let wrong = |key: &str| json!({"input": {"amount": {"amountMinor": 10_000, "currency": KES}, "pin": "9051", "idempotencyKey": key}});
    for attempt in 1..=4 {
        let answer = s
            .gql(
                tech.token(),
                &request_mutation(),
                wrong(&format!("wrong-pin-{attempt}")),
            )
            .await;
        assert_eq!(code(first_error(&answer)), "BAD_USER_INPUT", "{answer}");
        assert_eq!(first_error(&answer)["extensions"]["field"], "pin");
    }
    let fifth = s
        .gql(tech.token(), &request_mutation(), wrong("wrong-pin-5"))
        .await;
    assert_eq!(code(first_error(&fifth)), "RATE_LIMITED", "{fifth}");
    // Locked means locked: the right PIN is refused too until the lock ends.
    let right = withdraw(&s, &tech, 10_000, "right-pin-locked").await;
    assert_eq!(code(first_error(&right)), "RATE_LIMITED", "{right}");

    s.advance_clock(chrono::Duration::minutes(16));
    let tech = signed_in(&s, "pins@example.com").await;
    let after = withdrawn(&s, &tech, 10_000, "right-pin-later").await;
    assert_eq!(after["status"], "PENDING");
}

#[tokio::test]
async fn wrong_pins_are_counted_per_account_even_when_sent_together() {
    let s = TestServer::start().await;
    let (tech, _) = ready(&s, "burst@example.com", 100_000).await;
    let tries = (0..8).map(|i| {
        let (s, tech) = (&s, &tech);
        async move {
            let input = json!({"input": {"amount": {"amountMinor": 10_000, "currency": KES},
                "pin": "7315", "idempotencyKey": format!("burst-key-{i}")}});
            s.gql(tech.token(), &request_mutation(), input).await
        }
    });
    let answers = futures_util::future::join_all(tries).await;
    for answer in &answers {
        let refused = code(first_error(answer));
        assert!(
            refused == "BAD_USER_INPUT" || refused == "RATE_LIMITED",
            "{answer}"
        );
    }
    let right = withdraw(&s, &tech, 10_000, "burst-right").await;
    assert_eq!(code(first_error(&right)), "RATE_LIMITED", "{right}");
}

#[tokio::test]
async fn a_pin_must_be_four_digits_not_trivial_and_set_with_the_password() {
    let s = TestServer::start().await;
    let (tech, _) = technician(&s, "setpin@example.com").await;
    for pin in [
        "0000", "1111", "1234", "4321", "1212", "123", "12345", "12a4",
    ] {
        let answer = s
            .gql(
                tech.token(),
                SET_PIN,
                json!({"pin": pin, "password": PASSWORD}),
            )
            .await;
        assert_eq!(
            code(first_error(&answer)),
            "BAD_USER_INPUT",
            "{pin}: {answer}"
        );
        assert_eq!(first_error(&answer)["extensions"]["field"], "pin");
    }
    let bad_password = s
        .gql(
            tech.token(),
            SET_PIN,
            json!({"pin": PIN, "password": "not my password"}),
        )
        .await;
    assert_eq!(
        first_error(&bad_password)["extensions"]["field"],
        "password"
    );
    let set = s
        .ok(
            tech.token(),
            SET_PIN,
            json!({"pin": PIN, "password": PASSWORD}),
        )
        .await;
    assert_eq!(set["setWithdrawalPin"], true);

    let stored: String = {
        use sea_orm::EntityTrait;
        fundi::db::entities::withdrawal_pin::Entity::find_by_id(uuid_of(&tech.user_id))
            .one(&s.services().db)
            .await
            .unwrap()
            .unwrap()
            .pin_hash
    };
    assert!(stored.starts_with("$argon2id$"), "{stored}");

    let customer = s.register("pin-customer@example.com").await;
    let refused = s
        .gql(
            customer.token(),
            SET_PIN,
            json!({"pin": PIN, "password": PASSWORD}),
        )
        .await;
    assert_eq!(code(first_error(&refused)), "FORBIDDEN");
}

#[tokio::test]
async fn payout_methods_are_validated_masked_and_sealed_at_rest() {
    let s = TestServer::start().await;
    let (tech, id) = technician(&s, "methods@example.com").await;
    let refused = [
        (
            json!({"kind": "MPESA", "mpesaPhone": "0712345678"}),
            "mpesaPhone",
        ),
        (json!({"kind": "MPESA"}), "mpesaPhone"),
        (json!({"kind": "UPI", "upiId": "not-a-upi"}), "upiId"),
        (
            json!({"kind": "UPI", "upiId": "ravi@okaxis", "mpesaPhone": "+254712345678"}),
            "mpesaPhone",
        ),
        (
            json!({"kind": "BANK_TRANSFER", "bankAccountName": "Asha Patel",
            "bankAccountNumber": "123456789012", "bankIfsc": "HDFC1001234"}),
            "bankIfsc",
        ),
        (
            json!({"kind": "BANK_TRANSFER", "bankAccountName": "Asha Patel",
            "bankAccountNumber": "12-34", "bankIfsc": "HDFC0001234"}),
            "bankAccountNumber",
        ),
    ];
    for (input, field) in refused {
        let answer = s
            .gql(tech.token(), SET_METHOD, json!({"input": input}))
            .await;
        assert_eq!(code(first_error(&answer)), "BAD_USER_INPUT", "{answer}");
        assert_eq!(
            first_error(&answer)["extensions"]["field"],
            field,
            "{answer}"
        );
    }
    let none = s
        .ok(tech.token(), "{ myPayoutMethod { kind } }", json!({}))
        .await;
    assert!(none["myPayoutMethod"].is_null(), "nothing half-written");

    let bank = json!({"kind": "BANK_TRANSFER", "bankAccountName": "Asha Patel",
        "bankAccountNumber": "123456789012", "bankIfsc": "hdfc0001234"});
    let set = s.ok(tech.token(), SET_METHOD, json!({"input": bank})).await;
    assert_eq!(
        set["setPayoutMethod"]["masked"],
        "Bank HDFC0001234 ••••9012"
    );
    assert!(
        set["setPayoutMethod"]["holdUntil"].is_null(),
        "the first method applies at once"
    );

    let row = {
        use sea_orm::EntityTrait;
        fundi::db::entities::payout_method::Entity::find_by_id(id)
            .one(&s.services().db)
            .await
            .unwrap()
            .unwrap()
    };
    assert!(!row.details_sealed.contains("123456789012"));
    assert!(!row.details_sealed.contains("Asha"));
}

#[tokio::test]
async fn changing_the_payout_method_holds_withdrawals_for_a_day_and_tells_the_technician() {
    let s = TestServer::start().await;
    let (tech, _) = ready(&s, "hold@example.com", 100_000).await;
    let changed = s
        .ok(
            tech.token(),
            SET_METHOD,
            json!({"input": {"kind": "UPI", "upiId": "ravi.kumar@okaxis"}}),
        )
        .await;
    assert_eq!(changed["setPayoutMethod"]["masked"], "UPI ra••••@okaxis");
    assert!(changed["setPayoutMethod"]["holdUntil"].is_string());

    let held = withdraw(&s, &tech, 10_000, "held-key-1").await;
    assert_eq!(code(first_error(&held)), "CONFLICT", "{held}");
    let notes = s
        .ok(
            tech.token(),
            "{ notifications(first: 10) { edges { node { kind } } } }",
            json!({}),
        )
        .await;
    assert!(
        notes.to_string().contains("PAYOUT_METHOD_CHANGED"),
        "{notes}"
    );
    let mail = std::fs::read_dir(&s.mail_dir)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .any(|text| {
            text.contains("hold@example.com") && text.contains("payout method was changed")
        });
    assert!(mail, "the technician is emailed about the change");

    s.advance_clock(chrono::Duration::hours(25));
    let tech = signed_in(&s, "hold@example.com").await;
    let later = withdrawn(&s, &tech, 10_000, "held-key-2").await;
    assert_eq!(later["methodKind"], "UPI");
    assert_eq!(later["gateway"], "MANUAL");
}

#[tokio::test]
async fn withdrawals_below_the_minimum_or_without_setup_are_refused() {
    let s = TestServer::start().await;
    let (tech, id) = technician(&s, "setup@example.com").await;
    fund(&s, id, 100_000).await;
    let no_pin = withdraw(&s, &tech, 10_000, "setup-key-1").await;
    assert_eq!(
        first_error(&no_pin)["extensions"]["field"],
        "pin",
        "{no_pin}"
    );
    s.ok(
        tech.token(),
        SET_PIN,
        json!({"pin": PIN, "password": PASSWORD}),
    )
    .await;
    let no_method = withdraw(&s, &tech, 10_000, "setup-key-2").await;
    assert_eq!(
        first_error(&no_method)["extensions"]["field"],
        "payoutMethod"
    );
    s.ok(
        tech.token(),
        SET_METHOD,
        json!({"input": {"kind": "MPESA", "mpesaPhone": "+254712345678"}}),
    )
    .await;
    let small = withdraw(&s, &tech, 9_999, "setup-key-3").await;
    assert_eq!(
        first_error(&small)["extensions"]["field"],
        "amount",
        "{small}"
    );
    let bad_key = withdraw(&s, &tech, 10_000, "k").await;
    assert_eq!(
        first_error(&bad_key)["extensions"]["field"],
        "idempotencyKey"
    );
    assert_eq!(
        balance(&s, AccountKey::technician_available(id, Currency::KES)).await,
        100_000
    );

    let customer = s.register("withdraw-customer@example.com").await;
    let refused = withdraw(&s, &customer, 10_000, "customer-key").await;
    assert_eq!(code(first_error(&refused)), "FORBIDDEN");
}

#[tokio::test]
async fn a_pending_withdrawal_can_be_cancelled_and_the_money_returns() {
    let s = TestServer::start().await;
    let (tech, id) = ready(&s, "cancel@example.com", 50_000).await;
    let w = withdrawn(&s, &tech, 20_000, "cancel-key-1").await;
    let cancelled = s
        .ok(
            tech.token(),
            &by_id("cancelWithdrawal"),
            json!({"id": w["id"]}),
        )
        .await;
    assert_eq!(cancelled["cancelWithdrawal"]["status"], "CANCELLED");
    assert_eq!(
        balance(&s, AccountKey::technician_available(id, Currency::KES)).await,
        50_000
    );
    assert_eq!(
        balance(&s, AccountKey::payout_in_flight(id, Currency::KES)).await,
        0
    );
    let again = s
        .gql(
            tech.token(),
            &by_id("cancelWithdrawal"),
            json!({"id": w["id"]}),
        )
        .await;
    assert_eq!(code(first_error(&again)), "INVALID_TRANSITION", "{again}");
    assert_sound(&s).await;
}

#[tokio::test]
async fn an_admin_pays_fails_and_completes_withdrawals() {
    let s = TestServer::start().await;
    let admin = staff(&s, "payouts-admin@example.com", Role::Admin).await;
    let (tech, id) = ready(&s, "paid@example.com", 200_000).await;

    let paid = withdrawn(&s, &tech, 20_000, "admin-key-1").await;
    let processed = s
        .ok(
            admin.token(),
            &by_id("processWithdrawal"),
            json!({"id": paid["id"]}),
        )
        .await["processWithdrawal"]
        .clone();
    assert_eq!(processed["status"], "COMPLETED", "{processed}");
    assert!(
        processed["gatewayReference"]
            .as_str()
            .unwrap()
            .starts_with("SBX-")
    );
    assert!(processed["processedAt"].is_string());

    let failed = withdrawn(&s, &tech, 30_000, "admin-key-2").await;
    let fail = "mutation($id: ID!, $reason: String!) { failWithdrawal(id: $id, reason: $reason) { status failureReason } }";
    let answer = s
        .ok(
            admin.token(),
            fail,
            json!({"id": failed["id"], "reason": "account closed"}),
        )
        .await;
    assert_eq!(answer["failWithdrawal"]["status"], "FAILED");
    assert_eq!(answer["failWithdrawal"]["failureReason"], "account closed");

    assert_eq!(
        balance(&s, AccountKey::technician_available(id, Currency::KES)).await,
        180_000
    );
    assert_eq!(
        balance(&s, AccountKey::payout_in_flight(id, Currency::KES)).await,
        0
    );
    assert_eq!(
        balance(&s, AccountKey::clearing("PAYOUT_SANDBOX", Currency::KES)).await,
        20_000
    );
    let notes = s
        .ok(
            tech.token(),
            "{ notifications(first: 20) { edges { node { kind title } } } }",
            json!({}),
        )
        .await;
    for title in [
        "Withdrawal requested",
        "Withdrawal on its way",
        "Withdrawal paid",
        "Withdrawal failed",
    ] {
        assert!(notes.to_string().contains(title), "{title}: {notes}");
    }
    assert_sound(&s).await;
}

#[tokio::test]
async fn bank_transfers_wait_for_staff_to_complete_them_by_hand() {
    let s = TestServer::start().await;
    let admin = staff(&s, "manual-admin@example.com", Role::Admin).await;
    let (tech, id) = technician(&s, "bank@example.com").await;
    s.ok(
        tech.token(),
        SET_PIN,
        json!({"pin": PIN, "password": PASSWORD}),
    )
    .await;
    let bank = json!({"kind": "BANK_TRANSFER", "bankAccountName": "Asha Patel",
        "bankAccountNumber": "123456789012", "bankIfsc": "HDFC0001234"});
    s.ok(tech.token(), SET_METHOD, json!({"input": bank})).await;
    fund(&s, id, 50_000).await;
    let w = withdrawn(&s, &tech, 40_000, "bank-key-1").await;
    assert_eq!(w["method"], "Bank HDFC0001234 ••••9012");
    let processing = s
        .ok(
            admin.token(),
            &by_id("processWithdrawal"),
            json!({"id": w["id"]}),
        )
        .await;
    assert_eq!(processing["processWithdrawal"]["status"], "PROCESSING");
    assert_eq!(processing["processWithdrawal"]["gateway"], "MANUAL");

    let complete = "mutation($id: ID!, $ref: String!) { completeManualWithdrawal(id: $id, bankReference: $ref) { status bankReference } }";
    let bad = s
        .gql(admin.token(), complete, json!({"id": w["id"], "ref": "x"}))
        .await;
    assert_eq!(first_error(&bad)["extensions"]["field"], "bankReference");
    let done = s
        .ok(
            admin.token(),
            complete,
            json!({"id": w["id"], "ref": "NEFT-20261123-0042"}),
        )
        .await;
    assert_eq!(done["completeManualWithdrawal"]["status"], "COMPLETED");
    assert_eq!(
        done["completeManualWithdrawal"]["bankReference"],
        "NEFT-20261123-0042"
    );
    assert_eq!(
        balance(&s, AccountKey::payout_in_flight(id, Currency::KES)).await,
        0
    );
    assert_eq!(
        balance(&s, AccountKey::clearing("PAYOUT_MANUAL", Currency::KES)).await,
        40_000
    );

    let (mpesa_tech, _) = ready(&s, "not-manual@example.com", 50_000).await;
    let sandbox = withdrawn(&s, &mpesa_tech, 10_000, "not-manual-1").await;
    let refused = s
        .gql(
            admin.token(),
            complete,
            json!({"id": sandbox["id"], "ref": "NEFT-1"}),
        )
        .await;
    assert_eq!(code(first_error(&refused)), "CONFLICT", "{refused}");
    assert_sound(&s).await;
}

#[tokio::test]
async fn a_batch_reports_each_withdrawal_on_its_own() {
    let s = TestServer::start().await;
    let admin = staff(&s, "batch-admin@example.com", Role::Admin).await;
    let (tech, id) = ready(&s, "batch@example.com", 200_000).await;
    let good = withdrawn(&s, &tech, 20_000, "batch-key-1").await;
    // The sandbox declines amounts ending in 13 minor units.
    let declined = withdrawn(&s, &tech, 20_013, "batch-key-2").await;
    let done = withdrawn(&s, &tech, 10_000, "batch-key-3").await;
    s.ok(
        admin.token(),
        &by_id("processWithdrawal"),
        json!({"id": done["id"]}),
    )
    .await;

    let batch = "mutation($ids: [ID!]!) { processWithdrawals(ids: $ids) {
      id withdrawal { status failureReason } error { code message } } }";
    let ids = json!([good["id"], declined["id"], done["id"], "bm90LWFuLWlk"]);
    let results =
        s.ok(admin.token(), batch, json!({"ids": ids})).await["processWithdrawals"].clone();
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["withdrawal"]["status"], "COMPLETED");
    assert_eq!(results[1]["withdrawal"]["status"], "FAILED");
    assert_eq!(results[2]["error"]["code"], "INVALID_TRANSITION");
    assert_eq!(results[3]["error"]["code"], "BAD_USER_INPUT");
    assert_eq!(results[3]["id"], "bm90LWFuLWlk");

    assert_eq!(
        balance(&s, AccountKey::technician_available(id, Currency::KES)).await,
        200_000 - 20_000 - 10_000
    );
    assert_sound(&s).await;
}

#[tokio::test]
async fn automatic_payouts_pay_small_withdrawals_and_leave_large_ones_for_an_admin() {
    let s = TestServer::start_with(vec![
        ("FUNDI_AUTO_PAYOUTS", "true".into()),
        ("FUNDI_AUTO_PAYOUT_MAX_MINOR", "50000".into()),
    ])
    .await;
    let (tech, _) = ready(&s, "auto@example.com", 200_000).await;
    let small: Vec<Value> = vec![
        withdrawn(&s, &tech, 10_000, "auto-key-1").await,
        withdrawn(&s, &tech, 10_000, "auto-key-2").await,
        withdrawn(&s, &tech, 10_000, "auto-key-3").await,
    ];
    let large = withdrawn(&s, &tech, 60_000, "auto-key-4").await;
    // Four replicas' workers race over the same withdrawals (and the server's own scheduled worker
    // may be a fifth): each is claimed and paid once, which the statuses and the clearing balance
    // below show; the four together never report more payouts than there were.
    let runs = futures_util::future::join_all(
        (0..4).map(|_| fundi::services::money::withdrawals::run_auto_payouts(s.services())),
    )
    .await;
    let paid: usize = runs.into_iter().map(Result::unwrap).sum();
    assert!(
        paid <= small.len(),
        "{paid} payouts reported for {} withdrawals",
        small.len()
    );
    // The scheduled worker runs the same job and finds nothing left to pay.
    fundi::services::bookings::timers::run_due(s.services())
        .await
        .unwrap();
    let list = s
        .ok(
            tech.token(),
            "{ withdrawals(first: 10) { edges { node { id status } } } }",
            json!({}),
        )
        .await;
    let status_of = |w: &Value| {
        list["withdrawals"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["id"] == w["id"])
            .map(|e| e["node"]["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    for w in &small {
        assert_eq!(status_of(w), "COMPLETED");
    }
    assert_eq!(status_of(&large), "PENDING");
    assert_eq!(
        balance(&s, AccountKey::clearing("PAYOUT_SANDBOX", Currency::KES)).await,
        30_000,
        "paid once each"
    );
    assert_sound(&s).await;
}

#[tokio::test]
async fn nobody_else_sees_or_acts_on_a_technicians_withdrawal() {
    let s = TestServer::start().await;
    let (owner, _) = ready(&s, "owner@example.com", 50_000).await;
    let (other, _) = ready(&s, "other@example.com", 50_000).await;
    let customer = s.register("nosy-customer@example.com").await;
    let w = withdrawn(&s, &owner, 20_000, "private-key-1").await;

    let node = "query($id: ID!) { node(id: $id) { id } }";
    let hidden = s.gql(other.token(), node, json!({"id": w["id"]})).await;
    assert_eq!(code(first_error(&hidden)), "NOT_FOUND", "{hidden}");
    let seen = s.ok(owner.token(), node, json!({"id": w["id"]})).await;
    assert_eq!(seen["node"]["id"], w["id"]);

    let cancel = s
        .gql(
            other.token(),
            &by_id("cancelWithdrawal"),
            json!({"id": w["id"]}),
        )
        .await;
    assert_eq!(code(first_error(&cancel)), "NOT_FOUND", "{cancel}");
    let process = s
        .gql(
            other.token(),
            &by_id("processWithdrawal"),
            json!({"id": w["id"]}),
        )
        .await;
    assert_eq!(code(first_error(&process)), "FORBIDDEN", "{process}");

    let others_list = s
        .ok(
            other.token(),
            "{ withdrawals { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(others_list["withdrawals"]["edges"], json!([]));
    let customers_list = s
        .gql(
            customer.token(),
            "{ withdrawals { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(first_error(&customers_list)), "FORBIDDEN");

    let admin = staff(&s, "seeing-admin@example.com", Role::Admin).await;
    let all = s
        .ok(
            admin.token(),
            "{ withdrawals(status: PENDING) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(all["withdrawals"]["edges"].as_array().unwrap().len(), 1);
}
