//! The ledger on disk: posting balanced journal entries inside a caller's transaction, reading
//! balances and a technician's movements, and re-checking every invariant from the raw postings.
//!
//! Transactions and postings are append-only: there is no function here (or anywhere) that updates
//! or deletes them; a mistake is corrected by a new, reversing entry. Each account caches its
//! balance so that "never below zero" is one conditional UPDATE on one row, which serialises
//! concurrent withdrawals on SQLite (one writer at a time) and on PostgreSQL (the second UPDATE
//! waits for the first to commit and then re-checks its WHERE clause against the new balance).

use crate::db::sql::stmt;
use crate::domain::account::Role;
use crate::domain::booking_state::Status;
use crate::domain::ledger::{AccountKey, AccountKind, Posting, check_balanced, net_changes};
use crate::error::{AppError, AppResult};
use crate::services::{Services, Viewer};
use chrono::{DateTime, Utc};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DbBackend, IsolationLevel, QueryResult,
    TransactionOptions, TransactionTrait, Value,
};
use std::collections::HashMap;
use std::fmt;
use uuid::Uuid;

/// What kind of movement an entry records; stored as text on the transaction.
pub mod kind {
    pub const PAYMENT: &str = "PAYMENT";
    pub const RELEASE: &str = "RELEASE";
    pub const REFUND: &str = "REFUND";
    pub const TIP: &str = "TIP";
    pub const EARNINGS_AVAILABLE: &str = "EARNINGS_AVAILABLE";
    pub const CANCELLATION: &str = "CANCELLATION";
    pub const DISPUTE: &str = "DISPUTE";
    /// Available earnings set aside for a requested withdrawal (available -> payout in flight).
    pub const WITHDRAWAL: &str = "WITHDRAWAL";
    /// A withdrawal paid out (payout in flight -> the payout gateway's clearing account).
    pub const PAYOUT: &str = "PAYOUT";
    /// A failed or cancelled withdrawal put back (payout in flight -> available).
    pub const WITHDRAWAL_RETURNED: &str = "WITHDRAWAL_RETURNED";
    /// Money a provider collected that matched no payment (clearing -> unmatched funds).
    pub const UNMATCHED: &str = "UNMATCHED";
}

/// One journal entry to post: what it is, what it is about, and its balanced postings.
#[derive(Debug, Clone)]
pub struct JournalEntry {
    /// e.g. PAYMENT, RELEASE, REFUND, TIP, EARNINGS_AVAILABLE, CANCELLATION, DISPUTE, WITHDRAWAL (see [`kind`]).
    pub kind: String,
    pub booking_id: Option<Uuid>,
    /// Unique when set: posting the same reference again returns the first transaction's id and
    /// posts nothing, so a retried payment or webhook moves money once.
    pub reference: Option<String>,
    pub memo: Option<String>,
    pub postings: Vec<Posting>,
}

