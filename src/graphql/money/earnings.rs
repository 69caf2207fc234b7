//! A technician's earnings over GraphQL: `myEarnings` (balances and a per-period series) and
//! `earningsStatement` (every movement on their accounts, reconciled). What each figure means is
//! documented in `services::money::earnings` and the README.

use crate::domain::earnings::Period;
use crate::domain::ledger::AccountKind;
use crate::graphql::common::Money;
use crate::graphql::context::{services, viewer};
use crate::graphql::ids::{self, Kind};
use crate::services::money::earnings as earnings_service;
use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

/// How long each bucket of an earnings series is, in the technician's own time zone.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum EarningsPeriod {
    /// From local midnight; at most 366 buckets per request.
    Day,
    /// From Monday's local midnight; at most 262 buckets (about five years).
    Week,
    /// From local midnight on the 1st; at most 60 buckets (five years).
    Month,
}

impl From<EarningsPeriod> for Period {
    fn from(p: EarningsPeriod) -> Period {
        match p {
            EarningsPeriod::Day => Period::Day,
            EarningsPeriod::Week => Period::Week,
            EarningsPeriod::Month => Period::Month,
        }
    }
}

/// One of a technician's three ledger accounts.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum EarningsAccount {
    /// Released earnings still inside the earnings hold.
    Pending,
    /// Earnings the technician may withdraw.
    Available,
    /// Requested withdrawals not yet paid out.
    InPayout,
}

impl From<AccountKind> for EarningsAccount {
    fn from(kind: AccountKind) -> EarningsAccount {
        match kind {
            AccountKind::TechnicianAvailable => EarningsAccount::Available,
            AccountKind::TechnicianPayoutInFlight => EarningsAccount::InPayout,
            // Statements only ever hold the technician's three accounts.
            _ => EarningsAccount::Pending,
        }
    }
}

/// One period of an earnings series. Amounts are in the series' currency.
#[derive(SimpleObject, Clone, Debug)]
pub struct EarningsBucket {
    /// Local midnight that begins the period, as an instant.
    pub period_start: DateTime<Utc>,
    /// Where the next period begins (exclusive).
    pub period_end: DateTime<Utc>,
    /// Bookings whose first release from escrow happened in the period.
    pub jobs: i64,
    /// What those releases paid technician and platform together, tax excluded.
    pub gross: Money,
    /// The platform's share of those releases.
    pub platform_fee: Money,
    pub tips: Money,
    /// Every change to the technician's earnings in the period: job shares, tips, cancellation-fee
    /// shares, dispute outcomes and claw-backs. Moves between their own accounts, withdrawals and
    /// payouts are not changes in earnings.
    pub net: Money,
}

/// A technician's earnings in one currency.
#[derive(SimpleObject, Clone, Debug)]
pub struct Earnings {
    /// The currency asked for; otherwise the one the technician's accounts use (their rate
    /// currency when there are several and it is one of them, else the busiest).
    pub currency: String,
    /// The IANA time zone the periods were cut in (the technician's profile).
    pub time_zone: String,
    /// Withdrawable now.
    pub available: Money,
    /// Released but still inside the earnings hold.
    pub pending: Money,
    /// Requested withdrawals on their way.
    pub in_payout: Money,
    /// All-time net: the sum of `net` over every period there has ever been.
    pub lifetime: Money,
    pub series: Vec<EarningsBucket>,
}

/// One movement on one of the technician's accounts.
#[derive(SimpleObject, Clone, Debug)]
pub struct EarningsStatementLine {
    pub at: DateTime<Utc>,
    /// The ledger entry's kind: RELEASE, TIP, EARNINGS_AVAILABLE, DISPUTE, WITHDRAWAL, PAYOUT, ...
    pub kind: String,
    /// The Booking the entry is about, if any.
    pub booking_id: Option<ID>,
    pub account: EarningsAccount,
    /// Signed: positive into the account, negative out of it.
    pub amount: Money,
    /// The account's balance right after this movement.
    pub balance_after: Money,
    pub memo: Option<String>,
}

