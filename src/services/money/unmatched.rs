//! Unmatched receipts: money a provider reports that matches no payment we can settle (a late
//! M-Pesa success for a prompt that timed out on our side, a charge for an unknown id) is kept for
//! staff with what is known, its money held in UNMATCHED_FUNDS, until staff attach it to a booking
//! (it lands in escrow as a SUCCEEDED payment, like any payment) or refund it to the payer.

use crate::db::begin_write;
use crate::db::entities::{booking, payment, unmatched_receipt};
use crate::db::money::{payments as payment_store, unmatched as store};
use crate::domain::account::Role;
use crate::domain::ledger::{AccountKey, Posting, TransactionKind};
use crate::domain::money::Currency;
use crate::domain::payments::{PaymentKind, PaymentStatus, Refusal};
use crate::domain::unmatched::{Provider, ReceiptMoney, ReceiptStatus, attach_kind, check_move};
use crate::error::{AppError, AppResult};
use crate::gateways::mpesa::STAFF_REFUND_ACTION;
use crate::gateways::payments::RefundOutcome;
use crate::services::bookings::access;
use crate::services::money::ledger::{self, JournalEntry};
use crate::services::money::payments::{deposit_queue, due_of, on_succeeded};
use crate::services::money::providers::gateway_for;
use crate::services::platform::pagination::{Page, Slice};
use crate::services::platform::validation::text;
use crate::services::{Effects, Services, Viewer};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// Money a provider reported that matched no payment, as the provider described it.
#[derive(Debug, Clone)]
pub struct NewReceipt {
    pub provider: Provider,
    /// The M-Pesa receipt number, the Stripe payment intent, the Razorpay payment id.
    pub reference: String,
    pub phone: Option<String>,
    pub amount_minor: i64,
    pub currency: Currency,
    /// The payment the event named or resembled, e.g. the FAILED payment of a timed-out prompt.
    pub near_payment_id: Option<Uuid>,
    /// Why it matched nothing, for staff reading the queue.
    pub detail: String,
}

fn refusal(r: Refusal) -> AppError {
    AppError::bad_input(r.field, r.message)
}

/// Keeps `new` inside the caller's transaction and moves its money from the provider's clearing
/// account into UNMATCHED_FUNDS. False when there is nothing to keep: no money, a charge some
/// payment already holds, or a receipt kept before (the unique (provider, reference) index makes
/// replays and the provider's several events about one charge land once).
pub async fn record_in(
    txn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    new: &NewReceipt,
) -> AppResult<bool> {
    if new.amount_minor <= 0 || new.reference.trim().is_empty() {
        tracing::error!(provider = new.provider.as_str(), reference = %new.reference, amount = new.amount_minor, "provider reported money without an amount or reference; not kept");
        return Ok(false);
    }
    let currency = new.currency;
    let already_held = payment_store::by_method_and_reference_in(
        txn,
        new.provider.as_str(),
        &new.reference,
        &[
            PaymentStatus::Succeeded,
            PaymentStatus::PartiallyRefunded,
            PaymentStatus::Refunded,
        ],
    )
    .await?
    .is_some();
    if already_held {
        return Ok(false);
    }
    let id = Uuid::now_v7();
    let row = unmatched_receipt::Model {
        id,
        provider: new.provider,
        provider_reference: new.reference.clone(),
        phone: new.phone.clone(),
        amount_minor: new.amount_minor,
        currency,
        near_payment_id: new.near_payment_id,
        detail: Some(new.detail.chars().take(500).collect()),
        received_at: now,
        status: ReceiptStatus::Open,
        resolved_by: None,
        resolved_at: None,
        attached_booking_id: None,
        attached_payment_id: None,
        next_action: None,
        note: None,
        created_at: now,
        updated_at: now,
    };
    // ON CONFLICT DO NOTHING rather than catching the violation: on PostgreSQL a failed statement
    // would abort the caller's transaction (a webhook's dedupe record commits in it).
    let inserted = store::insert_if_new(txn, row).await?;
    if inserted == 0 {
        return Ok(false);
    }
    ledger::post(
        txn,
        now,
        JournalEntry {
            kind: TransactionKind::Unmatched,
            booking_id: None,
            reference: Some(format!("unmatched:{id}")),
            memo: Some(new.provider.as_str().into()),
            postings: vec![
                Posting::new(
                    AccountKey::clearing(new.provider.as_str(), currency),
                    -new.amount_minor,
                ),
                Posting::new(AccountKey::unmatched_funds(currency), new.amount_minor),
            ],
        },
    )
    .await?;
    tracing::warn!(receipt = %id, provider = new.provider.as_str(), reference = %new.reference, amount = new.amount_minor, currency = %currency, "money matched no payment; kept for staff");
    Ok(true)
}

