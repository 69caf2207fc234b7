//! Paying into escrow: deposits, balances and tips through a gateway, idempotent by key, with every
//! success posted to the ledger in the transaction that records it, and what a success sets off
//! (dispatch after a deposit, settlement after the balance).

use crate::db::batch;
use crate::db::begin_write;
use crate::db::entities::{booking, payment};
use crate::db::money::payments as store;
use crate::domain::account::Role;
use crate::domain::booking_state::Status;
use crate::domain::dispatch::DispatchMode;
use crate::domain::ledger::{AccountKey, Posting, TransactionKind};
use crate::domain::money::{Currency, Money};
use crate::domain::payments::{
    Due, Method, PaymentKind, PaymentStatus, Refusal, amount_due, cancellation_split,
    method_allowed, mpesa_phone, mpesa_shillings,
};
use crate::error::{AppError, AppResult};
use crate::gateways::payments::{Cash, ChargeOutcome, ChargeRequest, PaymentGateway, Sandbox};
use crate::services::bookings::access;
use crate::services::money::ledger::{self, JournalEntry};
use crate::services::money::providers::gateway_for;
use crate::services::money::refunds::{self, PAID_IN};
use crate::services::money::{holds, settlement};
use crate::services::platform::validation::text;
use crate::services::{Effects, Services, Viewer, bookings::dispatch};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use std::collections::HashSet;
use uuid::Uuid;

/// A payment as the customer asks for it.
#[derive(Debug, Clone)]
pub struct PayRequest {
    pub booking_id: Uuid,
    pub kind: PaymentKind,
    pub method: Method,
    /// Only for tips (minor units, currency); every other amount is the server's to compute.
    pub amount: Option<Money>,
    pub phone: Option<String>,
    pub idempotency_key: String,
}

impl PayRequest {
    /// What was asked, so a reused key with different input is told apart from a retry.
    fn fingerprint(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.booking_id,
            self.kind.as_str(),
            self.method.as_str(),
            self.amount
                .as_ref()
                .map(|m| format!("{} {}", m.amount_minor, m.currency))
                .unwrap_or_default(),
            self.phone.as_deref().unwrap_or_default()
        )
    }
}

fn refusal(r: Refusal) -> AppError {
    AppError::bad_input(r.field, r.message)
}

/// What escrow holds for a booking and whether its deposit is in.
pub async fn due_of(db: &impl ConnectionTrait, booking: &booking::Model) -> AppResult<Due> {
    let escrow = ledger::balance(db, &AccountKey::escrow(booking.id, booking.currency)).await?;
    let deposit_paid =
        store::one_of_kind_in(db, booking.id, PaymentKind::Deposit, &DEPOSIT_CAME_IN)
            .await?
            .is_some();
    Ok(due(booking, escrow, deposit_paid))
}

/// A deposit in one of these states succeeded at some point, even if since refunded.
const DEPOSIT_CAME_IN: [PaymentStatus; 3] = [
    PaymentStatus::Succeeded,
    PaymentStatus::Refunded,
    PaymentStatus::PartiallyRefunded,
];

fn due(booking: &booking::Model, escrow: i64, deposit_paid: bool) -> Due {
    Due {
        status: booking.status,
        total: booking.price_total,
        deposit: booking.price_deposit,
        escrow,
        deposit_paid,
    }
}

/// `due_of` from rows already loaded: the escrow balance and the booking's payments.
pub fn due_from(booking: &booking::Model, escrow: i64, payments: &[payment::Model]) -> Due {
    let deposit_paid = payments
        .iter()
        .any(|p| p.kind == PaymentKind::Deposit && DEPOSIT_CAME_IN.contains(&p.status));
    due(booking, escrow, deposit_paid)
}

/// `refunds::net_paid_in` from a booking's payments already loaded.
pub fn net_paid_in_from(payments: &[payment::Model]) -> i64 {
    payments
        .iter()
        .filter(|p| p.kind != PaymentKind::Tip)
        .filter(|p| PAID_IN.contains(&p.status))
        .map(|p| p.amount_minor - p.refunded_minor)
        .sum()
}

