//! The ledger: entries post whole or not at all, never overdraw (even when racing), post once per
//! reference, are visible to admins only, and `fundi ledger verify` catches a tampered ledger.

use crate::support::*;
use fundi::domain::account::Role;
use fundi::domain::ledger::{AccountKey, Posting, TransactionKind, entries};
use fundi::domain::money::Currency;
use fundi::error::AppError;
use fundi::services::money::ledger::{self, BrokenInvariant, JournalEntry};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;
use std::process::Command;
use std::sync::Arc;
use uuid::Uuid;

const KES: Currency = Currency::KES;

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

fn entry(kind: TransactionKind, reference: Option<&str>, postings: Vec<Posting>) -> JournalEntry {
    JournalEntry {
        kind,
        booking_id: None,
        reference: reference.map(Into::into),
        memo: None,
        postings,
    }
}

/// Posts one entry in its own write transaction, committing only when it was accepted.
async fn post(db: &DatabaseConnection, entry: JournalEntry) -> Result<Uuid, AppError> {
    let txn = fundi::db::begin_write(db).await.expect("begin");
    let result = ledger::post(&txn, chrono::Utc::now(), entry).await;
    match &result {
        Ok(_) => txn.commit().await.expect("commit"),
        Err(_) => txn.rollback().await.expect("rollback"),
    }
    result
}

