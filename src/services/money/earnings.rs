//! A technician's earnings read from the ledger: per-period series (`myEarnings`), current
//! balances, the line-by-line statement of their accounts (`earningsStatement`), and the net
//! figures the technician dashboard shows. Period rules live in `domain::earnings`.
//!
//! Definitions (the README repeats them for API users):
//! - net: every change to the technician's pending plus available earnings, except the internal
//!   moves EARNINGS_AVAILABLE (pending -> available), WITHDRAWAL (available -> payout in flight)
//!   and WITHDRAWAL_RETURNED (back). So releases, tips, cancellation-fee shares, dispute outcomes
//!   and claw-backs all count; withdrawing or being paid out does not change what was earned.
//! - a job counts in the period of its booking's first RELEASE; gross is that release's
//!   technician share plus the platform's share (tax excluded); platformFee is the platform's share.
//!   A RELEASE on a CANCELLED booking is a cancellation-fee share: net only, not a job.
//! - lifetime: the all-time net.
//! - currency: the one asked for; otherwise the one the technician's accounts use; when they use
//!   several, the technician's rate currency if it is one of them, else the one with the most
//!   postings (ties alphabetically); with no accounts yet, the rate currency.

use crate::db::money::ledger as ledger_store;
use crate::domain::account::Role;
use crate::domain::booking_state::Status;
use crate::domain::earnings::{
    Bucket, Earning, Movement, Period, RangeError, Totals, buckets, net, summarize,
};
use crate::domain::ledger::{AccountKey, AccountKind, TransactionKind};
use crate::domain::money::Currency;
use crate::error::{AppError, AppResult};
use crate::services::money::ledger::{self as ledger_service, OwnerPosting};
use crate::services::technicians::technician;
use crate::services::{Services, Viewer};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use sea_orm::ConnectionTrait;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// The longest statement one request may ask for: a leap year, so one answer stays bounded.
pub const MAX_STATEMENT_DAYS: i64 = 366;

/// Entries that move money between the technician's own accounts, or pay out what was already
/// earned: never a change in earnings. PAYOUT never touches pending or available; it is listed so
/// that rule does not rest on that.
const INTERNAL: [TransactionKind; 4] = [
    TransactionKind::EarningsAvailable,
    TransactionKind::Withdrawal,
    TransactionKind::WithdrawalReturned,
    TransactionKind::Payout,
];

/// The accounts whose changes are earnings; payout in flight is money already earned.
const EARNING_ACCOUNTS: [AccountKind; 2] = [
    AccountKind::TechnicianPending,
    AccountKind::TechnicianAvailable,
];

const ALL_ACCOUNTS: [AccountKind; 3] = [
    AccountKind::TechnicianPending,
    AccountKind::TechnicianAvailable,
    AccountKind::TechnicianPayoutInFlight,
];

/// Current balances of a technician's three accounts in one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Balances {
    pub pending: i64,
    pub available: i64,
    pub in_payout: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Earnings {
    pub currency: Currency,
    /// The IANA zone the periods were cut in.
    pub time_zone: String,
    pub balances: Balances,
    pub lifetime_minor: i64,
    pub series: Vec<(Bucket, Totals)>,
}

/// One movement on one of the technician's accounts, with the account's balance after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    pub at: DateTime<Utc>,
    pub kind: TransactionKind,
    pub booking_id: Option<Uuid>,
    pub account: AccountKind,
    pub amount_minor: i64,
    pub balance_after_minor: i64,
    pub memo: Option<String>,
}

/// One account's reconciliation: `opening + credits + debits == closing` (debits are negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountTotals {
    pub account: AccountKind,
    pub opening_minor: i64,
    pub credits_minor: i64,
    pub debits_minor: i64,
    pub closing_minor: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub currency: Currency,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The three accounts together.
    pub opening_minor: i64,
    pub closing_minor: i64,
    pub lines: Vec<StatementLine>,
    /// Pending, available and payout in flight, in that order, always all three.
    pub totals: Vec<AccountTotals>,
}

