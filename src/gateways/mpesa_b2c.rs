//! Safaricom Daraja B2C: payouts to technicians' M-Pesa numbers, the Transaction Status query, and
//! the shape of the result callbacks. Reuses the STK Push client's OAuth token handling; no database here.

use super::mpesa::{Mpesa, code, error_text, text};
use super::payouts::{
    Destination, PayoutGateway, PayoutOutcome, PayoutPurpose, PayoutQuery, PayoutRequest,
};
use crate::config::MpesaB2cSettings;
use crate::domain::payments::{mpesa_phone, mpesa_shillings};
use crate::domain::payouts::Gateway;
use anyhow::anyhow;
use async_trait::async_trait;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::sync::Arc;

/// The gateway name stored on withdrawals paid through B2C.
pub const NAME: Gateway = Gateway::Mpesa;
const PAYMENT_PATH: &str = "/mpesa/b2c/v3/paymentrequest";
const STATUS_PATH: &str = "/mpesa/transactionstatus/v1/query";
/// Daraja caps Remarks and Occasion at 100 characters; these stay well inside.
const REMARKS: &str = "Fundi earnings withdrawal";
const REFUND_REMARKS: &str = "Fundi refund";
/// A refund is the business paying a customer back, whatever command withdrawals are set to use.
const REFUND_COMMAND: &str = "BusinessPayment";

/// A B2C client: the Daraja app (OAuth, API base, callback token) plus the B2C initiator.
pub struct MpesaB2c {
    daraja: Arc<Mpesa>,
    b2c: MpesaB2cSettings,
    /// `{callback_base_url}/webhooks/mpesa/{token}`; secret because it carries the callback token.
    callback_prefix: SecretString,
}

/// What a result callback (payment or status) says about one withdrawal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct B2cCallback {
    /// Our withdrawal reference.
    pub reference: String,
    pub result_code: Option<i64>,
    pub result_desc: String,
    /// Completed or Failed when the callback is final; StillProcessing when it says nothing final.
    pub outcome: PayoutQuery,
}

impl MpesaB2c {
    /// Payouts through `daraja`, the same client customer payments use, so one OAuth token serves both.
    pub fn new(daraja: Arc<Mpesa>, b2c: MpesaB2cSettings) -> MpesaB2c {
        let mpesa = daraja.settings();
        let callback_prefix = SecretString::from(format!(
            "{}/webhooks/mpesa/{}",
            mpesa.callback_base_url.trim_end_matches('/'),
            mpesa.callback_token.expose_secret()
        ));
        MpesaB2c {
            daraja,
            b2c,
            callback_prefix,
        }
    }

    /// Whether `token` is the callback path's secret; compared in constant time.
    pub fn callback_token_matches(&self, token: &str) -> bool {
        self.daraja.callback_token_matches(token)
    }

    fn callback_url(&self, leaf: &str) -> String {
        format!("{}/b2c/{leaf}", self.callback_prefix.expose_secret())
    }

    /// The B2C payment request for `request`, or the reason M-Pesa cannot carry it.
    pub fn payment_body(&self, request: &PayoutRequest) -> Result<Value, String> {
        let amount =
            mpesa_shillings(request.amount_minor, request.currency).map_err(|r| r.message)?;
        let Destination::Mpesa { phone } = &request.destination else {
            return Err("M-Pesa pays out to M-Pesa numbers only".into());
        };
        let phone = mpesa_phone(Some(phone)).map_err(|r| r.message)?;
        let (command, remarks) = match request.purpose {
            PayoutPurpose::Withdrawal => (self.b2c.command_id.as_str(), REMARKS),
            PayoutPurpose::Refund => (REFUND_COMMAND, REFUND_REMARKS),
        };
        Ok(json!({
            // Ours, so the result callback and the status query find the withdrawal by it.
            "OriginatorConversationID": request.reference,
            "InitiatorName": self.b2c.initiator_name,
            "SecurityCredential": self.b2c.security_credential.expose_secret(),
            "CommandID": command,
            "Amount": amount,
            "PartyA": self.b2c.shortcode,
            "PartyB": phone.trim_start_matches('+'),
            "Remarks": remarks,
            "QueueTimeOutURL": self.callback_url("timeout"),
            "ResultURL": self.callback_url("result"),
            "Occasion": request.reference,
        }))
    }

