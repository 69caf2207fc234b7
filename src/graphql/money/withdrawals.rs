//! Money out: payout methods, the withdrawal PIN, withdrawals, and the admin operations that pay,
//! complete or fail them.

use crate::db::entities::withdrawal;
use crate::domain::payouts::{self as rules, PayoutDetailsInput};
use crate::graphql::accounts::password_guard::PasswordWork;
use crate::graphql::common::{Counted, Money, MoneyInput, TotalCount, connection};
use crate::graphql::context::{services, viewer};
use crate::graphql::ids::{self, Kind};
use crate::services::money::payout_methods::{self, PayoutMethodView};
use crate::services::platform::pagination::Page;
use crate::services::{money::withdrawal_pins, money::withdrawals as service};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "rules::PayoutKind")]
pub enum PayoutMethodKind {
    Mpesa,
    Upi,
    BankTransfer,
}

/// How the technician is paid; only the fields of `kind` may be given.
#[derive(InputObject)]
pub struct PayoutMethodInput {
    pub kind: PayoutMethodKind,
    /// E.164 Kenyan number, e.g. +254712345678.
    pub mpesa_phone: Option<String>,
    /// e.g. ravi.kumar@okaxis
    pub upi_id: Option<String>,
    pub bank_account_name: Option<String>,
    pub bank_account_number: Option<String>,
    /// e.g. HDFC0001234
    pub bank_ifsc: Option<String>,
}

/// A payout method as its owner sees it: details masked but for the last four digits.
#[derive(SimpleObject)]
pub struct PayoutMethod {
    pub kind: PayoutMethodKind,
    pub masked: String,
    /// Withdrawals are refused until then after a change; null when there is no hold.
    pub hold_until: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<PayoutMethodView> for PayoutMethod {
    fn from(v: PayoutMethodView) -> Self {
        PayoutMethod {
            kind: v.kind.into(),
            masked: v.masked,
            hold_until: v.hold_until,
            updated_at: v.updated_at,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "rules::WithdrawalStatus")]
pub enum WithdrawalStatus {
    Pending,
    Processing,
    Completed,
    Failed,
    Cancelled,
}

#[derive(InputObject)]
pub struct WithdrawalInput {
    pub amount: MoneyInput,
    pub pin: String,
    /// A retry with the same key returns the same withdrawal; the same key with another amount is CONFLICT.
    pub idempotency_key: String,
}

pub struct Withdrawal(pub withdrawal::Model);

#[Object]
impl Withdrawal {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Withdrawal, self.0.id)
    }
    async fn amount(&self) -> Money {
        Money::new(self.0.amount_minor, self.0.currency)
    }
    async fn status(&self) -> WithdrawalStatus {
        self.0.status.into()
    }
    /// The payout method it goes to, masked, as it was when the withdrawal was asked for.
    async fn method(&self) -> &str {
        &self.0.method_masked
    }
    async fn method_kind(&self) -> Option<PayoutMethodKind> {
        // Always known; the field stays nullable as the schema has always had it.
        Some(self.0.method_kind.into())
    }
    /// Fundi's unique reference, e.g. WD-0193A4F2C1D8.
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    /// The gateway's receipt (e.g. the M-Pesa transaction id) once paid.
    async fn gateway_reference(&self) -> Option<&str> {
        self.0.gateway_reference.as_deref()
    }
    /// The bank's reference of a transfer staff made by hand.
    async fn bank_reference(&self) -> Option<&str> {
        self.0.bank_reference.as_deref()
    }
    /// SANDBOX, MPESA or MANUAL.
    async fn gateway(&self) -> &'static str {
        self.0.gateway.as_str()
    }
    async fn technician_id(&self) -> ID {
        ids::encode(Kind::User, self.0.technician_id)
    }
    async fn requested_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn processed_at(&self) -> Option<DateTime<Utc>> {
        self.0.processed_at
    }
    async fn failure_reason(&self) -> Option<&str> {
        self.0.failure_reason.as_deref()
    }
}

/// Why one withdrawal of a batch was not processed.
#[derive(SimpleObject)]
pub struct BatchError {
    pub code: String,
    pub message: String,
}

/// One withdrawal's outcome in `processWithdrawals`.
#[derive(SimpleObject)]
pub struct WithdrawalBatchResult {
    pub id: ID,
    pub withdrawal: Option<Withdrawal>,
    pub error: Option<BatchError>,
}

#[derive(Default)]
pub struct WithdrawalQuery;

#[Object]
impl WithdrawalQuery {
    /// The viewer's payout method (technicians), null until set.
    async fn my_payout_method(&self, ctx: &Context<'_>) -> Result<Option<PayoutMethod>> {
        let viewer = viewer(ctx).await?;
        Ok(payout_methods::mine(services(ctx), &viewer)
            .await?
            .map(Into::into))
    }

