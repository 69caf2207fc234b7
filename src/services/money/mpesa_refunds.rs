//! M-Pesa refunds sent back to the payer's phone with B2C: queued in the refund's own transaction,
//! sent by the background worker, settled by Daraja's result callback or the status query.
//!
//! The ledger books a refund when it is decided (escrow to the M-Pesa clearing account), so a
//! cancellation or a dispute is never held up by Daraja. What this module tracks is the money
//! actually reaching the phone; one M-Pesa refuses is handed to staff through the payment's
//! nextAction, exactly as when B2C is not configured.

use crate::db::batch;
use crate::db::begin_write;
use crate::db::entities::{mpesa_refund, payment};
use crate::db::money::{mpesa_refunds as store, payments as payment_store};
use crate::domain::payments::RefundTransferStatus;
use crate::error::AppResult;
use crate::gateways::mpesa::STAFF_REFUND_ACTION;
use crate::gateways::payouts::{
    Destination, PayoutGateway, PayoutOutcome, PayoutPurpose, PayoutRequest,
};
use crate::services::money::withdrawals::PayoutResult;
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use crate::services::{Effects, Services};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use uuid::Uuid;

/// Every refund reference starts with this; withdrawals use `WD-`, so a B2C result names which.
pub const REFERENCE_PREFIX: &str = "RF-";
/// Most queued refunds one worker round sends.
const BATCH: u64 = 20;

/// Whether a B2C reference names a refund rather than a withdrawal.
pub fn is_refund_reference(reference: &str) -> bool {
    reference.starts_with(REFERENCE_PREFIX)
}

fn new_reference(id: Uuid) -> String {
    format!(
        "{REFERENCE_PREFIX}{}",
        &id.simple().to_string()[20..].to_ascii_uppercase()
    )
}

