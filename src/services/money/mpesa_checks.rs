//! M-Pesa results: applying Daraja's callback, and asking Daraja about prompts whose callback never
//! came. Both go through `payments::record_outcome`, which moves only INITIATED or PENDING payments,
//! so a replayed callback, or a callback racing the query on another replica, is applied once. A
//! success that no waiting payment can take (an unknown CheckoutRequestID, or a payment we already
//! marked FAILED) is money on our paybill all the same: it is kept as an unmatched receipt.

use crate::db::money::payments as payment_store;
use crate::domain::money::Currency;
use crate::domain::payments::{Method, PaymentStatus};
use crate::domain::unmatched::Provider;
use crate::error::AppResult;
use crate::gateways::mpesa::{QueryAnswer, StkCallback, outcome_of};
use crate::services::Services;
use crate::services::money::payments::record_outcome;
use crate::services::money::unmatched::{self, NewReceipt};

/// How long a prompt may wait for its callback before Daraja is asked directly.
pub const QUERY_AFTER_SECS: i64 = 90;
const BATCH: u64 = 50;

/// Applies a callback to the payment whose CheckoutRequestID it names. Failures for unknown ids and
/// payments already settled are left alone: Daraja retries and replays, and the answer is the same.
/// A success nothing waits for is kept for staff (once, by its receipt number).
pub async fn apply_callback(services: &Services, callback: StkCallback) -> AppResult<()> {
    let Some(paid) = payment_store::by_method_and_reference(
        &services.db,
        Method::Mpesa.as_str(),
        &callback.checkout_request_id,
    )
    .await?
    else {
        if callback.result_code == 0 {
            let near = timed_out_prompt(services, &callback).await?;
            let detail = format!(
                "M-Pesa success for CheckoutRequestID {}, which no payment has",
                callback.checkout_request_id
            );
            return keep_unmatched(services, &callback, near, detail).await;
        }
        tracing::info!(checkout = %callback.checkout_request_id, "M-Pesa callback for no pending payment");
        return Ok(());
    };
    if callback.result_code == 0 && paid.status == PaymentStatus::Failed {
        // Our side gave up on the prompt (or Daraja said it failed) and the customer paid anyway.
        let detail = format!(
            "M-Pesa success for CheckoutRequestID {} after its payment was marked FAILED",
            callback.checkout_request_id
        );
        return keep_unmatched(services, &callback, Some(paid.id), detail).await;
    }
    // A success for another amount than the prompt asked is not believed: the callback's only
    // credential is its path, so the STK Push Query (an authenticated call out) settles it instead.
    let expected = paid.amount_minor / 100;
    if callback.result_code == 0 && callback.amount.is_some_and(|paid_kes| paid_kes != expected) {
        tracing::error!(payment = %paid.id, expected, said = ?callback.amount, "M-Pesa callback amount does not match the prompt; left for the status query");
        return Ok(());
    }
    let outcome = match (callback.result_code, callback.receipt) {
        // The receipt becomes the reference: it is what the customer and M-Pesa statements show.
        (0, Some(receipt)) => outcome_of(0, &callback.result_desc, &receipt),
        (0, None) => {
            // Success without a receipt is malformed; the status query settles it instead.
            tracing::warn!(payment = %paid.id, "M-Pesa success callback without a receipt");
            return Ok(());
        }
        (code, _) => outcome_of(code, &callback.result_desc, &callback.checkout_request_id),
    };
    record_outcome(services, paid.id, outcome).await?;
    Ok(())
}

/// The FAILED M-Pesa payment a callback with an unknown CheckoutRequestID most likely belongs to:
/// the newest one from the same phone for the same amount whose prompt never got a
/// CheckoutRequestID back (the request timed out on our side but reached the phone). Only a hint
/// for staff; nothing is decided by it.
async fn timed_out_prompt(
    services: &Services,
    callback: &StkCallback,
) -> AppResult<Option<uuid::Uuid>> {
    let (Some(phone), Some(shillings)) = (&callback.phone, callback.amount) else {
        return Ok(None);
    };
    Ok(payment_store::newest_unreferenced(
        &services.db,
        Method::Mpesa.as_str(),
        PaymentStatus::Failed,
        phone.as_str(),
        shillings.saturating_mul(100),
    )
    .await?
    .map(|p| p.id))
}

/// Keeps a success callback's money as an unmatched receipt. Without a receipt number or an amount
/// there is nothing to keep by (and Daraja sends both on every success), so it is only logged.
async fn keep_unmatched(
    services: &Services,
    callback: &StkCallback,
    near_payment_id: Option<uuid::Uuid>,
    detail: String,
) -> AppResult<()> {
    let (Some(receipt), Some(shillings)) = (&callback.receipt, callback.amount) else {
        tracing::error!(checkout = %callback.checkout_request_id, "M-Pesa success without receipt or amount matched no payment; not kept");
        return Ok(());
    };
    let new = NewReceipt {
        provider: Provider::Mpesa,
        reference: receipt.clone(),
        phone: callback.phone.clone(),
        amount_minor: shillings.saturating_mul(100),
        currency: Currency::KES,
        near_payment_id,
        detail,
    };
    unmatched::record(services, &new).await?;
    Ok(())
}

/// Asks Daraja about M-Pesa payments PENDING for longer than [`QUERY_AFTER_SECS`]; returns how many
/// were settled. Each is claimed by moving its `updated_at` forward with a conditional update, so
/// two replicas never query the same payment in one round and an unanswered one waits another
/// interval before it is asked about again.
pub async fn check_pending(services: &Services) -> AppResult<usize> {
    let Some(mpesa) = services.mpesa.clone() else {
        return Ok(0);
    };
    let now = services.clock.now();
    let cutoff = now - chrono::Duration::seconds(QUERY_AFTER_SECS);
    let due = payment_store::untouched_since(
        &services.db,
        Method::Mpesa.as_str(),
        PaymentStatus::Pending,
        cutoff,
        BATCH,
    )
    .await?;
    let mut settled = 0;
    for paid in due {
        let Some(checkout) = paid.gateway_reference.as_deref() else {
            continue;
        };
        let claimed = payment_store::touch_if_unchanged(
            &services.db,
            paid.id,
            PaymentStatus::Pending,
            paid.updated_at,
            now,
        )
        .await?;
        if claimed != 1 {
            continue;
        }
        match mpesa.query(checkout).await {
            Ok(QueryAnswer::Final(outcome)) => {
                match record_outcome(services, paid.id, outcome).await {
                    Ok(_) => settled += 1,
                    // One payment that cannot be applied must not hold up the rest of the batch.
                    Err(e) => {
                        tracing::warn!(payment = %paid.id, error = ?e.message(), "M-Pesa result not applied; will retry");
                    }
                }
            }
            Ok(QueryAnswer::Unknown(why)) => {
                tracing::info!(payment = %paid.id, why = %why, "M-Pesa prompt not settled yet");
            }
            Err(e) => {
                tracing::warn!(payment = %paid.id, error = %e, "M-Pesa status query failed; will retry");
            }
        }
    }
    Ok(settled)
}
