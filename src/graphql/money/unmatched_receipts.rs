//! Unmatched receipts for staff: money a provider reported that matched no payment, listed for
//! ADMIN and SUPPORT, and attached to a booking or refunded by an ADMIN.

use crate::db::entities::unmatched_receipt;
use crate::domain::unmatched::ReceiptStatus;
use crate::graphql::common::{Counted, Money, TotalCount, connection};
use crate::graphql::context::{services, viewer};
use crate::graphql::ids::{self, Kind};
use crate::graphql::money::payments::PaymentMethod;
use crate::services::money::unmatched as service;
use crate::services::platform::pagination::Page;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ReceiptStatus")]
pub enum UnmatchedReceiptStatus {
    /// Waiting for staff; its money is held in UNMATCHED_FUNDS.
    Open,
    /// Attached to a booking as a SUCCEEDED payment.
    Attached,
    /// Sent back to the payer (or, with `nextAction`, to be sent by hand).
    Refunded,
}

#[derive(InputObject)]
pub struct AttachUnmatchedReceiptInput {
    pub receipt_id: ID,
    /// A booking in the receipt's currency that owes exactly this money: its whole deposit while it
    /// waits for one, or at most its balance once the work is done.
    pub booking_id: ID,
    pub note: Option<String>,
}

#[derive(InputObject)]
pub struct RefundUnmatchedReceiptInput {
    pub receipt_id: ID,
    pub note: Option<String>,
}

/// Money a provider reported (an M-Pesa callback, a Stripe or Razorpay event) that matched no
/// payment we could settle, with what is known about it.
pub struct UnmatchedReceipt(pub unmatched_receipt::Model);

#[Object]
impl UnmatchedReceipt {
    async fn id(&self) -> ID {
        ids::encode(Kind::UnmatchedReceipt, self.0.id)
    }
    async fn provider(&self) -> Option<PaymentMethod> {
        // Always known; the field stays nullable as the schema has always had it.
        Some(self.0.provider.method().into())
    }
    /// The M-Pesa receipt number, the Stripe payment intent or the Razorpay payment id.
    async fn provider_reference(&self) -> &str {
        &self.0.provider_reference
    }
    /// The paying phone, when the provider said it (E.164).
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    async fn amount(&self) -> Money {
        Money::new(self.0.amount_minor, self.0.currency)
    }
    async fn status(&self) -> UnmatchedReceiptStatus {
        self.0.status.into()
    }
    /// The payment the event named or resembled, e.g. the FAILED payment of a prompt that timed out.
    async fn near_payment_id(&self) -> Option<ID> {
        self.0
            .near_payment_id
            .map(|id| ids::encode(Kind::Payment, id))
    }
    /// Why it matched nothing.
    async fn detail(&self) -> Option<&str> {
        self.0.detail.as_deref()
    }
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.received_at
    }
    async fn resolved_by(&self) -> Option<ID> {
        self.0.resolved_by.map(|id| ids::encode(Kind::User, id))
    }
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
    async fn attached_booking_id(&self) -> Option<ID> {
        self.0
            .attached_booking_id
            .map(|id| ids::encode(Kind::Booking, id))
    }
    /// The SUCCEEDED payment attaching made.
    async fn attached_payment_id(&self) -> Option<ID> {
        self.0
            .attached_payment_id
            .map(|id| ids::encode(Kind::Payment, id))
    }
    /// What staff must still do by hand, e.g. STAFF_SEND_MPESA_REFUND to `phone`.
    async fn next_action(&self) -> Option<&str> {
        self.0.next_action.as_deref()
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

#[derive(Default)]
pub struct UnmatchedReceiptQuery;

#[Object]
impl UnmatchedReceiptQuery {
    /// Money that matched no payment, newest first. ADMIN and SUPPORT.
    async fn unmatched_receipts(
        &self,
        ctx: &Context<'_>,
        status: Option<UnmatchedReceiptStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Counted<UnmatchedReceipt>> {
        let viewer = viewer(ctx).await?;
        let page = Page::parse(first, after.as_deref())?;
        let status = status.map(Into::into);
        let slice = service::list(services(ctx), &viewer, status, page).await?;
        let services = services(ctx).clone();
        let total = TotalCount::new(move || {
            let (services, viewer) = (services.clone(), viewer.clone());
            async move { service::count(&services, &viewer, status).await }
        });
        Ok(connection(
            slice,
            page.after.is_some(),
            total,
            |r| r.id,
            UnmatchedReceipt,
        ))
    }
}

#[derive(Default)]
pub struct UnmatchedReceiptMutation;

#[Object]
impl UnmatchedReceiptMutation {
    /// ADMIN: attaches an OPEN receipt to a booking as a SUCCEEDED payment into its escrow.
    async fn attach_unmatched_receipt(
        &self,
        ctx: &Context<'_>,
        input: AttachUnmatchedReceiptInput,
    ) -> Result<UnmatchedReceipt> {
        let viewer = viewer(ctx).await?;
        let receipt = ids::decode(Kind::UnmatchedReceipt, &input.receipt_id, "receiptId")?;
        let booking = ids::decode(Kind::Booking, &input.booking_id, "bookingId")?;
        let note = input.note.as_deref();
        Ok(UnmatchedReceipt(
            service::attach(services(ctx), &viewer, receipt, booking, note).await?,
        ))
    }

    /// ADMIN: refunds an OPEN receipt to the payer (Stripe and Razorpay through their refund call;
    /// M-Pesa by staff, as `nextAction` says).
    async fn refund_unmatched_receipt(
        &self,
        ctx: &Context<'_>,
        input: RefundUnmatchedReceiptInput,
    ) -> Result<UnmatchedReceipt> {
        let viewer = viewer(ctx).await?;
        let receipt = ids::decode(Kind::UnmatchedReceipt, &input.receipt_id, "receiptId")?;
        Ok(UnmatchedReceipt(
            service::refund(services(ctx), &viewer, receipt, input.note.as_deref()).await?,
        ))
    }
}
