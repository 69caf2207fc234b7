//! Payment gateways behind one trait. The sandbox answers at once for development and tests;
//! cash is settled by the technician confirming receipt, so it never calls out. Stripe lives in
//! its own module, as does Razorpay.

use crate::domain::money::Currency;
use crate::domain::payments::{Method, sandbox_succeeds};
use async_trait::async_trait;

/// A charge as the gateway sees it.
#[derive(Debug, Clone)]
pub struct ChargeRequest {
    pub payment_id: uuid::Uuid,
    pub amount_minor: i64,
    pub currency: Currency,
    pub phone: Option<String>,
}

/// What the gateway said about a charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Succeeded {
        reference: String,
    },
    /// The customer still has something to do (approve on their phone, confirm a card, hand over
    /// cash); `next_action` tells the app what.
    Pending {
        reference: Option<String>,
        next_action: String,
        /// What the customer's app confirms a card payment with (Stripe); None elsewhere.
        client_secret: Option<String>,
    },
    Failed {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundOutcome {
    Refunded {
        reference: String,
    },
    /// The provider has no refund call: the refund is booked now and staff send the money back
    /// by hand, as `instructions` say.
    Manual {
        instructions: String,
    },
    Failed {
        reason: String,
    },
}

#[async_trait]
pub trait PaymentGateway: Send + Sync {
    fn method(&self) -> Method;
    async fn charge(&self, request: &ChargeRequest) -> anyhow::Result<ChargeOutcome>;
    async fn refund(
        &self,
        gateway_reference: &str,
        amount_minor: i64,
    ) -> anyhow::Result<RefundOutcome>;
}

/// The development gateway: succeeds at once, and fails amounts ending in 13 minor units so
/// failure paths can be exercised on purpose.
pub struct Sandbox;

#[async_trait]
impl PaymentGateway for Sandbox {
    fn method(&self) -> Method {
        Method::Sandbox
    }

    async fn charge(&self, request: &ChargeRequest) -> anyhow::Result<ChargeOutcome> {
        Ok(if sandbox_succeeds(request.amount_minor) {
            ChargeOutcome::Succeeded {
                reference: format!("sbx_{}", request.payment_id.simple()),
            }
        } else {
            ChargeOutcome::Failed {
                reason: "the sandbox declines amounts ending in 13".into(),
            }
        })
    }

    async fn refund(&self, reference: &str, amount_minor: i64) -> anyhow::Result<RefundOutcome> {
        Ok(RefundOutcome::Refunded {
            reference: format!(
                "{reference}_rf_{amount_minor}_{}",
                uuid::Uuid::now_v7().simple()
            ),
        })
    }
}

/// Cash: nothing to call. The payment waits until the technician confirms they were paid, and a
/// refund of cash is handed back in person, recorded by staff.
pub struct Cash;

#[async_trait]
impl PaymentGateway for Cash {
    fn method(&self) -> Method {
        Method::Cash
    }

    async fn charge(&self, _: &ChargeRequest) -> anyhow::Result<ChargeOutcome> {
        Ok(ChargeOutcome::Pending {
            reference: None,
            next_action: "PAY_TECHNICIAN_IN_CASH".into(),
            client_secret: None,
        })
    }

    async fn refund(&self, reference: &str, amount_minor: i64) -> anyhow::Result<RefundOutcome> {
        Ok(RefundOutcome::Refunded {
            reference: format!(
                "cash_{reference}_rf_{amount_minor}_{}",
                uuid::Uuid::now_v7().simple()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_sandbox_answers_by_amount() {
        let request = |amount_minor| ChargeRequest {
            payment_id: uuid::Uuid::nil(),
            amount_minor,
            currency: Currency::KES,
            phone: None,
        };
        assert!(matches!(
            Sandbox.charge(&request(20_000)).await.unwrap(),
            ChargeOutcome::Succeeded { .. }
        ));
        assert!(matches!(
            Sandbox.charge(&request(20_013)).await.unwrap(),
            ChargeOutcome::Failed { .. }
        ));
        assert!(matches!(
            Cash.charge(&request(20_000)).await.unwrap(),
            ChargeOutcome::Pending { .. }
        ));
    }
}
