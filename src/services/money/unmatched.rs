//! Unmatched receipts: money a provider reports that matches no payment we can settle (a late
//! M-Pesa success for a prompt that timed out on our side, a charge for an unknown id) is kept for
//! staff with what is known, its money held in UNMATCHED_FUNDS, until staff attach it to a booking
//! (it lands in escrow as a SUCCEEDED payment, like any payment) or refund it to the payer.

use crate::db::begin_write;
use crate::db::entities::{booking, payment, unmatched_receipt};
use crate::domain::account::Role;
use crate::domain::ledger::{AccountKey, Posting};
use crate::domain::payments::{Method, PaymentKind, PaymentStatus, Refusal};
use crate::domain::unmatched::{Provider, ReceiptMoney, ReceiptStatus, attach_kind, check_move};
use crate::error::{AppError, AppResult};
use crate::gateways::mpesa::STAFF_REFUND_ACTION;
use crate::gateways::payments::RefundOutcome;
use crate::services::bookings::access;
use crate::services::money::ledger::{self, JournalEntry, kind};
use crate::services::money::payments::{deposit_queue, due_of, on_succeeded};
use crate::services::money::providers::gateway_for;
use crate::services::platform::pagination::{Page, Slice};
use crate::services::platform::validation::text;
use crate::services::{Effects, Services, Viewer};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

