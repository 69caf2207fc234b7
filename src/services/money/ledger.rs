//! The ledger on disk: posting balanced journal entries inside a caller's transaction, reading
//! balances and a technician's movements, and re-checking every invariant from the raw postings.
//!
//! Transactions and postings are append-only: there is no function here (or anywhere) that updates
//! or deletes them; a mistake is corrected by a new, reversing entry. Each account caches its
//! balance so that "never below zero" is one conditional UPDATE on one row, which serialises
//! concurrent withdrawals on SQLite (one writer at a time) and on PostgreSQL (the second UPDATE
//! waits for the first to commit and then re-checks its WHERE clause against the new balance).

use crate::db::money::ledger as store;
use crate::domain::account::Role;
use crate::domain::booking_state::Status;
use crate::domain::ledger::{
    AccountKey, AccountKind, Posting, TransactionKind, check_balanced, net_changes,
};
use crate::domain::money::Currency;
use crate::error::{AppError, AppResult};
use crate::services::{Services, Viewer};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::collections::HashMap;
use std::fmt;
use uuid::Uuid;

/// One journal entry to post: what it is, what it is about, and its balanced postings.
#[derive(Debug, Clone)]
pub struct JournalEntry {
    pub kind: TransactionKind,
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
    let id = Uuid::now_v7();
    // The reference's unique index decides idempotency. ON CONFLICT DO NOTHING instead of catching
    // the violation, because on PostgreSQL a failed statement aborts the caller's whole transaction.
    let inserted = store::insert_transaction(
        txn,
        store::NewTransaction {
            id,
            kind: entry.kind,
            booking_id: entry.booking_id,
            reference: entry.reference.clone(),
            memo: entry.memo.clone(),
            created_at: now,
        },
    )
    .await?;
    if inserted == 0 {
        let reference = entry.reference.clone().unwrap_or_default();
        return store::transaction_id_by_reference(txn, &reference)
            .await?
            .ok_or_else(|| {
                AppError::internal(anyhow::anyhow!(
                    "ledger reference {reference} conflicted but is not there"
                ))
            });
    }

    let changes = net_changes(&entry.postings);
    let mut account_ids: HashMap<String, Uuid> = HashMap::with_capacity(changes.len());
    for (account, _) in &changes {
        account_ids.insert(account.name(), ensure_account(txn, account, now).await?);
    }
    // Balances that may refuse first, in name order: a refusal comes before any posting is written,
    // and two entries over the same accounts take their row locks in the same order. A clearing
    // account never refuses but is one row every payment through its gateway moves, locked from its
    // update until commit: it moves last (still in name order), after the postings are written.
    let (never_refused, may_refuse): (Vec<_>, Vec<_>) = changes
        .iter()
        .filter(|(_, change)| *change != 0)
        .partition(|(account, _)| account.may_go_negative());
    for (account, change) in &may_refuse {
        move_balance(txn, account, account_ids[&account.name()], *change, now).await?;
    }
    for posting in &entry.postings {
        store::insert_posting(
            txn,
            Uuid::now_v7(),
            id,
            account_ids[&posting.account.name()],
            posting.amount_minor,
            now,
        )
        .await?;
    }
    for (account, change) in &never_refused {
        move_balance(txn, account, account_ids[&account.name()], *change, now).await?;
    }
    Ok(id)
}

/// Moves one account's cached balance; `CONFLICT` when an account that may not go negative would.
async fn move_balance(
    txn: &impl ConnectionTrait,
    account: &AccountKey,
    id: Uuid,
    change: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let moved = store::move_balance(txn, id, change, account.may_go_negative(), now).await?;
    if moved != 1 {
        return Err(AppError::Conflict(format!(
            "insufficient funds in {}",
            account.name()
        )));
    }
    Ok(())
}

/// The account's id, creating it with a zero balance on first use. A concurrent first use of the
/// same account is absorbed by the unique `name`: one insert wins, the other reads its row.
async fn ensure_account(
    txn: &impl ConnectionTrait,
    account: &AccountKey,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let name = account.name();
    if let Some(id) = store::account_id(txn, &name).await? {
        return Ok(id);
    }
    let id = Uuid::now_v7();
    let inserted = store::insert_account(
        txn,
        store::NewAccount {
            id,
            name: &name,
            kind: account.kind,
            owner: account.owner,
            gateway: account.gateway.clone(),
            currency: account.currency,
            may_go_negative: account.may_go_negative(),
            now,
        },
    )
    .await?;
    if inserted == 1 {
        return Ok(id);
    }
    store::account_id(txn, &name).await?.ok_or_else(|| {
        AppError::internal(anyhow::anyhow!(
            "ledger account {name} conflicted but is not there"
        ))
    })
}

/// The account's balance; 0 for an account never used.
pub async fn balance(db: &impl ConnectionTrait, account: &AccountKey) -> AppResult<i64> {
    Ok(store::balance(db, &account.name()).await?.unwrap_or(0))
}

