//! Ledger rules: the accounts money moves between, what makes a journal entry valid, and how a
//! released job price splits between technician, platform and tax.
//!
//! Amounts are signed integer minor units: a posting adds its amount to its account's balance. A
//! customer's payment, for example, takes money out of the gateway's clearing account (negative:
//! the gateway owes it to us) and puts it into the booking's escrow (positive). Every entry sums to
//! zero per currency, so the whole ledger always does.

use crate::domain::money::Currency;
use crate::domain::pricing::{BP_PER_WHOLE, apply_bp};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use uuid::Uuid;

/// What an account is for. Its owner and gateway are in [`AccountKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccountKind {
    /// Money a payment gateway has collected (or paid out) for us; the other side of every
    /// payment, refund and payout, so it is the one account allowed to go negative.
    GatewayClearing,
    /// A booking's money held between payment and release or refund.
    Escrow,
    /// A technician's released earnings still inside the earnings hold.
    TechnicianPending,
    /// Earnings the technician may withdraw.
    TechnicianAvailable,
    /// A requested withdrawal on its way to the technician.
    TechnicianPayoutInFlight,
    /// The platform's fees.
    PlatformRevenue,
    /// Tax collected on job prices, owed to the tax authority.
    TaxCollected,
    /// Money a provider collected that matches no payment, held until staff attach it to a
    /// booking or refund it; it always equals the sum of the OPEN unmatched receipts.
    UnmatchedFunds,
}

impl AccountKind {
    pub const ALL: [AccountKind; 8] = [
        AccountKind::GatewayClearing,
        AccountKind::Escrow,
        AccountKind::TechnicianPending,
        AccountKind::TechnicianAvailable,
        AccountKind::TechnicianPayoutInFlight,
        AccountKind::PlatformRevenue,
        AccountKind::TaxCollected,
        AccountKind::UnmatchedFunds,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::GatewayClearing => "GATEWAY_CLEARING",
            AccountKind::Escrow => "ESCROW",
            AccountKind::TechnicianPending => "TECHNICIAN_PENDING",
            AccountKind::TechnicianAvailable => "TECHNICIAN_AVAILABLE",
            AccountKind::TechnicianPayoutInFlight => "TECHNICIAN_PAYOUT_IN_FLIGHT",
            AccountKind::PlatformRevenue => "PLATFORM_REVENUE",
            AccountKind::TaxCollected => "TAX_COLLECTED",
            AccountKind::UnmatchedFunds => "UNMATCHED_FUNDS",
        }
    }

    pub fn parse(name: &str) -> Option<AccountKind> {
        AccountKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Only a gateway's clearing account may go below zero: it mirrors money that exists outside
    /// the ledger. Every other account holds real money and can never hold less than none.
    pub fn may_go_negative(self) -> bool {
        matches!(self, AccountKind::GatewayClearing)
    }

    /// Whether accounts of this kind belong to someone (a booking or a technician).
    pub fn has_owner(self) -> bool {
        matches!(
            self,
            AccountKind::Escrow
                | AccountKind::TechnicianPending
                | AccountKind::TechnicianAvailable
                | AccountKind::TechnicianPayoutInFlight
        )
    }

    pub fn is_technician(self) -> bool {
        matches!(
            self,
            AccountKind::TechnicianPending
                | AccountKind::TechnicianAvailable
                | AccountKind::TechnicianPayoutInFlight
        )
    }
}

impl fmt::Display for AccountKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of movement a journal entry records; stored by name on the ledger transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionKind {
    /// A customer's payment into a booking's escrow.
    Payment,
    /// Escrow released to the technician, the platform and the tax authority.
    Release,
    /// Money returned to a customer.
    Refund,
    /// A customer's tip for the technician.
    Tip,
    /// Held earnings moved to available once the earnings hold has passed.
    EarningsAvailable,
    /// A cancelled booking's escrow split between the fee kept and the refund.
    Cancellation,
    /// A resolved dispute's money moved as the admin decided.
    Dispute,
    /// Available earnings set aside for a requested withdrawal (available -> payout in flight).
    Withdrawal,
    /// A withdrawal paid out (payout in flight -> the payout gateway's clearing account).
    Payout,
    /// A failed or cancelled withdrawal put back (payout in flight -> available).
    WithdrawalReturned,
    /// Money a provider collected that matched no payment (clearing -> unmatched funds).
    Unmatched,
}

