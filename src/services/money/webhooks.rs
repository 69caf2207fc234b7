//! Payment provider events (Stripe's and Razorpay's, once their signature is checked): each event
//! id applied at most once, its dedupe record committed in the same transaction as the payment it
//! moves. A successful charge no waiting payment can take (none found, or one already FAILED) is
//! kept as an unmatched receipt in that same transaction.

use crate::db::entities::{payment, webhook_event};
use crate::db::money::{payments as payment_store, webhooks as store};
use crate::db::{begin_write, is_unique_violation};
use crate::domain::money::Currency;
use crate::domain::payments::{Method, PaymentStatus, WebhookProvider};
use crate::domain::unmatched::Provider;
use crate::error::AppResult;
use crate::gateways::payments::ChargeOutcome;
use crate::services::money::payments::{dispatch_queue, record_outcome_in};
use crate::services::money::unmatched::{self, NewReceipt};
use crate::services::{Effects, Services};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use uuid::Uuid;

/// The parts of a Stripe event this server reads.
#[derive(Debug, Deserialize)]
pub struct StripeEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: StripeEventData,
}

#[derive(Debug, Deserialize)]
pub struct StripeEventData {
    pub object: serde_json::Value,
}

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// A payment moved.
    Moved,
    /// Money no payment could take was kept as an unmatched receipt.
    KeptUnmatched,
    /// Recorded as seen; nothing to change (another type, an unknown or already settled payment).
    Ignored,
    /// This event id was applied before.
    Replayed,
}

/// The outcome a Stripe event reports, for the two event types that move a payment.
fn stripe_outcome(event: &StripeEvent) -> Option<ChargeOutcome> {
    let intent = &event.data.object;
    let reference = intent["id"].as_str()?.to_string();
    match event.kind.as_str() {
        "payment_intent.succeeded" => Some(ChargeOutcome::Succeeded { reference }),
        "payment_intent.payment_failed" => Some(ChargeOutcome::Failed {
            reason: intent["last_payment_error"]["message"]
                .as_str()
                .unwrap_or("the card payment failed")
                .to_string(),
        }),
        _ => None,
    }
}

