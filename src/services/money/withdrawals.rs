//! Withdrawals: a technician moves available earnings into payout, staff or the automatic job pay
//! them through the technician's method, and failures and cancellations put the money back.
//!
//! Every status change is a conditional UPDATE on the withdrawal's current status, committed with
//! its ledger entry and notification, so two replicas, an admin and a callback can race and only
//! one of them moves the money. Overdrawing is refused by the ledger itself: the entry that sets
//! money aside only applies while the available account stays at or above zero.

use crate::db::begin_write;
use crate::db::entities::withdrawal;
use crate::db::money::withdrawals as store;
use crate::domain::account::Role;
use crate::domain::ledger::{AccountKey, Posting, TransactionKind};
use crate::domain::money::Money;
use crate::domain::payouts::{
    Gateway, PayoutDetails, PayoutKind, Refusal, WithdrawalStatus, check_amount,
    check_idempotency_key,
};
use crate::error::{AppError, AppResult};
use crate::gateways::mail::Mail;
use crate::gateways::payouts::{
    Destination, ManualPayouts, PayoutGateway, PayoutOutcome, PayoutPurpose, PayoutRequest,
    SandboxPayouts,
};
use crate::services::money::ledger::{self, JournalEntry};
use crate::services::notifications::in_app::{self, Kind, NewNotification};
use crate::services::platform::pagination::{Page, Slice};
use crate::services::{Effects, Services, Viewer, money::payout_methods, money::withdrawal_pins};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use std::sync::Arc;
use uuid::Uuid;

/// Most withdrawals one batch may name.
pub const MAX_BATCH: usize = 100;

fn refusal(r: Refusal) -> AppError {
    AppError::bad_input(r.field, r.message)
}

/// What a technician asks to withdraw.
#[derive(Debug, Clone)]
pub struct WithdrawalRequest {
    pub amount: Money,
    pub pin: String,
    pub idempotency_key: String,
}

fn fingerprint(amount: Money) -> String {
    format!("{}:{}", amount.amount_minor, amount.currency)
}

/// A short reference people can read out: `WD-` and twelve characters from the id's random part.
fn new_reference(id: Uuid) -> String {
    format!("WD-{}", &id.simple().to_string()[20..].to_ascii_uppercase())
}

