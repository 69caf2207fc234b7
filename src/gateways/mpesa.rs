//! Safaricom Daraja M-Pesa Express (STK Push): OAuth tokens, the payment prompt on the customer's
//! phone, the status query, and the shape of Daraja's callback. No database here; services decide.

use super::payments::{ChargeOutcome, ChargeRequest, PaymentGateway, RefundOutcome};
use crate::config::MpesaSettings;
use crate::domain::payments::{Method, mpesa_shillings};
use anyhow::{Context, anyhow};
use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, FixedOffset, Utc};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A payment's nextAction when staff must send (part of) its refund from the M-Pesa portal.
pub const STAFF_REFUND_ACTION: &str = "STAFF_SEND_MPESA_REFUND";

/// What the app shows while the customer approves the prompt on their phone.
pub const NEXT_ACTION: &str = "MPESA_APPROVE_ON_PHONE";
/// Refresh a cached token this long before Daraja says it expires, so no call goes out with a stale one.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// A Daraja client for one shortcode, shared by every request so its token is fetched once an hour.
pub struct Mpesa {
    settings: MpesaSettings,
    http: reqwest::Client,
    token: tokio::sync::Mutex<Option<CachedToken>>,
    /// Bounds each call (FUNDI_GATEWAY_TIMEOUT_SECONDS): past it Daraja counts as unreachable.
    timeout: Duration,
}

struct CachedToken {
    value: String,
    refresh_at: Instant,
}

/// What the status query says about a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryAnswer {
    /// The customer paid, declined, or let the prompt time out.
    Final(ChargeOutcome),
    /// Daraja is still waiting on the customer, or did not answer; ask again later.
    Unknown(String),
}

/// The part of Daraja's callback this server acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StkCallback {
    pub checkout_request_id: String,
    pub result_code: i64,
    pub result_desc: String,
    pub receipt: Option<String>,
    /// Whole shillings Daraja says were paid; only on success.
    pub amount: Option<i64>,
    /// The paying number as E.164 (+2547...); only on success.
    pub phone: Option<String>,
}

/// East Africa Time, UTC+3 with no daylight saving, checked when compiling.
const EAT: FixedOffset = match FixedOffset::east_opt(3 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+3 is a valid offset"),
};

/// Daraja's timestamp, YYYYMMDDHHmmss in East Africa Time (UTC+3, no daylight saving).
pub fn timestamp(now: DateTime<Utc>) -> String {
    now.with_timezone(&EAT).format("%Y%m%d%H%M%S").to_string()
}

/// Daraja's request password: base64 of shortcode, passkey and timestamp run together.
pub fn password(shortcode: &str, passkey: &str, timestamp: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{shortcode}{passkey}{timestamp}"))
}

/// A final result code as an outcome: 0 paid, anything else failed (1032 cancelled by the customer,
/// 1037 no answer from the phone, 1 insufficient funds, 2001 wrong PIN, ...), with Daraja's words.
pub fn outcome_of(result_code: i64, result_desc: &str, reference: &str) -> ChargeOutcome {
    if result_code == 0 {
        return ChargeOutcome::Succeeded {
            reference: reference.to_string(),
        };
    }
    let reason = match result_code {
        1032 => format!("cancelled on the phone: {result_desc}"),
        1037 => format!("the phone did not answer in time: {result_desc}"),
        _ => format!("M-Pesa declined ({result_code}): {result_desc}"),
    };
    ChargeOutcome::Failed { reason }
}

/// Reads `{Body:{stkCallback:{...}}}`; None when the body is not a Daraja STK callback.
pub fn parse_callback(body: &Value) -> Option<StkCallback> {
    let callback = body.get("Body")?.get("stkCallback")?;
    let item = |name: &str| {
        callback
            .pointer("/CallbackMetadata/Item")
            .and_then(Value::as_array)
            .and_then(|items| {
                items
                    .iter()
                    .find(|item| item.get("Name").and_then(Value::as_str) == Some(name))
            })
            .and_then(|item| item.get("Value"))
    };
    let receipt = item("MpesaReceiptNumber")
        .and_then(Value::as_str)
        .map(str::to_string);
    // Daraja sends the amount as a number, sometimes with a fraction of zero (1500.00).
    let amount = item("Amount").and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_f64().and_then(crate::domain::whole::exact_i64))
    });
    // Daraja sends the number as digits without the plus (254708374149), usually as a number.
    let phone = item("PhoneNumber")
        .and_then(|v| {
            v.as_i64()
                .map(|n| n.to_string())
                .or_else(|| v.as_str().map(str::to_string))
        })
        .map(|digits| format!("+{}", digits.trim_start_matches('+')));
    Some(StkCallback {
        checkout_request_id: callback.get("CheckoutRequestID")?.as_str()?.to_string(),
        result_code: code(callback.get("ResultCode")?)?,
        result_desc: text(callback.get("ResultDesc")),
        receipt,
        amount,
        phone,
    })
}