    /// Technicians see their own withdrawals, admins and support everyone's; newest first.
    async fn withdrawals(
        &self,
        ctx: &Context<'_>,
        status: Option<WithdrawalStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Counted<Withdrawal>> {
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
            |w| w.id,
            Withdrawal,
        ))
    }
}

#[derive(Default)]
pub struct WithdrawalMutation;

#[Object]
impl WithdrawalMutation {
    async fn set_payout_method(
        &self,
        ctx: &Context<'_>,
        input: PayoutMethodInput,
    ) -> Result<PayoutMethod> {
        let viewer = viewer(ctx).await?;
        let details = PayoutDetailsInput {
            mpesa_phone: input.mpesa_phone,
            upi_id: input.upi_id,
            bank_account_name: input.bank_account_name,
            bank_account_number: input.bank_account_number,
            bank_ifsc: input.bank_ifsc,
        };
        let set = payout_methods::set(services(ctx), &viewer, input.kind.into(), &details).await?;
        Ok(set.into())
    }

    /// Sets or replaces the 4-digit withdrawal PIN; the account password confirms it is you.
    #[graphql(guard = "PasswordWork")]
    async fn set_withdrawal_pin(
        &self,
        ctx: &Context<'_>,
        pin: String,
        password: String,
    ) -> Result<bool> {
        let viewer = viewer(ctx).await?;
        withdrawal_pins::set(services(ctx), &viewer, &pin, &password).await?;
        Ok(true)
    }

    #[graphql(guard = "PasswordWork")]
    async fn request_withdrawal(
        &self,
        ctx: &Context<'_>,
        input: WithdrawalInput,
    ) -> Result<Withdrawal> {
        let viewer = viewer(ctx).await?;
        let request = service::WithdrawalRequest {
            amount: input.amount.parse("amount")?,
            pin: input.pin,
            idempotency_key: input.idempotency_key,
        };
        Ok(Withdrawal(
            service::request(services(ctx), &viewer, request).await?,
        ))
    }

    /// The technician cancels their own PENDING withdrawal.
    async fn cancel_withdrawal(&self, ctx: &Context<'_>, id: ID) -> Result<Withdrawal> {
        let viewer = viewer(ctx).await?;
        let id = ids::decode(Kind::Withdrawal, &id, "id")?;
        Ok(Withdrawal(
            service::cancel(services(ctx), &viewer, id).await?,
        ))
    }

    /// Admins: pays a PENDING withdrawal through its method's gateway.
    async fn process_withdrawal(&self, ctx: &Context<'_>, id: ID) -> Result<Withdrawal> {
        let viewer = viewer(ctx).await?;
        let id = ids::decode(Kind::Withdrawal, &id, "id")?;
        Ok(Withdrawal(
            service::process(services(ctx), &viewer, id).await?,
        ))
    }

    /// Admins: processes each withdrawal independently and lists every outcome.
    async fn process_withdrawals(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> Result<Vec<WithdrawalBatchResult>> {
        let viewer = viewer(ctx).await?;
        let decoded = ids
            .iter()
            .map(|id| ids::decode(Kind::Withdrawal, id, "ids"))
            .collect();
        let outcomes = service::process_many(services(ctx), &viewer, decoded).await?;
        Ok(ids
            .into_iter()
            .zip(outcomes)
            .map(|(id, outcome)| match outcome {
                Ok(w) => WithdrawalBatchResult {
                    id,
                    withdrawal: Some(Withdrawal(w)),
                    error: None,
                },
                Err(e) => WithdrawalBatchResult {
                    id,
                    withdrawal: None,
                    error: Some(BatchError {
                        code: e.code().into(),
                        message: e.message(),
                    }),
                },
            })
            .collect())
    }

    /// Admins: records a bank or UPI transfer made by hand.
    async fn complete_manual_withdrawal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        bank_reference: String,
    ) -> Result<Withdrawal> {
        let viewer = viewer(ctx).await?;
        let id = ids::decode(Kind::Withdrawal, &id, "id")?;
        Ok(Withdrawal(
            service::complete_manual(services(ctx), &viewer, id, &bank_reference).await?,
        ))
    }

    /// Admins: marks a withdrawal failed and returns the money to the technician's available balance.
    async fn fail_withdrawal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<Withdrawal> {
        let viewer = viewer(ctx).await?;
        let id = ids::decode(Kind::Withdrawal, &id, "id")?;
        Ok(Withdrawal(
            service::fail(services(ctx), &viewer, id, &reason).await?,
        ))
    }
}