/// Sets `amount` aside from the viewer's available earnings. A retry with the same key returns
/// the first withdrawal; the same key with another amount is CONFLICT.
pub async fn request(
    services: &Services,
    viewer: &Viewer,
    input: WithdrawalRequest,
) -> AppResult<withdrawal::Model> {
    viewer.require_role(&[Role::Technician])?;
    check_idempotency_key(&input.idempotency_key).map_err(refusal)?;
    let currency = input.amount.currency;
    check_amount(
        input.amount.amount_minor,
        services.config.payouts.min_withdrawal_minor,
    )
    .map_err(refusal)?;
    withdrawal_pins::verify(services, viewer.user_id, &input.pin).await?;
    let print = fingerprint(input.amount);
    if let Some(existing) = by_key(&services.db, viewer.user_id, &input.idempotency_key).await? {
        return same_request(existing, &print);
    }

    let now = services.clock.now();
    let (method, details) = payout_methods::current(&services.db, services, viewer.user_id)
        .await?
        .ok_or_else(|| AppError::bad_input("payoutMethod", "set a payout method first"))?;
    if let Some(until) = method.hold_until.filter(|until| *until > now) {
        return Err(AppError::Conflict(format!(
            "your payout method changed recently; withdrawals resume at {} UTC",
            until.format("%Y-%m-%d %H:%M")
        )));
    }
    let gateway = gateway_for(services, details.kind());
    // B2C sends whole shillings only; refusing now beats a payout that can only fail later.
    if gateway.name() == Gateway::Mpesa {
        crate::domain::payments::mpesa_shillings(input.amount.amount_minor, currency)
            .map_err(|r| AppError::bad_input("amount", r.message))?;
    }
    let sealed = services.vault.seal(
        viewer.user_id,
        &serde_json::to_vec(&details).map_err(AppError::internal)?,
    )?;

    let id = Uuid::now_v7();
    let txn = begin_write(&services.db).await?;
    let inserted = store::insert(
        &txn,
        &withdrawal::Model {
            id,
            technician_id: viewer.user_id,
            amount_minor: input.amount.amount_minor,
            currency,
            status: WithdrawalStatus::Pending,
            method_kind: details.kind(),
            method_masked: details.masked(),
            destination_sealed: sealed,
            gateway: gateway.name(),
            reference: new_reference(id),
            gateway_reference: None,
            bank_reference: None,
            idempotency_key: input.idempotency_key.clone(),
            request_fingerprint: print.clone(),
            failure_reason: None,
            processing_at: None,
            processed_at: None,
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    if inserted == 0 {
        // A concurrent retry with the same key got there first; answer with its withdrawal.
        txn.rollback().await?;
        let existing = by_key(&services.db, viewer.user_id, &input.idempotency_key)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("withdrawal key vanished")))?;
        return same_request(existing, &print);
    }
    let set_aside = ledger::post(
        &txn,
        now,
        JournalEntry {
            kind: TransactionKind::Withdrawal,
            booking_id: None,
            reference: Some(format!("withdrawal:{id}:requested")),
            memo: None,
            postings: vec![
                Posting {
                    account: AccountKey::technician_available(viewer.user_id, currency),
                    amount_minor: -input.amount.amount_minor,
                },
                Posting {
                    account: AccountKey::payout_in_flight(viewer.user_id, currency),
                    amount_minor: input.amount.amount_minor,
                },
            ],
        },
    )
    .await;
    if let Err(e) = set_aside {
        txn.rollback().await?;
        return Err(match e {
            AppError::Conflict(_) => {
                let available = ledger::balance(
                    &services.db,
                    &AccountKey::technician_available(viewer.user_id, currency),
                )
                .await?;
                AppError::bad_input(
                    "amount",
                    format!(
                        "more than your available balance of {}",
                        Money::new(available, currency).format()
                    ),
                )
            }
            other => other,
        });
    }
    let stored = store::by_id(&txn, id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("withdrawal {id} not stored")))?;
    let mut effects = Effects::default();
    notify(&txn, &mut effects, now, &stored, false).await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(stored)
}

fn same_request(existing: withdrawal::Model, print: &str) -> AppResult<withdrawal::Model> {
    if existing.request_fingerprint == print {
        Ok(existing)
    } else {
        Err(AppError::Conflict(
            "this idempotencyKey was used for a different withdrawal".into(),
        ))
    }
}

async fn by_key(
    db: &impl ConnectionTrait,
    technician: Uuid,
    key: &str,
) -> AppResult<Option<withdrawal::Model>> {
    Ok(store::by_key(db, technician, key).await?)
}

/// The gateway a payout method pays through: M-Pesa B2C when configured, the sandbox for M-Pesa
/// outside production, and staff by hand for bank and UPI transfers.
fn gateway_for(services: &Services, kind: PayoutKind) -> Arc<dyn PayoutGateway> {
    match kind {
        PayoutKind::Mpesa => match &services.mpesa_b2c {
            Some(b2c) => b2c.clone(),
            None if !services.config.is_production() => Arc::new(SandboxPayouts),
            None => Arc::new(ManualPayouts),
        },
        PayoutKind::Upi | PayoutKind::BankTransfer => Arc::new(ManualPayouts),
    }
}

/// The gateway a stored withdrawal names, when this replica has it: M-Pesa B2C only when configured.
fn gateway_named(services: &Services, name: Gateway) -> Option<Arc<dyn PayoutGateway>> {
    match name {
        Gateway::Sandbox => Some(Arc::new(SandboxPayouts)),
        Gateway::Manual => Some(Arc::new(ManualPayouts)),
        Gateway::Mpesa => services
            .mpesa_b2c
            .clone()
            .map(|b2c| b2c as Arc<dyn PayoutGateway>),
    }
}