impl TransactionKind {
    pub const ALL: [TransactionKind; 11] = [
        TransactionKind::Payment,
        TransactionKind::Release,
        TransactionKind::Refund,
        TransactionKind::Tip,
        TransactionKind::EarningsAvailable,
        TransactionKind::Cancellation,
        TransactionKind::Dispute,
        TransactionKind::Withdrawal,
        TransactionKind::Payout,
        TransactionKind::WithdrawalReturned,
        TransactionKind::Unmatched,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TransactionKind::Payment => "PAYMENT",
            TransactionKind::Release => "RELEASE",
            TransactionKind::Refund => "REFUND",
            TransactionKind::Tip => "TIP",
            TransactionKind::EarningsAvailable => "EARNINGS_AVAILABLE",
            TransactionKind::Cancellation => "CANCELLATION",
            TransactionKind::Dispute => "DISPUTE",
            TransactionKind::Withdrawal => "WITHDRAWAL",
            TransactionKind::Payout => "PAYOUT",
            TransactionKind::WithdrawalReturned => "WITHDRAWAL_RETURNED",
            TransactionKind::Unmatched => "UNMATCHED",
        }
    }

    pub fn parse(name: &str) -> Option<TransactionKind> {
        TransactionKind::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

impl fmt::Display for TransactionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which account: its kind, its owner (the booking for escrow, the technician's user id for the
/// technician accounts, none otherwise), the gateway for a clearing account, and its currency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountKey {
    pub kind: AccountKind,
    pub owner: Option<Uuid>,
    pub gateway: Option<String>,
    pub currency: Currency,
}

impl AccountKey {
    fn new(
        kind: AccountKind,
        owner: Option<Uuid>,
        gateway: Option<&str>,
        currency: Currency,
    ) -> Self {
        // Upper case on the way in, so "mpesa" and "MPESA" can never become two accounts.
        AccountKey {
            kind,
            owner,
            gateway: gateway.map(str::to_ascii_uppercase),
            currency,
        }
    }

    pub fn escrow(booking: Uuid, currency: Currency) -> Self {
        Self::new(AccountKind::Escrow, Some(booking), None, currency)
    }

    pub fn clearing(gateway: &str, currency: Currency) -> Self {
        Self::new(AccountKind::GatewayClearing, None, Some(gateway), currency)
    }

    pub fn technician_pending(technician: Uuid, currency: Currency) -> Self {
        Self::new(
            AccountKind::TechnicianPending,
            Some(technician),
            None,
            currency,
        )
    }

    pub fn technician_available(technician: Uuid, currency: Currency) -> Self {
        Self::new(
            AccountKind::TechnicianAvailable,
            Some(technician),
            None,
            currency,
        )
    }

    pub fn payout_in_flight(technician: Uuid, currency: Currency) -> Self {
        Self::new(
            AccountKind::TechnicianPayoutInFlight,
            Some(technician),
            None,
            currency,
        )
    }

    pub fn platform_revenue(currency: Currency) -> Self {
        Self::new(AccountKind::PlatformRevenue, None, None, currency)
    }

    pub fn tax_collected(currency: Currency) -> Self {
        Self::new(AccountKind::TaxCollected, None, None, currency)
    }

    pub fn unmatched_funds(currency: Currency) -> Self {
        Self::new(AccountKind::UnmatchedFunds, None, None, currency)
    }

    /// The account's one stable name, e.g. `ESCROW:<booking>:KES`, `GATEWAY_CLEARING:MPESA:KES`,
    /// `PLATFORM_REVENUE:KES`. It is also the account's unique key in the database.
    pub fn name(&self) -> String {
        let mut name = self.kind.as_str().to_string();
        if let Some(owner) = self.owner {
            name.push(':');
            name.push_str(&owner.to_string());
        }
        if let Some(gateway) = &self.gateway {
            name.push(':');
            name.push_str(gateway);
        }
        name.push(':');
        name.push_str(self.currency.code());
        name
    }

    pub fn may_go_negative(&self) -> bool {
        self.kind.may_go_negative()
    }

    /// An owner exactly where the kind needs one and a gateway only on clearing accounts: anything
    /// else would be an account no rule knows how to treat. (Its currency is one by its type.)
    pub fn check(&self) -> Result<(), LedgerRuleError> {
        let owner_ok = self.owner.is_some() == self.kind.has_owner();
        let gateway_ok = match (&self.gateway, self.kind) {
            (Some(g), AccountKind::GatewayClearing) => {
                !g.is_empty()
                    && g.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            }
            (None, AccountKind::GatewayClearing) => false,
            (Some(_), _) => false,
            (None, _) => true,
        };
        if owner_ok && gateway_ok {
            Ok(())
        } else {
            Err(LedgerRuleError::MalformedAccount {
                account: self.name(),
            })
        }
    }
}

impl fmt::Display for AccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// One line of a journal entry: a signed amount in minor units added to one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub account: AccountKey,
    pub amount_minor: i64,
}

