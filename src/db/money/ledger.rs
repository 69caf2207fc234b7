//! The ledger's tables: ledger_transactions, ledger_accounts and ledger_postings. Append-only for
//! transactions and postings; account balances move by one conditional UPDATE each.

use crate::db::sql::stmt;
use crate::db::stored::{named_in, optional_named_in};
use crate::domain::booking_state::Status;
use crate::domain::ledger::{AccountKind, TransactionKind};
use crate::domain::money::Currency;
use crate::domain::unmatched::ReceiptStatus;
use chrono::{DateTime, Utc};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    IsolationLevel, QueryResult, TransactionOptions, TransactionTrait, Value,
};
use uuid::Uuid;

/// A ledger transaction to insert.
pub struct NewTransaction {
    pub id: Uuid,
    pub kind: TransactionKind,
    pub booking_id: Option<Uuid>,
    pub reference: Option<String>,
    pub memo: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Inserts a transaction unless its reference is taken (ON CONFLICT DO NOTHING, so a PostgreSQL
/// transaction is not aborted); rows affected.
pub async fn insert_transaction(
    db: &impl ConnectionTrait,
    t: NewTransaction,
) -> Result<u64, DbErr> {
    let inserted = db
        .execute_raw(stmt(
            db.get_database_backend(),
            "INSERT INTO ledger_transactions (id, kind, booking_id, reference, memo, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (reference) DO NOTHING",
            [
                t.id.into(),
                t.kind.into(),
                t.booking_id.into(),
                t.reference.into(),
                t.memo.into(),
                t.created_at.into(),
            ],
        ))
        .await?;
    Ok(inserted.rows_affected())
}

/// The id of the transaction with this reference.
pub async fn transaction_id_by_reference(
    db: &impl ConnectionTrait,
    reference: &str,
) -> Result<Option<Uuid>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT id FROM ledger_transactions WHERE reference = $1",
            [reference.into()],
        ))
        .await?;
    row.map(|r| r.try_get("", "id")).transpose()
}

/// An account to create with a zero balance.
pub struct NewAccount<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub kind: AccountKind,
    pub owner: Option<Uuid>,
    pub gateway: Option<String>,
    pub currency: Currency,
    pub may_go_negative: bool,
    pub now: DateTime<Utc>,
}

/// Inserts an account with a zero balance unless its name is taken; rows affected.
pub async fn insert_account(db: &impl ConnectionTrait, a: NewAccount<'_>) -> Result<u64, DbErr> {
    let inserted = db
        .execute_raw(stmt(
            db.get_database_backend(),
            "INSERT INTO ledger_accounts \
             (id, name, kind, owner_id, gateway, currency, balance_minor, may_go_negative, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (name) DO NOTHING",
            [
                a.id.into(),
                a.name.into(),
                a.kind.into(),
                a.owner.into(),
                a.gateway.into(),
                a.currency.into(),
                0i64.into(),
                a.may_go_negative.into(),
                a.now.into(),
            ],
        ))
        .await?;
    Ok(inserted.rows_affected())
}

/// The id of the account with this name.
pub async fn account_id(db: &impl ConnectionTrait, name: &str) -> Result<Option<Uuid>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT id FROM ledger_accounts WHERE name = $1",
            [name.into()],
        ))
        .await?;
    row.map(|r| r.try_get("", "id")).transpose()
}

/// Moves an account's cached balance by `change`, matching only when the account may go negative,
/// the change is not a debit, or the balance stays at or above zero; rows affected.
pub async fn move_balance(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    change: i64,
    may_go_negative: bool,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let moved = db
        .execute_raw(stmt(
            db.get_database_backend(),
            "UPDATE ledger_accounts SET balance_minor = balance_minor + $1, updated_at = $2 \
             WHERE id = $3 AND ($4 OR $1 >= 0 OR balance_minor + $1 >= 0)",
            [
                change.into(),
                now.into(),
                account_id.into(),
                may_go_negative.into(),
            ],
        ))
        .await?;
    Ok(moved.rows_affected())
}

/// Inserts one posting.
pub async fn insert_posting(
    db: &impl ConnectionTrait,
    id: Uuid,
    transaction_id: Uuid,
    account_id: Uuid,
    amount_minor: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db.get_database_backend(),
        "INSERT INTO ledger_postings (id, transaction_id, account_id, amount_minor, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        [
            id.into(),
            transaction_id.into(),
            account_id.into(),
            amount_minor.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The cached balance of the account with this name, if it exists.
pub async fn balance(db: &impl ConnectionTrait, name: &str) -> Result<Option<i64>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT balance_minor FROM ledger_accounts WHERE name = $1",
            [name.into()],
        ))
        .await?;
    row.map(|r| r.try_get::<i64>("", "balance_minor"))
        .transpose()
}