/// Posts `entry` inside the caller's transaction (start it with `crate::db::begin_write`) and
/// returns the ledger transaction's id.
///
/// Checks the entry is balanced, creates accounts on first use, records the transaction and its
/// postings, and moves each account's cached balance with an UPDATE that only matches when an
/// account that may not go negative stays at or above zero. When it does not match, the answer is
/// `CONFLICT` ("insufficient funds in <account>") and the caller must roll back: earlier statements
/// of this entry have already run in its transaction.
///
/// An unbalanced or malformed entry is a bug in the caller, not bad input, so it is an internal
/// error; it is refused before anything is written.
pub async fn post(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    entry: JournalEntry,
) -> AppResult<Uuid> {
    check_balanced(&entry.postings).map_err(|e| {
        AppError::internal(anyhow::anyhow!("refused {} ledger entry: {e}", entry.kind))
    })?;
    let backend = txn.get_database_backend();
    let id = Uuid::now_v7();
    // The reference's unique index decides idempotency. ON CONFLICT DO NOTHING instead of catching
    // the violation, because on PostgreSQL a failed statement aborts the caller's whole transaction.
    let inserted = txn
        .execute_raw(stmt(
            backend,
            "INSERT INTO ledger_transactions (id, kind, booking_id, reference, memo, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (reference) DO NOTHING",
            [
                id.into(),
                entry.kind.clone().into(),
                entry.booking_id.into(),
                entry.reference.clone().into(),
                entry.memo.clone().into(),
                now.into(),
            ],
        ))
        .await?;
    if inserted.rows_affected() == 0 {
        let reference = entry.reference.clone().unwrap_or_default();
        let row = txn
            .query_one_raw(stmt(
                backend,
                "SELECT id FROM ledger_transactions WHERE reference = $1",
                [reference.clone().into()],
            ))
            .await?
            .ok_or_else(|| {
                AppError::internal(anyhow::anyhow!(
                    "ledger reference {reference} conflicted but is not there"
                ))
            })?;
        return Ok(row.try_get("", "id")?);
    }

    let changes = net_changes(&entry.postings);
    let mut account_ids: HashMap<String, Uuid> = HashMap::with_capacity(changes.len());
    for (account, _) in &changes {
        account_ids.insert(account.name(), ensure_account(txn, account, now).await?);
    }
    // Balances first and in name order: a refusal comes before any posting is written, and two
    // entries over the same accounts take their row locks in the same order.
    for (account, change) in &changes {
        if *change == 0 {
            continue;
        }
        let moved = txn
            .execute_raw(stmt(
                backend,
                "UPDATE ledger_accounts SET balance_minor = balance_minor + $1, updated_at = $2 \
                 WHERE id = $3 AND ($4 OR $1 >= 0 OR balance_minor + $1 >= 0)",
                [
                    (*change).into(),
                    now.into(),
                    account_ids[&account.name()].into(),
                    account.may_go_negative().into(),
                ],
            ))
            .await?;
        if moved.rows_affected() != 1 {
            return Err(AppError::Conflict(format!(
                "insufficient funds in {}",
                account.name()
            )));
        }
    }
    for posting in &entry.postings {
        txn.execute_raw(stmt(
            backend,
            "INSERT INTO ledger_postings (id, transaction_id, account_id, amount_minor, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
            [
                Uuid::now_v7().into(),
                id.into(),
                account_ids[&posting.account.name()].into(),
                posting.amount_minor.into(),
                now.into(),
            ],
        ))
        .await?;
    }
    Ok(id)
}

/// The account's id, creating it with a zero balance on first use. A concurrent first use of the
/// same account is absorbed by the unique `name`: one insert wins, the other reads its row.
async fn ensure_account(
    txn: &impl ConnectionTrait,
    account: &AccountKey,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let backend = txn.get_database_backend();
    let name = account.name();
    if let Some(id) = account_id(txn, &name).await? {
        return Ok(id);
    }
    let id = Uuid::now_v7();
    let inserted = txn
        .execute_raw(stmt(
            backend,
            "INSERT INTO ledger_accounts \
             (id, name, kind, owner_id, gateway, currency, balance_minor, may_go_negative, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (name) DO NOTHING",
            [
                id.into(),
                name.clone().into(),
                account.kind.as_str().into(),
                account.owner.into(),
                account.gateway.clone().into(),
                account.currency.clone().into(),
                0i64.into(),
                account.may_go_negative().into(),
                now.into(),
            ],
        ))
        .await?;
    if inserted.rows_affected() == 1 {
        return Ok(id);
    }
    account_id(txn, &name).await?.ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "ledger account {name} conflicted but is not there"
        ))
    })
}

async fn account_id(db: &impl ConnectionTrait, name: &str) -> AppResult<Option<Uuid>> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT id FROM ledger_accounts WHERE name = $1",
            [name.into()],
        ))
        .await?;
    Ok(row.map(|r| r.try_get("", "id")).transpose()?)
}