/// Daraja sends codes as numbers in callbacks and as strings in responses; accept both.
pub(crate) fn code(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

pub(crate) fn text(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_str)
        .unwrap_or("no description")
        .to_string()
}

/// Daraja's own error text (`errorMessage`), else its response description.
pub(crate) fn error_text(body: &Value) -> String {
    body.get("errorMessage")
        .or_else(|| body.get("ResponseDescription"))
        .and_then(Value::as_str)
        .unwrap_or("M-Pesa refused the request")
        .to_string()
}

impl Mpesa {
    pub fn new(settings: MpesaSettings, timeout: Duration) -> anyhow::Result<Mpesa> {
        let http = super::http::client().clone();
        Ok(Mpesa {
            settings,
            http,
            token: tokio::sync::Mutex::new(None),
            timeout,
        })
    }

    pub(crate) fn settings(&self) -> &MpesaSettings {
        &self.settings
    }

    /// Whether `token` is the callback path's secret; compared in constant time.
    pub fn callback_token_matches(&self, token: &str) -> bool {
        use subtle::ConstantTimeEq;
        let expected = self.settings.callback_token.expose_secret().as_bytes();
        expected.ct_eq(token.as_bytes()).into()
    }

    /// A bearer token, from the cache while it is fresh. The lock is held across the fetch so
    /// concurrent payments wait for one token instead of each asking for their own.
    async fn token(&self) -> anyhow::Result<String> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.value.clone());
        }
        let response = self
            .http
            .get(format!(
                "{}/oauth/v1/generate?grant_type=client_credentials",
                self.settings.api_base
            ))
            .basic_auth(
                &self.settings.consumer_key,
                Some(self.settings.consumer_secret.expose_secret()),
            )
            .timeout(self.timeout)
            .send()
            .await
            .context("M-Pesa OAuth request")?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let value = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("M-Pesa OAuth answered {status} without a token"))?
            .to_string();
        // Daraja sends expires_in as a string ("3599"); take a number too.
        let lifetime = body.get("expires_in").and_then(code).unwrap_or(3599).max(0) as u64;
        let lifetime = Duration::from_secs(lifetime);
        *cached = Some(CachedToken {
            value: value.clone(),
            refresh_at: Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN).max(lifetime / 2),
        });
        Ok(value)
    }

    /// POSTs to a Daraja API with the bearer token and returns the HTTP status and JSON body.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: &Value,
    ) -> anyhow::Result<(reqwest::StatusCode, Value)> {
        let token = self.token().await?;
        let response = self
            .http
            .post(format!("{}{path}", self.settings.api_base))
            .bearer_auth(token)
            .json(body)
            .timeout(self.timeout)
            .send()
            .await
            .with_context(|| format!("M-Pesa request to {path}"))?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            // Revoked or expired early: fetch a new token next time.
            *self.token.lock().await = None;
        }
        let json = response
            .json()
            .await
            .with_context(|| format!("M-Pesa answered {status} from {path} without JSON"))?;
        Ok((status, json))
    }

    /// Shortcode, password and timestamp, which every Daraja request carries.
    fn credentials(&self) -> (String, String) {
        let timestamp = timestamp(Utc::now());
        let password = password(
            &self.settings.shortcode,
            self.settings.passkey.expose_secret(),
            &timestamp,
        );
        (password, timestamp)
    }

    /// Sends the payment prompt to the customer's phone. Pending until the callback or the query.
    pub async fn stk_push(&self, request: &ChargeRequest) -> anyhow::Result<ChargeOutcome> {
        let amount = mpesa_shillings(request.amount_minor, request.currency)
            .map_err(|r| anyhow!(r.message))?;
        let phone = request
            .phone
            .as_deref()
            .ok_or_else(|| anyhow!("an M-Pesa charge needs a phone number"))?
            .trim_start_matches('+');
        let (password, timestamp) = self.credentials();
        let simple = request.payment_id.simple().to_string();
        let body = json!({
            "BusinessShortCode": self.settings.shortcode,
            "Password": password,
            "Timestamp": timestamp,
            "TransactionType": "CustomerPayBillOnline",
            "Amount": amount,
            "PartyA": phone,
            "PartyB": self.settings.shortcode,
            "PhoneNumber": phone,
            "CallBackURL": format!(
                "{}/webhooks/mpesa/{}",
                self.settings.callback_base_url,
                self.settings.callback_token.expose_secret()
            ),
            // Daraja caps these at 12 and 13 characters; the payment id's random tail tells payments apart.
            "AccountReference": format!("FUNDI{}", &simple[simple.len() - 7..]).to_uppercase(),
            "TransactionDesc": "Fundi booking",
        });
        let (_, answer) = self.post("/mpesa/stkpush/v1/processrequest", &body).await?;
        let accepted = answer.get("ResponseCode").and_then(code) == Some(0);
        match answer.get("CheckoutRequestID").and_then(Value::as_str) {
            Some(checkout) if accepted => Ok(ChargeOutcome::Pending {
                reference: Some(checkout.to_string()),
                next_action: NEXT_ACTION.into(),
                client_secret: None,
            }),
            _ => Ok(ChargeOutcome::Failed {
                reason: error_text(&answer),
            }),
        }
    }

    /// Asks Daraja how a prompt ended. Only a result code is final; Daraja's "still processing"
    /// error and any failure to reach it leave the payment as it is.
    pub async fn query(&self, checkout_request_id: &str) -> anyhow::Result<QueryAnswer> {
        let (password, timestamp) = self.credentials();
        let body = json!({
            "BusinessShortCode": self.settings.shortcode,
            "Password": password,
            "Timestamp": timestamp,
            "CheckoutRequestID": checkout_request_id,
        });
        let (_, answer) = self.post("/mpesa/stkpushquery/v1/query", &body).await?;
        Ok(match answer.get("ResultCode").and_then(code) {
            Some(result) => QueryAnswer::Final(outcome_of(
                result,
                &text(answer.get("ResultDesc")),
                checkout_request_id,
            )),
            None => QueryAnswer::Unknown(error_text(&answer)),
        })
    }
}