impl Posting {
    pub fn new(account: AccountKey, amount_minor: i64) -> Self {
        Posting {
            account,
            amount_minor,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerRuleError {
    /// An entry moves money from somewhere to somewhere: one line is not an entry.
    TooFewPostings,
    /// A zero line records nothing and hides mistakes.
    ZeroPosting {
        index: usize,
    },
    /// The lines of one currency do not add up to zero.
    Unbalanced {
        currency: Currency,
        sum: i128,
    },
    MalformedAccount {
        account: String,
    },
    /// Applying the entry would take an account that may not go negative below zero.
    InsufficientFunds {
        account: String,
    },
}

impl fmt::Display for LedgerRuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerRuleError::TooFewPostings => {
                f.write_str("a ledger entry needs at least two postings")
            }
            LedgerRuleError::ZeroPosting { index } => write!(f, "posting {index} is zero"),
            LedgerRuleError::Unbalanced { currency, sum } => {
                write!(f, "postings in {currency} add up to {sum}, not zero")
            }
            LedgerRuleError::MalformedAccount { account } => {
                write!(f, "malformed ledger account {account}")
            }
            LedgerRuleError::InsufficientFunds { account } => {
                write!(f, "insufficient funds in {account}")
            }
        }
    }
}

impl std::error::Error for LedgerRuleError {}

/// Whether postings form a valid entry: at least two, none zero, every account well formed, and
/// the amounts of each currency adding up to exactly zero. Sums are taken in i128 so that no
/// combination of i64 amounts can overflow into a false balance.
pub fn check_balanced(postings: &[Posting]) -> Result<(), LedgerRuleError> {
    if postings.len() < 2 {
        return Err(LedgerRuleError::TooFewPostings);
    }
    let mut sums: BTreeMap<Currency, i128> = BTreeMap::new();
    for (index, posting) in postings.iter().enumerate() {
        if posting.amount_minor == 0 {
            return Err(LedgerRuleError::ZeroPosting { index });
        }
        posting.account.check()?;
        *sums.entry(posting.account.currency).or_default() += i128::from(posting.amount_minor);
    }
    match sums.into_iter().find(|(_, sum)| *sum != 0) {
        Some((currency, sum)) => Err(LedgerRuleError::Unbalanced { currency, sum }),
        None => Ok(()),
    }
}