async fn count(db: &DatabaseConnection, table: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

async fn execute(db: &DatabaseConnection, sql: &str, values: Vec<sea_orm::Value>) {
    db.execute_raw(fundi::db::sql::stmt(db.get_database_backend(), sql, values))
        .await
        .expect("raw SQL runs");
}

async fn balance(db: &DatabaseConnection, account: &AccountKey) -> i64 {
    ledger::balance(db, account).await.unwrap()
}

async fn assert_sound(db: &DatabaseConnection) {
    let outcome = ledger::verify(db).await.unwrap();
    assert!(outcome.is_ok(), "ledger broken: {}", outcome.unwrap_err());
}

#[tokio::test]
async fn a_balanced_entry_posts_and_moves_every_balance() {
    let s = TestServer::start().await;
    let db = &s.services().db;
    let (booking, tech) = (Uuid::now_v7(), Uuid::now_v7());
    post(
        db,
        entry(
            TransactionKind::Payment,
            Some("pay-1"),
            entries::payment("SANDBOX", booking, KES, 11_600),
        ),
    )
    .await
    .unwrap();
    let split = fundi::domain::ledger::split_release(11_600, 1_600, 1_500);
    let release = post(
        db,
        entry(
            TransactionKind::Release,
            None,
            entries::release(booking, tech, KES, split),
        ),
    )
    .await
    .unwrap();

    for (account, expected) in [
        (AccountKey::clearing("SANDBOX", KES), -11_600),
        (AccountKey::escrow(booking, KES), 0),
        (AccountKey::technician_pending(tech, KES), 8_500),
        (AccountKey::platform_revenue(KES), 1_500),
        (AccountKey::tax_collected(KES), 1_600),
        (AccountKey::technician_available(tech, KES), 0),
    ] {
        assert_eq!(balance(db, &account).await, expected, "{account}");
    }
    let all = ledger::balances(db, KES).await.unwrap();
    assert_eq!(all.len(), 5, "an account is created on first use only");
    assert_eq!(all.iter().map(|(_, b)| *b).sum::<i64>(), 0);
    assert!(ledger::balances(db, usd()).await.unwrap().is_empty());

    let movements = ledger::postings_for_owner(db, tech, &[]).await.unwrap();
    assert_eq!(movements.len(), 1);
    assert_eq!(movements[0].transaction_id, release);
    assert_eq!(movements[0].transaction_kind, TransactionKind::Release);
    assert_eq!(movements[0].amount_minor, 8_500);
    assert_eq!(
        movements[0].account,
        AccountKey::technician_pending(tech, KES)
    );
    assert_sound(db).await;
}

#[tokio::test]
async fn an_unbalanced_entry_is_refused_and_writes_nothing() {
    let s = TestServer::start().await;
    let db = &s.services().db;
    let booking = Uuid::now_v7();
    let txn = fundi::db::begin_write(db).await.unwrap();
    let refused = ledger::post(
        &txn,
        chrono::Utc::now(),
        entry(
            TransactionKind::Payment,
            Some("lopsided"),
            vec![
                Posting::new(AccountKey::clearing("SANDBOX", KES), -1_000),
                Posting::new(AccountKey::escrow(booking, KES), 999),
            ],
        ),
    )
    .await;
    assert!(matches!(refused, Err(AppError::Internal(_))), "{refused:?}");
    // Committing what the refused call did proves it did nothing.
    txn.commit().await.unwrap();
    for table in ["ledger_accounts", "ledger_transactions", "ledger_postings"] {
        assert_eq!(count(db, table).await, 0, "{table}");
    }
    let one_sided = post(
        db,
        entry(
            TransactionKind::Payment,
            None,
            vec![Posting::new(AccountKey::escrow(booking, KES), 0)],
        ),
    )
    .await;
    assert!(one_sided.is_err());
    assert_eq!(count(db, "ledger_transactions").await, 0);
}

#[tokio::test]
async fn taking_escrow_below_zero_is_a_conflict_and_leaves_nothing() {
    let s = TestServer::start().await;
    let db = &s.services().db;
    let booking = Uuid::now_v7();
    let escrow = AccountKey::escrow(booking, KES);

    let refused = post(
        db,
        entry(
            TransactionKind::Refund,
            None,
            entries::refund("MPESA", booking, KES, 1),
        ),
    )
    .await;
    match refused {
        Err(AppError::Conflict(message)) => {
            assert_eq!(message, format!("insufficient funds in {}", escrow.name()))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    for table in ["ledger_accounts", "ledger_transactions", "ledger_postings"] {
        assert_eq!(count(db, table).await, 0, "{table}");
    }

    post(
        db,
        entry(
            TransactionKind::Payment,
            None,
            entries::payment("MPESA", booking, KES, 100),
        ),
    )
    .await
    .unwrap();
    let refused = post(
        db,
        entry(
            TransactionKind::Refund,
            None,
            entries::refund("MPESA", booking, KES, 101),
        ),
    )
    .await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    assert_eq!(balance(db, &escrow).await, 100);
    assert_eq!(balance(db, &AccountKey::clearing("MPESA", KES)).await, -100);
    assert_eq!(count(db, "ledger_transactions").await, 1);
    assert_eq!(count(db, "ledger_postings").await, 2);
    // Emptying it exactly is fine.
    post(
        db,
        entry(
            TransactionKind::Refund,
            None,
            entries::refund("MPESA", booking, KES, 100),
        ),
    )
    .await
    .unwrap();
    assert_eq!(balance(db, &escrow).await, 0);
    assert_sound(db).await;
}

#[tokio::test]
async fn the_same_reference_posts_once() {
    let s = TestServer::start().await;
    let db = &s.services().db;
    let booking = Uuid::now_v7();
    let first = post(
        db,
        entry(
            TransactionKind::Payment,
            Some("gateway-event-42"),
            entries::payment("STRIPE", booking, usd(), 5_000),
        ),
    )
    .await
    .unwrap();
    let again = post(
        db,
        entry(
            TransactionKind::Payment,
            Some("gateway-event-42"),
            entries::payment("STRIPE", booking, usd(), 5_000),
        ),
    )
    .await
    .unwrap();
    assert_eq!(again, first);
    assert_eq!(
        balance(db, &AccountKey::escrow(booking, usd())).await,
        5_000
    );
    assert_eq!(count(db, "ledger_transactions").await, 1);
    assert_eq!(count(db, "ledger_postings").await, 2);
    // Entries without a reference never collide with each other.
    for _ in 0..2 {
        post(
            db,
            entry(
                TransactionKind::Payment,
                None,
                entries::payment("STRIPE", booking, usd(), 1),
            ),
        )
        .await
        .unwrap();
    }
    assert_eq!(count(db, "ledger_transactions").await, 3);
    assert_sound(db).await;
}

#[tokio::test]
async fn racing_posts_with_one_reference_post_once() {
    let s = TestServer::start().await;
    let db = s.services().db.clone();
    let booking = Uuid::now_v7();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                post(
                    &db,
                    entry(
                        TransactionKind::Payment,
                        Some("webhook-retry"),
                        entries::payment("MPESA", booking, KES, 400),
                    ),
                )
                .await
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap().expect("a replay is not an error"));
    }
    ids.dedup();
    assert_eq!(
        ids.len(),
        1,
        "every retry answers with the first transaction"
    );
    assert_eq!(balance(&db, &AccountKey::escrow(booking, KES)).await, 400);
    assert_eq!(count(&db, "ledger_transactions").await, 1);
    assert_sound(&db).await;
}

#[tokio::test]
async fn twenty_racing_withdrawals_of_ten_from_a_hundred_leave_exactly_zero() {
    let s = TestServer::start().await;
    let db = s.services().db.clone();
    let tech = Uuid::now_v7();
    let available = AccountKey::technician_available(tech, KES);
    post(
        &db,
        entry(
            TransactionKind::EarningsAvailable,
            None,
            vec![
                Posting::new(AccountKey::clearing("CASH", KES), -100),
                Posting::new(available.clone(), 100),
            ],
        ),
    )
    .await
    .unwrap();

    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let db = db.clone();
            let available = available.clone();
            tokio::spawn(async move {
                post(
                    &db,
                    entry(
                        TransactionKind::Withdrawal,
                        Some(&format!("withdrawal-{i}")),
                        vec![
                            Posting::new(available, -10),
                            Posting::new(AccountKey::payout_in_flight(tech, KES), 10),
                        ],
                    ),
                )
                .await
            })
        })
        .collect();
    let mut succeeded = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => succeeded += 1,
            Err(AppError::Conflict(_)) => {}
            Err(other) => panic!("a withdrawal failed with {other:?}"),
        }
    }
    assert_eq!(succeeded, 10);
    assert_eq!(balance(&db, &available).await, 0);
    assert_eq!(
        balance(&db, &AccountKey::payout_in_flight(tech, KES)).await,
        100
    );
    assert_eq!(count(&db, "ledger_transactions").await, 11);
    assert_sound(&db).await;
}