/// What a cancelled booking's fee actually cost the customer, from its payments: the fee, capped
/// at what they had paid in and not been given back. None until the booking is cancelled.
pub fn cancellation_fee_charged_from(
    booking: &booking::Model,
    payments: &[payment::Model],
) -> Option<i64> {
    let fee = booking.cancellation_fee_minor?;
    Some(cancellation_split(fee, net_paid_in_from(payments)).0)
}

/// Escrow balances of many bookings in one statement, by booking id.
pub async fn escrow_of_bookings(
    db: &impl ConnectionTrait,
    bookings: &[(Uuid, Currency)],
) -> AppResult<HashMap<Uuid, i64>> {
    let accounts: Vec<AccountKey> = bookings
        .iter()
        .map(|(id, currency)| AccountKey::escrow(*id, *currency))
        .collect();
    let balances = ledger::balances_by_name(db, &accounts).await?;
    Ok(bookings
        .iter()
        .zip(&accounts)
        .map(|((id, _), account)| (*id, balances.get(&account.name()).copied().unwrap_or(0)))
        .collect())
}

async fn find_by_key(
    db: &impl ConnectionTrait,
    customer: Uuid,
    key: &str,
) -> AppResult<Option<payment::Model>> {
    Ok(store::by_key(db, customer, key).await?)
}

fn replay(existing: payment::Model, fingerprint: &str) -> AppResult<payment::Model> {
    if existing.fingerprint == fingerprint {
        Ok(existing)
    } else {
        Err(AppError::Conflict(
            "this idempotencyKey was used for a different payment".into(),
        ))
    }
}

/// Pays into a booking. Only its customer pays; the same key returns the first result.
pub async fn pay(
    services: &Services,
    viewer: &Viewer,
    mut request: PayRequest,
) -> AppResult<payment::Model> {
    let booking = access::visible(services, viewer, request.booking_id).await?;
    if viewer.role != Role::Customer || booking.customer_id != viewer.user_id {
        return Err(AppError::Forbidden(
            "only the booking's customer pays for it".into(),
        ));
    }
    let key = text(
        &request.idempotency_key,
        "idempotencyKey",
        "idempotencyKey",
        8,
        100,
    )?;
    let fingerprint = request.fingerprint();
    if let Some(existing) = find_by_key(&services.db, viewer.user_id, &key).await? {
        return resume(services, replay(existing, &fingerprint)?).await;
    }
    method_allowed(request.method, request.kind).map_err(refusal)?;
    let gateway = gateway_for(services, request.method)?;
    if request.method == Method::Mpesa {
        // Checked before anything is stored: a payment row means a prompt was (or is being) sent.
        request.phone = Some(mpesa_phone(request.phone.as_deref()).map_err(refusal)?);
    }
    let due = due_of(&services.db, &booking).await?;
    if let Some(tip) = &request.amount
        && tip.currency != booking.currency
    {
        return Err(AppError::bad_input(
            "amount.currency",
            format!("this booking is paid in {}", booking.currency),
        ));
    }
    let tip = request.amount.map(|m| m.amount_minor);
    let amount = match amount_due(request.kind, due, tip) {
        Ok(amount) => amount,
        Err(refused) => {
            // A retry with this key that ran alongside may have paid in the meantime: its payment
            // is the answer, not "already paid".
            if let Some(existing) = find_by_key(&services.db, viewer.user_id, &key).await? {
                return replay(existing, &fingerprint);
            }
            return Err(refusal(refused));
        }
    };
    if request.method == Method::Mpesa {
        mpesa_shillings(amount, booking.currency).map_err(refusal)?;
    }
    let now = services.clock.now();
    let row = payment::Model {
        id: Uuid::now_v7(),
        booking_id: booking.id,
        customer_id: viewer.user_id,
        kind: request.kind,
        method: request.method,
        status: PaymentStatus::Initiated,
        amount_minor: amount,
        refunded_minor: 0,
        currency: booking.currency,
        gateway_reference: None,
        next_action: None,
        failure_reason: None,
        client_secret: None,
        phone: request.phone.clone(),
        idempotency_key: key.clone(),
        fingerprint: fingerprint.clone(),
        succeeded_at: None,
        created_at: now,
        updated_at: now,
    };
    if let Err(e) = store::insert(&services.db, row.clone()).await {
        if crate::db::is_unique_violation(&e)
            && let Some(existing) = find_by_key(&services.db, viewer.user_id, &key).await?
        {
            // A concurrent retry got there first: it is the one that charges.
            return replay(existing, &fingerprint);
        }
        return Err(e.into());
    }
    let outcome = match gateway.charge(&charge_of(&row)).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::warn!(error = %e, payment = %row.id, "gateway call failed");
            ChargeOutcome::Failed {
                reason: "the payment provider could not be reached".into(),
            }
        }
    };
    // A direct request is offered to the technician it names: nobody to rank, so nothing to read
    // again for it.
    let queue = if booking.dispatch_mode == DispatchMode::Direct {
        vec![]
    } else {
        dispatch_queue(services, row.id, &outcome).await?
    };
    record_ranked_outcome(services, row.id, outcome, &queue).await
}