/// Net earnings in the local day, week and month containing now, for the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentNet {
    pub currency: Currency,
    pub today_minor: i64,
    pub this_week_minor: i64,
    pub this_month_minor: i64,
}

/// The signed-in technician's earnings per period between `from` and `to` (see the module docs
/// for what each figure means). TECHNICIAN only.
pub async fn my_earnings(
    services: &Services,
    viewer: &Viewer,
    period: Period,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    currency: Option<&str>,
) -> AppResult<Earnings> {
    viewer.require_role(&[Role::Technician])?;
    let db = &services.db;
    let (tz, currency) = context(db, viewer.user_id, currency).await?;
    let periods = buckets(period, tz, from, to).map_err(range_error)?;
    let movements = movements(db, viewer.user_id, currency).await?;
    let totals = summarize(&periods, &movements);
    Ok(Earnings {
        balances: balances(db, viewer.user_id, currency).await?,
        lifetime_minor: net(&movements),
        series: periods.into_iter().zip(totals).collect(),
        time_zone: tz.name().to_string(),
        currency,
    })
}

/// Every movement on the signed-in technician's three accounts in `[from, to)`, with opening and
/// closing balances that reconcile exactly. TECHNICIAN only, and only their own accounts.
pub async fn statement(
    services: &Services,
    viewer: &Viewer,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    currency: Option<&str>,
) -> AppResult<Statement> {
    viewer.require_role(&[Role::Technician])?;
    if to < from {
        return Err(AppError::bad_input("to", "to must not be before from"));
    }
    if to - from > Duration::days(MAX_STATEMENT_DAYS) {
        return Err(AppError::bad_input(
            "to",
            format!("a statement covers at most {MAX_STATEMENT_DAYS} days"),
        ));
    }
    let db = &services.db;
    let (_, currency) = context(db, viewer.user_id, currency).await?;
    let postings: Vec<OwnerPosting> =
        ledger_service::postings_for_owner(db, viewer.user_id, &ALL_ACCOUNTS)
            .await?
            .into_iter()
            .filter(|p| p.account.currency == currency && p.created_at < to)
            .collect();
    Ok(build_statement(currency, from, to, &postings))
}

/// The dashboard's net earnings for the local day, week and month containing now, computed like
/// `myEarnings` in the technician's default currency.
pub async fn current_net(
    db: &impl ConnectionTrait,
    technician: Uuid,
    now: DateTime<Utc>,
) -> AppResult<CurrentNet> {
    let (tz, currency) = context(db, technician, None).await?;
    let movements = movements(db, technician, currency).await?;
    let current = |period: Period| {
        let start = period.start_containing(tz, now);
        let bucket = buckets(period, tz, start, start)
            .ok()
            .and_then(|b| b.first().copied());
        bucket.map_or(0, |b| summarize(&[b], &movements)[0].net_minor)
    };
    Ok(CurrentNet {
        today_minor: current(Period::Day),
        this_week_minor: current(Period::Week),
        this_month_minor: current(Period::Month),
        currency,
    })
}

fn range_error(e: RangeError) -> AppError {
    match e {
        RangeError::Reversed => AppError::bad_input("to", "to must not be before from"),
        RangeError::TooLong { max } => AppError::bad_input(
            "to",
            format!(
                "the range covers more than {max} periods; ask for a shorter one or a longer period"
            ),
        ),
    }
}

/// The technician's time zone and the currency to report in (see the module docs).
async fn context(
    db: &impl ConnectionTrait,
    technician: Uuid,
    asked: Option<&str>,
) -> AppResult<(Tz, Currency)> {
    let profile = technician::profile(db, technician).await?;
    // Profiles are checked on the way in; an old unparseable value falls back like matching does.
    let tz: Tz = profile
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Africa::Nairobi);
    let currency = match asked {
        Some(raw) => crate::services::catalogue::categories::check_currency(raw, "currency")?,
        None => {
            let used = posting_counts(db, technician).await?;
            default_currency(profile.currency, &used)
        }
    };
    Ok((tz, currency))
}