/// Cached balances of the named accounts, in one statement; accounts not there are left out.
pub async fn balances_by_name(
    db: &impl ConnectionTrait,
    names: &[String],
) -> Result<Vec<(String, i64)>, DbErr> {
    let names: Vec<Value> = names.iter().map(|n| n.clone().into()).collect();
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT name, balance_minor FROM ledger_accounts WHERE name IN ({})",
        placeholders.join(", ")
    );
    let rows = db
        .query_all_raw(stmt(db.get_database_backend(), &sql, names))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "name")?, row.try_get("", "balance_minor")?)))
        .collect()
}

/// An account as stored.
#[derive(Debug, Clone)]
pub struct StoredAccount {
    pub kind: AccountKind,
    pub owner: Option<Uuid>,
    pub gateway: Option<String>,
    pub currency: Currency,
}

/// The account columns of `row`; its `id` is the account's, so an unknown kind or currency names
/// the account.
fn account_from_row(row: &QueryResult) -> Result<StoredAccount, DbErr> {
    Ok(StoredAccount {
        kind: row.try_get("", "kind")?,
        owner: row.try_get("", "owner_id")?,
        gateway: row.try_get("", "gateway")?,
        currency: row.try_get("", "currency")?,
    })
}

/// Every account in `currency` with its cached balance, ordered by account name.
pub async fn balances(
    db: &impl ConnectionTrait,
    currency: Currency,
) -> Result<Vec<(StoredAccount, i64)>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            "SELECT id, kind, owner_id, gateway, currency, balance_minor FROM ledger_accounts \
             WHERE currency = $1 ORDER BY name",
            [currency.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| Ok((account_from_row(row)?, row.try_get("", "balance_minor")?)))
        .collect()
}

/// One posting on an owner's account with its transaction, as stored.
#[derive(Debug, Clone)]
pub struct StoredOwnerPosting {
    pub posting_id: Uuid,
    pub transaction_id: Uuid,
    pub transaction_kind: TransactionKind,
    pub booking_id: Option<Uuid>,
    pub reference: Option<String>,
    pub memo: Option<String>,
    pub account: StoredAccount,
    pub amount_minor: i64,
    pub created_at: DateTime<Utc>,
}

/// The postings on accounts owned by `owner` whose account kind is one of `kinds` (any when
/// empty), ordered by time then posting id.
pub async fn postings_for_owner(
    db: &impl ConnectionTrait,
    owner: Uuid,
    kinds: &[AccountKind],
) -> Result<Vec<StoredOwnerPosting>, DbErr> {
    let mut values: Vec<Value> = vec![owner.into()];
    let mut sql = String::from(
        "SELECT p.id AS posting_id, p.amount_minor, p.created_at, t.id AS transaction_id, \
         t.kind AS transaction_kind, t.booking_id, t.reference, t.memo, \
         a.id, a.kind, a.owner_id, a.gateway, a.currency \
         FROM ledger_postings p \
         JOIN ledger_accounts a ON a.id = p.account_id \
         JOIN ledger_transactions t ON t.id = p.transaction_id \
         WHERE a.owner_id = $1",
    );
    if !kinds.is_empty() {
        let placeholders: Vec<String> = kinds
            .iter()
            .map(|k| {
                values.push((*k).into());
                format!("${}", values.len())
            })
            .collect();
        sql.push_str(&format!(" AND a.kind IN ({})", placeholders.join(", ")));
    }
    // Postings of one entry share a time; their UUIDv7 ids keep the order they were written in.
    sql.push_str(" ORDER BY p.created_at, p.id");
    let rows = db
        .query_all_raw(stmt(db.get_database_backend(), &sql, values))
        .await?;
    rows.iter()
        .map(|row| {
            let transaction_id: Uuid = row.try_get("", "transaction_id")?;
            Ok(StoredOwnerPosting {
                posting_id: row.try_get("", "posting_id")?,
                transaction_id,
                transaction_kind: named_in(row, "transaction_kind", transaction_id)?,
                booking_id: row.try_get("", "booking_id")?,
                reference: row.try_get("", "reference")?,
                memo: row.try_get("", "memo")?,
                account: account_from_row(row)?,
                amount_minor: row.try_get("", "amount_minor")?,
                created_at: row.try_get("", "created_at")?,
            })
        })
        .collect()
}

/// The first transaction (by id) with fewer than two postings, and how many it has.
pub async fn first_with_too_few_postings(
    db: &impl ConnectionTrait,
) -> Result<Option<(Uuid, i64)>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT t.id, COUNT(p.id) AS n FROM ledger_transactions t \
             LEFT JOIN ledger_postings p ON p.transaction_id = t.id \
             GROUP BY t.id HAVING COUNT(p.id) < 2 ORDER BY t.id LIMIT 1",
            [],
        ))
        .await?;
    row.map(|row| Ok((row.try_get("", "id")?, row.try_get("", "n")?)))
        .transpose()
}