fn charge_of(row: &payment::Model) -> ChargeRequest {
    ChargeRequest {
        payment_id: row.id,
        amount_minor: row.amount_minor,
        currency: row.currency,
        phone: row.phone.clone(),
    }
}

/// The answer to a retry with a known key. A payment still INITIATED was stored but its charge not
/// yet recorded: the first attempt is still at the gateway, or the process died in between. The
/// sandbox and cash answer at once and the same every time, so theirs is charged again here and
/// the retry gets the outcome (only one is ever recorded). A provider's payment is left as it is:
/// the first attempt may still be waiting on it.
async fn resume(services: &Services, existing: payment::Model) -> AppResult<payment::Model> {
    let local = match existing.method {
        Method::Sandbox => Box::new(Sandbox) as Box<dyn PaymentGateway>,
        Method::Cash => Box::new(Cash),
        _ => return Ok(existing),
    };
    if existing.status != PaymentStatus::Initiated {
        return Ok(existing);
    }
    let outcome = local
        .charge(&charge_of(&existing))
        .await
        .map_err(AppError::internal)?;
    record_outcome(services, existing.id, outcome).await
}

/// Records what the gateway said, once: only a payment still INITIATED or PENDING moves.
pub async fn record_outcome(
    services: &Services,
    payment_id: Uuid,
    outcome: ChargeOutcome,
) -> AppResult<payment::Model> {
    let queue = dispatch_queue(services, payment_id, &outcome).await?;
    record_ranked_outcome(services, payment_id, outcome, &queue).await
}

/// [`record_outcome`] with the technicians a deposit would offer the job to already ranked.
async fn record_ranked_outcome(
    services: &Services,
    payment_id: Uuid,
    outcome: ChargeOutcome,
    queue: &[Uuid],
) -> AppResult<payment::Model> {
    let mut effects = Effects::default();
    let txn = begin_write(&services.db).await?;
    record_outcome_in(&txn, services, &mut effects, payment_id, outcome, queue).await?;
    txn.commit().await?;
    services.after_commit(effects);
    find(&services.db, payment_id).await
}

/// The technicians a deposit's success would offer the job to. Dispatch ranks them outside the
/// write transaction, as creation does, so callers of [`record_outcome_in`] ask first.
pub async fn dispatch_queue(
    services: &Services,
    payment_id: Uuid,
    outcome: &ChargeOutcome,
) -> AppResult<Vec<Uuid>> {
    let current = find(&services.db, payment_id).await?;
    if !matches!(outcome, ChargeOutcome::Succeeded { .. }) || current.kind != PaymentKind::Deposit {
        return Ok(vec![]);
    }
    let booking = access::load(&services.db, current.booking_id).await?;
    deposit_queue(services, &booking).await
}

/// The technicians a deposit landing on `booking` would offer the job to (none unless it
/// dispatches automatically), ranked outside any write transaction.
pub async fn deposit_queue(services: &Services, booking: &booking::Model) -> AppResult<Vec<Uuid>> {
    if booking.dispatch_mode == DispatchMode::Automatic {
        dispatch::candidates(services, booking, &HashSet::new()).await
    } else {
        Ok(vec![])
    }
}

