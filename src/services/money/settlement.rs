//! Moving money out of escrow: the release of a verified job (technician share, platform fee, tax),
//! what a cancellation keeps and refunds, and dispute outcomes. Held earnings are `holds`'s and
//! refunds through each payment's own gateway are `refunds`'s.

use crate::db::bookings::flow::MoveColumn;
use crate::db::entities::booking;
use crate::db::money::holds as hold_store;
use crate::domain::booking_state::Status;
use crate::domain::holds::HoldStatus;
use crate::domain::ledger::{AccountKey, Posting, TransactionKind, split_release};
use crate::domain::payments::{cancellation_split, percent_of, tax_share};
use crate::error::AppResult;
use crate::services::bookings::flow::Actor;
use crate::services::bookings::status_change;
use crate::services::money::holds;
use crate::services::money::invoices;
use crate::services::money::ledger::{self, JournalEntry};
use crate::services::money::refunds::{self, refund_escrow};
use crate::services::{Effects, Services};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

/// Postings without the zero lines (a tax of 0 is no movement).
fn nonzero(postings: Vec<Posting>) -> Vec<Posting> {
    postings
        .into_iter()
        .filter(|p| p.amount_minor != 0)
        .collect()
}

/// Settles a verified booking: when escrow holds the agreed total it is released in one ledger
/// transaction and the booking becomes PAID; until then it waits in PAYMENT_PENDING.
pub async fn settle(
    txn: &impl ConnectionTrait,
    services: &Services,
    effects: &mut Effects,
    now: DateTime<Utc>,
    booking: &booking::Model,
) -> AppResult<booking::Model> {
    let escrow = ledger::balance(txn, &AccountKey::escrow(booking.id, booking.currency)).await?;
    if escrow < booking.price_total {
        if booking.status == Status::Verified {
            return status_change::apply(
                txn,
                effects,
                now,
                booking,
                Status::PaymentPending,
                Actor::system(),
                None,
                vec![],
            )
            .await;
        }
        return Ok(booking.clone());
    }
    release(txn, services, now, booking, booking.price_total).await?;
    let paid = status_change::apply(
        txn,
        effects,
        now,
        booking,
        Status::Paid,
        Actor::system(),
        None,
        vec![MoveColumn::PaidAt(now)],
    )
    .await?;
    invoices::invoice_paid_booking(txn, services, effects, now, &paid).await?;
    Ok(paid)
}

/// Pays `amount` of escrow out as a job: the technician's share (held), the platform fee and the
/// tax in the same proportions as the booking's price.
async fn release(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    booking: &booking::Model,
    amount: i64,
) -> AppResult<()> {
    if amount <= 0 {
        return Ok(());
    }
    let tax = tax_share(booking.price_tax, booking.price_total, amount);
    let split = split_release(
        amount,
        tax,
        services.config.bookings.pricing.platform_fee_bp,
    );
    let currency = booking.currency;
    let technician = booking.technician_id;
    let (to_technician, to_platform) = match technician {
        Some(_) => (split.technician, split.platform),
        None => (0, split.technician + split.platform),
    };
    let mut postings = vec![
        Posting {
            account: AccountKey::escrow(booking.id, currency),
            amount_minor: -amount,
        },
        Posting {
            account: AccountKey::platform_revenue(currency),
            amount_minor: to_platform,
        },
        Posting {
            account: AccountKey::tax_collected(currency),
            amount_minor: split.tax,
        },
    ];
    if let Some(technician) = technician {
        postings.push(Posting {
            account: AccountKey::technician_pending(technician, currency),
            amount_minor: to_technician,
        });
    }
    ledger::post(
        txn,
        now,
        JournalEntry {
            kind: TransactionKind::Release,
            booking_id: Some(booking.id),
            reference: Some(format!("release:{}:{}", booking.id, booking.version)),
            memo: None,
            postings: nonzero(postings),
        },
    )
    .await?;
    if let Some(technician) = technician {
        holds::hold(txn, services, now, booking, technician, to_technician).await?;
    }
    Ok(())
}