/// [`record_in`] in its own transaction.
pub async fn record(services: &Services, new: &NewReceipt) -> AppResult<bool> {
    let txn = begin_write(&services.db).await?;
    let kept = record_in(&txn, services.clock.now(), new).await?;
    txn.commit().await?;
    Ok(kept)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<unmatched_receipt::Model> {
    store::by_id(db, id)
        .await?
        .ok_or_else(|| AppError::NotFound("unmatched receipt".into()))
}

fn listed(viewer: &Viewer) -> AppResult<()> {
    viewer.require_role(&[Role::Admin, Role::Support])
}

/// Receipts for staff (ADMIN and SUPPORT), newest first.
pub async fn list(
    services: &Services,
    viewer: &Viewer,
    status: Option<ReceiptStatus>,
    page: Page,
) -> AppResult<Slice<unmatched_receipt::Model>> {
    listed(viewer)?;
    let rows = store::list(&services.db, status, page.after, page.limit + 1).await?;
    Ok(Slice::from_probe(rows, page.limit))
}

/// How many receipts `list` pages through.
pub async fn count(
    services: &Services,
    viewer: &Viewer,
    status: Option<ReceiptStatus>,
) -> AppResult<u64> {
    listed(viewer)?;
    Ok(store::count(&services.db, status).await?)
}

fn staff_note(note: Option<&str>) -> AppResult<Option<String>> {
    note.map(|n| text(n, "note", "note", 1, 500)).transpose()
}

/// Resolves an OPEN receipt with one conditional update, so of two staff acting at once exactly
/// one wins; the loser is told the receipt was resolved meanwhile and nothing of theirs is written.
async fn claim(
    txn: &impl ConnectionTrait,
    receipt: Uuid,
    to: ReceiptStatus,
    resolution: store::Resolution,
) -> AppResult<()> {
    let claimed = store::resolve(txn, receipt, ReceiptStatus::Open, to, resolution).await?;
    if claimed != 1 {
        return Err(AppError::bad_input(
            "receiptId",
            "this receipt was resolved meanwhile",
        ));
    }
    Ok(())
}

/// ADMIN: attaches an OPEN receipt to a booking that owes exactly that money. It becomes a
/// SUCCEEDED payment of the receipt's provider and lands in escrow from UNMATCHED_FUNDS, setting
/// off what any payment of its kind does (dispatch after a deposit, settlement after the balance).
pub async fn attach(
    services: &Services,
    viewer: &Viewer,
    receipt_id: Uuid,
    booking_id: Uuid,
    note: Option<&str>,
) -> AppResult<unmatched_receipt::Model> {
    viewer.require_role(&[Role::Admin])?;
    let note = staff_note(note)?;
    let receipt = find(&services.db, receipt_id).await?;
    let booking = access::load(&services.db, booking_id)
        .await
        .map_err(|_| AppError::bad_input("bookingId", "no such booking"))?;
    let kind = decide(&services.db, &receipt, &booking).await?;
    // Dispatch ranks technicians outside the write transaction, as paying a deposit does.
    let queue = if kind == PaymentKind::Deposit {
        deposit_queue(services, &booking).await?
    } else {
        vec![]
    };
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    // Decided again inside the transaction: the booking may have been paid or moved meanwhile.
    let booking = access::load(&txn, booking_id).await?;
    if decide(&txn, &receipt, &booking).await? != kind {
        return Err(AppError::Conflict(
            "the booking changed meanwhile; try again".into(),
        ));
    }
    let method = receipt.provider.method();
    let paid = payment::Model {
        id: Uuid::now_v7(),
        booking_id: booking.id,
        customer_id: booking.customer_id,
        kind,
        method,
        status: PaymentStatus::Succeeded,
        amount_minor: receipt.amount_minor,
        refunded_minor: 0,
        currency: booking.currency,
        gateway_reference: Some(receipt.provider_reference.clone()),
        next_action: None,
        failure_reason: None,
        client_secret: None,
        phone: receipt.phone.clone(),
        // One payment per receipt, whoever attaches it.
        idempotency_key: format!("unmatched:{}", receipt.id),
        fingerprint: format!("unmatched:{}", receipt.id),
        succeeded_at: Some(now),
        created_at: now,
        updated_at: now,
    };
    claim(
        &txn,
        receipt.id,
        ReceiptStatus::Attached,
        store::Resolution {
            resolved_by: viewer.user_id,
            resolved_at: now,
            attached: Some((booking.id, paid.id)),
            note,
            now,
        },
    )
    .await?;
    payment_store::insert(&txn, paid.clone()).await?;
    let mut effects = Effects::default();
    let source = AccountKey::unmatched_funds(receipt.currency);
    on_succeeded(&txn, services, &mut effects, now, &paid, source, &queue).await?;
    txn.commit().await?;
    services.after_commit(effects);
    tracing::info!(receipt = %receipt.id, booking = %booking.id, payment = %paid.id, "unmatched receipt attached");
    find(&services.db, receipt.id).await
}

/// What attaching `receipt` to `booking` would make of it, by the domain rule.
async fn decide(
    db: &impl ConnectionTrait,
    receipt: &unmatched_receipt::Model,
    booking: &booking::Model,
) -> AppResult<PaymentKind> {
    let due = due_of(db, booking).await?;
    let money = ReceiptMoney {
        amount_minor: receipt.amount_minor,
        currency: receipt.currency,
    };
    attach_kind(receipt.status, &money, booking.currency, due).map_err(refusal)
}

/// ADMIN: sends an OPEN receipt's money back to the payer. Stripe and Razorpay refund through their
/// own refund call; M-Pesa has none for a charge, and B2C refunds belong to a payment, so an
/// M-Pesa receipt is booked as refunded and its `nextAction` tells staff to send the money to its
/// phone by hand. The money leaves UNMATCHED_FUNDS for the provider's clearing account either way.
pub async fn refund(
    services: &Services,
    viewer: &Viewer,
    receipt_id: Uuid,
    note: Option<&str>,
) -> AppResult<unmatched_receipt::Model> {
    viewer.require_role(&[Role::Admin])?;
    let note = staff_note(note)?;
    let receipt = find(&services.db, receipt_id).await?;
    check_move(receipt.status, ReceiptStatus::Refunded).map_err(refusal)?;
    let provider = receipt.provider;
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    // Claimed before the provider is asked, so two staff never refund one receipt twice.
    claim(
        &txn,
        receipt.id,
        ReceiptStatus::Refunded,
        store::Resolution {
            resolved_by: viewer.user_id,
            resolved_at: now,
            attached: None,
            note,
            now,
        },
    )
    .await?;
    let staff_action = match provider {
        Provider::Mpesa => Some(STAFF_REFUND_ACTION.to_string()),
        Provider::Stripe | Provider::Razorpay => {
            let gateway = gateway_for(services, provider.method())?;
            match gateway
                .refund(&receipt.provider_reference, receipt.amount_minor)
                .await
                .map_err(AppError::internal)?
            {
                RefundOutcome::Refunded { .. } => None,
                RefundOutcome::Manual { instructions } => Some(instructions),
                // Nothing is written: the transaction is dropped and the receipt stays OPEN.
                RefundOutcome::Failed { reason } => {
                    return Err(AppError::Conflict(format!(
                        "the gateway refused the refund: {reason}"
                    )));
                }
            }
        }
    };
    if let Some(action) = &staff_action {
        store::set_next_action(&txn, receipt.id, action.clone()).await?;
    }
    ledger::post(
        &txn,
        now,
        JournalEntry {
            kind: TransactionKind::Refund,
            booking_id: None,
            reference: Some(format!("unmatched-refund:{}", receipt.id)),
            memo: Some(provider.as_str().into()),
            postings: vec![
                Posting::new(
                    AccountKey::unmatched_funds(receipt.currency),
                    -receipt.amount_minor,
                ),
                Posting::new(
                    AccountKey::clearing(provider.as_str(), receipt.currency),
                    receipt.amount_minor,
                ),
            ],
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(receipt = %receipt.id, manual = staff_action.is_some(), "unmatched receipt refunded");
    find(&services.db, receipt.id).await
}
