//! Payout gateways behind one trait: the sandbox pays at once for development and tests, manual
//! payouts wait for staff to transfer by hand, and M-Pesa B2C lives in its own module.

use crate::domain::money::Currency;
use crate::domain::payouts::Gateway;
use async_trait::async_trait;
use uuid::Uuid;

/// Where a payout goes, decrypted only for the moment it is sent.
#[derive(Clone, PartialEq, Eq)]
pub enum Destination {
    /// An E.164 Kenyan number, e.g. +254712345678.
    Mpesa {
        phone: String,
    },
    Upi {
        vpa: String,
    },
    Bank {
        account_name: String,
        account_number: String,
        ifsc: String,
    },
}

impl std::fmt::Debug for Destination {
    // Never print account details into logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Destination::Mpesa { .. } => "Mpesa",
            Destination::Upi { .. } => "Upi",
            Destination::Bank { .. } => "Bank",
        };
        write!(f, "Destination::{kind}(..)")
    }
}

/// Why money is being sent: providers word (and, for B2C, classify) the two differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutPurpose {
    /// A technician's earnings withdrawal.
    Withdrawal,
    /// A customer's payment going back to them.
    Refund,
}

/// A payout as the gateway sees it.
#[derive(Debug, Clone)]
pub struct PayoutRequest {
    /// The withdrawal's or refund's id.
    pub id: Uuid,
    pub purpose: PayoutPurpose,
    /// Its unique reference (`WD-...` or `RF-...`); gateways that take a caller's id for the
    /// request (B2C's OriginatorConversationID) are given this, so callbacks find it again.
    pub reference: String,
    pub amount_minor: i64,
    pub currency: Currency,
    pub destination: Destination,
}

/// What the gateway said when a payout was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutOutcome {
    /// Paid; `gateway_reference` is the provider's receipt.
    Completed {
        gateway_reference: String,
    },
    /// Accepted; the result comes later by callback, or the query job asks for it.
    Processing {
        gateway_reference: Option<String>,
    },
    /// Nothing is sent: staff transfer the money by hand and complete the withdrawal with their
    /// bank reference.
    Manual,
    Failed {
        reason: String,
    },
}

/// A gateway's answer when asked about a payout that is still PROCESSING.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayoutQuery {
    Completed {
        gateway_reference: String,
    },
    Failed {
        reason: String,
    },
    /// No final word yet (or the answer comes back by callback).
    StillProcessing,
}

#[async_trait]
pub trait PayoutGateway: Send + Sync {
    /// Stored on the withdrawal and used for its clearing account.
    fn name(&self) -> Gateway;
    async fn send(&self, request: &PayoutRequest) -> anyhow::Result<PayoutOutcome>;
    /// Asks about a payout sent earlier, by the request's reference.
    async fn query(&self, reference: &str) -> anyhow::Result<PayoutQuery>;
}

/// The development payout gateway: pays at once, and fails amounts ending in 13 minor units so
/// failure paths can be exercised on purpose.
pub struct SandboxPayouts;

#[async_trait]
impl PayoutGateway for SandboxPayouts {
    fn name(&self) -> Gateway {
        Gateway::Sandbox
    }

    async fn send(&self, request: &PayoutRequest) -> anyhow::Result<PayoutOutcome> {
        Ok(
            if crate::domain::payments::sandbox_succeeds(request.amount_minor) {
                PayoutOutcome::Completed {
                    gateway_reference: format!("SBX-{}", request.reference),
                }
            } else {
                PayoutOutcome::Failed {
                    reason: "the sandbox declines amounts ending in 13".into(),
                }
            },
        )
    }

    async fn query(&self, reference: &str) -> anyhow::Result<PayoutQuery> {
        Ok(PayoutQuery::Completed {
            gateway_reference: format!("SBX-{reference}"),
        })
    }
}

/// Bank and UPI transfers made outside the system; an admin completes them with a reference.
pub struct ManualPayouts;

#[async_trait]
impl PayoutGateway for ManualPayouts {
    fn name(&self) -> Gateway {
        Gateway::Manual
    }

    async fn send(&self, _: &PayoutRequest) -> anyhow::Result<PayoutOutcome> {
        Ok(PayoutOutcome::Manual)
    }

    async fn query(&self, _: &str) -> anyhow::Result<PayoutQuery> {
        Ok(PayoutQuery::StillProcessing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(amount_minor: i64) -> PayoutRequest {
        PayoutRequest {
            id: Uuid::now_v7(),
            purpose: PayoutPurpose::Withdrawal,
            reference: "WD-TEST".into(),
            amount_minor,
            currency: Currency::KES,
            destination: Destination::Mpesa {
                phone: "+254712345678".into(),
            },
        }
    }

    #[tokio::test]
    async fn the_sandbox_pays_unless_the_amount_ends_in_13() {
        let paid = SandboxPayouts.send(&request(10_000)).await.unwrap();
        assert_eq!(
            paid,
            PayoutOutcome::Completed {
                gateway_reference: "SBX-WD-TEST".into()
            }
        );
        let failed = SandboxPayouts.send(&request(10_013)).await.unwrap();
        assert!(matches!(failed, PayoutOutcome::Failed { .. }));
    }

    #[tokio::test]
    async fn manual_payouts_send_nothing() {
        assert_eq!(
            ManualPayouts.send(&request(10_000)).await.unwrap(),
            PayoutOutcome::Manual
        );
    }

    #[test]
    fn destinations_never_print_their_details() {
        let shown = format!(
            "{:?}",
            Destination::Bank {
                account_name: "A".into(),
                account_number: "123456789".into(),
                ifsc: "HDFC0001234".into()
            }
        );
        assert!(!shown.contains("123456789"), "{shown}");
    }
}