/// The first transaction (by id) whose postings in one currency do not sum to zero: its id, the
/// currency and the sum.
pub async fn first_unbalanced(
    db: &impl ConnectionTrait,
) -> Result<Option<(Uuid, String, i64)>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT p.transaction_id, a.currency, CAST(SUM(p.amount_minor) AS BIGINT) AS total \
             FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id \
             GROUP BY p.transaction_id, a.currency HAVING SUM(p.amount_minor) <> 0 \
             ORDER BY p.transaction_id LIMIT 1",
            [],
        ))
        .await?;
    row.map(|row| {
        Ok((
            row.try_get("", "transaction_id")?,
            row.try_get("", "currency")?,
            row.try_get("", "total")?,
        ))
    })
    .transpose()
}

/// The first account (by name) of one of `kinds` whose postings sum below zero: its name and sum.
pub async fn first_negative(
    db: &impl ConnectionTrait,
    kinds: &[AccountKind],
) -> Result<Option<(String, i64)>, DbErr> {
    let guarded: Vec<Value> = kinds.iter().map(|k| (*k).into()).collect();
    let placeholders: Vec<String> = (1..=guarded.len()).map(|i| format!("${i}")).collect();
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            &format!(
                "SELECT a.name, CAST(SUM(p.amount_minor) AS BIGINT) AS total \
                 FROM ledger_accounts a JOIN ledger_postings p ON p.account_id = a.id \
                 WHERE a.kind IN ({}) GROUP BY a.id, a.name HAVING SUM(p.amount_minor) < 0 \
                 ORDER BY a.name LIMIT 1",
                placeholders.join(", ")
            ),
            guarded,
        ))
        .await?;
    row.map(|row| Ok((row.try_get("", "name")?, row.try_get("", "total")?)))
        .transpose()
}

/// The first account (by name) of kind `escrow_kind`, owned by a booking in one of the three
/// `statuses`, whose postings do not sum to zero: its name, the booking's status and the sum.
pub async fn first_escrow_not_empty(
    db: &impl ConnectionTrait,
    escrow_kind: AccountKind,
    statuses: [Status; 3],
) -> Result<Option<(String, String, i64)>, DbErr> {
    let mut values: Vec<Value> = vec![escrow_kind.into()];
    values.extend(statuses.map(Value::from));
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT a.name, b.status, CAST(SUM(p.amount_minor) AS BIGINT) AS total \
             FROM ledger_accounts a \
             JOIN bookings b ON b.id = a.owner_id \
             JOIN ledger_postings p ON p.account_id = a.id \
             WHERE a.kind = $1 AND b.status IN ($2, $3, $4) \
             GROUP BY a.id, a.name, b.status HAVING SUM(p.amount_minor) <> 0 \
             ORDER BY a.name LIMIT 1",
            values,
        ))
        .await?;
    row.map(|row| {
        Ok((
            row.try_get("", "name")?,
            row.try_get("", "status")?,
            row.try_get("", "total")?,
        ))
    })
    .transpose()
}

/// The first account (by name) whose cached balance differs from its postings' sum: its name, the
/// cached balance and the sum.
pub async fn first_cached_mismatch(
    db: &impl ConnectionTrait,
) -> Result<Option<(String, i64, i64)>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT a.name, a.balance_minor, CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) AS total \
             FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id \
             GROUP BY a.id, a.name, a.balance_minor \
             HAVING a.balance_minor <> COALESCE(SUM(p.amount_minor), 0) \
             ORDER BY a.name LIMIT 1",
            [],
        ))
        .await?;
    row.map(|row| {
        Ok((
            row.try_get("", "name")?,
            row.try_get("", "balance_minor")?,
            row.try_get("", "total")?,
        ))
    })
    .transpose()
}

fn sums(rows: Vec<QueryResult>) -> Result<Vec<(String, i64)>, DbErr> {
    rows.iter()
        .map(|r| Ok((r.try_get("", "currency")?, r.try_get("", "total")?)))
        .collect()
}

/// Per currency, the postings' sum over accounts of `kind` (accounts without postings count 0).
pub async fn posted_by_currency(
    db: &impl ConnectionTrait,
    kind: AccountKind,
) -> Result<Vec<(String, i64)>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            "SELECT a.currency, CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) AS total \
             FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id \
             WHERE a.kind = $1 GROUP BY a.currency",
            [kind.into()],
        ))
        .await?;
    sums(rows)
}