/// [`record_outcome`] inside the caller's transaction, so a webhook's dedupe record and the payment
/// change commit together. Returns whether the payment moved.
pub async fn record_outcome_in(
    txn: &impl ConnectionTrait,
    services: &Services,
    effects: &mut Effects,
    payment_id: Uuid,
    outcome: ChargeOutcome,
    queue: &[Uuid],
) -> AppResult<bool> {
    let now = services.clock.now();
    let (status, reference, next_action, failure, client_secret) = match outcome {
        ChargeOutcome::Succeeded { reference } => {
            (PaymentStatus::Succeeded, Some(reference), None, None, None)
        }
        ChargeOutcome::Pending {
            reference,
            next_action,
            client_secret,
        } => (
            PaymentStatus::Pending,
            reference,
            Some(next_action),
            None,
            client_secret,
        ),
        ChargeOutcome::Failed { reason } => (PaymentStatus::Failed, None, None, Some(reason), None),
    };
    let moved = store::record_outcome(
        txn,
        payment_id,
        &[PaymentStatus::Initiated, PaymentStatus::Pending],
        store::Outcome {
            status,
            next_action,
            failure_reason: failure,
            gateway_reference: reference,
            client_secret,
            succeeded_at: (status == PaymentStatus::Succeeded).then_some(now),
        },
        now,
    )
    .await?
        == 1;
    if moved && status == PaymentStatus::Succeeded {
        let paid = find(txn, payment_id).await?;
        let clearing = AccountKey::clearing(paid.method.as_str(), paid.currency);
        on_succeeded(txn, services, effects, now, &paid, clearing, queue).await?;
    }
    Ok(moved)
}

/// Books a successful payment and sets off what it unblocks, inside the caller's transaction.
/// `source` is where the money comes from: the gateway's clearing account for a charge, or the
/// unmatched funds for a receipt staff attach to the booking.
pub async fn on_succeeded(
    txn: &impl ConnectionTrait,
    services: &Services,
    effects: &mut Effects,
    now: DateTime<Utc>,
    paid: &payment::Model,
    source: AccountKey,
    queue: &[Uuid],
) -> AppResult<()> {
    let booking = access::load(txn, paid.booking_id).await?;
    let kind = paid.kind;
    let clearing = source;
    if kind == PaymentKind::Tip {
        let technician = booking
            .technician_id
            .ok_or_else(|| AppError::Conflict("this booking has no technician to tip".into()))?;
        ledger::post(
            txn,
            now,
            JournalEntry {
                kind: TransactionKind::Tip,
                booking_id: Some(booking.id),
                reference: Some(format!("payment:{}", paid.id)),
                memo: None,
                postings: vec![
                    Posting {
                        account: clearing,
                        amount_minor: -paid.amount_minor,
                    },
                    Posting {
                        account: AccountKey::technician_pending(technician, paid.currency),
                        amount_minor: paid.amount_minor,
                    },
                ],
            },
        )
        .await?;
        return holds::hold(txn, services, now, &booking, technician, paid.amount_minor).await;
    }
    let entry = JournalEntry {
        kind: TransactionKind::Payment,
        booking_id: Some(booking.id),
        reference: Some(format!("payment:{}", paid.id)),
        memo: Some(paid.kind.as_str().into()),
        postings: vec![
            Posting {
                account: clearing,
                amount_minor: -paid.amount_minor,
            },
            Posting {
                account: AccountKey::escrow(booking.id, paid.currency),
                amount_minor: paid.amount_minor,
            },
        ],
    };
    ledger::post(txn, now, entry).await?;
    match (kind, booking.status) {
        (PaymentKind::Deposit, Status::Pending) => {
            // After the entry: dispatch may cancel at once (nobody to offer it to), and the
            // cancellation refunds what escrow holds, this deposit included.
            dispatch::begin(txn, services, effects, now, &booking, queue).await?;
        }
        (PaymentKind::Balance, Status::PaymentPending) => {
            settlement::settle(txn, services, effects, now, &booking).await?;
        }
        _ => {}
    }
    Ok(())
}

