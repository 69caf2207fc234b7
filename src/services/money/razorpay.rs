//! Razorpay Checkout's answer: the paying customer's app hands back the Razorpay payment id and
//! Checkout's signature, which is checked against the order id this server stored.

use crate::db::entities::payment;
use crate::domain::payments::{Method, PaymentStatus};
use crate::error::{AppError, AppResult};
use crate::gateways::payments::ChargeOutcome;
use crate::gateways::razorpay::{payment_message, verify_signature};
use crate::services::money::payments::{find, record_outcome};
use crate::services::platform::validation::text;
use crate::services::{Services, Viewer, bookings::access};
use secrecy::ExposeSecret;
use uuid::Uuid;

/// Marks a pending RAZORPAY payment SUCCEEDED when `signature` is Checkout's signature of the
/// stored order id and `razorpay_payment_id`. The Razorpay payment id then becomes the gateway
/// reference, as refunds need it. A payment no longer pending is returned as it is, so a retried
/// call after success (or after the webhook got there first) is harmless.
pub async fn verify_payment(
    services: &Services,
    viewer: &Viewer,
    payment_id: Uuid,
    razorpay_payment_id: &str,
    signature: &str,
) -> AppResult<payment::Model> {
    let row = find(&services.db, payment_id).await?;
    // Someone who may not see the booking learns nothing, not even that the payment exists.
    access::visible(services, viewer, row.booking_id)
        .await
        .map_err(|_| AppError::NotFound("payment".into()))?;
    if row.customer_id != viewer.user_id {
        return Err(AppError::Forbidden(
            "only the paying customer verifies a payment".into(),
        ));
    }
    if row.method != Method::Razorpay {
        return Err(AppError::bad_input(
            "paymentId",
            "only a RAZORPAY payment is verified this way",
        ));
    }
    if row.status != PaymentStatus::Pending {
        return Ok(row);
    }
    let Some(settings) = &services.config.razorpay else {
        return Err(AppError::bad_input(
            "paymentId",
            "RAZORPAY is not set up on this server",
        ));
    };
    let razorpay_payment_id = text(
        razorpay_payment_id,
        "razorpayPaymentId",
        "razorpayPaymentId",
        1,
        64,
    )?;
    // The stored order id, never one the client names: a signature for another (cheaper) order
    // must not pay for this one.
    let Some(order_id) = row.gateway_reference.as_deref() else {
        return Err(AppError::bad_input(
            "paymentId",
            "this payment has no Razorpay order to verify",
        ));
    };
    let message = payment_message(order_id, &razorpay_payment_id);
    if !verify_signature(
        settings.key_secret.expose_secret(),
        message.as_bytes(),
        signature,
    ) {
        tracing::warn!(payment = %row.id, "Razorpay payment signature refused");
        return Err(AppError::bad_input(
            "signature",
            "the signature does not match this payment",
        ));
    }
    record_outcome(
        services,
        row.id,
        ChargeOutcome::Succeeded {
            reference: razorpay_payment_id,
        },
    )
    .await
}
