//! Booking queries, mutations and subscriptions: requests, the state machine, offers and live updates.

use crate::error::AppError;
use crate::graphql::bookings::types::*;
use crate::graphql::common::{Counted, TotalCount, connection};
use crate::graphql::context::{services, viewer};
use crate::graphql::ids::{self, Kind};
use crate::graphql::live::{BookingEvent, Live};
use crate::realtime::{SubscriptionItem, Topic};
use crate::services::bookings::access;
use crate::services::bookings::events::BookingChanged;
use crate::services::bookings::requests::{self, NewRequest};
use crate::services::platform::pagination::Page;
use async_graphql::{Context, ID, Object, Result, SimpleObject, Subscription};
use futures_util::StreamExt;

#[derive(Default)]
pub struct BookingQuery;

#[Object]
impl BookingQuery {
    /// A booking the viewer takes part in (staff: any); NOT_FOUND for everyone else.
    async fn booking(&self, ctx: &Context<'_>, id: ID) -> Result<Booking> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &id, "id")?;
        Ok(Booking(
            access::visible(services(ctx), &viewer, uuid).await?,
        ))
    }

    /// Customers: their own; technicians: those assigned to them; staff: all. Newest first.
    async fn bookings(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        status: Option<BookingStatus>,
    ) -> Result<Counted<Booking>> {
        let viewer = viewer(ctx).await?;
        let page = Page::parse(first, after.as_deref())?;
        let status = status.map(Into::into);
        let slice = requests::list(services(ctx), &viewer, page, status).await?;
        let db = services(ctx).db.clone();
        let total = TotalCount::new(move || {
            let (db, viewer) = (db.clone(), viewer.clone());
            async move { requests::count(&db, &viewer, status).await }
        });
        Ok(connection(
            slice,
            page.after.is_some(),
            total,
            |b| b.id,
            Booking,
        ))
    }

    /// The technician's offers waiting for an answer.
    async fn job_offers(&self, ctx: &Context<'_>) -> Result<Vec<JobOffer>> {
        let viewer = viewer(ctx).await?;
        let offers = requests::open_offers(services(ctx), &viewer).await?;
        Ok(offers
            .into_iter()
            .map(|(offer, booking)| JobOffer { offer, booking })
            .collect())
    }
}

#[derive(Default)]
pub struct BookingMutation;

#[Object]
impl BookingMutation {
    /// Posts a job: validated, priced, and offered to the chosen technician or dispatched automatically.
    async fn create_service_request(
        &self,
        ctx: &Context<'_>,
        input: ServiceRequestInput,
    ) -> Result<Booking> {
        let viewer = viewer(ctx).await?;
        let technician_id = input
            .technician_id
            .as_deref()
            .map(|id| ids::decode(Kind::Technician, id, "technicianId"))
            .transpose()?;
        let request = NewRequest {
            category: input.category,
            title: input.title,
            description: input.description,
            address: input.address,
            location: input.location.parse("location")?,
            priority: input.priority.into(),
            budget_min: input.budget_min.parse("budgetMin")?,
            budget_max: input.budget_max.parse("budgetMax")?,
            scheduled_start: input.scheduled_start,
            estimated_duration_minutes: input.estimated_duration_minutes,
            technician_id,
            idempotency_key: input.idempotency_key,
        };
        Ok(Booking(
            requests::create(services(ctx), &viewer, request).await?,
        ))
    }

    /// Moves a booking; INVALID_TRANSITION lists what is allowed, CONFLICT means someone moved it first.
    async fn transition_booking(
        &self,
        ctx: &Context<'_>,
        id: ID,
        to: BookingStatus,
        reason: Option<String>,
        start_code: Option<String>,
    ) -> Result<Booking> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &id, "id")?;
        let booking = requests::transition(
            services(ctx),
            &viewer,
            uuid,
            to.into(),
            reason.as_deref(),
            start_code.as_deref(),
        )
        .await?;
        Ok(Booking(booking))
    }

    /// Cancels on the customer's side; `cancellationFee` says what it costs.
    async fn cancel_booking(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: Option<String>,
    ) -> Result<Booking> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &id, "id")?;
        Ok(Booking(
            requests::cancel(services(ctx), &viewer, uuid, reason.as_deref()).await?,
        ))
    }
}

/// One change to a booking, in order: `sequence` grows by one per change.
#[derive(SimpleObject)]
pub struct BookingUpdate {
    pub sequence: i64,
    /// STATUS, SCHEDULE, QUOTE or PRICE.
    pub kind: String,
    pub booking: Booking,
}

#[derive(Default)]
pub struct BookingSubscription;

#[Subscription]
impl BookingSubscription {
    /// Every change to a booking, for its customer, its technician and staff.
    async fn booking_updated(&self, ctx: &Context<'_>, id: ID) -> Result<Live<BookingUpdate>> {
        let viewer = viewer(ctx).await?;
        let uuid = ids::decode(Kind::Booking, &id, "id")?;
        access::visible(services(ctx), &viewer, uuid).await?;
        let stream = services(ctx).bus.subscribe(&Topic::Booking(uuid).key());
        let updates = stream.map(|item| match item {
            SubscriptionItem::Message(message) => BookingChanged::from_bus(&message)
                .map(|change| BookingEvent {
                    booking_version: change.booking.version,
                    event: BookingUpdate {
                        sequence: message.seq.unwrap_or(0),
                        kind: change.kind.as_str().into(),
                        booking: Booking(change.booking.clone().into()),
                    },
                })
                .ok_or_else(|| {
                    AppError::internal(anyhow::anyhow!("malformed booking event")).into()
                }),
            SubscriptionItem::Lagged { missed } => {
                Err(crate::graphql::notifications::operations::lagged(missed))
            }
        });
        Ok(Live::booking(ctx, viewer, uuid, updates))
    }

    /// New offers for the signed-in technician.
    async fn job_offer_added(&self, ctx: &Context<'_>) -> Result<Live<JobOffer>> {
        let viewer = viewer(ctx).await?;
        viewer.require_role(&[crate::domain::account::Role::Technician])?;
        let services = services(ctx).clone();
        let stream = services
            .bus
            .subscribe(&Topic::TechnicianOffers(viewer.user_id).key());
        let offers = stream.then(move |item| {
            let (services, viewer) = (services.clone(), viewer.clone());
            async move {
                match item {
                    SubscriptionItem::Message(message) => {
                        let booking_id = message.payload["bookingId"]
                            .as_str()
                            .and_then(|s| uuid::Uuid::parse_str(s).ok());
                        let offers = requests::open_offers(&services, &viewer).await?;
                        offers
                            .into_iter()
                            .find(|(offer, _)| Some(offer.booking_id) == booking_id)
                            .map(|(offer, booking)| JobOffer { offer, booking })
                            .ok_or_else(|| {
                                AppError::NotFound("offer (already answered or expired)".into())
                                    .into()
                            })
                    }
                    SubscriptionItem::Lagged { missed } => {
                        Err(crate::graphql::notifications::operations::lagged(missed))
                    }
                }
            }
        });
        Ok(Live::own(offers))
    }
}