/// The account's balance; 0 for an account never used.
pub async fn balance(db: &impl ConnectionTrait, account: &AccountKey) -> AppResult<i64> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT balance_minor FROM ledger_accounts WHERE name = $1",
            [account.name().into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "balance_minor"))
        .transpose()?
        .unwrap_or(0))
}

/// Balances of many accounts in one statement, by account name; an account never posted to is left out.
pub async fn balances_by_name(
    db: &impl ConnectionTrait,
    accounts: &[AccountKey],
) -> AppResult<HashMap<String, i64>> {
    if accounts.is_empty() {
        return Ok(HashMap::new());
    }
    let names: Vec<sea_orm::Value> = accounts.iter().map(|a| a.name().into()).collect();
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

fn account_from_row(row: &QueryResult) -> AppResult<AccountKey> {
    let raw: String = row.try_get("", "kind")?;
    let kind = AccountKind::parse(&raw)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown ledger account kind {raw}")))?;
    Ok(AccountKey {
        kind,
        owner: row.try_get("", "owner_id")?,
        gateway: row.try_get("", "gateway")?,
        currency: row.try_get("", "currency")?,
    })
}

/// Every account in `currency` with its cached balance, ordered by account name.
pub async fn balances(
    db: &impl ConnectionTrait,
    currency: &str,
) -> AppResult<Vec<(AccountKey, i64)>> {
    let rows = db
        .query_all_raw(stmt(
            db.get_database_backend(),
            "SELECT kind, owner_id, gateway, currency, balance_minor FROM ledger_accounts \
             WHERE currency = $1 ORDER BY name",
            [currency.to_ascii_uppercase().into()],
        ))
        .await?;
    rows.iter()
        .map(|row| Ok((account_from_row(row)?, row.try_get("", "balance_minor")?)))
        .collect()
}

/// One posting on an owner's account, with the transaction it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerPosting {
    pub posting_id: Uuid,
    pub transaction_id: Uuid,
    /// The transaction's kind (PAYMENT, RELEASE, ...).
    pub transaction_kind: String,
    pub booking_id: Option<Uuid>,
    pub reference: Option<String>,
    pub memo: Option<String>,
    pub account: AccountKey,
    pub amount_minor: i64,
    pub created_at: DateTime<Utc>,
}

