//! Payment provider events (Stripe's, once their signature is checked): each event id applied at
//! most once, its dedupe record committed in the same transaction as the payment it moves.

use super::payments::{dispatch_queue, record_outcome_in};
use super::{Effects, Services};
use crate::db::entities::{payment, webhook_event};
use crate::db::{begin_write, is_unique_violation};
use crate::domain::payments::Method;
use crate::error::AppResult;
use crate::gateways::payments::ChargeOutcome;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;

pub const STRIPE: &str = "stripe";

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
    let stripe = payment::Column::Method.eq(Method::Stripe.as_str());
    if let Some(id) = intent["id"].as_str()
        && let Some(found) = payment::Entity::find()
            .filter(stripe.clone())
            .filter(payment::Column::GatewayReference.eq(id))
            .one(db)
            .await?
    {
        return Ok(Some(found));
    }
    let Some(id) = intent["metadata"]["payment_id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
    else {
        return Ok(None);
    };
    Ok(payment::Entity::find_by_id(id)
        .filter(stripe)
        .one(db)
        .await?)
}

async fn seen(db: &impl ConnectionTrait, provider: &str, event_id: &str) -> AppResult<bool> {
    Ok(webhook_event::Entity::find()
        .filter(webhook_event::Column::Provider.eq(provider))
        .filter(webhook_event::Column::EventId.eq(event_id))
        .one(db)
        .await?
        .is_some())
}

/// Applies a verified Stripe event once. A concurrent delivery of the same event loses on the
/// unique (provider, event_id) index and changes nothing.
pub async fn apply_stripe_event(services: &Services, event: &StripeEvent) -> AppResult<Applied> {
    if seen(&services.db, STRIPE, &event.id).await? {
        return Ok(Applied::Replayed);
    }
    let outcome = stripe_outcome(event);
    let paid = match &outcome {
        Some(_) => stripe_payment(&services.db, &event.data.object).await?,
        None => None,
    };
    let queue = match (&outcome, &paid) {
        (Some(outcome), Some(paid)) => dispatch_queue(services, paid.id, outcome).await?,
        _ => vec![],
    };
    let now = services.clock.now();
    let txn = begin_write(&services.db).await?;
    let record = webhook_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        provider: Set(STRIPE.into()),
        event_id: Set(event.id.clone()),
        received_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    };
    if let Err(e) = webhook_event::Entity::insert(record).exec(&txn).await {
        txn.rollback().await?;
        return if is_unique_violation(&e) {
            Ok(Applied::Replayed)
        } else {
            Err(e.into())
        };
    }
    let mut effects = Effects::default();
    let moved = match (outcome, &paid) {
        (Some(outcome), Some(paid)) => {
            record_outcome_in(&txn, services, &mut effects, paid.id, outcome, &queue).await?
        }
        _ => false,
    };
    txn.commit().await?;
    services.after_commit(effects);
    if paid.is_none() {
        tracing::info!(event = %event.id, kind = %event.kind, "Stripe event ignored");
    }
    Ok(if moved {
        Applied::Moved
    } else {
        Applied::Ignored
    })
}