/// A withdrawal the viewer may see: their own, or any for staff. Others' are NOT_FOUND, so ids
/// cannot be probed.
pub async fn find_visible(
    services: &Services,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<withdrawal::Model> {
    let found = store::by_id(&services.db, id).await?;
    match found {
        Some(w) if w.technician_id == viewer.user_id || viewer.is_staff() => Ok(w),
        _ => Err(AppError::NotFound("withdrawal".into())),
    }
}

/// Technicians list their own withdrawals, staff everyone's; newest first.
pub async fn list(
    services: &Services,
    viewer: &Viewer,
    status: Option<WithdrawalStatus>,
    page: Page,
) -> AppResult<Slice<withdrawal::Model>> {
    let technician = listed(viewer)?;
    let rows = store::list(&services.db, technician, status, page.after, page.limit + 1).await?;
    Ok(Slice::from_probe(rows, page.limit))
}

/// Whose withdrawals `list` pages through: a technician's own (`Some`), everyone's for staff.
fn listed(viewer: &Viewer) -> AppResult<Option<Uuid>> {
    viewer.require_role(&[Role::Technician, Role::Admin, Role::Support])?;
    Ok((viewer.role == Role::Technician).then_some(viewer.user_id))
}

/// How many withdrawals `list` pages through, in one statement.
pub async fn count(
    services: &Services,
    viewer: &Viewer,
    status: Option<WithdrawalStatus>,
) -> AppResult<u64> {
    let technician = listed(viewer)?;
    Ok(store::count(&services.db, technician, status).await?)
}

/// The technician cancels their own PENDING withdrawal; the money goes back to available.
pub async fn cancel(
    services: &Services,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<withdrawal::Model> {
    viewer.require_role(&[Role::Technician])?;
    let w = find_visible(services, viewer, id).await?;
    let change = Change::to(WithdrawalStatus::Cancelled);
    finish_or_refuse(services, &w, &[WithdrawalStatus::Pending], change).await
}

/// Why a withdrawal could not move: its status (read again) does not allow it.
async fn not_movable(services: &Services, id: Uuid, to: WithdrawalStatus) -> AppError {
    let current = match reload(&services.db, id).await {
        Ok(current) => current,
        Err(e) => return e,
    };
    AppError::InvalidTransition {
        message: format!(
            "a {} withdrawal cannot become {}",
            current.status.as_str(),
            to.as_str()
        ),
        allowed: current
            .status
            .next()
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
    }
}

/// Applies `change` or says why the withdrawal's status does not allow it.
async fn finish_or_refuse(
    services: &Services,
    w: &withdrawal::Model,
    from: &[WithdrawalStatus],
    change: Change,
) -> AppResult<withdrawal::Model> {
    let to = change.to;
    match finish(services, w, from, change).await? {
        Some(done) => Ok(done),
        None => Err(not_movable(services, w.id, to).await),
    }
}

/// An admin pays a PENDING withdrawal through its method's gateway.
pub async fn process(
    services: &Services,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<withdrawal::Model> {
    viewer.require_role(&[Role::Admin])?;
    let w = find_visible(services, viewer, id).await?;
    match claim(services, &w).await? {
        Some(claimed) => pay(services, claimed).await,
        None => Err(not_movable(services, id, WithdrawalStatus::Processing).await),
    }
}

/// Processes each named withdrawal independently, in order: an id that did not decode or a
/// withdrawal that cannot be paid is reported in its place and does not stop the others.
pub async fn process_many(
    services: &Services,
    viewer: &Viewer,
    ids: Vec<AppResult<Uuid>>,
) -> AppResult<Vec<AppResult<withdrawal::Model>>> {
    viewer.require_role(&[Role::Admin])?;
    if ids.is_empty() || ids.len() > MAX_BATCH {
        return Err(AppError::bad_input(
            "ids",
            format!("name between 1 and {MAX_BATCH} withdrawals"),
        ));
    }
    let mut outcomes = Vec::with_capacity(ids.len());
    for id in ids {
        outcomes.push(match id {
            Ok(id) => process(services, viewer, id).await,
            Err(e) => Err(e),
        });
    }
    Ok(outcomes)
}

/// Staff made a bank or UPI transfer by hand; `bank_reference` is its reference at the bank.
pub async fn complete_manual(
    services: &Services,
    viewer: &Viewer,
    id: Uuid,
    bank_reference: &str,
) -> AppResult<withdrawal::Model> {
    viewer.require_role(&[Role::Admin])?;
    let bank_reference = bank_reference.trim();
    let reference_ok = (3..=64).contains(&bank_reference.len())
        && bank_reference
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'));
    if !reference_ok {
        return Err(AppError::bad_input(
            "bankReference",
            "expected 3 to 64 letters, digits, - _ / or .",
        ));
    }
    let w = find_visible(services, viewer, id).await?;
    if w.gateway != Gateway::Manual {
        return Err(AppError::Conflict(format!(
            "this withdrawal is paid through {}, not by hand",
            w.gateway.as_str()
        )));
    }
    let mut change = Change::to(WithdrawalStatus::Completed);
    change.bank_reference = Some(bank_reference.to_string());
    finish_or_refuse(
        services,
        &w,
        &[WithdrawalStatus::Pending, WithdrawalStatus::Processing],
        change,
    )
    .await
}

/// An admin marks a withdrawal failed; the money goes back to available.
pub async fn fail(
    services: &Services,
    viewer: &Viewer,
    id: Uuid,
    reason: &str,
) -> AppResult<withdrawal::Model> {
    viewer.require_role(&[Role::Admin])?;
    let reason = reason.trim();
    if !(3..=500).contains(&reason.chars().count()) {
        return Err(AppError::bad_input(
            "reason",
            "give a reason of 3 to 500 characters",
        ));
    }
    let w = find_visible(services, viewer, id).await?;
    let mut change = Change::to(WithdrawalStatus::Failed);
    change.failure_reason = Some(reason.to_string());
    finish_or_refuse(
        services,
        &w,
        &[WithdrawalStatus::Pending, WithdrawalStatus::Processing],
        change,
    )
    .await
}

/// A gateway's final word on a payout, from a callback or a status query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutResult {
    Completed { gateway_reference: String },
    Failed { reason: String },
}

/// Applies a gateway's final word to the PROCESSING withdrawal with this reference. Replays and
/// late answers change nothing: false when there was no such withdrawal or it is already final.
pub async fn record_payout_result(
    services: &Services,
    reference: &str,
    result: PayoutResult,
) -> AppResult<bool> {
    let Some(w) = store::by_reference(&services.db, reference).await? else {
        return Ok(false);
    };
    Ok(
        finish(services, &w, &[WithdrawalStatus::Processing], result.into())
            .await?
            .is_some(),
    )
}

/// References of withdrawals sent through `gateway` that are still PROCESSING, were sent before
/// `sent_before` and have not been touched (asked about) since: least recently asked first, so a
/// backlog of unanswered ones is worked through in turn rather than the oldest fifty forever.
pub async fn stale_processing(
    services: &Services,
    gateway: Gateway,
    sent_before: DateTime<Utc>,
) -> AppResult<Vec<String>> {
    Ok(store::stale(
        &services.db,
        WithdrawalStatus::Processing,
        gateway,
        sent_before,
    )
    .await?
    .into_iter()
    .map(|w| w.reference)
    .collect())
}

/// The automatic payout job (FUNDI_AUTO_PAYOUTS): pays PENDING withdrawals below the threshold
/// through gateways that need no person. Each is claimed with a conditional update first, so
/// replicas running this at once never pay one twice.
pub async fn run_auto_payouts(services: &Services) -> AppResult<usize> {
    let settings = &services.config.payouts;
    if !settings.auto_payouts {
        return Ok(0);
    }
    let automatic: Vec<Gateway> = Gateway::ALL
        .into_iter()
        .filter(|name| name.is_automatic() && gateway_named(services, *name).is_some())
        .collect();
    let due = store::due(
        &services.db,
        WithdrawalStatus::Pending,
        settings.auto_payout_max_minor,
        automatic,
    )
    .await?;
    let mut paid = 0;
    for w in due {
        if let Some(claimed) = claim(services, &w).await? {
            pay(services, claimed).await?;
            paid += 1;
        }
    }
    Ok(paid)
}

/// Moves a PENDING withdrawal to PROCESSING; None when someone else already has.
async fn claim(services: &Services, w: &withdrawal::Model) -> AppResult<Option<withdrawal::Model>> {
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    let claimed = store::set_processing(
        &txn,
        w.id,
        WithdrawalStatus::Processing,
        WithdrawalStatus::Pending,
        now,
    )
    .await?;
    if claimed != 1 {
        txn.rollback().await?;
        return Ok(None);
    }
    let stored = reload(&txn, w.id).await?;
    let mut effects = Effects::default();
    notify(&txn, &mut effects, now, &stored, false).await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(Some(stored))
}

/// Sends a claimed withdrawal to its gateway and records what it said. A gateway that cannot be
/// reached leaves it PROCESSING: the payout may have gone out, so only the gateway's own answer
/// (callback or status query) or an admin may end it.
async fn pay(services: &Services, w: withdrawal::Model) -> AppResult<withdrawal::Model> {
    let Some(gateway) = gateway_named(services, w.gateway) else {
        tracing::warn!(withdrawal = %w.id, gateway = w.gateway.as_str(), "payout gateway not configured");
        return Ok(w);
    };
    let details = payout_methods::open(services, w.technician_id, &w.destination_sealed)?;
    let request = PayoutRequest {
        id: w.id,
        purpose: PayoutPurpose::Withdrawal,
        reference: w.reference.clone(),
        amount_minor: w.amount_minor,
        currency: w.currency,
        destination: destination(details),
    };
    let outcome = match gateway.send(&request).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::warn!(withdrawal = %w.id, error = %e, "payout gateway unreachable; left PROCESSING");
            return Ok(w);
        }
    };
    let change: Change = match outcome {
        PayoutOutcome::Completed { gateway_reference } => {
            PayoutResult::Completed { gateway_reference }.into()
        }
        PayoutOutcome::Failed { reason } => PayoutResult::Failed { reason }.into(),
        PayoutOutcome::Processing { gateway_reference } => {
            if let Some(reference) = gateway_reference {
                store::set_gateway_reference(
                    &services.db,
                    w.id,
                    reference,
                    WithdrawalStatus::Processing,
                )
                .await?;
            }
            return reload(&services.db, w.id).await;
        }
        PayoutOutcome::Manual => return Ok(w),
    };
    match finish(services, &w, &[WithdrawalStatus::Processing], change).await? {
        Some(done) => Ok(done),
        // A callback settled it while the gateway was still answering us.
        None => reload(&services.db, w.id).await,
    }
}

