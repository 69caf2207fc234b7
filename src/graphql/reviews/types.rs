//! GraphQL types for reviews: the review as the viewer may see it, its aspects, response and
//! moderation log, reports for staff, a customer's rating, and the inputs.

use crate::db::entities::{review, review_moderation, review_report};
use crate::domain::reviews::{self, AspectsDraft, Direction, ModerationAction, Reader};
use crate::graphql::context::viewer;
use crate::graphql::ids::{self, Kind};
use crate::graphql::loaders::{self, HelpfulVoteBy, ModerationOfReview, ReviewById, UserById};
use crate::graphql::technicians::operations::technician_view;
use crate::graphql::technicians::types::Technician;
use crate::services::reviews::access::{self, CustomerRating as Rating};
use crate::services::reviews::listing::Order;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "Direction")]
pub enum ReviewDirection {
    /// The customer rated the technician; public once published.
    CustomerToTechnician,
    /// The technician rated the customer; only the two of them and staff read it.
    TechnicianToCustomer,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "ModerationAction")]
pub enum ReviewModerationAction {
    /// Out of sight and out of the technician's rating.
    Hide,
    /// Shown and counted again.
    Restore,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "Order")]
pub enum ReviewOrder {
    /// Most recently written first.
    Newest,
    /// Most stars first.
    Highest,
    /// Fewest stars first.
    Lowest,
    /// Most helpful votes first.
    MostHelpful,
}

/// The five aspects of a customer's review, 1 to 5 stars each.
#[derive(InputObject, Clone, Copy)]
pub struct ReviewAspectsInput {
    pub quality: i32,
    pub punctuality: i32,
    pub communication: i32,
    pub value: i32,
    pub professionalism: i32,
}

impl From<ReviewAspectsInput> for AspectsDraft {
    fn from(a: ReviewAspectsInput) -> Self {
        AspectsDraft {
            quality: a.quality,
            punctuality: a.punctuality,
            communication: a.communication,
            value: a.value,
            professionalism: a.professionalism,
        }
    }
}

/// A review of the other side of a paid job. Customers give stars, all five aspects and a
/// comment; technicians give stars and a comment, without aspects.
#[derive(InputObject)]
pub struct ReviewInput {
    /// 1 to 5 stars.
    pub rating: i32,
    /// Required from customers; technicians leave it out.
    pub aspects: Option<ReviewAspectsInput>,
    /// At most 2,000 characters.
    pub comment: Option<String>,
}

#[derive(SimpleObject)]
pub struct ReviewAspects {
    pub quality: i32,
    pub punctuality: i32,
    pub communication: i32,
    pub value: i32,
    pub professionalism: i32,
}

/// The reviewed technician's one public answer.
#[derive(SimpleObject)]
pub struct ReviewResponse {
    pub text: String,
    pub responded_at: DateTime<Utc>,
}

/// What staff did to a review, and why.
pub struct ReviewModerationEvent(pub review_moderation::Model);