/// Money a provider reported that matched no payment, as the provider described it.
#[derive(Debug, Clone)]
pub struct NewReceipt {
    pub provider: Provider,
    /// The M-Pesa receipt number, the Stripe payment intent, the Razorpay payment id.
    pub reference: String,
    pub phone: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
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
    let currency = new.currency.trim().to_ascii_uppercase();
    let already_held = payment::Entity::find()
        .filter(payment::Column::Method.eq(new.provider.as_str()))
        .filter(payment::Column::GatewayReference.eq(&new.reference))
        .filter(payment::Column::Status.is_in([
            PaymentStatus::Succeeded.as_str(),
            PaymentStatus::PartiallyRefunded.as_str(),
            PaymentStatus::Refunded.as_str(),
        ]))
        .one(txn)
        .await?
        .is_some();
    if already_held {
        return Ok(false);
    }
    let id = Uuid::now_v7();
    let row = unmatched_receipt::ActiveModel {
        id: Set(id),
        provider: Set(new.provider.as_str().into()),
        provider_reference: Set(new.reference.clone()),
        phone: Set(new.phone.clone()),
        amount_minor: Set(new.amount_minor),
        currency: Set(currency.clone()),
        near_payment_id: Set(new.near_payment_id),
        detail: Set(Some(new.detail.chars().take(500).collect())),
        received_at: Set(now),
        status: Set(ReceiptStatus::Open.as_str().into()),
        resolved_by: Set(None),
        resolved_at: Set(None),
        attached_booking_id: Set(None),
        attached_payment_id: Set(None),
        next_action: Set(None),
        note: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    // ON CONFLICT DO NOTHING rather than catching the violation: on PostgreSQL a failed statement
    // would abort the caller's transaction (a webhook's dedupe record commits in it).
    let inserted = unmatched_receipt::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                unmatched_receipt::Column::Provider,
                unmatched_receipt::Column::ProviderReference,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    if inserted == 0 {
        return Ok(false);
    }
    ledger::post(
        txn,
        now,
        JournalEntry {
            kind: kind::UNMATCHED.into(),
            booking_id: None,
            reference: Some(format!("unmatched:{id}")),
            memo: Some(new.provider.as_str().into()),
            postings: vec![
                Posting::new(
                    AccountKey::clearing(new.provider.as_str(), &currency),
                    -new.amount_minor,
                ),
                Posting::new(AccountKey::unmatched_funds(&currency), new.amount_minor),
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
    unmatched_receipt::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("unmatched receipt".into()))
}

fn status_of(row: &unmatched_receipt::Model) -> AppResult<ReceiptStatus> {
    ReceiptStatus::parse(&row.status).map_err(AppError::internal)
}

fn listed(
    viewer: &Viewer,
    status: Option<ReceiptStatus>,
) -> AppResult<Select<unmatched_receipt::Entity>> {
    viewer.require_role(&[Role::Admin, Role::Support])?;
    let mut query = unmatched_receipt::Entity::find();
    if let Some(status) = status {
        query = query.filter(unmatched_receipt::Column::Status.eq(status.as_str()));
    }
    Ok(query)
}

/// Receipts for staff (ADMIN and SUPPORT), newest first.
pub async fn list(
    services: &Services,
    viewer: &Viewer,
    status: Option<ReceiptStatus>,
    page: Page,
) -> AppResult<Slice<unmatched_receipt::Model>> {
    let mut query = listed(viewer, status)?;
    if let Some(after) = page.after {
        query = query.filter(unmatched_receipt::Column::Id.lt(after));
    }
    let rows = query
        .order_by_desc(unmatched_receipt::Column::Id)
        .limit(page.limit + 1)
        .all(&services.db)
        .await?;
    Ok(Slice::from_probe(rows, page.limit))
}

/// How many receipts `list` pages through.
pub async fn count(
    services: &Services,
    viewer: &Viewer,
    status: Option<ReceiptStatus>,
) -> AppResult<u64> {
    Ok(listed(viewer, status)?.count(&services.db).await?)
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
    sets: Vec<(unmatched_receipt::Column, Expr)>,
) -> AppResult<()> {
    let mut update = unmatched_receipt::Entity::update_many()
        .col_expr(unmatched_receipt::Column::Status, Expr::value(to.as_str()));
    for (column, value) in sets {
        update = update.col_expr(column, value);
    }
    let claimed = update
        .filter(unmatched_receipt::Column::Id.eq(receipt))
        .filter(unmatched_receipt::Column::Status.eq(ReceiptStatus::Open.as_str()))
        .exec(txn)
        .await?;
    if claimed.rows_affected != 1 {
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
    let method = Method::parse(&receipt.provider).ok_or_else(|| {
        AppError::internal(anyhow::anyhow!("unknown provider {}", receipt.provider))
    })?;
    let paid = payment::Model {
        id: Uuid::now_v7(),
        booking_id: booking.id,
        customer_id: booking.customer_id,
        kind,
        method,
        status: PaymentStatus::Succeeded,
        amount_minor: receipt.amount_minor,
        refunded_minor: 0,
        currency: booking.currency.clone(),
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
        vec![
            (
                unmatched_receipt::Column::ResolvedBy,
                Expr::value(viewer.user_id),
            ),
            (unmatched_receipt::Column::ResolvedAt, Expr::value(now)),
            (
                unmatched_receipt::Column::AttachedBookingId,
                Expr::value(booking.id),
            ),
            (
                unmatched_receipt::Column::AttachedPaymentId,
                Expr::value(paid.id),
            ),
            (unmatched_receipt::Column::Note, Expr::value(note)),
            (unmatched_receipt::Column::UpdatedAt, Expr::value(now)),
        ],
    )
    .await?;
    let active: payment::ActiveModel = paid.clone().into();
    payment::Entity::insert(active).exec(&txn).await?;
    let mut effects = Effects::default();
    let source = AccountKey::unmatched_funds(&receipt.currency);
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
        currency: receipt.currency.clone(),
    };
    attach_kind(status_of(receipt)?, &money, &booking.currency, due).map_err(refusal)
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
    check_move(status_of(&receipt)?, ReceiptStatus::Refunded).map_err(refusal)?;
    let provider = Provider::parse(&receipt.provider).map_err(AppError::internal)?;
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    // Claimed before the provider is asked, so two staff never refund one receipt twice.
    claim(
        &txn,
        receipt.id,
        ReceiptStatus::Refunded,
        vec![
            (
                unmatched_receipt::Column::ResolvedBy,
                Expr::value(viewer.user_id),
            ),
            (unmatched_receipt::Column::ResolvedAt, Expr::value(now)),
            (unmatched_receipt::Column::Note, Expr::value(note)),
            (unmatched_receipt::Column::UpdatedAt, Expr::value(now)),
        ],
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
        unmatched_receipt::Entity::update_many()
            .col_expr(
                unmatched_receipt::Column::NextAction,
                Expr::value(action.clone()),
            )
            .filter(unmatched_receipt::Column::Id.eq(receipt.id))
            .exec(&txn)
            .await?;
    }
    ledger::post(
        &txn,
        now,
        JournalEntry {
            kind: kind::REFUND.into(),
            booking_id: None,
            reference: Some(format!("unmatched-refund:{}", receipt.id)),
            memo: Some(provider.as_str().into()),
            postings: vec![
                Posting::new(
                    AccountKey::unmatched_funds(&receipt.currency),
                    -receipt.amount_minor,
                ),
                Posting::new(
                    AccountKey::clearing(provider.as_str(), &receipt.currency),
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
