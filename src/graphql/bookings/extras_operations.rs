//! Booking extras over GraphQL: the queries and mutations for quotes, rescheduling, disputes and
//! dashboards. The types they return are in `extras`.

use crate::error::AppResult;
use crate::graphql::bookings::extras::*;
use crate::graphql::bookings::types::Booking;
use crate::graphql::common::Money;
use crate::graphql::context::{services, viewer};
use crate::graphql::ids::{self, Kind};
use crate::services::bookings::quotes::{self, Decision, LineItemInput, NewQuote};
use crate::services::{bookings::dashboards, bookings::disputes, bookings::reschedule};
use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

#[derive(Default)]
pub struct BookingExtrasQuery;

#[Object]
impl BookingExtrasQuery {
    /// Every quote on a booking, oldest first; for its participants and staff.
    async fn booking_quotes(&self, ctx: &Context<'_>, booking_id: ID) -> Result<Vec<Quote>> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &booking_id, "bookingId")?;
        Ok(quotes::for_booking(services(ctx), &viewer, uuid)
            .await?
            .into_iter()
            .map(Quote)
            .collect())
    }

    /// The booking's dispute, if any; for its participants and staff.
    async fn booking_dispute(&self, ctx: &Context<'_>, booking_id: ID) -> Result<Option<Dispute>> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &booking_id, "bookingId")?;
        Ok(disputes::for_booking(services(ctx), &viewer, uuid)
            .await?
            .map(Dispute))
    }

    /// The signed-in customer's bookings at a glance.
    async fn customer_dashboard(&self, ctx: &Context<'_>) -> Result<CustomerDashboard> {
        let viewer = viewer(ctx).await?;
        let d = dashboards::customer(services(ctx), &viewer).await?;
        let total_spent = Money::new(d.total_spent_minor, d.currency);
        Ok(CustomerDashboard {
            active: d.active,
            completed: d.completed,
            cancelled: d.cancelled,
            total_spent,
        })
    }

    /// The signed-in technician's offers and jobs at a glance.
    async fn technician_dashboard(&self, ctx: &Context<'_>) -> Result<TechnicianDashboard> {
        let viewer = viewer(ctx).await?;
        let d = dashboards::technician(services(ctx), &viewer).await?;
        let c = d.net_earnings.currency;
        Ok(TechnicianDashboard {
            offers_waiting: d.offers_waiting,
            active_jobs: d.active_jobs,
            completed_this_week: d.completed_this_week,
            completed_this_month: d.completed_this_month,
            acceptance_rate: d.acceptance_rate,
            median_response_seconds: d.median_response_seconds,
            net_earnings_today: Money::new(d.net_earnings.today_minor, c),
            net_earnings_this_week: Money::new(d.net_earnings.this_week_minor, c),
            net_earnings_this_month: Money::new(d.net_earnings.this_month_minor, c),
        })
    }
}

#[derive(Default)]
pub struct BookingExtrasMutation;

#[Object]
impl BookingExtrasMutation {
    /// The assigned technician prices the job while on it; older open quotes are superseded.
    async fn submit_quote(
        &self,
        ctx: &Context<'_>,
        booking_id: ID,
        input: QuoteInput,
    ) -> Result<Quote> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &booking_id, "bookingId")?;
        let line_items = input
            .line_items
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                Ok(LineItemInput {
                    kind: l.kind.into(),
                    description: l.description,
                    quantity: l.quantity,
                    unit_price: l.unit_price.parse(&format!("lineItems[{i}].unitPrice"))?,
                })
            })
            .collect::<AppResult<_>>()?;
        let new = NewQuote {
            line_items,
            valid_until: input.valid_until,
            note: input.note,
        };
        Ok(Quote(
            quotes::submit(services(ctx), &viewer, uuid, new).await?,
        ))
    }

    /// The customer accepts (the quote becomes the booking's price) or rejects an open quote.
    async fn respond_to_quote(
        &self,
        ctx: &Context<'_>,
        quote_id: ID,
        decision: QuoteDecision,
        note: Option<String>,
    ) -> Result<Quote> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Quote, &quote_id, "quoteId")?;
        let decision = if decision == QuoteDecision::Accept {
            Decision::Accept
        } else {
            Decision::Reject
        };
        Ok(Quote(
            quotes::respond(services(ctx), &viewer, uuid, decision, note.as_deref()).await?,
        ))
    }

    /// Moves the start, before the technician sets off; the other party is notified.
    async fn reschedule_booking(
        &self,
        ctx: &Context<'_>,
        id: ID,
        new_start: DateTime<Utc>,
        reason: Option<String>,
    ) -> Result<Booking> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &id, "id")?;
        Ok(Booking(
            reschedule::reschedule(services(ctx), &viewer, uuid, new_start, reason.as_deref())
                .await?,
        ))
    }

    /// The customer or technician disputes a completed job (a paid one within 7 days of payment).
    async fn open_dispute(
        &self,
        ctx: &Context<'_>,
        booking_id: ID,
        reason: String,
        details: Option<String>,
    ) -> Result<Booking> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &booking_id, "bookingId")?;
        Ok(Booking(
            disputes::open(services(ctx), &viewer, uuid, &reason, details.as_deref()).await?,
        ))
    }

    /// Admins only: settles the open dispute (PAID, REFUNDED, or PAID with a recorded split).
    async fn resolve_dispute(
        &self,
        ctx: &Context<'_>,
        booking_id: ID,
        input: DisputeResolutionInput,
    ) -> Result<Booking> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &booking_id, "bookingId")?;
        let resolution = disputes::Resolution {
            outcome: input.outcome.into(),
            customer_refund_percent: input.customer_refund_percent,
            note: input.note,
        };
        Ok(Booking(
            disputes::resolve(services(ctx), &viewer, uuid, resolution).await?,
        ))
    }
}