/// The currency to report in when none was asked for, from how many postings the technician's
/// accounts have in each currency.
fn default_currency(rate: Currency, used: &BTreeMap<Currency, i64>) -> Currency {
    if used.is_empty() || used.contains_key(&rate) {
        return rate;
    }
    // BTreeMap iterates alphabetically and max_by_key keeps the last maximum, so reverse to let
    // the alphabetically first of equal counts win.
    used.iter()
        .rev()
        .max_by_key(|(_, n)| **n)
        .map(|(c, _)| *c)
        .unwrap_or(rate)
}

/// How many postings the technician's accounts hold per currency.
async fn posting_counts(
    db: &impl ConnectionTrait,
    technician: Uuid,
) -> AppResult<BTreeMap<Currency, i64>> {
    let accounts = ledger_store::posting_counts_by_account(
        db,
        technician,
        [
            AccountKind::TechnicianPending,
            AccountKind::TechnicianAvailable,
            AccountKind::TechnicianPayoutInFlight,
        ],
    )
    .await?;
    let mut used = BTreeMap::new();
    for (currency, postings) in accounts {
        *used.entry(currency).or_default() += postings;
    }
    Ok(used)
}

async fn balances(
    db: &impl ConnectionTrait,
    technician: Uuid,
    currency: Currency,
) -> AppResult<Balances> {
    Ok(Balances {
        pending: ledger_service::balance(db, &AccountKey::technician_pending(technician, currency))
            .await?,
        available: ledger_service::balance(
            db,
            &AccountKey::technician_available(technician, currency),
        )
        .await?,
        in_payout: ledger_service::balance(db, &AccountKey::payout_in_flight(technician, currency))
            .await?,
    })
}

/// What one RELEASE the technician shared in looked like from the other side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReleaseInfo {
    platform_minor: i64,
    /// Released because the booking was cancelled: a cancellation-fee share, not a job.
    cancellation: bool,
}

/// Every change to the technician's earnings in `currency`, oldest first.
async fn movements(
    db: &impl ConnectionTrait,
    technician: Uuid,
    currency: Currency,
) -> AppResult<Vec<Movement>> {
    let postings = ledger_service::postings_for_owner(db, technician, &EARNING_ACCOUNTS).await?;
    let releases = releases(db, technician, currency).await?;
    Ok(postings
        .iter()
        .filter(|p| p.account.currency == currency)
        .filter_map(|p| classify(p, &releases))
        .collect())
}

/// The platform's share of each RELEASE that paid the technician, and whether its booking was
/// cancelled. The platform's posting is on the platform's account, not the technician's, so it
/// is found through the transaction.
async fn releases(
    db: &impl ConnectionTrait,
    technician: Uuid,
    currency: Currency,
) -> AppResult<HashMap<Uuid, ReleaseInfo>> {
    Ok(ledger_store::shared_transactions(
        db,
        technician,
        AccountKind::TechnicianPending,
        AccountKind::PlatformRevenue,
        currency,
        TransactionKind::Release,
    )
    .await?
    .into_iter()
    .map(|t| {
        (
            t.transaction_id,
            ReleaseInfo {
                platform_minor: t.platform_minor,
                cancellation: t.booking_status == Some(Status::Cancelled),
            },
        )
    })
    .collect())
}