/// The net change of each account an entry touches, in a fixed order (by name). The database
/// updates balances in this order so that two entries touching the same accounts lock them in
/// the same order and cannot deadlock each other on PostgreSQL.
pub fn net_changes(postings: &[Posting]) -> Vec<(AccountKey, i64)> {
    let mut by_name: BTreeMap<String, (AccountKey, i128)> = BTreeMap::new();
    for posting in postings {
        by_name
            .entry(posting.account.name())
            .or_insert_with(|| (posting.account.clone(), 0))
            .1 += i128::from(posting.amount_minor);
    }
    by_name
        .into_values()
        .map(|(account, change)| {
            (
                account,
                i64::try_from(change).unwrap_or(if change < 0 { i64::MIN } else { i64::MAX }),
            )
        })
        .collect()
}

/// Applies a balanced entry to in-memory balances with the database's rule: all or nothing, and
/// refused when an account that may not go negative would end below zero. The model the property
/// tests run; the database does the same with conditional updates.
pub fn apply_postings(
    balances: &mut HashMap<AccountKey, i64>,
    postings: &[Posting],
) -> Result<(), LedgerRuleError> {
    check_balanced(postings)?;
    let changes = net_changes(postings);
    let mut after = Vec::with_capacity(changes.len());
    for (account, change) in changes {
        let current = balances.get(&account).copied().unwrap_or(0);
        let next =
            current
                .checked_add(change)
                .ok_or_else(|| LedgerRuleError::InsufficientFunds {
                    account: account.name(),
                })?;
        if next < 0 && change < 0 && !account.may_go_negative() {
            return Err(LedgerRuleError::InsufficientFunds {
                account: account.name(),
            });
        }
        after.push((account, next));
    }
    balances.extend(after);
    Ok(())
}

/// How a released job price divides, in minor units; the three parts add up to the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReleaseSplit {
    pub technician: i64,
    pub platform: i64,
    pub tax: i64,
}

impl ReleaseSplit {
    pub fn total(&self) -> i64 {
        self.technician + self.platform + self.tax
    }
}

/// Splits a released `total` (which includes `tax`) into the technician's share, the platform fee
/// and the tax. The job price is `total - tax`; the fee is `job price x platform_fee_bp / 10000`
/// rounded half up, the pricing module's one rounding rule, so it matches the fee the customer was
/// quoted; the technician gets the rest, so the parts always add up to the total exactly.
///
/// Out-of-range inputs are clamped rather than refused, because money is already in escrow when this
/// runs: tax is kept within `0..=total`, the fee within 0-100%, and a negative total splits to nothing.
pub fn split_release(total: i64, tax: i64, platform_fee_bp: u32) -> ReleaseSplit {
    let total = total.max(0);
    let tax = tax.clamp(0, total);
    let job_price = total - tax;
    // Cannot fail: with at most 100% the fee is at most the job price, which fits in i64.
    let platform = apply_bp(job_price, platform_fee_bp.min(BP_PER_WHOLE)).unwrap_or(job_price);
    ReleaseSplit {
        technician: job_price - platform,
        platform,
        tax,
    }
}

/// Postings for common movements, so every caller books them the same way.
pub mod entries {
    use super::{AccountKey, Currency, Posting, ReleaseSplit};
    use uuid::Uuid;

    /// A customer paid `amount` for a booking through `gateway`: it moves into escrow.
    pub fn payment(gateway: &str, booking: Uuid, currency: Currency, amount: i64) -> Vec<Posting> {
        vec![
            Posting::new(AccountKey::clearing(gateway, currency), -amount),
            Posting::new(AccountKey::escrow(booking, currency), amount),
        ]
    }