    /// The Transaction Status query for the payout sent as `reference`.
    pub fn status_body(&self, reference: &str) -> Value {
        json!({
            "Initiator": self.b2c.initiator_name,
            "SecurityCredential": self.b2c.security_credential.expose_secret(),
            "CommandID": "TransactionStatusQuery",
            "OriginatorConversationID": reference,
            "PartyA": self.b2c.shortcode,
            // 4: PartyA is an organisation shortcode.
            "IdentifierType": "4",
            "ResultURL": self.callback_url("status"),
            "QueueTimeOutURL": self.callback_url("timeout"),
            "Remarks": REMARKS,
            // Daraja echoes Occasion back in the status result's ReferenceData; the result's own
            // OriginatorConversationID names the query, not the payout, so this is how it is matched.
            "Occasion": reference,
        })
    }
}

/// Whether an answer means Daraja or our access to it is unwell rather than a refusal of this
/// payout: worth trying again later, and no reason to fail the withdrawal.
fn transient(status: StatusCode, answer: &Value) -> bool {
    status.is_server_error()
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::TOO_MANY_REQUESTS
        // Daraja's "Invalid Access Token" arrives as 404.001.03.
        || answer
            .get("errorCode")
            .and_then(Value::as_str)
            .is_some_and(|c| c.starts_with("404.001"))
}

/// Reads a send's answer: accepted, refused, or (None) not an answer to act on.
pub fn send_outcome(status: StatusCode, answer: &Value) -> Option<PayoutOutcome> {
    if transient(status, answer) {
        return None;
    }
    if answer.get("ResponseCode").and_then(code) == Some(0) {
        return Some(PayoutOutcome::Processing {
            gateway_reference: answer
                .get("ConversationID")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    }
    let reason = error_text(answer);
    if reason.to_ascii_lowercase().contains("duplicate") {
        // A request with this OriginatorConversationID already reached Daraja (an earlier send
        // whose answer was lost). Failing now would hand the money back while that payout may
        // still complete; its callback or the status query settles it instead.
        return Some(PayoutOutcome::Processing {
            gateway_reference: None,
        });
    }
    Some(PayoutOutcome::Failed { reason })
}

/// `ResultParameters.ResultParameter` as key/value pairs. Daraja sends a lone parameter as an
/// object rather than a one-element list, so both are read.
fn parameters(result: &Value) -> Vec<(&str, &Value)> {
    let list = match result.pointer("/ResultParameters/ResultParameter") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => vec![],
    };
    list.into_iter()
        .filter_map(|p| Some((p.get("Key")?.as_str()?, p.get("Value")?)))
        .collect()
}

fn parameter<'a>(params: &[(&str, &'a Value)], key: &str) -> Option<&'a Value> {
    params.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

/// A parameter or field as text; Daraja sends some identifiers as numbers.
fn as_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The `Result` object of a callback, with its code and description.
fn result_of(body: &Value) -> Option<(&Value, Option<i64>, String)> {
    let result = body.get("Result")?;
    if !result.is_object() {
        return None;
    }
    // A code that is there but not a number (e.g. "SFC_IC0003") is still a code, and not 0.
    let raw_code = result.get("ResultCode")?;
    let result_code = code(raw_code);
    Some((result, result_code, text(result.get("ResultDesc"))))
}

/// Reads the payment result callback (the ResultURL of a B2C request); None when the body is not
/// one. Code 0 is paid, with the M-Pesa receipt as reference; any other code failed.
pub fn parse_payment_result(body: &Value) -> Option<B2cCallback> {
    let (result, result_code, result_desc) = result_of(body)?;
    let reference = as_text(result.get("OriginatorConversationID"))?;
    let outcome = if result_code == Some(0) {
        let params = parameters(result);
        let receipt = as_text(parameter(&params, "TransactionReceipt"))
            .or_else(|| as_text(result.get("TransactionID")))?;
        PayoutQuery::Completed {
            gateway_reference: receipt,
        }
    } else {
        PayoutQuery::Failed {
            reason: result_desc.clone(),
        }
    };
    Some(B2cCallback {
        reference,
        result_code,
        result_desc,
        outcome,
    })
}

