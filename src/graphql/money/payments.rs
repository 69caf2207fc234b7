//! Payments: paying into a booking's escrow, confirming cash, verifying a Razorpay payment, admin
//! refunds (and M-Pesa refunds on their way back), and a booking's payments.

use crate::db::entities::{mpesa_refund, payment};
use crate::domain::payments as rules;
use crate::graphql::common::{Money, MoneyInput};
use crate::graphql::context::{services, viewer};
use crate::graphql::ids::{self, Kind};
use crate::graphql::loaders::{self, RefundsOfPayment};
use crate::services::money::payments::{self as service, PayRequest};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "rules::PaymentKind")]
pub enum PaymentKind {
    Deposit,
    Balance,
    Tip,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "rules::Method")]
pub enum PaymentMethod {
    Sandbox,
    Cash,
    Mpesa,
    Stripe,
    Razorpay,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "rules::PaymentStatus")]
pub enum PaymentStatus {
    Initiated,
    Pending,
    Succeeded,
    Failed,
    Refunded,
    PartiallyRefunded,
}

#[derive(InputObject)]
pub struct PayBookingInput {
    pub booking_id: ID,
    pub kind: PaymentKind,
    pub method: PaymentMethod,
    /// Only for a TIP; the server computes every other amount.
    pub amount: Option<MoneyInput>,
    /// The M-Pesa phone number, E.164.
    pub phone: Option<String>,
    /// A retry with the same key returns the first result; the same key with other input is CONFLICT.
    pub idempotency_key: String,
}

pub struct Payment(pub payment::Model);

#[Object]
impl Payment {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Payment, self.0.id)
    }
    async fn booking_id(&self) -> ID {
        ids::encode(Kind::Booking, self.0.booking_id)
    }
    async fn kind(&self) -> &str {
        self.0.kind.as_str()
    }
    async fn method(&self) -> &str {
        self.0.method.as_str()
    }
    async fn status(&self) -> PaymentStatus {
        self.0.status.into()
    }
    async fn amount(&self) -> Money {
        Money::new(self.0.amount_minor, self.0.currency)
    }
    async fn refunded(&self) -> Money {
        Money::new(self.0.refunded_minor, self.0.currency)
    }
    async fn gateway_reference(&self) -> Option<&str> {
        self.0.gateway_reference.as_deref()
    }
    /// What the customer must still do: PAY_TECHNICIAN_IN_CASH, or a gateway's next step.
    async fn next_action(&self) -> Option<&str> {
        self.0.next_action.as_deref()
    }
    /// What the customer's app confirms a STRIPE payment with (Stripe.js or a mobile SDK); only
    /// the paying customer sees it.
    async fn client_secret(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let viewer = viewer(ctx).await?;
        Ok((viewer.user_id == self.0.customer_id)
            .then(|| self.0.client_secret.clone())
            .flatten())
    }
    /// Razorpay Checkout's public key id, for a RAZORPAY payment; Checkout opens with it and the
    /// order id in `gatewayReference`.
    async fn razorpay_key_id(&self, ctx: &Context<'_>) -> Option<String> {
        let razorpay = services(ctx).config.razorpay.as_ref()?;
        (self.0.method == rules::Method::Razorpay).then(|| razorpay.key_id.clone())
    }
    async fn failure_reason(&self) -> Option<&str> {
        self.0.failure_reason.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn succeeded_at(&self) -> Option<DateTime<Utc>> {
        self.0.succeeded_at
    }
    /// Refunds of an MPESA payment sent back to the paying phone by B2C, oldest first; empty for
    /// other methods, or when B2C is not configured and staff refund by hand.
    async fn mpesa_refunds(&self, ctx: &Context<'_>) -> Result<Vec<MpesaRefund>> {
        if self.0.method != rules::Method::Mpesa {
            return Ok(vec![]);
        }
        let refunds = loaders::list(ctx, RefundsOfPayment(self.0.id)).await?;
        Ok(refunds.into_iter().map(MpesaRefund).collect())
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "rules::RefundTransferStatus")]
pub enum MpesaRefundStatus {
    /// Booked; about to be sent.
    Pending,
    /// Sent to M-Pesa; waiting for its result.
    Processing,
    Completed,
    /// M-Pesa refused it; staff send it by hand (the payment's nextAction says so).
    Failed,
}