/// The movements on accounts owned by `owner` (a technician's user id, or a booking for its
/// escrow), of the given kinds (every kind when empty), oldest first and newest last.
pub async fn postings_for_owner(
    db: &impl ConnectionTrait,
    owner: Uuid,
    kinds: &[AccountKind],
) -> AppResult<Vec<OwnerPosting>> {
    let mut values: Vec<Value> = vec![owner.into()];
    let mut sql = String::from(
        "SELECT p.id AS posting_id, p.amount_minor, p.created_at, t.id AS transaction_id, \
         t.kind AS transaction_kind, t.booking_id, t.reference, t.memo, \
         a.kind, a.owner_id, a.gateway, a.currency \
         FROM ledger_postings p \
         JOIN ledger_accounts a ON a.id = p.account_id \
         JOIN ledger_transactions t ON t.id = p.transaction_id \
         WHERE a.owner_id = $1",
    );
    if !kinds.is_empty() {
        let placeholders: Vec<String> = kinds
            .iter()
            .map(|k| {
                values.push(k.as_str().into());
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
            Ok(OwnerPosting {
                posting_id: row.try_get("", "posting_id")?,
                transaction_id: row.try_get("", "transaction_id")?,
                transaction_kind: row.try_get("", "transaction_kind")?,
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

/// What a clean ledger holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyReport {
    pub accounts: i64,
    pub transactions: i64,
    pub postings: i64,
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ledger ok: {} accounts, {} transactions, {} postings; every transaction balances, \
             no account is overdrawn, settled escrows are empty, cached balances match and unmatched \
             funds equal the open unmatched receipts",
            self.accounts, self.transactions, self.postings
        )
    }
}

/// The first invariant found broken, with what broke it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokenInvariant {
    /// A transaction has fewer than two postings.
    TooFewPostings { transaction_id: Uuid, postings: i64 },
    /// A transaction's postings in one currency do not sum to zero.
    UnbalancedTransaction {
        transaction_id: Uuid,
        currency: String,
        sum: i64,
    },
    /// An account that may not go negative has postings summing below zero.
    NegativeBalance { account: String, balance: i64 },
    /// A booking is settled (paid out, refunded or cancelled) yet money is still in its escrow.
    EscrowNotEmpty {
        account: String,
        booking_status: String,
        balance: i64,
    },
    /// An account's cached balance differs from the sum of its postings.
    CachedBalanceMismatch {
        account: String,
        cached: i64,
        posted: i64,
    },
    /// The money held for unmatched receipts differs from what the OPEN receipts add up to.
    UnmatchedFundsMismatch {
        currency: String,
        held: i64,
        open: i64,
    },
}

impl BrokenInvariant {
    /// A stable name for scripts and alerts.
    pub fn code(&self) -> &'static str {
        match self {
            BrokenInvariant::TooFewPostings { .. } => "TOO_FEW_POSTINGS",
            BrokenInvariant::UnbalancedTransaction { .. } => "UNBALANCED_TRANSACTION",
            BrokenInvariant::NegativeBalance { .. } => "NEGATIVE_BALANCE",
            BrokenInvariant::EscrowNotEmpty { .. } => "ESCROW_NOT_EMPTY",
            BrokenInvariant::CachedBalanceMismatch { .. } => "CACHED_BALANCE_MISMATCH",
            BrokenInvariant::UnmatchedFundsMismatch { .. } => "UNMATCHED_FUNDS_MISMATCH",
        }
    }
}

impl fmt::Display for BrokenInvariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.code())?;
        match self {
            BrokenInvariant::TooFewPostings {
                transaction_id,
                postings,
            } => write!(
                f,
                "transaction {transaction_id} has {postings} posting(s), needs at least two"
            ),
            BrokenInvariant::UnbalancedTransaction {
                transaction_id,
                currency,
                sum,
            } => write!(
                f,
                "transaction {transaction_id} sums to {sum} in {currency}, not zero"
            ),
            BrokenInvariant::NegativeBalance { account, balance } => {
                write!(f, "{account} is at {balance}, below zero")
            }
            BrokenInvariant::EscrowNotEmpty {
                account,
                booking_status,
                balance,
            } => write!(
                f,
                "{account} still holds {balance} though the booking is {booking_status}"
            ),
            BrokenInvariant::CachedBalanceMismatch {
                account,
                cached,
                posted,
            } => write!(
                f,
                "{account} caches a balance of {cached} but its postings sum to {posted}"
            ),
            BrokenInvariant::UnmatchedFundsMismatch {
                currency,
                held,
                open,
            } => write!(
                f,
                "UNMATCHED_FUNDS:{currency} holds {held} but the open unmatched receipts add up to {open}"
            ),
        }
    }
}

/// Booking statuses after which nothing may be left in escrow.
const SETTLED: [Status; 3] = [Status::Paid, Status::Refunded, Status::Cancelled];

