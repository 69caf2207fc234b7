//! Booking extras as GraphQL types: quotes, disputes, their inputs and enums, and the customer's and
//! technician's dashboards. Their queries and mutations are in `extras_operations`.

use crate::db::entities::{dispute, quote};
use crate::graphql::common::{Money, MoneyInput};
use crate::graphql::ids::{self, Kind};
use crate::services::bookings::quotes;
use async_graphql::{Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::quotes::LineKind")]
pub enum QuoteLineKind {
    Labour,
    Material,
    Fee,
}

#[derive(InputObject)]
pub struct QuoteLineItemInput {
    pub kind: QuoteLineKind,
    pub description: String,
    /// 1 to 1000.
    pub quantity: i32,
    /// In the booking's currency; zero is allowed (a free part), negative is not.
    pub unit_price: MoneyInput,
}

#[derive(InputObject)]
pub struct QuoteInput {
    /// 1 to 50 lines.
    pub line_items: Vec<QuoteLineItemInput>,
    /// After this the customer can no longer accept the quote.
    pub valid_until: DateTime<Utc>,
    pub note: Option<String>,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::quotes::QuoteStatus")]
pub enum QuoteStatus {
    /// Waiting for the customer's answer.
    Open,
    Accepted,
    Rejected,
    /// A newer quote replaced it before it was answered.
    Superseded,
    /// Its validUntil passed before it was accepted.
    Expired,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::disputes::DisputeStatus")]
pub enum DisputeStatus {
    Open,
    Resolved,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum QuoteDecision {
    Accept,
    Reject,
}

#[derive(SimpleObject)]
pub struct QuoteLineItem {
    /// LABOUR, MATERIAL or FEE.
    pub kind: String,
    pub description: String,
    pub quantity: i32,
    pub unit_price: Money,
    /// quantity × unitPrice.
    pub total: Money,
}

/// A technician's itemised price for a booking (also used for a vehicle-service analysis report:
/// findings in the descriptions and note, prices in the lines).
pub struct Quote(pub quote::Model);

#[Object]
impl Quote {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Quote, self.0.id)
    }
    async fn booking_id(&self) -> ID {
        ids::encode(Kind::Booking, self.0.booking_id)
    }
    async fn status(&self) -> QuoteStatus {
        self.0.status.into()
    }
    async fn line_items(&self) -> Result<Vec<QuoteLineItem>> {
        let money = |amount| Money::new(amount, self.0.currency);
        Ok(quotes::line_items(&self.0)?
            .into_iter()
            .map(|l| QuoteLineItem {
                total: money(l.total_minor()),
                unit_price: money(l.unit_price_minor),
                kind: l.kind.as_str().to_owned(),
                description: l.description,
                quantity: l.quantity,
            })
            .collect())
    }
    /// Sum of the lines; on acceptance it becomes the booking's base price (surge, fee and tax follow).
    async fn subtotal(&self) -> Money {
        Money::new(self.0.subtotal_minor, self.0.currency)
    }
    async fn valid_until(&self) -> DateTime<Utc> {
        self.0.valid_until
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    async fn responded_at(&self) -> Option<DateTime<Utc>> {
        self.0.responded_at
    }
    async fn response_note(&self) -> Option<&str> {
        self.0.response_note.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::disputes::Outcome")]
pub enum DisputeOutcome {
    ReleaseToTechnician,
    RefundCustomer,
    Split,
}

#[derive(InputObject)]
pub struct DisputeResolutionInput {
    pub outcome: DisputeOutcome,
    /// The customer's share for SPLIT, 1 to 99; not allowed otherwise.
    pub customer_refund_percent: Option<i32>,
    pub note: Option<String>,
}

pub struct Dispute(pub dispute::Model);

#[Object]
impl Dispute {
    async fn opened_by(&self) -> ID {
        ids::encode(Kind::User, self.0.opened_by)
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn details(&self) -> &str {
        &self.0.details
    }
    async fn status(&self) -> DisputeStatus {
        self.0.status.into()
    }
    /// Set once resolved.
    async fn outcome(&self) -> Option<DisputeOutcome> {
        self.0.outcome.map(Into::into)
    }
    async fn customer_refund_percent(&self) -> Option<i32> {
        self.0.customer_refund_percent
    }
    async fn resolution_note(&self) -> Option<&str> {
        self.0.resolution_note.as_deref()
    }
    async fn opened_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
}

#[derive(SimpleObject)]
pub struct CustomerDashboard {
    /// Bookings not yet completed, cancelled or refunded.
    pub active: i64,
    /// COMPLETED, VERIFIED, PAYMENT_PENDING or PAID.
    pub completed: i64,
    pub cancelled: i64,
    /// Paid bookings in the currency the customer uses most.
    pub total_spent: Money,
}

#[derive(SimpleObject)]
pub struct TechnicianDashboard {
    pub offers_waiting: i64,
    pub active_jobs: i64,
    pub completed_this_week: i64,
    pub completed_this_month: i64,
    /// Accepted offers over answered or expired ones, 0 to 1; null before any.
    pub acceptance_rate: Option<f64>,
    /// Median seconds from offer to answer; null before any answer.
    pub median_response_seconds: Option<i64>,
    /// Net earnings (as `myEarnings` counts them) since local midnight in the technician's time zone.
    pub net_earnings_today: Money,
    /// Net earnings since Monday's local midnight.
    pub net_earnings_this_week: Money,
    /// Net earnings since local midnight on the 1st.
    pub net_earnings_this_month: Money,
}
