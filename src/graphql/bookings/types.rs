//! GraphQL types for bookings: the booking with its price, events and allowed moves, offers and inputs.

use crate::db::entities::{booking, booking_event, job_offer};
use crate::domain::booking_state::{Role as ActorRole, Status};
use crate::graphql::accounts::person::Person;
use crate::graphql::common::{LatLngInput, Money, MoneyInput};
use crate::graphql::context::{services, viewer};
use crate::graphql::ids::{self, Kind};
use crate::graphql::loaders::{
    self, CategoryById, CustomerRatingOf, DisputeOfBooking, EscrowOfBooking, EventsOfBooking,
    InvoicesOfBooking, PaymentsOfBooking, QuotesOfBooking, ReviewsOfBooking,
};
use crate::graphql::matching::operations::Priority;
use crate::graphql::reviews::types::{CustomerRating, Review};
use crate::graphql::technicians::operations::technician_view;
use crate::graphql::technicians::types::{ServiceCategory, Technician};
use crate::services::{
    bookings::access, bookings::requests, money::payments, reviews::access as reviews,
};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "Status")]
pub enum BookingStatus {
    Pending,
    Matching,
    Assigned,
    Accepted,
    Rejected,
    EnRoute,
    Arrived,
    InProgress,
    Paused,
    Completed,
    Verified,
    PaymentPending,
    Paid,
    Disputed,
    Refunded,
    Cancelled,
}

#[derive(SimpleObject)]
pub struct PriceBreakdown {
    pub base: Money,
    /// +10% for HIGH, +20% for URGENT.
    pub surge: Money,
    /// The platform's share of the job price (the technician gets the rest).
    pub platform_fee: Money,
    pub tax: Money,
    pub total: Money,
    /// Held in escrow up front.
    pub deposit: Money,
}

pub struct BookingEvent(pub booking_event::Model);

#[Object]
impl BookingEvent {
    async fn from(&self) -> Option<BookingStatus> {
        self.0.from_status.map(Into::into)
    }
    async fn to(&self) -> Option<BookingStatus> {
        Some(self.0.to_status.into())
    }
    /// CUSTOMER, TECHNICIAN, ADMIN, SUPPORT or SYSTEM.
    async fn role(&self) -> &str {
        self.0.actor_role.as_str()
    }
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|id| ids::encode(Kind::User, id))
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct Booking(pub booking::Model);