const BALANCES: &str = "query($c: String!) { ledgerBalances(currency: $c) { account kind balance { amountMinor currency formatted } } }";
const HEALTH: &str = "{ ledgerHealth { ok brokenInvariant } }";

#[tokio::test]
async fn only_admins_see_the_ledger() {
    let s = TestServer::start().await;
    let booking = Uuid::now_v7();
    post(
        &s.services().db,
        entry(
            TransactionKind::Payment,
            None,
            entries::payment("MPESA", booking, KES, 250_000),
        ),
    )
    .await
    .unwrap();

    let anonymous = s.err(None, BALANCES, json!({"c": "KES"})).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");
    let customer = s.register("ledger-customer@example.com").await;
    let technician = s.register_as("ledger-tech@example.com", "TECHNICIAN").await;
    let support = crate::chat::staff(&s, "ledger-support@example.com", Role::Support).await;
    for who in [&customer, &technician, &support] {
        for (query, variables) in [(BALANCES, json!({"c": "KES"})), (HEALTH, json!({}))] {
            let refused = s.err(who.token(), query, variables).await;
            assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
        }
    }

    let admin = crate::chat::staff(&s, "ledger-admin@example.com", Role::Admin).await;
    let data = s.ok(admin.token(), BALANCES, json!({"c": "kes"})).await;
    let rows = data["ledgerBalances"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0]["account"],
        format!("ESCROW:{booking}:KES"),
        "ordered by name"
    );
    assert_eq!(rows[0]["kind"], "ESCROW");
    assert_eq!(rows[0]["balance"]["amountMinor"], 250_000);
    assert_eq!(rows[0]["balance"]["currency"], "KES");
    assert_eq!(rows[1]["account"], "GATEWAY_CLEARING:MPESA:KES");
    assert_eq!(rows[1]["balance"]["amountMinor"], -250_000);
    let bad = s
        .err(admin.token(), BALANCES, json!({"c": "shillings"}))
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
    let health = s.ok(admin.token(), HEALTH, json!({})).await;
    assert_eq!(
        health["ledgerHealth"],
        json!({"ok": true, "brokenInvariant": null})
    );
}

#[tokio::test]
async fn a_settled_booking_with_money_left_in_escrow_breaks_the_ledger() {
    let s = TestServer::start().await;
    let db = &s.services().db;
    let customer = s.register("ledger-escrow@example.com").await;
    // Unpaid, so the only money in its escrow is what this test puts there.
    crate::booking_fixtures::create_unpaid(&s, &customer, "ledger-escrow", json!({})).await;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM bookings",
        ))
        .await
        .unwrap()
        .unwrap();
    let booking: Uuid = row.try_get("", "id").unwrap();
    post(
        db,
        entry(
            TransactionKind::Payment,
            None,
            entries::payment("SANDBOX", booking, KES, 700),
        ),
    )
    .await
    .unwrap();
    assert_sound(db).await;
    execute(
        db,
        "UPDATE bookings SET status = $1 WHERE id = $2",
        vec!["CANCELLED".into(), booking.into()],
    )
    .await;
    match ledger::verify(db).await.unwrap() {
        Err(BrokenInvariant::EscrowNotEmpty {
            account,
            booking_status,
            balance,
        }) => {
            assert_eq!(account, AccountKey::escrow(booking, KES).name());
            assert_eq!(booking_status, "CANCELLED");
            assert_eq!(balance, 700);
        }
        other => panic!("expected ESCROW_NOT_EMPTY, got {other:?}"),
    }
    post(
        db,
        entry(
            TransactionKind::Refund,
            None,
            entries::refund("SANDBOX", booking, KES, 700),
        ),
    )
    .await
    .unwrap();
    assert_sound(db).await;
}

