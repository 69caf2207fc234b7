//! Razorpay: an Order per payment that the customer's app pays through Razorpay Checkout, refunds,
//! and the two HMAC checks (Checkout's payment signature and the webhook signature). Outcomes
//! arrive later, by the app's verification or by webhook; this module never waits for them.

use super::http::{client, hmac_sha256, refusal_message};
use super::payments::{ChargeOutcome, ChargeRequest, PaymentGateway, RefundOutcome};
use crate::config::RazorpaySettings;
use crate::domain::payments::Method;
use anyhow::Context;
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// What the app must do with a Razorpay payment: open Checkout with the order id and the key id.
pub const NEXT_ACTION: &str = "RAZORPAY_CHECKOUT";

pub struct RazorpayGateway {
    api_base: String,
    key_id: String,
    key_secret: SecretString,
    timeout: Duration,
}

impl RazorpayGateway {
    /// `timeout` bounds each call (FUNDI_GATEWAY_TIMEOUT_SECONDS): past it Razorpay counts as unreachable.
    pub fn new(settings: &RazorpaySettings, timeout: Duration) -> RazorpayGateway {
        RazorpayGateway {
            api_base: settings.api_base.clone(),
            key_id: settings.key_id.clone(),
            key_secret: settings.key_secret.clone(),
            timeout,
        }
    }

    /// POSTs JSON to the API; Ok(Err(message)) is Razorpay refusing, Err is not reaching it.
    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<Result<T, String>> {
        let response = client()
            .post(format!("{}{path}", self.api_base))
            .basic_auth(&self.key_id, Some(self.key_secret.expose_secret()))
            .timeout(self.timeout)
            .json(body)
            .send()
            .await
            .context("calling Razorpay")?;
        let status = response.status();
        if status.is_server_error() {
            anyhow::bail!("Razorpay answered {status}");
        }
        let body = response
            .bytes()
            .await
            .context("reading Razorpay's answer")?;
        if !status.is_success() {
            return Ok(Err(refusal_message(
                &body,
                status,
                "Razorpay",
                "/error/description",
            )));
        }
        Ok(Ok(
            serde_json::from_slice(&body).context("parsing Razorpay's answer")?
        ))
    }
}

#[derive(Deserialize)]
struct Order {
    id: String,
}

#[derive(Deserialize)]
struct Refund {
    id: String,
    status: Option<String>,
}

#[async_trait]
impl PaymentGateway for RazorpayGateway {
    fn method(&self) -> Method {
        Method::Razorpay
    }

    async fn charge(&self, request: &ChargeRequest) -> anyhow::Result<ChargeOutcome> {
        let id = request.payment_id.to_string();
        let body = json!({
            "amount": request.amount_minor,
            "currency": request.currency.code(),
            // Razorpay caps the receipt at 40 characters: the simple UUID (32) fits.
            "receipt": request.payment_id.simple().to_string(),
            "notes": { "payment_id": id },
        });
        Ok(match self.post::<Order>("/v1/orders", &body).await? {
            Ok(order) => ChargeOutcome::Pending {
                reference: Some(order.id),
                next_action: NEXT_ACTION.into(),
                client_secret: None,
            },
            Err(reason) => ChargeOutcome::Failed { reason },
        })
    }

    /// `reference` is the Razorpay payment id (pay_...), which replaces the order id as the
    /// payment's gateway reference once it succeeds: refunds are made against payments, not orders.
    async fn refund(&self, reference: &str, amount_minor: i64) -> anyhow::Result<RefundOutcome> {
        let path = format!("/v1/payments/{reference}/refund");
        let body = json!({ "amount": amount_minor });
        Ok(match self.post::<Refund>(&path, &body).await? {
            Ok(refund) if refund.status.as_deref() == Some("failed") => RefundOutcome::Failed {
                reason: "Razorpay did not refund".into(),
            },
            Ok(refund) => RefundOutcome::Refunded {
                reference: refund.id,
            },
            Err(reason) => RefundOutcome::Failed { reason },
        })
    }
}

/// HMAC-SHA256 of `message` under `secret`; tests use it to sign what they send.
pub fn sign(secret: &str, message: &[u8]) -> Vec<u8> {
    hmac_sha256(secret.as_bytes(), &[message])
}

/// What Checkout signs when a payment for an order is made: `"{order_id}|{razorpay_payment_id}"`.
pub fn payment_message(order_id: &str, razorpay_payment_id: &str) -> String {
    format!("{order_id}|{razorpay_payment_id}")
}

/// Whether `signature` (hex, as Razorpay sends it) is the HMAC of `message` under `secret`,
/// compared in constant time. Both Checkout's payment signature and the webhook's
/// `X-Razorpay-Signature` (over the raw body) are checked this way.
pub fn verify_signature(secret: &str, message: &[u8], signature: &str) -> bool {
    let Ok(given) = hex::decode(signature.trim()) else {
        return false;
    };
    bool::from(given.ct_eq(&sign(secret, message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_hmac_of_the_exact_message_under_the_secret_verifies() {
        let message = payment_message("order_1", "pay_1");
        assert_eq!(message, "order_1|pay_1");
        let good = hex::encode(sign("secret", message.as_bytes()));
        assert!(verify_signature("secret", message.as_bytes(), &good));
        assert!(verify_signature(
            "secret",
            message.as_bytes(),
            &good.to_uppercase()
        ));
        assert!(!verify_signature("other", message.as_bytes(), &good));
        assert!(!verify_signature("secret", b"order_1|pay_2", &good));
        for bad in ["", "zz", "00", &good[..62]] {
            assert!(
                !verify_signature("secret", message.as_bytes(), bad),
                "{bad:?}"
            );
        }
    }
}
