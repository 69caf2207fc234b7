//! Review queries and mutations: writing a review, a technician's public list, the one response,
//! helpful votes, reports, and staff moderation with its report queue.

use crate::domain::reviews::ModerationAction;
use crate::graphql::common::{Counted, TotalCount, connection};
use crate::graphql::context::{services, viewer};
use crate::graphql::ids::{self, Kind};
use crate::graphql::reviews::types::*;
use crate::services::platform::pagination::Page;
use crate::services::reviews::listing::{self, Request};
use crate::services::reviews::{feedback, moderation, submit};
use async_graphql::{Context, ID, Object, Result};

#[derive(Default)]
pub struct ReviewQuery;

#[Object]
impl ReviewQuery {
    /// A technician's published reviews from customers, with `totalCount`; anyone may read them.
    /// Newest first unless `orderBy` says otherwise; `rating` keeps only reviews with those stars.
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        technician_id: ID,
        first: Option<i32>,
        after: Option<String>,
        order_by: Option<ReviewOrder>,
        rating: Option<i32>,
    ) -> Result<Counted<Review>> {
        let viewer = viewer(ctx).await.ok();
        let technician = ids::decode(Kind::Technician, &technician_id, "technicianId")?;
        let page = Page::parse(first, after.as_deref())?;
        let request = Request {
            technician,
            order: order_by.unwrap_or(ReviewOrder::Newest).into(),
            rating,
        };
        let db = services(ctx).db.clone();
        let slice = listing::list(&db, viewer.as_ref(), request, page).await?;
        let total = TotalCount::new(move || {
            let (db, viewer) = (db.clone(), viewer.clone());
            async move { listing::count(&db, viewer.as_ref(), request).await }
        });
        Ok(connection(
            slice,
            page.after.is_some(),
            total,
            |r| r.id,
            Review,
        ))
    }

    /// Reports of reviews, newest first; only unresolved ones unless `openOnly` is false (null is
    /// true). ADMIN and SUPPORT.
    async fn review_reports(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        open_only: Option<bool>,
    ) -> Result<Counted<ReviewReport>> {
        let viewer = viewer(ctx).await?;
        let open_only = open_only.unwrap_or(true);
        let page = Page::parse(first, after.as_deref())?;
        let slice = moderation::reports(services(ctx), &viewer, open_only, page).await?;
        let services = services(ctx).clone();
        let total = TotalCount::new(move || {
            let (services, viewer) = (services.clone(), viewer.clone());
            async move { moderation::count_reports(&services, &viewer, open_only).await }
        });
        Ok(connection(
            slice,
            page.after.is_some(),
            total,
            |r| r.id,
            ReviewReport,
        ))
    }
}

#[derive(Default)]
pub struct ReviewMutation;

#[Object]
impl ReviewMutation {
    /// The booking's customer or technician reviews the other side, once, within the window after
    /// payment (or a resolved dispute). Nobody else reads it until the other side has written too
    /// or the window has closed; then both are published together.
    async fn submit_review(
        &self,
        ctx: &Context<'_>,
        booking_id: ID,
        input: ReviewInput,
    ) -> Result<Review> {
        let viewer = viewer(ctx).await?;
        let booking = ids::decode(Kind::Booking, &booking_id, "bookingId")?;
        let review = submit::NewReview {
            rating: input.rating,
            aspects: input.aspects.map(Into::into),
            comment: input.comment,
        };
        Ok(Review(
            submit::submit(services(ctx), &viewer, booking, review).await?,
        ))
    }

    /// The reviewed technician's one public response to a published review; it cannot be changed.
    async fn respond_to_review(
        &self,
        ctx: &Context<'_>,
        review_id: ID,
        response: String,
    ) -> Result<Review> {
        let viewer = viewer(ctx).await?;
        let review = ids::decode(Kind::Review, &review_id, "reviewId")?;
        Ok(Review(
            feedback::respond(services(ctx), &viewer, review, &response).await?,
        ))
    }

    /// Votes a published review helpful: once, and never one you wrote or one about you.
    async fn vote_review_helpful(&self, ctx: &Context<'_>, review_id: ID) -> Result<Review> {
        let viewer = viewer(ctx).await?;
        let review = ids::decode(Kind::Review, &review_id, "reviewId")?;
        Ok(Review(
            feedback::vote_helpful(services(ctx), &viewer, review).await?,
        ))
    }

    /// Reports a review to staff, with a reason (3 to 500 characters); once per person.
    async fn report_review(
        &self,
        ctx: &Context<'_>,
        review_id: ID,
        reason: String,
    ) -> Result<Review> {
        let viewer = viewer(ctx).await?;
        let review = ids::decode(Kind::Review, &review_id, "reviewId")?;
        Ok(Review(
            feedback::report(services(ctx), &viewer, review, &reason).await?,
        ))
    }

    /// ADMIN and SUPPORT: hides a review (out of sight and out of the technician's rating) or
    /// restores it, with a reason; every action is recorded and resolves the review's reports.
    async fn moderate_review(
        &self,
        ctx: &Context<'_>,
        review_id: ID,
        action: ReviewModerationAction,
        reason: String,
    ) -> Result<Review> {
        let viewer = viewer(ctx).await?;
        let review = ids::decode(Kind::Review, &review_id, "reviewId")?;
        let action: ModerationAction = action.into();
        Ok(Review(
            moderation::moderate(services(ctx), &viewer, review, action, &reason).await?,
        ))
    }
}