fn destination(details: PayoutDetails) -> Destination {
    match details {
        PayoutDetails::Mpesa { phone } => Destination::Mpesa { phone },
        PayoutDetails::Upi { vpa } => Destination::Upi { vpa },
        PayoutDetails::BankTransfer {
            account_name,
            account_number,
            ifsc,
        } => Destination::Bank {
            account_name,
            account_number,
            ifsc,
        },
    }
}

async fn reload(db: &impl ConnectionTrait, id: Uuid) -> AppResult<withdrawal::Model> {
    store::by_id(db, id)
        .await?
        .ok_or_else(|| AppError::NotFound("withdrawal".into()))
}

/// A final status and what to record with it.
struct Change {
    to: WithdrawalStatus,
    gateway_reference: Option<String>,
    bank_reference: Option<String>,
    failure_reason: Option<String>,
}

impl Change {
    fn to(to: WithdrawalStatus) -> Change {
        Change {
            to,
            gateway_reference: None,
            bank_reference: None,
            failure_reason: None,
        }
    }
}

impl From<PayoutResult> for Change {
    fn from(result: PayoutResult) -> Change {
        match result {
            PayoutResult::Completed { gateway_reference } => Change {
                gateway_reference: Some(gateway_reference),
                ..Change::to(WithdrawalStatus::Completed)
            },
            PayoutResult::Failed { reason } => Change {
                failure_reason: Some(reason),
                ..Change::to(WithdrawalStatus::Failed)
            },
        }
    }
}