/// Reads a Transaction Status result callback; None when the body is not one. Only a successful
/// query that names the payout's state is final: a failed query (wrong initiator, not found yet)
/// says nothing about the money, so it leaves the withdrawal PROCESSING for staff or the next query.
pub fn parse_status_result(body: &Value) -> Option<B2cCallback> {
    let (result, result_code, result_desc) = result_of(body)?;
    let params = parameters(result);
    let reference = occasion(result)
        .or_else(|| as_text(parameter(&params, "Originator Conversation ID")))
        .or_else(|| as_text(result.get("OriginatorConversationID")))?;
    let status = as_text(parameter(&params, "TransactionStatus")).unwrap_or_default();
    let outcome = match (result_code, status.to_ascii_lowercase().as_str()) {
        (Some(0), "completed") => PayoutQuery::Completed {
            gateway_reference: as_text(parameter(&params, "ReceiptNo"))
                .or_else(|| as_text(result.get("TransactionID")))?,
        },
        (Some(0), "failed" | "declined" | "cancelled" | "expired" | "reversed") => {
            PayoutQuery::Failed {
                reason: format!("M-Pesa reports the payout {status}: {result_desc}"),
            }
        }
        _ => PayoutQuery::StillProcessing,
    };
    Some(B2cCallback {
        reference,
        result_code,
        result_desc,
        outcome,
    })
}

/// The Occasion Daraja echoes in `ReferenceData.ReferenceItem` (an object, or a list of them).
fn occasion(result: &Value) -> Option<String> {
    let items = match result.pointer("/ReferenceData/ReferenceItem")? {
        Value::Array(items) => items.iter().collect(),
        item => vec![item],
    };
    items
        .into_iter()
        .find(|item| item.get("Key").and_then(Value::as_str) == Some("Occasion"))
        .and_then(|item| as_text(item.get("Value")))
}

/// The withdrawal a queue-timeout callback is about, when it says.
pub fn parse_timeout(body: &Value) -> Option<String> {
    let result = body.get("Result")?;
    occasion(result).or_else(|| as_text(result.get("OriginatorConversationID")))
}

#[async_trait]
impl PayoutGateway for MpesaB2c {
    fn name(&self) -> Gateway {
        NAME
    }

    async fn send(&self, request: &PayoutRequest) -> anyhow::Result<PayoutOutcome> {
        let body = match self.payment_body(request) {
            Ok(body) => body,
            Err(reason) => return Ok(PayoutOutcome::Failed { reason }),
        };
        let (status, answer) = self.daraja.post(PAYMENT_PATH, &body).await?;
        send_outcome(status, &answer).ok_or_else(|| {
            anyhow!(
                "M-Pesa B2C answered {status}: {}",
                error_text(&answer).chars().take(200).collect::<String>()
            )
        })
    }