/// Recomputes everything from the postings and returns the first broken invariant, checked in this
/// order: every transaction has two or more postings summing to zero per currency; no account that
/// may not go negative sums below zero; the escrow of every PAID, REFUNDED or CANCELLED booking is
/// empty; every cached balance equals the sum of its postings; in every currency UNMATCHED_FUNDS
/// holds exactly what the OPEN unmatched receipts add up to. Sums are cast to BIGINT because
/// PostgreSQL's SUM over bigint is numeric.
pub async fn verify(db: &impl ConnectionTrait) -> AppResult<Result<VerifyReport, BrokenInvariant>> {
    let backend = db.get_database_backend();

    if let Some(row) = db
        .query_one_raw(stmt(
            backend,
            "SELECT t.id, COUNT(p.id) AS n FROM ledger_transactions t \
             LEFT JOIN ledger_postings p ON p.transaction_id = t.id \
             GROUP BY t.id HAVING COUNT(p.id) < 2 ORDER BY t.id LIMIT 1",
            [],
        ))
        .await?
    {
        return Ok(Err(BrokenInvariant::TooFewPostings {
            transaction_id: row.try_get("", "id")?,
            postings: row.try_get("", "n")?,
        }));
    }

    if let Some(row) = db
        .query_one_raw(stmt(
            backend,
            "SELECT p.transaction_id, a.currency, CAST(SUM(p.amount_minor) AS BIGINT) AS total \
             FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id \
             GROUP BY p.transaction_id, a.currency HAVING SUM(p.amount_minor) <> 0 \
             ORDER BY p.transaction_id LIMIT 1",
            [],
        ))
        .await?
    {
        return Ok(Err(BrokenInvariant::UnbalancedTransaction {
            transaction_id: row.try_get("", "transaction_id")?,
            currency: row.try_get("", "currency")?,
            sum: row.try_get("", "total")?,
        }));
    }

    // Which kinds may not go negative comes from the domain rule, not the stored flag.
    let guarded: Vec<Value> = AccountKind::ALL
        .into_iter()
        .filter(|k| !k.may_go_negative())
        .map(|k| k.as_str().into())
        .collect();
    let placeholders: Vec<String> = (1..=guarded.len()).map(|i| format!("${i}")).collect();
    if let Some(row) = db
        .query_one_raw(stmt(
            backend,
            &format!(
                "SELECT a.name, CAST(SUM(p.amount_minor) AS BIGINT) AS total \
                 FROM ledger_accounts a JOIN ledger_postings p ON p.account_id = a.id \
                 WHERE a.kind IN ({}) GROUP BY a.id, a.name HAVING SUM(p.amount_minor) < 0 \
                 ORDER BY a.name LIMIT 1",
                placeholders.join(", ")
            ),
            guarded,
        ))
        .await?
    {
        return Ok(Err(BrokenInvariant::NegativeBalance {
            account: row.try_get("", "name")?,
            balance: row.try_get("", "total")?,
        }));
    }

    let mut values: Vec<Value> = vec![AccountKind::Escrow.as_str().into()];
    values.extend(SETTLED.iter().map(|s| Value::from(s.as_str())));
    if let Some(row) = db
        .query_one_raw(stmt(
            backend,
            "SELECT a.name, b.status, CAST(SUM(p.amount_minor) AS BIGINT) AS total \
             FROM ledger_accounts a \
             JOIN bookings b ON b.id = a.owner_id \
             JOIN ledger_postings p ON p.account_id = a.id \
             WHERE a.kind = $1 AND b.status IN ($2, $3, $4) \
             GROUP BY a.id, a.name, b.status HAVING SUM(p.amount_minor) <> 0 \
             ORDER BY a.name LIMIT 1",
            values,
        ))
        .await?
    {
        return Ok(Err(BrokenInvariant::EscrowNotEmpty {
            account: row.try_get("", "name")?,
            booking_status: row.try_get("", "status")?,
            balance: row.try_get("", "total")?,
        }));
    }

    if let Some(row) = db
        .query_one_raw(stmt(
            backend,
            "SELECT a.name, a.balance_minor, CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) AS total \
             FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id \
             GROUP BY a.id, a.name, a.balance_minor \
             HAVING a.balance_minor <> COALESCE(SUM(p.amount_minor), 0) \
             ORDER BY a.name LIMIT 1",
            [],
        ))
        .await?
    {
        return Ok(Err(BrokenInvariant::CachedBalanceMismatch {
            account: row.try_get("", "name")?,
            cached: row.try_get("", "balance_minor")?,
            posted: row.try_get("", "total")?,
        }));
    }

    if let Some(m) = unmatched_mismatch(db).await? {
        return Ok(Err(BrokenInvariant::UnmatchedFundsMismatch {
            currency: m.currency,
            held: m.held,
            open: m.open,
        }));
    }

    let row = db
        .query_one_raw(stmt(
            backend,
            "SELECT (SELECT COUNT(*) FROM ledger_accounts) AS accounts, \
             (SELECT COUNT(*) FROM ledger_transactions) AS transactions, \
             (SELECT COUNT(*) FROM ledger_postings) AS postings",
            [],
        ))
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("ledger counts returned no row")))?;
    Ok(Ok(VerifyReport {
        accounts: row.try_get("", "accounts")?,
        transactions: row.try_get("", "transactions")?,
        postings: row.try_get("", "postings")?,
    }))
}