    /// Escrow released: the technician's share to pending earnings, the fee to the platform, the tax
    /// to the tax account. Parts that are zero are left out (a zero posting is not allowed).
    pub fn release(
        booking: Uuid,
        technician: Uuid,
        currency: Currency,
        split: ReleaseSplit,
    ) -> Vec<Posting> {
        let mut postings = vec![Posting::new(
            AccountKey::escrow(booking, currency),
            -split.total(),
        )];
        for (account, amount) in [
            (
                AccountKey::technician_pending(technician, currency),
                split.technician,
            ),
            (AccountKey::platform_revenue(currency), split.platform),
            (AccountKey::tax_collected(currency), split.tax),
        ] {
            if amount != 0 {
                postings.push(Posting::new(account, amount));
            }
        }
        postings
    }

    /// Escrow refunded to the customer through the gateway it came from.
    pub fn refund(gateway: &str, booking: Uuid, currency: Currency, amount: i64) -> Vec<Posting> {
        vec![
            Posting::new(AccountKey::escrow(booking, currency), -amount),
            Posting::new(AccountKey::clearing(gateway, currency), amount),
        ]
    }

    /// A tip goes straight to the technician's pending earnings, with no platform fee.
    pub fn tip(gateway: &str, technician: Uuid, currency: Currency, amount: i64) -> Vec<Posting> {
        vec![
            Posting::new(AccountKey::clearing(gateway, currency), -amount),
            Posting::new(AccountKey::technician_pending(technician, currency), amount),
        ]
    }