/// What a posting on the technician's accounts means for their earnings; None when it is not a
/// change in earnings (an internal move, or an account outside pending and available).
fn classify(p: &OwnerPosting, releases: &HashMap<Uuid, ReleaseInfo>) -> Option<Movement> {
    if !EARNING_ACCOUNTS.contains(&p.account.kind) || INTERNAL.contains(&p.transaction_kind) {
        return None;
    }
    let earning = match p.transaction_kind {
        TransactionKind::Release => match (p.booking_id, releases.get(&p.transaction_id)) {
            (Some(booking), Some(info)) if !info.cancellation => Earning::Job {
                booking,
                platform_fee_minor: info.platform_minor,
            },
            _ => Earning::Adjustment,
        },
        TransactionKind::Tip => Earning::Tip,
        _ => Earning::Adjustment,
    };
    Some(Movement {
        at: p.created_at,
        amount_minor: p.amount_minor,
        earning,
    })
}

/// Builds the statement for `[from, to)` from every posting before `to` (oldest first).
fn build_statement(
    currency: Currency,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    postings: &[OwnerPosting],
) -> Statement {
    let mut running: HashMap<AccountKind, i64> = HashMap::new();
    let mut totals: Vec<AccountTotals> = ALL_ACCOUNTS
        .iter()
        .map(|&account| AccountTotals {
            account,
            opening_minor: 0,
            credits_minor: 0,
            debits_minor: 0,
            closing_minor: 0,
        })
        .collect();
    let mut lines = Vec::new();
    for p in postings.iter().filter(|p| p.created_at < to) {
        let balance = running.entry(p.account.kind).or_default();
        *balance = balance.saturating_add(p.amount_minor);
        let Some(t) = totals.iter_mut().find(|t| t.account == p.account.kind) else {
            continue;
        };
        if p.created_at < from {
            t.opening_minor = *balance;
            continue;
        }
        if p.amount_minor >= 0 {
            t.credits_minor = t.credits_minor.saturating_add(p.amount_minor);
        } else {
            t.debits_minor = t.debits_minor.saturating_add(p.amount_minor);
        }
        lines.push(StatementLine {
            at: p.created_at,
            kind: p.transaction_kind,
            booking_id: p.booking_id,
            account: p.account.kind,
            amount_minor: p.amount_minor,
            balance_after_minor: *balance,
            memo: p.memo.clone(),
        });
    }
    for t in &mut totals {
        t.closing_minor = t.opening_minor + t.credits_minor + t.debits_minor;
    }
    Statement {
        opening_minor: totals.iter().map(|t| t.opening_minor).sum(),
        closing_minor: totals.iter().map(|t| t.closing_minor).sum(),
        currency,
        from,
        to,
        lines,
        totals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::hours(hour)
    }

    fn posting(
        hour: i64,
        kind: TransactionKind,
        transaction: u128,
        account: AccountKind,
        amount: i64,
    ) -> OwnerPosting {
        let tech = Uuid::from_u128(7);
        OwnerPosting {
            posting_id: Uuid::now_v7(),
            transaction_id: Uuid::from_u128(transaction),
            transaction_kind: kind,
            booking_id: Some(Uuid::from_u128(100 + transaction)),
            reference: None,
            memo: None,
            account: AccountKey {
                kind: account,
                owner: Some(tech),
                gateway: None,
                currency: Currency::KES,
            },
            amount_minor: amount,
            created_at: at(hour),
        }
    }

    use AccountKind::TechnicianPending as Pending;
    use AccountKind::{TechnicianAvailable as Available, TechnicianPayoutInFlight as InFlight};

    /// A released job, a tip, the hold ending, a cancellation share, a claw-back, a withdrawal
    /// requested, returned, requested again and paid out.
    fn history() -> Vec<OwnerPosting> {
        vec![
            posting(1, TransactionKind::Release, 1, Pending, 8_500),
            posting(2, TransactionKind::Tip, 2, Pending, 500),
            posting(3, TransactionKind::EarningsAvailable, 3, Pending, -9_000),
            posting(3, TransactionKind::EarningsAvailable, 3, Available, 9_000),
            posting(4, TransactionKind::Release, 4, Pending, 1_700),
            posting(5, TransactionKind::Dispute, 5, Pending, -1_000),
            posting(6, TransactionKind::Withdrawal, 6, Available, -4_000),
            posting(6, TransactionKind::Withdrawal, 6, InFlight, 4_000),
            posting(7, TransactionKind::WithdrawalReturned, 7, InFlight, -4_000),
            posting(7, TransactionKind::WithdrawalReturned, 7, Available, 4_000),
            posting(8, TransactionKind::Withdrawal, 8, Available, -3_000),
            posting(8, TransactionKind::Withdrawal, 8, InFlight, 3_000),
            posting(9, TransactionKind::Payout, 9, InFlight, -3_000),
        ]
    }

    fn releases() -> HashMap<Uuid, ReleaseInfo> {
        HashMap::from([
            (
                Uuid::from_u128(1),
                ReleaseInfo {
                    platform_minor: 1_500,
                    cancellation: false,
                },
            ),
            (
                Uuid::from_u128(4),
                ReleaseInfo {
                    platform_minor: 300,
                    cancellation: true,
                },
            ),
        ])
    }

    #[test]
    fn only_changes_in_earnings_are_movements() {
        let movements: Vec<Movement> = history()
            .iter()
            .filter_map(|p| classify(p, &releases()))
            .collect();
        let kinds: Vec<(i64, &Earning)> = movements
            .iter()
            .map(|m| (m.amount_minor, &m.earning))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (
                    8_500,
                    &Earning::Job {
                        booking: Uuid::from_u128(101),
                        platform_fee_minor: 1_500
                    }
                ),
                (500, &Earning::Tip),
                (1_700, &Earning::Adjustment),
                (-1_000, &Earning::Adjustment),
            ]
        );
        assert_eq!(
            net(&movements),
            9_700,
            "withdrawals and payouts change nothing"
        );
    }

    #[test]
    fn a_statement_reconciles_per_account() {
        let all = history();
        let s = build_statement(Currency::KES, at(3), at(9), &all);
        let by_account = |k: AccountKind| *s.totals.iter().find(|t| t.account == k).unwrap();
        assert_eq!(by_account(Pending).opening_minor, 9_000);
        assert_eq!(by_account(Pending).closing_minor, 700);
        assert_eq!(by_account(Available).opening_minor, 0);
        assert_eq!(by_account(Available).closing_minor, 6_000);
        assert_eq!(
            by_account(InFlight).closing_minor,
            3_000,
            "the payout at 9 is outside"
        );
        for t in &s.totals {
            let moved: i64 = s
                .lines
                .iter()
                .filter(|l| l.account == t.account)
                .map(|l| l.amount_minor)
                .sum();
            assert_eq!(t.opening_minor + moved, t.closing_minor, "{:?}", t.account);
            if let Some(last) = s.lines.iter().rev().find(|l| l.account == t.account) {
                assert_eq!(last.balance_after_minor, t.closing_minor);
            }
        }
        assert_eq!(s.opening_minor, 9_000);
        assert_eq!(s.closing_minor, 9_700);
        assert_eq!(s.lines.len(), 10);
        assert_eq!(s.lines[0].kind, TransactionKind::EarningsAvailable);
    }

    #[test]
    fn the_default_currency_is_the_one_in_use() {
        let currency = |code: &str| Currency::parse(code).unwrap();
        let used = |pairs: &[(&str, i64)]| -> BTreeMap<Currency, i64> {
            pairs.iter().map(|(c, n)| (currency(c), *n)).collect()
        };
        let kes = Currency::KES;
        assert_eq!(default_currency(kes, &used(&[])), kes);
        assert_eq!(default_currency(kes, &used(&[("INR", 3)])), currency("INR"));
        assert_eq!(default_currency(kes, &used(&[("INR", 9), ("KES", 1)])), kes);
        assert_eq!(
            default_currency(kes, &used(&[("USD", 2), ("INR", 2), ("EUR", 1)])),
            currency("INR")
        );
    }
}