/// The ledger check: in every currency UNMATCHED_FUNDS, summed from its postings, holds exactly
/// what the OPEN receipts add up to. Sums are cast to BIGINT (PostgreSQL's SUM over bigint is numeric).
async fn unmatched_mismatch(
    db: &impl ConnectionTrait,
) -> AppResult<Option<crate::domain::unmatched::UnmatchedMismatch>> {
    let backend = db.get_database_backend();
    let held = db
        .query_all_raw(stmt(
            backend,
            "SELECT a.currency, CAST(COALESCE(SUM(p.amount_minor), 0) AS BIGINT) AS total \
             FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id \
             WHERE a.kind = $1 GROUP BY a.currency",
            [AccountKind::UnmatchedFunds.as_str().into()],
        ))
        .await?;
    let open = db
        .query_all_raw(stmt(
            backend,
            "SELECT currency, CAST(SUM(amount_minor) AS BIGINT) AS total \
             FROM unmatched_receipts WHERE status = $1 GROUP BY currency",
            [crate::domain::unmatched::ReceiptStatus::Open
                .as_str()
                .into()],
        ))
        .await?;
    let sums = |rows: Vec<sea_orm::QueryResult>| -> AppResult<Vec<(String, i64)>> {
        rows.iter()
            .map(|r| Ok((r.try_get("", "currency")?, r.try_get("", "total")?)))
            .collect()
    };
    Ok(crate::domain::unmatched::first_mismatch(
        &sums(held)?,
        &sums(open)?,
    ))
}

/// [`verify`] over one consistent snapshot, so entries committed while it runs cannot make a sound
/// ledger look broken. PostgreSQL needs REPEATABLE READ for that (READ COMMITTED gives each query its
/// own snapshot); a SQLite read transaction in WAL mode already reads one snapshot.
pub async fn verify_snapshot(
    db: &DatabaseConnection,
) -> AppResult<Result<VerifyReport, BrokenInvariant>> {
    let options = match db.get_database_backend() {
        DbBackend::Postgres => TransactionOptions {
            isolation_level: Some(IsolationLevel::RepeatableRead),
            access_mode: Some(AccessMode::ReadOnly),
            ..Default::default()
        },
        _ => TransactionOptions::default(),
    };
    let txn = db.begin_with_options(options).await?;
    let outcome = verify(&txn).await?;
    txn.rollback().await?;
    Ok(outcome)
}

/// Every account in a currency with its balance, for the admin console. ADMIN only: the ledger
/// names every technician's earnings.
pub async fn admin_balances(
    services: &Services,
    viewer: &Viewer,
    currency: &str,
) -> AppResult<Vec<(AccountKey, i64)>> {
    viewer.require_role(&[Role::Admin])?;
    let currency = crate::services::catalogue::categories::check_currency(currency, "currency")?;
    balances(&services.db, &currency).await
}

/// The ledger's health for the admin console: `Ok` with counts, or the first broken invariant. ADMIN only.
pub async fn admin_health(
    services: &Services,
    viewer: &Viewer,
) -> AppResult<Result<VerifyReport, BrokenInvariant>> {
    viewer.require_role(&[Role::Admin])?;
    verify_snapshot(&services.db).await
}