/// The Stripe payment an intent belongs to: by its intent id, or by the payment id we put in its
/// metadata (an event can overtake the response that told us the intent id).
async fn stripe_payment(
    db: &impl ConnectionTrait,
    intent: &serde_json::Value,
) -> AppResult<Option<payment::Model>> {
    let stripe = Method::Stripe.as_str();
    if let Some(id) = intent["id"].as_str()
        && let Some(found) = payment_store::by_method_and_reference(db, stripe, id).await?
    {
        return Ok(Some(found));
    }
    let Some(id) = intent["metadata"]["payment_id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
    else {
        return Ok(None);
    };
    Ok(payment_store::by_id_and_method(db, id, stripe).await?)
}

async fn seen(
    db: &impl ConnectionTrait,
    provider: WebhookProvider,
    event_id: &str,
) -> AppResult<bool> {
    Ok(store::find(db, provider, event_id).await?.is_some())
}

/// Applies a verified Stripe event once. A concurrent delivery of the same event loses on the
/// unique (provider, event_id) index and changes nothing.
pub async fn apply_stripe_event(services: &Services, event: &StripeEvent) -> AppResult<Applied> {
    if seen(&services.db, WebhookProvider::Stripe, &event.id).await? {
        return Ok(Applied::Replayed);
    }
    let outcome = stripe_outcome(event);
    let paid = match &outcome {
        Some(_) => stripe_payment(&services.db, &event.data.object).await?,
        None => None,
    };
    let target = match (outcome, paid) {
        (Some(outcome), Some(paid)) => match unmatched_success(&outcome, &paid) {
            true => stripe_receipt(&event.data.object, Some(paid.id)).map(Target::Unmatched),
            false => Some(Target::Payment(outcome, Box::new(paid))),
        },
        (Some(ChargeOutcome::Succeeded { .. }), None) => {
            stripe_receipt(&event.data.object, None).map(Target::Unmatched)
        }
        _ => None,
    };
    let applied = apply_once(services, WebhookProvider::Stripe, &event.id, target).await?;
    if applied == Applied::Ignored {
        tracing::info!(event = %event.id, kind = %event.kind, "Stripe event ignored");
    }
    Ok(applied)
}

/// The parts of a Razorpay event this server reads. Razorpay's event id comes in the
/// `X-Razorpay-Event-Id` header, not in the body.
#[derive(Debug, Deserialize)]
pub struct RazorpayEvent {
    pub event: String,
    #[serde(default)]
    pub payload: serde_json::Value,
}

/// The order an event is about and the outcome it reports, for the event types that move a
/// payment: `payment.captured` and `order.paid` (SUCCEEDED, with the Razorpay payment id as the new
/// reference, as refunds need it).
fn razorpay_outcome(event: &RazorpayEvent) -> Option<(String, ChargeOutcome)> {
    let paid = &event.payload["payment"]["entity"];
    let order_id = paid["order_id"]
        .as_str()
        .or_else(|| event.payload["order"]["entity"]["id"].as_str())?
        .to_string();
    let outcome = match event.event.as_str() {
        "payment.captured" | "order.paid" => ChargeOutcome::Succeeded {
            // order.paid always carries the payment; the order id is only a last resort.
            reference: paid["id"].as_str().unwrap_or(&order_id).to_string(),
        },
        // A failed attempt does not close a Razorpay order: Checkout lets the customer try again
        // within it, so the payment stays PENDING and a later capture still settles it.
        _ => return None,
    };
    Some((order_id, outcome))
}

/// The RAZORPAY payment still waiting on `order_id`. Once it has succeeded its reference is the
/// Razorpay payment id, so later events about the order find nothing, which is what they should do.
async fn razorpay_payment(
    db: &impl ConnectionTrait,
    order_id: &str,
) -> AppResult<Option<payment::Model>> {
    Ok(payment_store::by_method_and_reference(db, Method::Razorpay.as_str(), order_id).await?)
}

/// Applies a verified Razorpay event once, by its event id, like a Stripe event.
pub async fn apply_razorpay_event(
    services: &Services,
    event_id: &str,
    event: &RazorpayEvent,
) -> AppResult<Applied> {
    if seen(&services.db, WebhookProvider::Razorpay, event_id).await? {
        return Ok(Applied::Replayed);
    }
    let target = match razorpay_outcome(event) {
        Some((order_id, outcome)) => match razorpay_payment(&services.db, &order_id).await? {
            Some(paid) if unmatched_success(&outcome, &paid) => {
                razorpay_receipt(event, Some(paid.id)).map(Target::Unmatched)
            }
            Some(paid) => Some(Target::Payment(outcome, Box::new(paid))),
            // Also the order of a payment that already succeeded (its reference is now the
            // Razorpay payment id): `record_in` finds that payment holds the money and keeps nothing.
            None => razorpay_receipt(event, None).map(Target::Unmatched),
        },
        None => None,
    };
    let applied = apply_once(services, WebhookProvider::Razorpay, event_id, target).await?;
    if applied == Applied::Ignored {
        tracing::info!(event = %event_id, kind = %event.event, "Razorpay event ignored");
    }
    Ok(applied)
}

/// A success for a payment we already gave up on: the payment cannot move, but the money came in.
fn unmatched_success(outcome: &ChargeOutcome, paid: &payment::Model) -> bool {
    matches!(outcome, ChargeOutcome::Succeeded { .. }) && paid.status == PaymentStatus::Failed
}

/// What a successful Stripe payment intent says about the money: its id, amount and currency. A
/// field missing, or a currency that is not an ISO 4217 one money is held in, makes no receipt.
fn stripe_receipt(intent: &serde_json::Value, near: Option<Uuid>) -> Option<NewReceipt> {
    let id = intent["id"].as_str()?;
    Some(NewReceipt {
        provider: Provider::Stripe,
        reference: id.to_string(),
        phone: None,
        amount_minor: intent["amount_received"]
            .as_i64()
            .or_else(|| intent["amount"].as_i64())?,
        currency: Currency::parse(intent["currency"].as_str()?).ok()?,
        near_payment_id: near,
        detail: format!("Stripe payment intent {id} succeeded but no waiting payment has it"),
    })
}

/// What a captured Razorpay payment says about the money: its payment id, amount, currency,
/// contact; read like a Stripe intent's.
fn razorpay_receipt(event: &RazorpayEvent, near: Option<Uuid>) -> Option<NewReceipt> {
    let paid = &event.payload["payment"]["entity"];
    let id = paid["id"].as_str()?;
    Some(NewReceipt {
        provider: Provider::Razorpay,
        reference: id.to_string(),
        phone: paid["contact"].as_str().map(str::to_string),
        amount_minor: paid["amount"].as_i64()?,
        currency: Currency::parse(paid["currency"].as_str()?).ok()?,
        near_payment_id: near,
        detail: format!(
            "Razorpay payment {id} (order {}) was captured but no waiting payment has it",
            paid["order_id"].as_str().unwrap_or("unknown")
        ),
    })
}

/// What an event does once it is known to be new.
enum Target {
    /// Records the outcome on a payment.
    Payment(ChargeOutcome, Box<payment::Model>),
    /// Keeps money no payment could take.
    Unmatched(NewReceipt),
}

/// Records `event_id` as seen and, when the event moves a payment or brings money no payment takes,
/// records that in the same transaction. A concurrent delivery of the same event loses on the
/// unique (provider, event_id) index and changes nothing.
async fn apply_once(
    services: &Services,
    provider: WebhookProvider,
    event_id: &str,
    target: Option<Target>,
) -> AppResult<Applied> {
    let queue = match &target {
        Some(Target::Payment(outcome, paid)) => dispatch_queue(services, paid.id, outcome).await?,
        _ => vec![],
    };
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    let record = webhook_event::Model {
        id: Uuid::now_v7(),
        provider,
        event_id: event_id.to_string(),
        received_at: now,
        created_at: now,
        updated_at: now,
    };
    if let Err(e) = store::insert(&txn, record).await {
        txn.rollback().await?;
        return if is_unique_violation(&e) {
            Ok(Applied::Replayed)
        } else {
            Err(e.into())
        };
    }
    let mut effects = Effects::default();
    let applied = match target {
        Some(Target::Payment(outcome, paid)) => {
            match record_outcome_in(&txn, services, &mut effects, paid.id, outcome, &queue).await? {
                true => Applied::Moved,
                false => Applied::Ignored,
            }
        }
        Some(Target::Unmatched(new)) => match unmatched::record_in(&txn, now, &new).await? {
            true => Applied::KeptUnmatched,
            false => Applied::Ignored,
        },
        None => Applied::Ignored,
    };
    txn.commit().await?;
    services.after_commit(effects);
    Ok(applied)
}