/// Moves `w` from one of `from` to the change's final status with its ledger entry and
/// notification, in one transaction. None when its status was no longer one of `from`.
async fn finish(
    services: &Services,
    w: &withdrawal::Model,
    from: &[WithdrawalStatus],
    change: Change,
) -> AppResult<Option<withdrawal::Model>> {
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    let moved = store::finish(
        &txn,
        w.id,
        from,
        store::Finish {
            to: change.to,
            gateway_reference: change.gateway_reference.clone(),
            bank_reference: change.bank_reference.clone(),
            failure_reason: change.failure_reason.clone(),
        },
        now,
    )
    .await?;
    if moved != 1 {
        txn.rollback().await?;
        return Ok(None);
    }
    let in_flight = AccountKey::payout_in_flight(w.technician_id, w.currency);
    let (entry_kind, suffix, to_account) = if change.to == WithdrawalStatus::Completed {
        (
            TransactionKind::Payout,
            "paid",
            AccountKey::clearing(&format!("PAYOUT_{}", w.gateway.as_str()), w.currency),
        )
    } else {
        (
            TransactionKind::WithdrawalReturned,
            "returned",
            AccountKey::technician_available(w.technician_id, w.currency),
        )
    };
    ledger::post(
        &txn,
        now,
        JournalEntry {
            kind: entry_kind,
            booking_id: None,
            reference: Some(format!("withdrawal:{}:{suffix}", w.id)),
            memo: change.failure_reason.clone(),
            postings: vec![
                Posting {
                    account: in_flight,
                    amount_minor: -w.amount_minor,
                },
                Posting {
                    account: to_account,
                    amount_minor: w.amount_minor,
                },
            ],
        },
    )
    .await?;
    let stored = reload(&txn, w.id).await?;
    let mut effects = Effects::default();
    notify(&txn, &mut effects, now, &stored, true).await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(Some(stored))
}

