//! Giving money back: what a customer has paid in and not had back, refunds out of escrow through
//! each payment's own gateway, and marking the payment refunded.

use crate::db::entities::{booking, payment};
use crate::db::money::payments as store;
use crate::domain::ledger::{AccountKey, Posting, TransactionKind};
use crate::domain::payments::{Method, PaymentKind, PaymentStatus};
use crate::error::{AppError, AppResult};
use crate::gateways::payments::RefundOutcome;
use crate::services::Services;
use crate::services::money::ledger::{self, JournalEntry};
use crate::services::money::providers::gateway_for;
use crate::services::{money::invoices, money::mpesa_refunds};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// Payments that count as paid in until refunded: succeeded ones, wholly or partly kept.
pub const PAID_IN: [PaymentStatus; 2] =
    [PaymentStatus::Succeeded, PaymentStatus::PartiallyRefunded];

/// What the customer has paid in for the job (tips aside) and not been given back.
pub async fn net_paid_in(db: &impl ConnectionTrait, booking_id: Uuid) -> AppResult<i64> {
    Ok(
        store::not_of_kind_in_newest_first(db, booking_id, PaymentKind::Tip, &PAID_IN)
            .await?
            .iter()
            .map(|p| p.amount_minor - p.refunded_minor)
            .sum(),
    )
}

/// Returns `amount` of escrow to the customer, newest payment first, each through its own gateway.
pub async fn refund_escrow(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    booking: &booking::Model,
    amount: i64,
) -> AppResult<()> {
    if amount <= 0 {
        return Ok(());
    }
    let paid = store::not_of_kind_in_newest_first(
        txn,
        booking.id,
        PaymentKind::Tip,
        &[PaymentStatus::Succeeded, PaymentStatus::PartiallyRefunded],
    )
    .await?;
    let mut left = amount;
    for p in paid {
        let take = (p.amount_minor - p.refunded_minor).min(left);
        if take <= 0 {
            continue;
        }
        refund_payment(txn, services, now, &p, take).await?;
        left -= take;
        if left == 0 {
            break;
        }
    }
    if left > 0 {
        return Err(AppError::internal(anyhow::anyhow!(
            "escrow of booking {} holds {left} more than its payments can refund",
            booking.id
        )));
    }
    Ok(())
}

/// Refunds `amount` of one payment from escrow through the payment's gateway.
pub async fn refund_payment(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    paid: &payment::Model,
    amount: i64,
) -> AppResult<()> {
    let method = paid.method;
    let gateway = gateway_for(services, method)?;
    let reference = paid.gateway_reference.clone().unwrap_or_default();
    // M-Pesa has no refund call; with B2C configured the money is sent back to the paying phone
    // after this commits, and only a refund M-Pesa refuses falls to staff.
    let sent_back_by_b2c =
        method == Method::Mpesa && mpesa_refunds::queue(txn, services, now, paid, amount).await?;
    let staff_action = if sent_back_by_b2c {
        None
    } else {
        match gateway
            .refund(&reference, amount)
            .await
            .map_err(AppError::internal)?
        {
            RefundOutcome::Refunded { .. } => None,
            RefundOutcome::Manual { instructions } => {
                tracing::warn!(payment = %paid.id, amount, "refund booked; staff must send it by hand");
                Some(instructions)
            }
            RefundOutcome::Failed { reason } => {
                return Err(AppError::Conflict(format!(
                    "the gateway refused the refund: {reason}"
                )));
            }
        }
    };
    ledger::post(
        txn,
        now,
        JournalEntry {
            kind: TransactionKind::Refund,
            booking_id: Some(paid.booking_id),
            reference: Some(format!("refund:{}:{}", paid.id, paid.refunded_minor)),
            memo: None,
            postings: vec![
                Posting {
                    account: AccountKey::escrow(paid.booking_id, paid.currency),
                    amount_minor: -amount,
                },
                Posting {
                    account: AccountKey::clearing(paid.method.as_str(), paid.currency),
                    amount_minor: amount,
                },
            ],
        },
    )
    .await?;
    invoices::credit_refund(txn, services, now, paid, amount).await?;
    mark_refunded(txn, now, paid, amount, staff_action).await
}

/// Marks `amount` of a payment refunded (fully or partly); `staff_action` says what staff must
/// still do when the provider cannot send refunds itself.
pub async fn mark_refunded(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    paid: &payment::Model,
    amount: i64,
    staff_action: Option<String>,
) -> AppResult<()> {
    let refunded = paid.refunded_minor + amount;
    let status = if refunded >= paid.amount_minor {
        PaymentStatus::Refunded
    } else {
        PaymentStatus::PartiallyRefunded
    };
    // A staff action is shown as the payment's nextAction, so staff see which refunds to send by hand.
    store::set_refunded(txn, paid, refunded, status, staff_action, now).await?;
    Ok(())
}