/// Queues `amount` of the M-Pesa payment `paid` to go back to the phone that paid it, inside the
/// transaction that books the refund. False when B2C is not configured (or the payment has no
/// phone): the caller then leaves the refund to staff.
pub async fn queue(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    paid: &payment::Model,
    amount: i64,
) -> AppResult<bool> {
    let Some(phone) = paid.phone.clone() else {
        return Ok(false);
    };
    if services.mpesa_b2c.is_none() {
        return Ok(false);
    }
    let id = Uuid::now_v7();
    store::insert(
        txn,
        mpesa_refund::Model {
            id,
            payment_id: paid.id,
            amount_minor: amount,
            currency: paid.currency,
            phone,
            status: RefundTransferStatus::Pending,
            reference: new_reference(id),
            gateway_reference: None,
            failure_reason: None,
            processed_at: None,
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    Ok(true)
}

/// Sends queued refunds; returns how many were sent. Each is claimed first (PENDING to PROCESSING
/// with a conditional update), so replicas running this at once never send one twice.
pub async fn send_queued(services: &Services) -> AppResult<usize> {
    let Some(b2c) = services.mpesa_b2c.clone() else {
        return Ok(0);
    };
    let queued = store::in_status(&services.db, RefundTransferStatus::Pending, BATCH).await?;
    let mut sent = 0;
    for refund in queued {
        let now = services.clock.now();
        let claimed = store::set_status(
            &services.db,
            refund.id,
            RefundTransferStatus::Pending,
            RefundTransferStatus::Processing,
            now,
        )
        .await?;
        if claimed != 1 {
            continue;
        }
        sent += 1;
        let request = PayoutRequest {
            id: refund.id,
            purpose: PayoutPurpose::Refund,
            reference: refund.reference.clone(),
            amount_minor: refund.amount_minor,
            currency: refund.currency,
            destination: Destination::Mpesa {
                phone: refund.phone.clone(),
            },
        };
        let result = match b2c.send(&request).await {
            Ok(PayoutOutcome::Completed { gateway_reference }) => {
                PayoutResult::Completed { gateway_reference }
            }
            Ok(PayoutOutcome::Failed { reason }) => PayoutResult::Failed { reason },
            Ok(PayoutOutcome::Processing { gateway_reference }) => {
                if let Some(conversation) = gateway_reference {
                    store::set_gateway_reference(
                        &services.db,
                        refund.id,
                        conversation,
                        RefundTransferStatus::Processing,
                    )
                    .await?;
                }
                continue;
            }
            Ok(PayoutOutcome::Manual) => PayoutResult::Failed {
                reason: "the payout gateway does not send money itself".into(),
            },
            // It may have reached Daraja: only Daraja's own answer (callback or status query)
            // may end it, so it stays PROCESSING.
            Err(e) => {
                tracing::warn!(refund = %refund.reference, error = %e, "M-Pesa refund send failed; left PROCESSING");
                continue;
            }
        };
        record_result(services, &refund.reference, result).await?;
    }
    Ok(sent)
}

/// Applies Daraja's final word to the PROCESSING refund with this reference: COMPLETED, or FAILED
/// and the payment flagged for staff. Replays and late answers change nothing (false).
pub async fn record_result(
    services: &Services,
    reference: &str,
    result: PayoutResult,
) -> AppResult<bool> {
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    let Some(refund) = store::by_reference(&txn, reference).await? else {
        return Ok(false);
    };
    let ending = match &result {
        PayoutResult::Completed { gateway_reference } => store::Ending::Completed {
            status: RefundTransferStatus::Completed,
            gateway_reference: gateway_reference.clone(),
        },
        PayoutResult::Failed { reason } => store::Ending::Failed {
            status: RefundTransferStatus::Failed,
            reason: reason.chars().take(500).collect::<String>(),
        },
    };
    let changed = store::finish(
        &txn,
        refund.id,
        RefundTransferStatus::Processing,
        ending,
        now,
    )
    .await?;
    if changed != 1 {
        return Ok(false);
    }
    if let PayoutResult::Failed { reason } = &result {
        tracing::warn!(refund = %refund.reference, payment = %refund.payment_id, reason = %reason, "M-Pesa refused a refund; staff must send it by hand");
        payment_store::set_next_action(&txn, refund.payment_id, STAFF_REFUND_ACTION, now).await?;
    }
    let mut effects = Effects::default();
    notify(&txn, &mut effects, now, &refund, &result).await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(true)
}

/// Tells the customer their refund reached their phone, or that staff are sending it instead.
async fn notify(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    now: DateTime<Utc>,
    refund: &mpesa_refund::Model,
    result: &PayoutResult,
) -> AppResult<()> {
    let Some(paid) = payment_store::by_id(txn, refund.payment_id).await? else {
        return Ok(());
    };
    let amount = crate::domain::money::Money::new(refund.amount_minor, refund.currency).format();
    let (title, body, status) = match result {
        PayoutResult::Completed { gateway_reference } => (
            "Refund sent",
            format!(
                "{amount} was sent back to your M-Pesa (receipt {gateway_reference}, {}).",
                refund.reference
            ),
            RefundTransferStatus::Completed,
        ),
        PayoutResult::Failed { .. } => (
            "Refund delayed",
            format!(
                "M-Pesa could not take {amount} back to your phone automatically ({}); our team \
                 is sending it to you instead.",
                refund.reference
            ),
            RefundTransferStatus::Failed,
        ),
    };
    let mut note = NewNotification::new(paid.customer_id, Kind::RefundUpdate, title, body);
    note.data = Some(serde_json::json!({
        "reference": refund.reference,
        "status": status.as_str(),
        "bookingId": paid.booking_id,
    }));
    in_app::create(txn, effects, now, note).await?;
    Ok(())
}

/// References of refunds still PROCESSING and not touched (sent or asked about) since `before`,
/// least recently touched first.
pub async fn stale_processing(
    services: &Services,
    before: DateTime<Utc>,
) -> AppResult<Vec<String>> {
    Ok(
        store::stale(&services.db, RefundTransferStatus::Processing, before)
            .await?
            .into_iter()
            .map(|r| r.reference)
            .collect(),
    )
}

/// Claims a stale PROCESSING refund for one status query by moving its `updated_at` to `now`;
/// false when another replica (or a result) got to it first.
pub async fn claim_for_query(
    services: &Services,
    reference: &str,
    now: DateTime<Utc>,
    before: DateTime<Utc>,
) -> AppResult<bool> {
    let claimed = store::touch_stale(
        &services.db,
        reference,
        RefundTransferStatus::Processing,
        now,
        before,
    )
    .await?;
    Ok(claimed == 1)
}

/// Each payment's B2C refunds, oldest first, for many payments in one statement.
pub async fn of_payments(
    db: &impl ConnectionTrait,
    payment_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<mpesa_refund::Model>>> {
    let rows = store::of_payments(db, payment_ids).await?;
    Ok(batch::group(rows, |r| r.payment_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refund_references_are_told_apart_from_withdrawals() {
        let reference = new_reference(Uuid::now_v7());
        assert!(is_refund_reference(&reference));
        assert_eq!(reference.len(), REFERENCE_PREFIX.len() + 12);
        assert!(!is_refund_reference("WD-0123456789AB"));
    }
}