#[async_trait]
impl PaymentGateway for Arc<Mpesa> {
    fn method(&self) -> Method {
        Method::Mpesa
    }

    async fn charge(&self, request: &ChargeRequest) -> anyhow::Result<ChargeOutcome> {
        self.stk_push(request).await
    }

    /// STK Push has no refund call. With B2C configured, settlement sends refunds back to the
    /// paying phone itself (services::money::mpesa_refunds) and never asks here; without it the refund is
    /// booked and staff send it from the M-Pesa portal, so a cancellation or a dispute is never
    /// blocked by it.
    async fn refund(&self, _: &str, _: i64) -> anyhow::Result<RefundOutcome> {
        Ok(RefundOutcome::Manual {
            instructions: STAFF_REFUND_ACTION.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_east_africa_time() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T22:30:05Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(timestamp(now), "20261124013005");
    }

    #[test]
    fn the_password_is_base64_of_shortcode_passkey_and_timestamp() {
        assert_eq!(
            password("174379", "key", "20261124013005"),
            base64::engine::general_purpose::STANDARD.encode("174379key20261124013005")
        );
    }

    #[test]
    fn callbacks_are_read_with_their_receipt() {
        let body = json!({"Body": {"stkCallback": {
        "MerchantRequestID": "m1", "CheckoutRequestID": "ws_CO_1", "ResultCode": 0,
        "ResultDesc": "The service request is processed successfully.",
        "CallbackMetadata": {"Item": [
            {"Name": "Amount", "Value": 1500},
            {"Name": "MpesaReceiptNumber", "Value": "NLJ7RT61SV"},
            {"Name": "PhoneNumber", "Value": 254712345678u64}
        ]}}}});
        let parsed = parse_callback(&body).unwrap();
        assert_eq!(parsed.checkout_request_id, "ws_CO_1");
        assert_eq!(parsed.result_code, 0);
        assert_eq!(parsed.receipt.as_deref(), Some("NLJ7RT61SV"));
        assert_eq!(parsed.amount, Some(1500));
        assert_eq!(parsed.phone.as_deref(), Some("+254712345678"));
        assert!(parse_callback(&json!({"Body": {}})).is_none());
    }

    #[test]
    fn result_codes_map_to_outcomes() {
        assert_eq!(
            outcome_of(0, "ok", "R1"),
            ChargeOutcome::Succeeded {
                reference: "R1".into()
            }
        );
        for code in [1032, 1037, 1, 2001] {
            assert!(matches!(
                outcome_of(code, "x", "R1"),
                ChargeOutcome::Failed { .. }
            ));
        }
    }
}