/// Tells the technician in the app, and by email too when the withdrawal has ended.
async fn notify(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    now: DateTime<Utc>,
    w: &withdrawal::Model,
    by_email: bool,
) -> AppResult<()> {
    let amount = Money::new(w.amount_minor, w.currency).format();
    let (title, body) = match w.status {
        WithdrawalStatus::Pending => (
            "Withdrawal requested",
            format!(
                "{amount} to {} is waiting to be paid ({}).",
                w.method_masked, w.reference
            ),
        ),
        WithdrawalStatus::Processing => (
            "Withdrawal on its way",
            format!(
                "{amount} to {} is being paid ({}).",
                w.method_masked, w.reference
            ),
        ),
        WithdrawalStatus::Completed => (
            "Withdrawal paid",
            format!(
                "{amount} was paid to {} ({}).",
                w.method_masked, w.reference
            ),
        ),
        WithdrawalStatus::Failed => (
            "Withdrawal failed",
            format!(
                "{amount} could not be paid ({}): {}. The money is back in your available balance.",
                w.reference,
                w.failure_reason.as_deref().unwrap_or("no reason given")
            ),
        ),
        WithdrawalStatus::Cancelled => (
            "Withdrawal cancelled",
            format!(
                "{amount} ({}) is back in your available balance.",
                w.reference
            ),
        ),
    };
    let mut note = NewNotification::new(w.technician_id, Kind::WithdrawalUpdate, title, &body);
    note.data = Some(serde_json::json!({ "reference": w.reference, "status": w.status.as_str() }));
    in_app::create(txn, effects, now, note).await?;
    if by_email
        && let Some(owner) = crate::db::accounts::account::user_by_id(txn, w.technician_id).await?
    {
        effects.mail(Mail {
            to: owner.email,
            subject: format!("Fundi: {title}"),
            body: format!("Hello {},\n\n{body}\n", owner.full_name),
        });
    }
    Ok(())
}