#[Object]
impl Booking {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Booking, self.0.id)
    }
    async fn status(&self) -> BookingStatus {
        self.0.status.into()
    }
    /// Increases with every change; compare with `bookingUpdated` events.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn address(&self) -> &str {
        &self.0.address
    }
    async fn location(&self) -> crate::graphql::accounts::types::LatLng {
        crate::graphql::accounts::types::LatLng {
            lat: self.0.lat,
            lng: self.0.lng,
        }
    }
    async fn priority(&self) -> Priority {
        self.0.priority.into()
    }
    async fn budget_min(&self) -> Money {
        Money::new(self.0.budget_min_minor, self.0.currency)
    }
    async fn budget_max(&self) -> Money {
        Money::new(self.0.budget_max_minor, self.0.currency)
    }
    /// Null for as-soon-as-possible jobs.
    async fn scheduled_start(&self) -> Option<DateTime<Utc>> {
        self.0.scheduled_start
    }
    async fn estimated_duration_minutes(&self) -> i32 {
        self.0.estimated_duration_minutes
    }
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<ServiceCategory>> {
        let category = loaders::one(ctx, CategoryById(self.0.category_id)).await?;
        Ok(category.map(ServiceCategory))
    }
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Person::load(ctx, self.0.customer_id).await
    }
    async fn technician(&self, ctx: &Context<'_>) -> Result<Option<Technician>> {
        match self.0.technician_id {
            Some(id) => technician_view(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The 4-digit code the customer tells the technician to start work; only the customer sees it.
    async fn start_code(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let viewer = viewer(ctx).await?;
        Ok(
            (access::actor_role(&viewer, &self.0) == Some(ActorRole::Customer))
                .then(|| self.0.start_code.clone()),
        )
    }
    /// The statuses the viewer may move this booking to now.
    async fn available_transitions(&self, ctx: &Context<'_>) -> Result<Vec<BookingStatus>> {
        let viewer = viewer(ctx).await?;
        Ok(requests::available_transitions(&viewer, &self.0)
            .into_iter()
            .map(Into::into)
            .collect())
    }
    /// Every transition: from, to, who, why and when.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<BookingEvent>> {
        let rows = loaders::list(ctx, EventsOfBooking(self.0.id)).await?;
        Ok(rows.into_iter().map(BookingEvent).collect())
    }
    async fn price(&self) -> PriceBreakdown {
        let m = |amount: i64| Money::new(amount, self.0.currency);
        PriceBreakdown {
            base: m(self.0.price_base),
            surge: m(self.0.price_surge),
            platform_fee: m(self.0.price_platform_fee),
            tax: m(self.0.price_tax),
            total: m(self.0.price_total),
            deposit: m(self.0.price_deposit),
        }
    }
    /// The technician's quotes for this job, oldest first.
    async fn quotes(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::graphql::bookings::extras::Quote>> {
        self.check_visible(ctx).await?;
        let rows = loaders::list(ctx, QuotesOfBooking(self.0.id)).await?;
        Ok(rows
            .into_iter()
            .map(crate::graphql::bookings::extras::Quote)
            .collect())
    }
    /// The dispute about this job, if one was opened.
    async fn dispute(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::bookings::extras::Dispute>> {
        self.check_visible(ctx).await?;
        let row = loaders::one(ctx, DisputeOfBooking(self.0.id)).await?;
        Ok(row.map(crate::graphql::bookings::extras::Dispute))
    }
    /// The technician's stored route on this job, oldest first (one point per trail interval).
    async fn trail(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::graphql::tracking::operations::TrackingPoint>> {
        crate::graphql::tracking::operations::trail(ctx, &self.0).await
    }
    /// Payments into this booking, oldest first.
    async fn payments(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::graphql::money::payments::Payment>> {
        self.check_visible(ctx).await?;
        let rows = loaders::list(ctx, PaymentsOfBooking(self.0.id)).await?;
        Ok(rows
            .into_iter()
            .map(crate::graphql::money::payments::Payment)
            .collect())
    }
    /// The booking's invoice and credit notes, oldest first.
    async fn invoices(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::graphql::money::invoices::Invoice>> {
        self.check_visible(ctx).await?;
        let rows = loaders::list(ctx, InvoicesOfBooking(self.0.id)).await?;
        Ok(rows
            .into_iter()
            .map(crate::graphql::money::invoices::Invoice)
            .collect())
    }
    /// What escrow holds for this booking now.
    async fn escrow(&self, ctx: &Context<'_>) -> Result<Money> {
        let due = self.due(ctx).await?;
        Ok(Money::new(due.escrow, self.0.currency))
    }
    /// What the customer owes now: the deposit before dispatch, the rest of the total once the work
    /// is completed, otherwise nothing.
    async fn amount_due(&self, ctx: &Context<'_>) -> Result<Money> {
        let due = self.due(ctx).await?;
        Ok(Money::new(
            crate::domain::payments::outstanding(due),
            self.0.currency,
        ))
    }
    /// The cancellation fee by the policy (free, 25%, 50% or 75% of the total by time left); set
    /// once cancelled.
    async fn cancellation_fee(&self) -> Option<Money> {
        self.0
            .cancellation_fee_minor
            .map(|fee| Money::new(fee, self.0.currency))
    }
    /// What the cancellation actually cost the customer: `cancellationFee`, capped at what escrow
    /// held (everything else paid in was refunded); set once cancelled.
    async fn cancellation_fee_charged(&self, ctx: &Context<'_>) -> Result<Option<Money>> {
        if self.0.cancellation_fee_minor.is_none() {
            return Ok(None);
        }
        let paid = loaders::list(ctx, PaymentsOfBooking(self.0.id)).await?;
        let charged = payments::cancellation_fee_charged_from(&self.0, &paid);
        Ok(charged.map(|fee| Money::new(fee, self.0.currency)))
    }
    async fn cancellation_reason(&self) -> Option<&str> {
        self.0.cancellation_reason.as_deref()
    }
    /// The reviews of this job the viewer may read: their own always; the other side's once both
    /// have written or the window has closed.
    async fn reviews(&self, ctx: &Context<'_>) -> Result<Vec<Review>> {
        self.check_visible(ctx).await?;
        let viewer = viewer(ctx).await?;
        let rows = loaders::list(ctx, ReviewsOfBooking(self.0.id)).await?;
        Ok(rows
            .into_iter()
            .filter(|r| reviews::may_read(Some(&viewer), r))
            .map(Review)
            .collect())
    }
    /// When the job stops taking reviews: set once it is paid (or its dispute is resolved).
    async fn reviews_close_at(&self, ctx: &Context<'_>) -> Option<DateTime<Utc>> {
        let length = chrono::Duration::seconds(services(ctx).config.reviews.window_secs);
        crate::domain::reviews::window(self.0.status, self.0.status_changed_at, length)
            .map(|w| w.closes_at)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

impl Booking {
    /// What escrow holds and whether the deposit is in, from the request's loaders.
    async fn due(&self, ctx: &Context<'_>) -> Result<crate::domain::payments::Due> {
        let key = EscrowOfBooking {
            booking: self.0.id,
            currency: self.0.currency,
        };
        let escrow = loaders::one(ctx, key).await?.unwrap_or(0);
        let paid = loaders::list(ctx, PaymentsOfBooking(self.0.id)).await?;
        Ok(payments::due_from(&self.0, escrow, &paid))
    }

    /// Whether the viewer may see this booking's money, quotes and disputes: its customer, its
    /// technician or staff. Anyone else is told it does not exist, as when asking for it by id.
    async fn check_visible(&self, ctx: &Context<'_>) -> Result<()> {
        let viewer = viewer(ctx).await?;
        Ok(access::check_visible(&viewer, &self.0)?)
    }
}

pub struct JobOffer {
    pub offer: job_offer::Model,
    pub booking: booking::Model,
}

#[Object]
impl JobOffer {
    async fn booking(&self) -> Booking {
        Booking(self.booking.clone())
    }
    async fn offered_at(&self) -> Option<DateTime<Utc>> {
        self.offer.offered_at
    }
    /// Answer with transitionBooking to ACCEPTED or REJECTED before this.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.offer.expires_at
    }
    /// The customer's rating from technicians' published reviews of them.
    async fn customer_rating(&self, ctx: &Context<'_>) -> Result<CustomerRating> {
        let found = loaders::one(ctx, CustomerRatingOf(self.booking.customer_id)).await?;
        Ok(CustomerRating::from_found(found))
    }
}

#[derive(InputObject)]
pub struct ServiceRequestInput {
    /// Category slug, e.g. `plumbing`.
    pub category: String,
    pub title: String,
    #[graphql(default)]
    pub description: String,
    pub address: String,
    pub location: LatLngInput,
    pub priority: Priority,
    pub budget_min: MoneyInput,
    pub budget_max: MoneyInput,
    /// Null means as soon as possible (HIGH and URGENT only).
    pub scheduled_start: Option<DateTime<Utc>>,
    pub estimated_duration_minutes: i32,
    /// A technician chosen from matchTechnicians; without one, dispatch is automatic.
    pub technician_id: Option<ID>,
    /// A retry with the same key returns the same booking.
    pub idempotency_key: String,
}