fn fundi(backend: &Backend) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fundi"));
    command
        .env_clear()
        .env("FUNDI_DATABASE_URL", &backend.database_url)
        .env("FUNDI_DATA_DIR", backend.data_dir.path())
        .env("FUNDI_JWT_SECRET", JWT_SECRET)
        .env("FUNDI_LOG", "warn");
    command
}

fn verify_cli(backend: &Backend) -> (bool, String, String) {
    let output = fundi(backend)
        .args(["ledger", "verify"])
        .output()
        .expect("fundi runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

#[tokio::test]
async fn ledger_verify_passes_a_sound_ledger_and_names_what_broke() {
    let backend = Arc::new(Backend::new().await);
    let s = TestServer::start_on(backend.clone(), Options::default()).await;
    let db = &s.services().db;
    let (booking, tech) = (Uuid::now_v7(), Uuid::now_v7());
    post(
        db,
        entry(
            TransactionKind::Payment,
            None,
            entries::payment("SANDBOX", booking, KES, 1_000),
        ),
    )
    .await
    .unwrap();
    post(
        db,
        entry(
            TransactionKind::Tip,
            None,
            entries::tip("SANDBOX", tech, KES, 300),
        ),
    )
    .await
    .unwrap();

    let (ok, stdout, stderr) = verify_cli(&backend);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("ledger ok"), "{stdout}");
    assert!(stdout.contains("2 transactions"), "{stdout}");

    // Tamper with a cached balance.
    let pending = AccountKey::technician_pending(tech, KES).name();
    execute(
        db,
        "UPDATE ledger_accounts SET balance_minor = balance_minor + 1 WHERE name = $1",
        vec![pending.clone().into()],
    )
    .await;
    let (ok, _, stderr) = verify_cli(&backend);
    assert!(!ok, "a tampered balance must fail verification");
    assert!(stderr.contains("CACHED_BALANCE_MISMATCH"), "{stderr}");
    assert!(stderr.contains(&pending), "{stderr}");
    let admin = crate::chat::staff(&s, "ledger-verify@example.com", Role::Admin).await;
    let health = s.ok(admin.token(), HEALTH, json!({})).await["ledgerHealth"].clone();
    assert_eq!(health["ok"], false);
    assert!(
        health["brokenInvariant"]
            .as_str()
            .unwrap()
            .starts_with("CACHED_BALANCE_MISMATCH"),
        "{health}"
    );
    execute(
        db,
        "UPDATE ledger_accounts SET balance_minor = balance_minor - 1 WHERE name = $1",
        vec![pending.into()],
    )
    .await;
    assert!(verify_cli(&backend).0);

    // Slip an extra, unbalanced posting into the payment.
    let row = db
        .query_one_raw(fundi::db::sql::stmt(
            db.get_database_backend(),
            "SELECT t.id AS transaction_id, a.id AS account_id FROM ledger_transactions t \
             JOIN ledger_accounts a ON a.name = $1 WHERE t.kind = 'PAYMENT'",
            [AccountKey::escrow(booking, KES).name().into()],
        ))
        .await
        .unwrap()
        .unwrap();
    let transaction: Uuid = row.try_get("", "transaction_id").unwrap();
    let account: Uuid = row.try_get("", "account_id").unwrap();
    execute(
        db,
        "INSERT INTO ledger_postings (id, transaction_id, account_id, amount_minor, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        vec![
            Uuid::now_v7().into(),
            transaction.into(),
            account.into(),
            5i64.into(),
            chrono::Utc::now().into(),
        ],
    )
    .await;
    let (ok, _, stderr) = verify_cli(&backend);
    assert!(!ok);
    assert!(stderr.contains("UNBALANCED_TRANSACTION"), "{stderr}");
    assert!(stderr.contains(&transaction.to_string()), "{stderr}");
}