/// Balances of many accounts in one statement, by account name; an account never posted to is left out.
pub async fn balances_by_name(
    db: &impl ConnectionTrait,
    accounts: &[AccountKey],
) -> AppResult<HashMap<String, i64>> {
    if accounts.is_empty() {
        return Ok(HashMap::new());
    }
    let names: Vec<String> = accounts.iter().map(|a| a.name()).collect();
    Ok(store::balances_by_name(db, &names)
        .await?
        .into_iter()
        .collect())
}

fn account_key(stored: store::StoredAccount) -> AccountKey {
    AccountKey {
        kind: stored.kind,
        owner: stored.owner,
        gateway: stored.gateway,
        currency: stored.currency,
    }
}

/// Every account in `currency` with its cached balance, ordered by account name.
pub async fn balances(
    db: &impl ConnectionTrait,
    currency: Currency,
) -> AppResult<Vec<(AccountKey, i64)>> {
    Ok(store::balances(db, currency)
        .await?
        .into_iter()
        .map(|(account, balance)| (account_key(account), balance))
        .collect())
}

/// One posting on an owner's account, with the transaction it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerPosting {
    pub posting_id: Uuid,
    pub transaction_id: Uuid,
    pub transaction_kind: TransactionKind,
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
    Ok(store::postings_for_owner(db, owner, kinds)
        .await?
        .into_iter()
        .map(|p| OwnerPosting {
            posting_id: p.posting_id,
            transaction_id: p.transaction_id,
            transaction_kind: p.transaction_kind,
            booking_id: p.booking_id,
            reference: p.reference,
            memo: p.memo,
            account: account_key(p.account),
            amount_minor: p.amount_minor,
            created_at: p.created_at,
        })
        .collect())
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
    if let Some((transaction_id, postings)) = store::first_with_too_few_postings(db).await? {
        return Ok(Err(BrokenInvariant::TooFewPostings {
            transaction_id,
            postings,
        }));
    }

    if let Some((transaction_id, currency, sum)) = store::first_unbalanced(db).await? {
        return Ok(Err(BrokenInvariant::UnbalancedTransaction {
            transaction_id,
            currency,
            sum,
        }));
    }

    // Which kinds may not go negative comes from the domain rule, not the stored flag.
    let guarded: Vec<AccountKind> = AccountKind::ALL
        .into_iter()
        .filter(|k| !k.may_go_negative())
        .collect();
    if let Some((account, balance)) = store::first_negative(db, &guarded).await? {
        return Ok(Err(BrokenInvariant::NegativeBalance { account, balance }));
    }

    if let Some((account, booking_status, balance)) =
        store::first_escrow_not_empty(db, AccountKind::Escrow, SETTLED).await?
    {
        return Ok(Err(BrokenInvariant::EscrowNotEmpty {
            account,
            booking_status,
            balance,
        }));
    }

    if let Some((account, cached, posted)) = store::first_cached_mismatch(db).await? {
        return Ok(Err(BrokenInvariant::CachedBalanceMismatch {
            account,
            cached,
            posted,
        }));
    }

    if let Some(m) = unmatched_mismatch(db).await? {
        return Ok(Err(BrokenInvariant::UnmatchedFundsMismatch {
            currency: m.currency,
            held: m.held,
            open: m.open,
        }));
    }

    let (accounts, transactions, postings) = store::counts(db)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("ledger counts returned no row")))?;
    Ok(Ok(VerifyReport {
        accounts,
        transactions,
        postings,
    }))
}

/// The ledger check: in every currency UNMATCHED_FUNDS, summed from its postings, holds exactly
/// what the OPEN receipts add up to. Sums are cast to BIGINT (PostgreSQL's SUM over bigint is numeric).
async fn unmatched_mismatch(
    db: &impl ConnectionTrait,
) -> AppResult<Option<crate::domain::unmatched::UnmatchedMismatch>> {
    let held = store::posted_by_currency(db, AccountKind::UnmatchedFunds).await?;
    let open =
        store::unmatched_receipts_by_currency(db, crate::domain::unmatched::ReceiptStatus::Open)
            .await?;
    Ok(crate::domain::unmatched::first_mismatch(&held, &open))
}

/// [`verify`] over one consistent snapshot, so entries committed while it runs cannot make a sound
/// ledger look broken. PostgreSQL needs REPEATABLE READ for that (READ COMMITTED gives each query its
/// own snapshot); a SQLite read transaction in WAL mode already reads one snapshot.
pub async fn verify_snapshot(
    db: &DatabaseConnection,
) -> AppResult<Result<VerifyReport, BrokenInvariant>> {
    let txn = store::begin_snapshot(db).await?;
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
    balances(&services.db, currency).await
}

/// The ledger's health for the admin console: `Ok` with counts, or the first broken invariant. ADMIN only.
pub async fn admin_health(
    services: &Services,
    viewer: &Viewer,
) -> AppResult<Result<VerifyReport, BrokenInvariant>> {
    viewer.require_role(&[Role::Admin])?;
    verify_snapshot(&services.db).await
}