/// One refund on its way back to the payer's M-Pesa number.
pub struct MpesaRefund(pub mpesa_refund::Model);

#[Object]
impl MpesaRefund {
    /// Ours, as M-Pesa's statements show it.
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    async fn amount(&self) -> Money {
        Money::new(self.0.amount_minor, self.0.currency)
    }
    async fn status(&self) -> MpesaRefundStatus {
        self.0.status.into()
    }
    /// M-Pesa's receipt, once the money has reached the phone.
    async fn receipt(&self) -> Option<&str> {
        (self.0.status == rules::RefundTransferStatus::Completed)
            .then_some(self.0.gateway_reference.as_deref())
            .flatten()
    }
    async fn failure_reason(&self) -> Option<&str> {
        self.0.failure_reason.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn processed_at(&self) -> Option<DateTime<Utc>> {
        self.0.processed_at
    }
}

#[derive(Default)]
pub struct PaymentMutation;

#[Object]
impl PaymentMutation {
    /// Pays a DEPOSIT, the BALANCE or a TIP into a booking. Only its customer pays.
    async fn pay_booking(&self, ctx: &Context<'_>, input: PayBookingInput) -> Result<Payment> {
        let viewer = viewer(ctx).await?;
        let booking_id = ids::decode(Kind::Booking, &input.booking_id, "bookingId")?;
        let request = PayRequest {
            booking_id,
            kind: input.kind.into(),
            method: input.method.into(),
            amount: input.amount.map(|m| m.parse("amount")).transpose()?,
            phone: input.phone,
            idempotency_key: input.idempotency_key,
        };
        Ok(Payment(
            service::pay(services(ctx), &viewer, request).await?,
        ))
    }

    /// The booking's technician confirms they received a cash payment.
    async fn confirm_cash_payment(&self, ctx: &Context<'_>, payment_id: ID) -> Result<Payment> {
        let viewer = viewer(ctx).await?;
        let id = ids::decode(Kind::Payment, &payment_id, "paymentId")?;
        Ok(Payment(
            service::confirm_cash(services(ctx), &viewer, id).await?,
        ))
    }

    /// The paying customer hands back what Razorpay Checkout answered: the Razorpay payment id and
    /// its signature over the payment's order (`gatewayReference`). A valid signature makes the
    /// payment SUCCEEDED; a wrong one is BAD_USER_INPUT on `signature` and changes nothing.
    async fn verify_razorpay_payment(
        &self,
        ctx: &Context<'_>,
        payment_id: ID,
        razorpay_payment_id: String,
        signature: String,
    ) -> Result<Payment> {
        let viewer = viewer(ctx).await?;
        let id = ids::decode(Kind::Payment, &payment_id, "paymentId")?;
        Ok(Payment(
            crate::services::money::razorpay::verify_payment(
                services(ctx),
                &viewer,
                id,
                &razorpay_payment_id,
                &signature,
            )
            .await?,
        ))
    }

    /// ADMIN: refunds part or all of a payment through its own gateway.
    async fn refund_payment(
        &self,
        ctx: &Context<'_>,
        payment_id: ID,
        amount: MoneyInput,
        reason: String,
    ) -> Result<Payment> {
        let viewer = viewer(ctx).await?;
        let id = ids::decode(Kind::Payment, &payment_id, "paymentId")?;
        Ok(Payment(
            service::refund(services(ctx), &viewer, id, amount.amount_minor, &reason).await?,
        ))
    }
}