    /// Daraja answers the status query by callback on /b2c/status, so an accepted query is
    /// StillProcessing here; a refused one is an error, since it says nothing about the payout.
    async fn query(&self, reference: &str) -> anyhow::Result<PayoutQuery> {
        let (status, answer) = self
            .daraja
            .post(STATUS_PATH, &self.status_body(reference))
            .await?;
        if !transient(status, &answer) && answer.get("ResponseCode").and_then(code) == Some(0) {
            return Ok(PayoutQuery::StillProcessing);
        }
        Err(anyhow!(
            "M-Pesa transaction status answered {status}: {}",
            error_text(&answer).chars().take(200).collect::<String>()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MpesaSettings;
    use crate::domain::money::Currency;
    use uuid::Uuid;

    fn gateway() -> MpesaB2c {
        let daraja = Mpesa::new(
            MpesaSettings {
                consumer_key: "key".into(),
                consumer_secret: SecretString::from("secret"),
                shortcode: "174379".into(),
                passkey: SecretString::from("passkey"),
                callback_token: SecretString::from("cb-token-0123456789"),
                callback_base_url: "https://api.example.com".into(),
                api_base: "http://127.0.0.1:9".into(),
            },
            std::time::Duration::from_secs(5),
        )
        .unwrap();
        MpesaB2c::new(
            Arc::new(daraja),
            MpesaB2cSettings {
                shortcode: "600996".into(),
                initiator_name: "testapi".into(),
                security_credential: SecretString::from("encrypted-credential"),
                command_id: "BusinessPayment".into(),
            },
        )
    }

    fn request(amount_minor: i64, currency: &str, destination: Destination) -> PayoutRequest {
        PayoutRequest {
            id: Uuid::now_v7(),
            purpose: PayoutPurpose::Withdrawal,
            reference: "WD-ABC123".into(),
            amount_minor,
            currency: Currency::parse(currency).unwrap(),
            destination,
        }
    }

    fn phone() -> Destination {
        Destination::Mpesa {
            phone: "+254712345678".into(),
        }
    }

    #[test]
    fn the_payment_request_carries_our_reference_whole_shillings_and_the_callback_urls() {
        let body = gateway()
            .payment_body(&request(150_000, "KES", phone()))
            .unwrap();
        assert_eq!(body["OriginatorConversationID"], "WD-ABC123");
        assert_eq!(body["InitiatorName"], "testapi");
        assert_eq!(body["SecurityCredential"], "encrypted-credential");
        assert_eq!(body["CommandID"], "BusinessPayment");
        assert_eq!(body["Amount"], 1500);
        assert_eq!(body["PartyA"], "600996");
        assert_eq!(body["PartyB"], "254712345678");
        assert_eq!(
            body["ResultURL"],
            "https://api.example.com/webhooks/mpesa/cb-token-0123456789/b2c/result"
        );
        assert_eq!(
            body["QueueTimeOutURL"],
            "https://api.example.com/webhooks/mpesa/cb-token-0123456789/b2c/timeout"
        );
        assert_eq!(body["Occasion"], "WD-ABC123");
        assert!(body["Remarks"].as_str().is_some_and(|r| !r.is_empty()));
    }

    #[test]
    fn a_refund_is_a_business_payment_whatever_withdrawals_use() {
        let mut b2c = gateway();
        b2c.b2c.command_id = "SalaryPayment".into();
        let mut refund = request(50_000, "KES", phone());
        refund.purpose = PayoutPurpose::Refund;
        refund.reference = "RF-0123456789AB".into();
        let body = b2c.payment_body(&refund).unwrap();
        assert_eq!(body["CommandID"], "BusinessPayment");
        assert_eq!(body["Remarks"], REFUND_REMARKS);
        assert_eq!(body["OriginatorConversationID"], "RF-0123456789AB");
        assert_eq!(body["Amount"], 500);
        let withdrawal = b2c.payment_body(&request(50_000, "KES", phone())).unwrap();
        assert_eq!(withdrawal["CommandID"], "SalaryPayment");
        assert_eq!(withdrawal["Remarks"], REMARKS);
    }

    #[test]
    fn cents_other_currencies_and_other_destinations_are_refused_before_sending() {
        let b2c = gateway();
        let cents = b2c.payment_body(&request(150_050, "KES", phone()));
        assert!(cents.unwrap_err().contains("whole shillings"));
        let dollars = b2c.payment_body(&request(150_000, "USD", phone()));
        assert!(dollars.unwrap_err().contains("KES"));
        let upi = b2c.payment_body(&request(
            150_000,
            "KES",
            Destination::Upi {
                vpa: "a@upi".into(),
            },
        ));
        assert!(upi.is_err());
        let landline = b2c.payment_body(&request(
            150_000,
            "KES",
            Destination::Mpesa {
                phone: "+254202345678".into(),
            },
        ));
        assert!(landline.is_err());
    }

    #[tokio::test]
    async fn a_refused_amount_fails_without_calling_daraja() {
        // The API base is a closed port: reaching it would be an error, not a Failed outcome.
        let outcome = gateway()
            .send(&request(150_050, "KES", phone()))
            .await
            .unwrap();
        assert!(
            matches!(outcome, PayoutOutcome::Failed { .. }),
            "{outcome:?}"
        );
    }

    #[test]
    fn the_status_query_names_the_payout_and_answers_on_the_status_route() {
        let body = gateway().status_body("WD-ABC123");
        assert_eq!(body["CommandID"], "TransactionStatusQuery");
        assert_eq!(body["Initiator"], "testapi");
        assert_eq!(body["OriginatorConversationID"], "WD-ABC123");
        assert_eq!(body["PartyA"], "600996");
        assert_eq!(body["IdentifierType"], "4");
        assert_eq!(body["Occasion"], "WD-ABC123");
        assert!(body["ResultURL"].as_str().unwrap().ends_with("/b2c/status"));
        assert!(
            body["QueueTimeOutURL"]
                .as_str()
                .unwrap()
                .ends_with("/b2c/timeout")
        );
    }

    #[test]
    fn send_answers_map_to_outcomes() {
        let accepted = json!({"ConversationID": "AG_20191219_00005797af5d7d75f652",
            "OriginatorConversationID": "WD-ABC123", "ResponseCode": "0",
            "ResponseDescription": "Accept the service request successfully."});
        assert_eq!(
            send_outcome(StatusCode::OK, &accepted),
            Some(PayoutOutcome::Processing {
                gateway_reference: Some("AG_20191219_00005797af5d7d75f652".into())
            })
        );
        let refused = json!({"requestId": "1", "errorCode": "400.002.02",
            "errorMessage": "Bad Request - Invalid PartyB"});
        assert_eq!(
            send_outcome(StatusCode::BAD_REQUEST, &refused),
            Some(PayoutOutcome::Failed {
                reason: "Bad Request - Invalid PartyB".into()
            })
        );
        let duplicate = json!({"errorCode": "400.002.02",
            "errorMessage": "Duplicate OriginatorConversationID"});
        assert!(matches!(
            send_outcome(StatusCode::BAD_REQUEST, &duplicate),
            Some(PayoutOutcome::Processing { .. })
        ));
        let spike = json!({"errorCode": "500.003.02", "errorMessage": "Spike Arrest Violation"});
        assert_eq!(
            send_outcome(StatusCode::INTERNAL_SERVER_ERROR, &spike),
            None
        );
        let token = json!({"errorCode": "404.001.03", "errorMessage": "Invalid Access Token"});
        assert_eq!(send_outcome(StatusCode::NOT_FOUND, &token), None);
    }

    #[test]
    fn a_successful_result_is_completed_with_the_receipt() {
        let body = json!({"Result": {
            "ResultType": 0, "ResultCode": 0,
            "ResultDesc": "The service request is processed successfully.",
            "OriginatorConversationID": "WD-ABC123",
            "ConversationID": "AG_20191219_00005797af5d7d75f652",
            "TransactionID": "NLJ41HAY6Q",
            "ResultParameters": {"ResultParameter": [
                {"Key": "TransactionAmount", "Value": 1500},
                {"Key": "TransactionReceipt", "Value": "NLJ41HAY6Q"},
                {"Key": "B2CRecipientIsRegisteredCustomer", "Value": "Y"},
                {"Key": "ReceiverPartyPublicName", "Value": "254712345678 - Jane Doe"},
                {"Key": "TransactionCompletedDateTime", "Value": "19.12.2019 11:45:50"}
            ]},
            "ReferenceData": {"ReferenceItem": {"Key": "QueueTimeoutURL",
                "Value": "https://internalsandbox.safaricom.co.ke/mpesa/b2cresults/v1/submit"}}
        }});
        let parsed = parse_payment_result(&body).unwrap();
        assert_eq!(parsed.reference, "WD-ABC123");
        assert_eq!(parsed.result_code, Some(0));
        assert_eq!(
            parsed.outcome,
            PayoutQuery::Completed {
                gateway_reference: "NLJ41HAY6Q".into()
            }
        );
        // Without the parameters, the TransactionID is the receipt.
        let bare = json!({"Result": {"ResultCode": "0", "ResultDesc": "ok",
            "OriginatorConversationID": "WD-ABC123", "TransactionID": "NLJ41HAY6R"}});
        assert_eq!(
            parse_payment_result(&bare).unwrap().outcome,
            PayoutQuery::Completed {
                gateway_reference: "NLJ41HAY6R".into()
            }
        );
    }

    #[test]
    fn failure_codes_fail_with_darajas_words() {
        for (code, desc) in [
            (2001, "The initiator information is invalid."),
            (1, "The balance is insufficient for the transaction."),
        ] {
            let body = json!({"Result": {"ResultType": 0, "ResultCode": code, "ResultDesc": desc,
                "OriginatorConversationID": "WD-ABC123", "ConversationID": "AG_1",
                "TransactionID": "NLJ0000000",
                "ReferenceData": {"ReferenceItem": {"Key": "QueueTimeoutURL", "Value": "x"}}}});
            let parsed = parse_payment_result(&body).unwrap();
            assert_eq!(parsed.result_code, Some(code));
            assert_eq!(
                parsed.outcome,
                PayoutQuery::Failed {
                    reason: desc.into()
                }
            );
        }
        let odd = json!({"Result": {"ResultCode": "SFC_IC0003", "ResultDesc": "timed out",
            "OriginatorConversationID": "WD-ABC123"}});
        assert!(matches!(
            parse_payment_result(&odd).unwrap().outcome,
            PayoutQuery::Failed { .. }
        ));
    }

    fn status_result(result_code: i64, transaction_status: &str) -> Value {
        json!({"Result": {
            "ConversationID": "AG_20180223_0000493344ae97d86f75",
            "OriginatorConversationID": "3213-416199-2",
            "ReferenceData": {"ReferenceItem": {"Key": "Occasion", "Value": "WD-ABC123"}},
            "ResultCode": result_code,
            "ResultDesc": "The service request is processed successfully.",
            "ResultParameters": {"ResultParameter": [
                {"Key": "DebitPartyName", "Value": "600310 - Safaricom333"},
                {"Key": "CreditPartyName", "Value": "254708374149 - John Doe"},
                {"Key": "OriginatorConversationID", "Value": "3211-416020-3"},
                {"Key": "InitiatedTime", "Value": 20180223054112u64},
                {"Key": "DebitAccountType", "Value": "Utility Account"},
                {"Key": "DebitPartyCharges", "Value": "Fee For B2C Payment|KES|22.40"},
                {"Key": "TransactionReason"},
                {"Key": "ReasonType", "Value": "Business Payment to Customer via API"},
                {"Key": "TransactionStatus", "Value": transaction_status},
                {"Key": "FinalisedTime", "Value": 20180223054112u64},
                {"Key": "Amount", "Value": 300},
                {"Key": "ConversationID", "Value": "AG_20180223_000041b09c22e613d6c9"},
                {"Key": "ReceiptNo", "Value": "MBN31H462N"}
            ]},
            "ResultType": 0,
            "TransactionID": "MBN0000000"
        }})
    }

    #[test]
    fn a_status_result_is_matched_by_its_occasion_and_read_by_transaction_status() {
        let completed = parse_status_result(&status_result(0, "Completed")).unwrap();
        assert_eq!(completed.reference, "WD-ABC123");
        assert_eq!(
            completed.outcome,
            PayoutQuery::Completed {
                gateway_reference: "MBN31H462N".into()
            }
        );
        let failed = parse_status_result(&status_result(0, "Failed")).unwrap();
        assert!(matches!(failed.outcome, PayoutQuery::Failed { .. }));
        let pending = parse_status_result(&status_result(0, "Pending")).unwrap();
        assert_eq!(pending.outcome, PayoutQuery::StillProcessing);
        // A failed query says nothing about the money.
        let refused = parse_status_result(&status_result(2001, "")).unwrap();
        assert_eq!(refused.outcome, PayoutQuery::StillProcessing);
    }

    #[test]
    fn malformed_bodies_are_not_results() {
        for body in [
            json!(null),
            json!({}),
            json!({"Result": "nope"}),
            json!({"Result": {"ResultDesc": "no code", "OriginatorConversationID": "WD-1"}}),
            json!({"Result": {"ResultCode": 0, "ResultDesc": "no reference"}}),
            // Paid, but nothing says which receipt: not something to complete a withdrawal with.
            json!({"Result": {"ResultCode": 0, "OriginatorConversationID": "WD-1"}}),
            json!({"Body": {"stkCallback": {"ResultCode": 0}}}),
        ] {
            assert_eq!(parse_payment_result(&body), None, "{body}");
        }
        assert_eq!(parse_status_result(&json!({"Result": {}})), None);
        assert_eq!(
            parse_status_result(&json!({"Result": {"ResultCode": 0}})),
            None
        );
    }

    #[test]
    fn a_timeout_names_its_withdrawal_when_it_can() {
        let body = json!({"Result": {"ResultType": 1, "ResultCode": "SFC_IC0003",
            "ResultDesc": "The request timed out", "OriginatorConversationID": "WD-ABC123"}});
        assert_eq!(parse_timeout(&body).as_deref(), Some("WD-ABC123"));
        assert_eq!(parse_timeout(&json!({})), None);
    }
}
