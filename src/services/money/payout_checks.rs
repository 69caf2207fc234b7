//! M-Pesa B2C results, wherever they come from: the callback routes and the status query job that
//! asks about B2C payouts (withdrawals and refunds) PROCESSING for longer than
//! `payouts.query_after_secs`. A result is applied to a withdrawal or a refund by its reference.

use crate::db::money::withdrawals as withdrawal_store;
use crate::domain::payouts::WithdrawalStatus;
use crate::error::AppResult;
use crate::gateways::mpesa_b2c::{MpesaB2c, NAME};
use crate::gateways::payouts::{PayoutGateway, PayoutQuery};
use crate::services::Services;
use crate::services::money::withdrawals::{PayoutResult, stale_processing};
use crate::services::{money::mpesa_refunds, money::withdrawals};
use chrono::{DateTime, Utc};

/// Applies a B2C result to the withdrawal or refund it names. False when it changed nothing
/// (replayed, unknown, or already final).
pub async fn record_result(
    services: &Services,
    reference: &str,
    result: PayoutResult,
) -> AppResult<bool> {
    if mpesa_refunds::is_refund_reference(reference) {
        mpesa_refunds::record_result(services, reference, result).await
    } else {
        withdrawals::record_payout_result(services, reference, result).await
    }
}

/// Asks about each stale PROCESSING B2C withdrawal and refund; returns how many were settled
/// here. Daraja answers B2C status queries by callback, so most rounds settle none and the
/// callback does.
///
/// The worker runs every second, so each one is claimed first by moving its `updated_at` forward
/// with a conditional update: two replicas never ask about the same one in a round, and one Daraja
/// has not answered about is asked again only after another interval.
pub async fn run(services: &Services) -> AppResult<usize> {
    let Some(b2c) = services.mpesa_b2c.clone() else {
        return Ok(0);
    };
    let now = services.clock.now();
    let interval = chrono::Duration::seconds(services.config.payouts.query_after_secs.max(1));
    let before = now - interval;
    let mut settled = 0;
    for reference in stale_processing(services, NAME, before).await? {
        if claim_withdrawal(services, &reference, now, before).await? {
            settled += ask(services, &b2c, &reference).await as usize;
        }
    }
    for reference in mpesa_refunds::stale_processing(services, before).await? {
        if mpesa_refunds::claim_for_query(services, &reference, now, before).await? {
            settled += ask(services, &b2c, &reference).await as usize;
        }
    }
    Ok(settled)
}

async fn claim_withdrawal(
    services: &Services,
    reference: &str,
    now: DateTime<Utc>,
    before: DateTime<Utc>,
) -> AppResult<bool> {
    let claimed = withdrawal_store::touch_stale(
        &services.db,
        reference,
        NAME,
        WithdrawalStatus::Processing,
        now,
        before,
    )
    .await?;
    Ok(claimed == 1)
}

/// Asks Daraja about one claimed payout and applies a final answer; true when it settled it.
/// Failures are logged and retried next interval: one payout must not hold up the rest.
async fn ask(services: &Services, b2c: &MpesaB2c, reference: &str) -> bool {
    let result = match b2c.query(reference).await {
        Ok(PayoutQuery::Completed { gateway_reference }) => {
            PayoutResult::Completed { gateway_reference }
        }
        Ok(PayoutQuery::Failed { reason }) => PayoutResult::Failed { reason },
        Ok(PayoutQuery::StillProcessing) => {
            tracing::info!(reference = %reference, "M-Pesa B2C status asked; the answer comes by callback");
            return false;
        }
        Err(e) => {
            tracing::warn!(reference = %reference, error = %e, "M-Pesa B2C status query failed; will retry");
            return false;
        }
    };
    match record_result(services, reference, result).await {
        Ok(changed) => changed,
        Err(e) => {
            tracing::warn!(reference = %reference, error = ?e.message(), "M-Pesa B2C result not applied; will retry");
            false
        }
    }
}