#[Object]
impl ReviewModerationEvent {
    async fn action(&self) -> ReviewModerationAction {
        self.0.action.into()
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn actor_id(&self) -> ID {
        ids::encode(Kind::User, self.0.actor_id)
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A review of one side of a job by the other. Until both sides have written or the window has
/// closed, only its author (and staff) can read it.
pub struct Review(pub review::Model);

impl Review {
    async fn reader(&self, ctx: &Context<'_>) -> Reader {
        let viewer = viewer(ctx).await.ok();
        access::reader(viewer.as_ref(), &self.0)
    }
}

#[Object]
impl Review {
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Review, self.0.id)
    }
    async fn direction(&self) -> ReviewDirection {
        self.0.direction.into()
    }
    /// 1 to 5 stars.
    async fn rating(&self) -> i32 {
        self.0.rating
    }
    /// Null on a technician's review of a customer.
    async fn aspects(&self) -> Option<ReviewAspects> {
        Some(ReviewAspects {
            quality: self.0.quality?,
            punctuality: self.0.punctuality?,
            communication: self.0.communication?,
            value: self.0.value?,
            professionalism: self.0.professionalism?,
        })
    }
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }
    /// The author's first name and initial, e.g. "Wanjiku K.".
    async fn author_name(&self, ctx: &Context<'_>) -> Result<String> {
        let author = loaders::one(ctx, UserById(self.0.author_id)).await?;
        Ok(reviews::display_name(
            author.as_ref().map_or("", |u| u.full_name.as_str()),
        ))
    }
    /// The technician of the job: the one reviewed, or the one who wrote a review of a customer.
    async fn technician(&self, ctx: &Context<'_>) -> Result<Option<Technician>> {
        technician_view(ctx, self.0.technician_id).await
    }
    /// The job reviewed; only its two sides and staff see which.
    async fn booking_id(&self, ctx: &Context<'_>) -> Option<ID> {
        (self.reader(ctx).await != Reader::Other)
            .then(|| ids::encode(Kind::Booking, self.0.booking_id))
    }
    /// False while the review waits for the other side or the window's end.
    async fn published(&self) -> bool {
        self.0.published_at.is_some()
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Hidden by staff: then only its author and staff still read it.
    async fn hidden(&self) -> bool {
        self.0.hidden_at.is_some()
    }
    /// Why staff hid it; for its author and staff.
    async fn hidden_reason(&self, ctx: &Context<'_>) -> Option<&str> {
        match self.reader(ctx).await {
            Reader::Author | Reader::Staff => self.0.hidden_reason.as_deref(),
            _ => None,
        }
    }
    async fn response(&self) -> Option<ReviewResponse> {
        Some(ReviewResponse {
            text: self.0.response.clone()?,
            responded_at: self.0.responded_at?,
        })
    }
    async fn helpful_count(&self) -> i32 {
        self.0.helpful_count
    }
    /// Whether the signed-in viewer voted it helpful; false for anonymous viewers.
    async fn viewer_voted_helpful(&self, ctx: &Context<'_>) -> Result<bool> {
        let Ok(viewer) = viewer(ctx).await else {
            return Ok(false);
        };
        Ok(loaders::one(ctx, HelpfulVoteBy(self.0.id, viewer.user_id))
            .await?
            .unwrap_or(false))
    }
    /// Every hide and restore with its reason, oldest first; staff only (null for everyone else).
    async fn moderation_log(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<Vec<ReviewModerationEvent>>> {
        if self.reader(ctx).await != Reader::Staff {
            return Ok(None);
        }
        let rows = loaders::list(ctx, ModerationOfReview(self.0.id)).await?;
        Ok(Some(rows.into_iter().map(ReviewModerationEvent).collect()))
    }
}

/// A customer's rating from technicians' published reviews of them, as a technician sees it on
/// a job offer.
#[derive(SimpleObject, Clone, Copy)]
pub struct CustomerRating {
    pub count: i32,
    /// Null before the first review.
    pub average: Option<f64>,
}

impl CustomerRating {
    pub fn from_found(found: Option<Rating>) -> CustomerRating {
        match found {
            Some(r) => CustomerRating {
                count: i32::try_from(r.count).unwrap_or(i32::MAX),
                average: r.average,
            },
            None => CustomerRating {
                count: 0,
                average: None,
            },
        }
    }
}

/// A report of a review, for staff.
pub struct ReviewReport(pub review_report::Model);

#[Object]
impl ReviewReport {
    /// The review reported; staff read every review.
    async fn review(&self, ctx: &Context<'_>) -> Result<Option<Review>> {
        let viewer = viewer(ctx).await.ok();
        let review = loaders::one(ctx, ReviewById(self.0.review_id)).await?;
        Ok(review
            .filter(|r| access::may_read(viewer.as_ref(), r))
            .map(Review))
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn reporter_id(&self) -> ID {
        ids::encode(Kind::User, self.0.reporter_id)
    }
    async fn reported_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Set once staff hid or restored the review.
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
    async fn resolved_by(&self) -> Option<ID> {
        self.0.resolved_by.map(|id| ids::encode(Kind::User, id))
    }
}