/// Per currency, what the unmatched receipts in `status` add up to.
pub async fn unmatched_receipts_by_currency(
    db: &impl ConnectionTrait,
    status: ReceiptStatus,
) -> Result<Vec<(String, i64)>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            "SELECT currency, CAST(SUM(amount_minor) AS BIGINT) AS total \
             FROM unmatched_receipts WHERE status = $1 GROUP BY currency",
            [status.into()],
        ))
        .await?;
    sums(rows)
}

/// How many accounts, transactions and postings there are.
pub async fn counts(db: &impl ConnectionTrait) -> Result<Option<(i64, i64, i64)>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT (SELECT COUNT(*) FROM ledger_accounts) AS accounts, \
             (SELECT COUNT(*) FROM ledger_transactions) AS transactions, \
             (SELECT COUNT(*) FROM ledger_postings) AS postings",
            [],
        ))
        .await?;
    row.map(|row| {
        Ok((
            row.try_get("", "accounts")?,
            row.try_get("", "transactions")?,
            row.try_get("", "postings")?,
        ))
    })
    .transpose()
}

/// Starts a read transaction over one consistent snapshot: REPEATABLE READ, read only, on
/// PostgreSQL (READ COMMITTED gives each query its own snapshot); a SQLite read transaction in WAL
/// mode already reads one snapshot.
pub async fn begin_snapshot(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let options = match db.get_database_backend() {
        DbBackend::Postgres => TransactionOptions {
            isolation_level: Some(IsolationLevel::RepeatableRead),
            access_mode: Some(AccessMode::ReadOnly),
            ..Default::default()
        },
        _ => TransactionOptions::default(),
    };
    db.begin_with_options(options).await
}

/// How many postings each of `owner`'s accounts of the three `kinds` holds, with the account's
/// currency; an unknown stored currency names the account.
pub async fn posting_counts_by_account(
    db: &impl ConnectionTrait,
    owner: Uuid,
    kinds: [AccountKind; 3],
) -> Result<Vec<(Currency, i64)>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            "SELECT a.id, a.currency, COUNT(p.id) AS n FROM ledger_accounts a \
             LEFT JOIN ledger_postings p ON p.account_id = a.id \
             WHERE a.owner_id = $1 AND a.kind IN ($2, $3, $4) GROUP BY a.id, a.currency",
            [
                owner.into(),
                kinds[0].into(),
                kinds[1].into(),
                kinds[2].into(),
            ],
        ))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "currency")?, row.try_get("", "n")?)))
        .collect()
}

/// One transaction of a kind that touched an owner's account: the platform's share in it and
/// its booking's status.
#[derive(Debug, Clone)]
pub struct SharedTransaction {
    pub transaction_id: Uuid,
    pub booking_status: Option<Status>,
    pub platform_minor: i64,
}

/// Every transaction of `transaction_kind` with a posting on `owner`'s account of `owner_kind`,
/// with what it posted on accounts of `platform_kind` in `currency` and its booking's status (an
/// unknown stored status names the transaction).
pub async fn shared_transactions(
    db: &impl ConnectionTrait,
    owner: Uuid,
    owner_kind: AccountKind,
    platform_kind: AccountKind,
    currency: Currency,
    transaction_kind: TransactionKind,
) -> Result<Vec<SharedTransaction>, DbErr> {
    let values: Vec<Value> = vec![
        owner.into(),
        owner_kind.into(),
        platform_kind.into(),
        currency.into(),
        transaction_kind.into(),
    ];
    let rows = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            "SELECT t.id AS transaction_id, b.status AS booking_status, \
             CAST(COALESCE(SUM(CASE WHEN a.kind = $3 AND a.currency = $4 THEN p.amount_minor ELSE 0 END), 0) AS BIGINT) AS platform_minor \
             FROM ledger_transactions t \
             JOIN ledger_postings p ON p.transaction_id = t.id \
             JOIN ledger_accounts a ON a.id = p.account_id \
             LEFT JOIN bookings b ON b.id = t.booking_id \
             WHERE t.kind = $5 AND t.id IN ( \
               SELECT tp.transaction_id FROM ledger_postings tp \
               JOIN ledger_accounts ta ON ta.id = tp.account_id \
               WHERE ta.owner_id = $1 AND ta.kind = $2) \
             GROUP BY t.id, b.status",
            values,
        ))
        .await?;
    rows.iter()
        .map(|row| {
            let transaction_id: Uuid = row.try_get("", "transaction_id")?;
            Ok(SharedTransaction {
                transaction_id,
                booking_status: optional_named_in(row, "booking_status", transaction_id)?,
                platform_minor: row.try_get("", "platform_minor")?,
            })
        })
        .collect()
}
