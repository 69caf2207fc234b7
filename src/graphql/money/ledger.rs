//! The ledger over GraphQL, for admins: every account's balance in a currency, and whether the
//! ledger's invariants hold.

use crate::graphql::common::Money;
use crate::graphql::context::{services, viewer};
use crate::services::money::ledger as ledger_service;
use async_graphql::{Context, Object, Result, SimpleObject};

/// One ledger account and its balance.
#[derive(SimpleObject, Clone, Debug)]
pub struct LedgerBalance {
    /// The account's name, e.g. `ESCROW:<booking id>:KES` or `GATEWAY_CLEARING:MPESA:KES`.
    pub account: String,
    /// GATEWAY_CLEARING, ESCROW, TECHNICIAN_PENDING, TECHNICIAN_AVAILABLE,
    /// TECHNICIAN_PAYOUT_IN_FLIGHT, PLATFORM_REVENUE or TAX_COLLECTED.
    pub kind: String,
    /// Only a gateway's clearing account can be negative (money the gateway holds for the platform).
    pub balance: Money,
}

/// Whether every ledger invariant holds, recomputed from the postings.
#[derive(SimpleObject, Clone, Debug)]
pub struct LedgerHealth {
    pub ok: bool,
    /// The first broken invariant, named (e.g. `CACHED_BALANCE_MISMATCH: ...`); null when `ok`.
    pub broken_invariant: Option<String>,
}

#[derive(Default)]
pub struct LedgerQuery;

#[Object]
impl LedgerQuery {
    /// Every ledger account in `currency` with its balance, by account name. ADMIN only.
    async fn ledger_balances(
        &self,
        ctx: &Context<'_>,
        currency: String,
    ) -> Result<Vec<LedgerBalance>> {
        let viewer = viewer(ctx).await?;
        let rows = ledger_service::admin_balances(services(ctx), &viewer, &currency).await?;
        Ok(rows
            .into_iter()
            .map(|(account, balance)| LedgerBalance {
                account: account.name(),
                kind: account.kind.as_str().to_string(),
                balance: Money::new(balance, account.currency),
            })
            .collect())
    }

    /// Recomputes every balance from the postings and reports the first broken invariant. ADMIN only.
    async fn ledger_health(&self, ctx: &Context<'_>) -> Result<LedgerHealth> {
        let viewer = viewer(ctx).await?;
        let outcome = ledger_service::admin_health(services(ctx), &viewer).await?;
        Ok(LedgerHealth {
            ok: outcome.is_ok(),
            broken_invariant: outcome.err().map(|broken| broken.to_string()),
        })
    }
}
