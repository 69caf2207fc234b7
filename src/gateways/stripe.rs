//! Stripe: PaymentIntents the customer's app confirms with their client secret, refunds, and the
//! webhook signature check. Outcomes arrive later by webhook; this module never waits for them.

use super::http::{client, hmac_sha256, refusal_message};
use super::payments::{ChargeOutcome, ChargeRequest, PaymentGateway, RefundOutcome};
use crate::config::StripeSettings;
use crate::domain::payments::Method;
use anyhow::Context;
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// What the app must do with a Stripe payment: confirm it with Stripe.js or a mobile SDK.
pub const NEXT_ACTION: &str = "STRIPE_CONFIRM_PAYMENT";
/// The oldest signature timestamp accepted, as Stripe's own libraries default to.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

pub struct StripeGateway {
    api_base: String,
    secret_key: SecretString,
    timeout: Duration,
}

impl StripeGateway {
    /// `timeout` bounds each call (FUNDI_GATEWAY_TIMEOUT_SECONDS): past it Stripe counts as unreachable.
    pub fn new(settings: &StripeSettings, timeout: Duration) -> StripeGateway {
        StripeGateway {
            api_base: settings.api_base.clone(),
            secret_key: settings.secret_key.clone(),
            timeout,
        }
    }

    /// POSTs a form to the API; Ok(Err(message)) is Stripe refusing, Err is not reaching it.
    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        idempotency_key: Option<&str>,
        form: &[(&str, String)],
    ) -> anyhow::Result<Result<T, String>> {
        let mut request = client()
            .post(format!("{}{path}", self.api_base))
            .bearer_auth(self.secret_key.expose_secret())
            .timeout(self.timeout)
            .form(form);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.context("calling Stripe")?;
        let status = response.status();
        if status.is_server_error() {
            anyhow::bail!("Stripe answered {status}");
        }
        let body = response.bytes().await.context("reading Stripe's answer")?;
        if !status.is_success() {
            return Ok(Err(refusal_message(
                &body,
                status,
                "Stripe",
                "/error/message",
            )));
        }
        Ok(Ok(
            serde_json::from_slice(&body).context("parsing Stripe's answer")?
        ))
    }
}

#[derive(Deserialize)]
struct PaymentIntent {
    id: String,
    client_secret: Option<String>,
}

#[derive(Deserialize)]
struct Refund {
    id: String,
    status: Option<String>,
    failure_reason: Option<String>,
}

#[async_trait]
impl PaymentGateway for StripeGateway {
    fn method(&self) -> Method {
        Method::Stripe
    }

    async fn charge(&self, request: &ChargeRequest) -> anyhow::Result<ChargeOutcome> {
        let form = [
            ("amount", request.amount_minor.to_string()),
            ("currency", request.currency.code().to_lowercase()),
            ("metadata[payment_id]", request.payment_id.to_string()),
            ("automatic_payment_methods[enabled]", "true".to_string()),
        ];
        // The payment id as idempotency key: a retried call never creates a second intent.
        let key = request.payment_id.to_string();
        Ok(
            match self
                .post::<PaymentIntent>("/v1/payment_intents", Some(&key), &form)
                .await?
            {
                Ok(intent) => ChargeOutcome::Pending {
                    reference: Some(intent.id),
                    next_action: NEXT_ACTION.into(),
                    client_secret: intent.client_secret,
                },
                Err(reason) => ChargeOutcome::Failed { reason },
            },
        )
    }

    async fn refund(&self, reference: &str, amount_minor: i64) -> anyhow::Result<RefundOutcome> {
        let form = [
            ("payment_intent", reference.to_string()),
            ("amount", amount_minor.to_string()),
        ];
        Ok(
            match self.post::<Refund>("/v1/refunds", None, &form).await? {
                Ok(refund) if matches!(refund.status.as_deref(), Some("failed" | "canceled")) => {
                    RefundOutcome::Failed {
                        reason: refund
                            .failure_reason
                            .unwrap_or_else(|| "Stripe did not refund".into()),
                    }
                }
                Ok(refund) => RefundOutcome::Refunded {
                    reference: refund.id,
                },
                Err(reason) => RefundOutcome::Failed { reason },
            },
        )
    }
}

/// Why a webhook's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    #[error("the signature timestamp is outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

/// Checks a `Stripe-Signature` header (`t=<unix>,v1=<hex>[,v1=<hex>...]`) as Stripe documents it:
/// HMAC-SHA256 of `"{t}.{raw body}"` under the endpoint secret, any v1 may match, compared in
/// constant time, and `t` within [`SIGNATURE_TOLERANCE_SECS`] of `now` either way.
pub fn verify_signature(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", sig)) => candidates.extend(hex::decode(sig).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - timestamp).abs() > SIGNATURE_TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    let expected = sign(secret, timestamp, body);
    // Every candidate is compared, so timing does not reveal which one (if any) matched.
    let matched = candidates
        .iter()
        .fold(subtle::Choice::from(0), |acc, c| acc | c.ct_eq(&expected));
    if bool::from(matched) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The v1 signature of a payload sent at `timestamp`; tests use it to sign the events they send.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    hmac_sha256(
        secret.as_bytes(),
        &[format!("{timestamp}.").as_bytes(), body],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";
    const BODY: &[u8] = br#"{"id":"evt_1"}"#;

    fn header(t: i64, sigs: &[Vec<u8>]) -> String {
        let mut h = format!("t={t}");
        for s in sigs {
            h.push_str(&format!(",v1={}", hex::encode(s)));
        }
        h
    }

    #[test]
    fn a_signature_over_the_timestamp_and_raw_body_is_accepted() {
        let good = sign(SECRET, 1_000, BODY);
        assert_eq!(
            verify_signature(
                SECRET,
                &header(1_000, std::slice::from_ref(&good)),
                BODY,
                1_100
            ),
            Ok(())
        );
        // Any one of several v1 signatures may match (Stripe sends two while a secret rolls).
        let other = sign("whsec_old", 1_000, BODY);
        assert_eq!(
            verify_signature(SECRET, &header(1_000, &[other, good]), BODY, 1_000),
            Ok(())
        );
    }

    #[test]
    fn tampered_stale_or_malformed_signatures_are_refused() {
        let good = sign(SECRET, 1_000, BODY);
        let h = header(1_000, &[good]);
        assert_eq!(
            verify_signature(SECRET, &h, br#"{"id":"evt_2"}"#, 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature("whsec_other", &h, BODY, 1_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(SECRET, &h, BODY, 1_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_signature(SECRET, &h, BODY, 699),
            Err(SignatureError::Stale)
        );
        for bad in ["", "t=1000", "v1=00", "t=x,v1=00", "t=1000,v0=00"] {
            assert_eq!(
                verify_signature(SECRET, bad, BODY, 1_000),
                Err(SignatureError::Malformed),
                "{bad:?}"
            );
        }
    }
}