    /// Earnings past the hold become withdrawable.
    pub fn earnings_available(technician: Uuid, currency: Currency, amount: i64) -> Vec<Posting> {
        vec![
            Posting::new(
                AccountKey::technician_pending(technician, currency),
                -amount,
            ),
            Posting::new(
                AccountKey::technician_available(technician, currency),
                amount,
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn booking() -> Uuid {
        Uuid::from_u128(1)
    }

    fn tech() -> Uuid {
        Uuid::from_u128(2)
    }

    #[test]
    fn transaction_kinds_round_trip_the_names_stored_today() {
        let names = [
            "PAYMENT",
            "RELEASE",
            "REFUND",
            "TIP",
            "EARNINGS_AVAILABLE",
            "CANCELLATION",
            "DISPUTE",
            "WITHDRAWAL",
            "PAYOUT",
            "WITHDRAWAL_RETURNED",
            "UNMATCHED",
        ];
        assert_eq!(TransactionKind::ALL.map(TransactionKind::as_str), names);
        for kind in TransactionKind::ALL {
            assert_eq!(TransactionKind::parse(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        for unknown in ["payment", "TRANSFER", "WITHDRAWAL_RETURN", ""] {
            assert_eq!(TransactionKind::parse(unknown), None);
        }
    }

    #[test]
    fn account_kinds_round_trip_their_names() {
        for kind in AccountKind::ALL {
            assert_eq!(AccountKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AccountKind::parse("escrow"), None);
        let negative: Vec<_> = AccountKind::ALL
            .into_iter()
            .filter(|k| k.may_go_negative())
            .collect();
        assert_eq!(negative, vec![AccountKind::GatewayClearing]);
    }

    #[test]
    fn account_names_are_stable() {
        assert_eq!(
            AccountKey::escrow(booking(), Currency::KES).name(),
            format!("ESCROW:{}:KES", booking())
        );
        assert_eq!(
            AccountKey::clearing("mpesa", Currency::KES).name(),
            "GATEWAY_CLEARING:MPESA:KES"
        );
        assert_eq!(
            AccountKey::technician_pending(tech(), cur("INR")).name(),
            format!("TECHNICIAN_PENDING:{}:INR", tech())
        );
        assert_eq!(
            AccountKey::platform_revenue(cur("USD")).name(),
            "PLATFORM_REVENUE:USD"
        );
        assert_eq!(
            AccountKey::tax_collected(cur("USD")).name(),
            "TAX_COLLECTED:USD"
        );
        assert_eq!(
            AccountKey::unmatched_funds(Currency::KES).name(),
            "UNMATCHED_FUNDS:KES"
        );
    }

    fn p(account: AccountKey, amount: i64) -> Posting {
        Posting::new(account, amount)
    }

    /// (what the case is, the postings, what `check_balanced` says)
    type BalanceCase = (&'static str, Vec<Posting>, Result<(), LedgerRuleError>);

    #[test]
    fn check_balanced_table() {
        let escrow = || AccountKey::escrow(booking(), Currency::KES);
        let clearing = || AccountKey::clearing("SANDBOX", Currency::KES);
        let usd_clearing = || AccountKey::clearing("STRIPE", cur("USD"));
        let usd_revenue = || AccountKey::platform_revenue(cur("USD"));
        let cases: Vec<BalanceCase> = vec![
            (
                "payment into escrow",
                vec![p(clearing(), -1000), p(escrow(), 1000)],
                Ok(()),
            ),
            (
                "three-way split",
                vec![
                    p(escrow(), -1000),
                    p(AccountKey::technician_pending(tech(), Currency::KES), 850),
                    p(AccountKey::platform_revenue(Currency::KES), 150),
                ],
                Ok(()),
            ),
            (
                "two currencies each balanced",
                vec![
                    p(clearing(), -5),
                    p(escrow(), 5),
                    p(usd_clearing(), -7),
                    p(usd_revenue(), 7),
                ],
                Ok(()),
            ),
            ("no postings", vec![], Err(LedgerRuleError::TooFewPostings)),
            (
                "one posting",
                vec![p(escrow(), 0)],
                Err(LedgerRuleError::TooFewPostings),
            ),
            (
                "zero posting",
                vec![p(clearing(), -10), p(escrow(), 10), p(escrow(), 0)],
                Err(LedgerRuleError::ZeroPosting { index: 2 }),
            ),
            (
                "off by one",
                vec![p(clearing(), -1000), p(escrow(), 999)],
                Err(LedgerRuleError::Unbalanced {
                    currency: Currency::KES,
                    sum: -1,
                }),
            ),
            (
                "balanced in total but not per currency",
                vec![p(clearing(), -10), p(usd_revenue(), 10)],
                Err(LedgerRuleError::Unbalanced {
                    currency: Currency::KES,
                    sum: -10,
                }),
            ),
            (
                "sums beyond i64 do not wrap around to zero",
                vec![
                    p(escrow(), i64::MAX),
                    p(escrow(), i64::MAX),
                    p(clearing(), 2),
                ],
                Err(LedgerRuleError::Unbalanced {
                    currency: Currency::KES,
                    sum: 2 * i128::from(i64::MAX) + 2,
                }),
            ),
            (
                "escrow without a booking",
                vec![
                    p(clearing(), -1),
                    p(
                        AccountKey {
                            kind: AccountKind::Escrow,
                            owner: None,
                            gateway: None,
                            currency: Currency::KES,
                        },
                        1,
                    ),
                ],
                Err(LedgerRuleError::MalformedAccount {
                    account: "ESCROW:KES".into(),
                }),
            ),
            (
                "clearing without a gateway",
                vec![
                    p(escrow(), 1),
                    p(
                        AccountKey {
                            kind: AccountKind::GatewayClearing,
                            owner: None,
                            gateway: None,
                            currency: Currency::KES,
                        },
                        -1,
                    ),
                ],
                Err(LedgerRuleError::MalformedAccount {
                    account: "GATEWAY_CLEARING:KES".into(),
                }),
            ),
        ];
        for (name, postings, expected) in cases {
            assert_eq!(check_balanced(&postings), expected, "{name}");
        }
    }

    #[test]
    fn split_release_table() {
        // (total, tax, fee bp) -> (technician, platform, tax)
        let cases = [
            ((10_000, 0, 1_500), (8_500, 1_500, 0)),
            ((11_600, 1_600, 1_500), (8_500, 1_500, 1_600)),
            // 15% of 1 = 0.15 rounds down; of 3 = 0.45 down; of 10 = 1.5 rounds half up.
            ((1, 0, 1_500), (1, 0, 0)),
            ((3, 0, 1_500), (3, 0, 0)),
            ((10, 0, 1_500), (8, 2, 0)),
            ((0, 0, 1_500), (0, 0, 0)),
            ((5_000, 0, 0), (5_000, 0, 0)),
            ((5_000, 0, 10_000), (0, 5_000, 0)),
            // Clamped inputs: a fee above 100%, tax above the total, a negative total.
            ((5_000, 0, 20_000), (0, 5_000, 0)),
            ((100, 300, 1_500), (0, 0, 100)),
            ((100, -5, 1_500), (85, 15, 0)),
            ((-100, 0, 1_500), (0, 0, 0)),
        ];
        for ((total, tax, bp), (technician, platform, t)) in cases {
            let split = split_release(total, tax, bp);
            assert_eq!(
                split,
                ReleaseSplit {
                    technician,
                    platform,
                    tax: t
                },
                "split_release({total}, {tax}, {bp})"
            );
        }
    }

    #[test]
    fn split_matches_the_quoted_platform_fee() {
        use crate::domain::pricing::{PricingPolicy, Priority, price_for_duration};
        let policy = PricingPolicy {
            tax_bp: 1_600,
            ..PricingPolicy::default()
        };
        let price = price_for_duration(1_234, 97, Priority::Urgent, &policy).unwrap();
        let split = split_release(price.total, price.tax, policy.platform_fee_bp);
        assert_eq!(split.platform, price.platform_fee);
        assert_eq!(split.technician, price.technician_share);
        assert_eq!(split.tax, price.tax);
    }

    #[test]
    fn apply_postings_refuses_overdrafts_and_changes_nothing() {
        let mut balances = HashMap::new();
        apply_postings(
            &mut balances,
            &entries::payment("SANDBOX", booking(), Currency::KES, 100),
        )
        .unwrap();
        let before = balances.clone();
        let err = apply_postings(
            &mut balances,
            &entries::refund("SANDBOX", booking(), Currency::KES, 101),
        )
        .unwrap_err();
        assert_eq!(
            err,
            LedgerRuleError::InsufficientFunds {
                account: AccountKey::escrow(booking(), Currency::KES).name()
            }
        );
        assert_eq!(balances, before);
        assert_eq!(
            balances[&AccountKey::clearing("SANDBOX", Currency::KES)],
            -100,
            "clearing may go negative"
        );
    }

    #[test]
    fn release_leaves_out_zero_parts() {
        let split = split_release(100, 0, 1_500);
        let postings = entries::release(booking(), tech(), Currency::KES, split);
        assert_eq!(postings.len(), 3);
        assert_eq!(check_balanced(&postings), Ok(()));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    const CURRENCY: Currency = Currency::KES;
    const GATEWAYS: [&str; 3] = ["SANDBOX", "MPESA", "CASH"];

    /// One step of money moving, with small indexes choosing among a few bookings and technicians.
    #[derive(Debug, Clone)]
    enum Op {
        Deposit {
            gateway: usize,
            booking: u8,
            amount: i64,
        },
        Release {
            booking: u8,
            technician: u8,
            tax: i64,
            fee_bp: u32,
        },
        Refund {
            gateway: usize,
            booking: u8,
            amount: i64,
        },
        Tip {
            gateway: usize,
            technician: u8,
            amount: i64,
        },
        MakeAvailable {
            technician: u8,
            amount: i64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        let amount = 1i64..50_000;
        prop_oneof![
            (0..GATEWAYS.len(), 0u8..4, amount.clone()).prop_map(|(gateway, booking, amount)| {
                Op::Deposit {
                    gateway,
                    booking,
                    amount,
                }
            }),
            (0u8..4, 0u8..3, 0i64..5_000, 0u32..=10_000).prop_map(
                |(booking, technician, tax, fee_bp)| Op::Release {
                    booking,
                    technician,
                    tax,
                    fee_bp,
                }
            ),
            (0..GATEWAYS.len(), 0u8..4, amount.clone()).prop_map(|(gateway, booking, amount)| {
                Op::Refund {
                    gateway,
                    booking,
                    amount,
                }
            }),
            (0..GATEWAYS.len(), 0u8..3, amount.clone()).prop_map(
                |(gateway, technician, amount)| Op::Tip {
                    gateway,
                    technician,
                    amount,
                }
            ),
            (0u8..3, amount)
                .prop_map(|(technician, amount)| Op::MakeAvailable { technician, amount }),
        ]
    }

    fn id(n: u8, salt: u128) -> Uuid {
        Uuid::from_u128((salt << 8) | u128::from(n))
    }

    /// The postings an operation asks for. Amounts are not capped by what is there: refusing an
    /// overdraft is the rule under test.
    fn postings(op: &Op, balances: &HashMap<AccountKey, i64>) -> Vec<Posting> {
        match *op {
            Op::Deposit {
                gateway,
                booking,
                amount,
            } => entries::payment(GATEWAYS[gateway], id(booking, 1), CURRENCY, amount),
            Op::Release {
                booking,
                technician,
                tax,
                fee_bp,
            } => {
                // Releases everything in escrow, as completing a job does; an empty escrow
                // gives an entry with too few postings, which must be refused too.
                let escrow = AccountKey::escrow(id(booking, 1), CURRENCY);
                let total = balances.get(&escrow).copied().unwrap_or(0);
                let split = split_release(total, tax, fee_bp);
                entries::release(id(booking, 1), id(technician, 2), CURRENCY, split)
            }
            Op::Refund {
                gateway,
                booking,
                amount,
            } => entries::refund(GATEWAYS[gateway], id(booking, 1), CURRENCY, amount),
            Op::Tip {
                gateway,
                technician,
                amount,
            } => entries::tip(GATEWAYS[gateway], id(technician, 2), CURRENCY, amount),
            Op::MakeAvailable { technician, amount } => {
                entries::earnings_available(id(technician, 2), CURRENCY, amount)
            }
        }
    }

    proptest! {
        #[test]
        fn any_sequence_stays_balanced_and_never_overdraws(ops in proptest::collection::vec(op(), 1..80)) {
            let mut balances: HashMap<AccountKey, i64> = HashMap::new();
            let mut applied = 0usize;
            for op in &ops {
                let entry = postings(op, &balances);
                let before = balances.clone();
                match apply_postings(&mut balances, &entry) {
                    Ok(()) => {
                        applied += 1;
                        prop_assert_eq!(check_balanced(&entry), Ok(()));
                        if let Op::Release { booking, .. } = op {
                            let escrow = AccountKey::escrow(id(*booking, 1), CURRENCY);
                            prop_assert_eq!(balances[&escrow], 0, "release empties escrow");
                        }
                    }
                    Err(_) => prop_assert_eq!(&balances, &before, "a refused entry changes nothing"),
                }
                for (account, balance) in &balances {
                    prop_assert!(
                        account.may_go_negative() || *balance >= 0,
                        "{} went negative: {}", account, balance
                    );
                }
                let sum: i128 = balances.values().map(|b| i128::from(*b)).sum();
                prop_assert_eq!(sum, 0, "the ledger as a whole sums to zero");
            }
            // Deposits always apply, so a sequence starting with one applied at least once.
            if matches!(ops[0], Op::Deposit { .. }) {
                prop_assert!(applied > 0);
            }
        }

        #[test]
        fn split_release_always_adds_up(total in 0i64..i64::MAX / 2, tax in 0i64..1_000_000_000, fee_bp in 0u32..=10_000) {
            let split = split_release(total, tax, fee_bp);
            prop_assert_eq!(split.total(), total);
            prop_assert!(split.technician >= 0 && split.platform >= 0 && split.tax >= 0);
            prop_assert_eq!(split.platform, apply_bp(total - split.tax, fee_bp).unwrap());
        }
    }
}