/// One account's reconciliation over the statement: `opening + credits + debits = closing`.
#[derive(SimpleObject, Clone, Debug)]
pub struct EarningsStatementTotal {
    pub account: EarningsAccount,
    pub opening: Money,
    /// The positive lines added up.
    pub credits: Money,
    /// The negative lines added up (zero or negative).
    pub debits: Money,
    pub closing: Money,
}

/// Every movement on the technician's accounts in `[from, to)`, oldest first.
#[derive(SimpleObject, Clone, Debug)]
pub struct EarningsStatement {
    pub currency: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The three accounts together at `from`.
    pub opening_balance: Money,
    /// The three accounts together at `to`: the current balances when `to` is now or later.
    pub closing_balance: Money,
    pub lines: Vec<EarningsStatementLine>,
    /// PENDING, AVAILABLE and IN_PAYOUT, always all three.
    pub totals: Vec<EarningsStatementTotal>,
}

#[derive(Default)]
pub struct EarningsQuery;

#[Object]
impl EarningsQuery {
    /// The signed-in technician's balances and earnings per period, in their time zone, for every
    /// period from the one containing `from` to the one containing `to`. TECHNICIAN only.
    async fn my_earnings(
        &self,
        ctx: &Context<'_>,
        period: EarningsPeriod,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        currency: Option<String>,
    ) -> Result<Earnings> {
        let viewer = viewer(ctx).await?;
        let e = earnings_service::my_earnings(
            services(ctx),
            &viewer,
            period.into(),
            from,
            to,
            currency.as_deref(),
        )
        .await?;
        Ok(earnings(e))
    }

    /// Every movement on the signed-in technician's pending, available and in-payout accounts
    /// from `from` (inclusive) to `to` (exclusive, at most 366 days later). TECHNICIAN only.
    async fn earnings_statement(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        currency: Option<String>,
    ) -> Result<EarningsStatement> {
        let viewer = viewer(ctx).await?;
        let s = earnings_service::statement(services(ctx), &viewer, from, to, currency.as_deref())
            .await?;
        Ok(statement(s))
    }
}

fn earnings(e: earnings_service::Earnings) -> Earnings {
    let c = e.currency;
    let series = e
        .series
        .iter()
        .map(|(bucket, t)| EarningsBucket {
            period_start: bucket.start,
            period_end: bucket.end,
            jobs: t.jobs,
            gross: Money::new(t.gross_minor, c),
            platform_fee: Money::new(t.platform_fee_minor, c),
            tips: Money::new(t.tips_minor, c),
            net: Money::new(t.net_minor, c),
        })
        .collect();
    Earnings {
        available: Money::new(e.balances.available, c),
        pending: Money::new(e.balances.pending, c),
        in_payout: Money::new(e.balances.in_payout, c),
        lifetime: Money::new(e.lifetime_minor, c),
        series,
        time_zone: e.time_zone.clone(),
        currency: e.currency.code().to_string(),
    }
}

fn statement(s: earnings_service::Statement) -> EarningsStatement {
    let c = s.currency;
    let lines = s
        .lines
        .iter()
        .map(|l| EarningsStatementLine {
            at: l.at,
            kind: l.kind.as_str().to_owned(),
            booking_id: l.booking_id.map(|b| ids::encode(Kind::Booking, b)),
            account: l.account.into(),
            amount: Money::new(l.amount_minor, c),
            balance_after: Money::new(l.balance_after_minor, c),
            memo: l.memo.clone(),
        })
        .collect();
    let totals = s
        .totals
        .iter()
        .map(|t| EarningsStatementTotal {
            account: t.account.into(),
            opening: Money::new(t.opening_minor, c),
            credits: Money::new(t.credits_minor, c),
            debits: Money::new(t.debits_minor, c),
            closing: Money::new(t.closing_minor, c),
        })
        .collect();
    EarningsStatement {
        opening_balance: Money::new(s.opening_minor, c),
        closing_balance: Money::new(s.closing_minor, c),
        from: s.from,
        to: s.to,
        lines,
        totals,
        currency: s.currency.code().to_string(),
    }
}