/// The technician confirms the customer paid them in cash; the customer is notified.
pub async fn confirm_cash(
    services: &Services,
    viewer: &Viewer,
    payment_id: Uuid,
) -> AppResult<payment::Model> {
    let row = find(&services.db, payment_id).await?;
    let booking = access::visible(services, viewer, row.booking_id)
        .await
        .map_err(|_| AppError::NotFound("payment".into()))?;
    if booking.technician_id != Some(viewer.user_id) {
        return Err(AppError::Forbidden(
            "only the booking's technician confirms a cash payment".into(),
        ));
    }
    if row.method != Method::Cash || row.status != PaymentStatus::Pending {
        return Err(AppError::bad_input(
            "paymentId",
            "only a pending cash payment can be confirmed",
        ));
    }
    if !matches!(
        booking.status,
        Status::Completed | Status::Verified | Status::PaymentPending | Status::Paid
    ) {
        return Err(AppError::bad_input(
            "paymentId",
            "cash is confirmed after the work is completed",
        ));
    }
    let reference = format!("cash_{}", row.id.simple());
    let confirmed =
        record_outcome(services, row.id, ChargeOutcome::Succeeded { reference }).await?;
    let mut note = crate::services::notifications::in_app::NewNotification::new(
        booking.customer_id,
        crate::services::notifications::in_app::Kind::BookingUpdate,
        format!("Cash payment confirmed: {}", booking.title),
        format!(
            "Your technician confirmed receiving {}",
            Money::new(confirmed.amount_minor, confirmed.currency).format()
        ),
    );
    note.data = Some(serde_json::json!({"bookingId": booking.id, "paymentId": confirmed.id}));
    let mut effects = Effects::default();
    crate::services::notifications::in_app::create(
        &services.db,
        &mut effects,
        services.clock.now(),
        note,
    )
    .await?;
    services.after_commit(effects);
    Ok(confirmed)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<payment::Model> {
    store::by_id(db, id)
        .await?
        .ok_or_else(|| AppError::NotFound("payment".into()))
}

/// A booking's payments, oldest first, for whoever may see the booking.
pub async fn for_booking(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
) -> AppResult<Vec<payment::Model>> {
    access::visible(services, viewer, booking_id).await?;
    Ok(of_bookings(&services.db, &[booking_id])
        .await?
        .remove(&booking_id)
        .unwrap_or_default())
}

/// Each booking's payments, oldest first, for many bookings in one statement. Callers check access.
pub async fn of_bookings(
    db: &impl ConnectionTrait,
    bookings: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<payment::Model>>> {
    let rows = store::of_bookings(db, bookings).await?;
    Ok(batch::group(rows, |p| p.booking_id))
}

/// An admin refunds part or all of a payment through its own gateway, from what escrow still holds.
pub async fn refund(
    services: &Services,
    viewer: &Viewer,
    payment_id: Uuid,
    amount: i64,
    reason: &str,
) -> AppResult<payment::Model> {
    viewer.require_role(&[Role::Admin])?;
    let reason = text(reason, "reason", "reason", 3, 500)?;
    let paid = find(&services.db, payment_id).await?;
    if !matches!(
        paid.status,
        PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded
    ) || paid.kind == PaymentKind::Tip
    {
        return Err(AppError::bad_input(
            "paymentId",
            "only a succeeded deposit or balance payment can be refunded",
        ));
    }
    let refundable = paid.amount_minor - paid.refunded_minor;
    if amount <= 0 || amount > refundable {
        return Err(AppError::bad_input(
            "amount",
            format!("the refund must be 1 to {refundable} minor units"),
        ));
    }
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    let current = find(&txn, payment_id).await?;
    if current.refunded_minor != paid.refunded_minor {
        return Err(AppError::Conflict(
            "this payment was refunded meanwhile; reload it".into(),
        ));
    }
    let escrow = ledger::balance(&txn, &AccountKey::escrow(paid.booking_id, paid.currency)).await?;
    if escrow < amount {
        return Err(AppError::Conflict(
            "escrow no longer holds this much; a paid job is refunded by resolving a dispute"
                .into(),
        ));
    }
    tracing::info!(payment = %paid.id, amount, reason = %reason, "refund by an admin");
    refunds::refund_payment(&txn, services, now, &current, amount).await?;
    txn.commit().await?;
    find(&services.db, payment_id).await
}

/// A payment whose booking the viewer may see; None when it is missing or they may not.
pub async fn visible(
    services: &Services,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<Option<payment::Model>> {
    let Some(found) = store::by_id(&services.db, id).await? else {
        return Ok(None);
    };
    match access::visible(services, viewer, found.booking_id).await {
        Ok(_) => Ok(Some(found)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