/// What a cancellation does to the money: the fee (capped at what escrow holds) is kept and split
/// like a job, and the rest goes back to the customer through the gateways it came from.
pub async fn on_cancelled(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    booking: &booking::Model,
) -> AppResult<()> {
    let escrow = ledger::balance(txn, &AccountKey::escrow(booking.id, booking.currency)).await?;
    let fee = booking.cancellation_fee_minor.unwrap_or(0);
    let (kept, refund) = cancellation_split(fee, escrow);
    release(txn, services, now, booking, kept).await?;
    refund_escrow(txn, services, now, booking, refund).await
}

/// Settles a resolved dispute: RELEASE_TO_TECHNICIAN pays out what escrow holds (or lets frozen
/// earnings go on), REFUND_CUSTOMER returns everything the customer paid in, SPLIT refunds the
/// customer's percentage of it and pays the rest out as a job. Money already released is taken back from the
/// technician's frozen earnings and the platform before it is refunded.
pub async fn on_dispute_resolved(
    txn: &impl ConnectionTrait,
    services: &Services,
    now: DateTime<Utc>,
    booking: &booking::Model,
    customer_refund_percent: i64,
) -> AppResult<()> {
    let escrow_key = AccountKey::escrow(booking.id, booking.currency);
    // The customer gets their share of what they actually paid in, not of the price.
    let paid_in = refunds::net_paid_in(txn, booking.id).await?;
    let refund_total = percent_of(paid_in, customer_refund_percent);
    if refund_total > 0 {
        let escrow = ledger::balance(txn, &escrow_key).await?;
        if escrow < refund_total {
            claw_back(txn, now, booking, refund_total - escrow).await?;
        }
        refund_escrow(txn, services, now, booking, refund_total).await?;
    }
    let remaining = ledger::balance(txn, &escrow_key).await?;
    release(txn, services, now, booking, remaining).await?;
    // Whatever was frozen and not taken back goes on toward availability.
    hold_store::set_status_for_booking(txn, booking.id, HoldStatus::Frozen, HoldStatus::Held, now)
        .await?;
    Ok(())
}

/// Moves `amount` of an already released job back into escrow: from the technician's frozen
/// earnings first, then from platform revenue and tax in the release's proportions.
async fn claw_back(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    booking: &booking::Model,
    amount: i64,
) -> AppResult<()> {
    let currency = booking.currency;
    let frozen = hold_store::for_booking(txn, booking.id, HoldStatus::Frozen).await?;
    let mut postings = vec![Posting {
        account: AccountKey::escrow(booking.id, currency),
        amount_minor: amount,
    }];
    let mut left = amount;
    for held in &frozen {
        let take = held.amount_minor.min(left);
        if take <= 0 {
            break;
        }
        postings.push(Posting {
            account: AccountKey::technician_pending(held.technician_id, currency),
            amount_minor: -take,
        });
        let rest = held.amount_minor - take;
        let reversed = (rest == 0).then_some(HoldStatus::Reversed);
        hold_store::set_amount(txn, held, rest, reversed, now).await?;
        left -= take;
    }
    if left > 0 {
        let tax = ledger::balance(txn, &AccountKey::tax_collected(currency)).await?;
        let from_tax = left.min(booking.price_tax).min(tax).max(0);
        postings.push(Posting {
            account: AccountKey::tax_collected(currency),
            amount_minor: -from_tax,
        });
        postings.push(Posting {
            account: AccountKey::platform_revenue(currency),
            amount_minor: -(left - from_tax),
        });
    }
    ledger::post(
        txn,
        now,
        JournalEntry {
            kind: TransactionKind::Dispute,
            booking_id: Some(booking.id),
            reference: Some(format!("clawback:{}:{}", booking.id, booking.version)),
            memo: None,
            postings: nonzero(postings),
        },
    )
    .await?;
    Ok(())
}
