//! A technician's public reviews: published, shown reviews by their customers, in the order asked
//! for, a keyset page at a time; anyone may read them, signed in or not.

use crate::db::entities::review;
use crate::db::reviews::{listing as rows, review as db_reviews};
use crate::db::technicians::technician as db_technician;
use crate::domain::reviews::{Direction, stars};
use crate::domain::technician::profile_shown;
use crate::error::{AppError, AppResult};
use crate::services::Viewer;
use crate::services::platform::pagination::{Page, Slice};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

pub use crate::db::reviews::listing::Order;

/// Which of a technician's reviews to list, and how.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    pub technician: Uuid,
    pub order: Order,
    /// Only reviews with these stars.
    pub rating: Option<i32>,
}

/// The list's filter, once the technician and the stars are known to be good.
async fn filter(
    db: &impl ConnectionTrait,
    viewer: Option<&Viewer>,
    request: &Request,
) -> AppResult<rows::Filter> {
    if let Some(rating) = request.rating {
        stars(rating, "rating")?;
    }
    // A technician not yet approved is shown only to themself and staff, as their profile is.
    let profile = db_technician::profile_by_id(db, request.technician).await?;
    let see_private = viewer.is_some_and(|v| v.may_see_records_of(request.technician));
    let shown = profile.is_some_and(|p| profile_shown(p.kyc_status, see_private));
    if !shown {
        return Err(AppError::NotFound("technician".into()));
    }
    Ok(rows::Filter {
        technician: request.technician,
        rating: request.rating,
    })
}

/// One page of a technician's public reviews.
pub async fn list(
    db: &impl ConnectionTrait,
    viewer: Option<&Viewer>,
    request: Request,
    page: Page,
) -> AppResult<Slice<review::Model>> {
    let filter = filter(db, viewer, &request).await?;
    let cursor = match page.after {
        None => None,
        Some(after) => {
            let row = db_reviews::by_id(db, after).await?;
            // A cursor names a review of this list; anything else was not handed out by it.
            let of_this_list = row.filter(|r| {
                r.subject_id == request.technician && r.direction == Direction::CustomerToTechnician
            });
            Some(of_this_list.ok_or_else(|| AppError::bad_input("after", "malformed cursor"))?)
        }
    };
    let rows = rows::list(db, filter, request.order, cursor.as_ref(), page.limit + 1).await?;
    Ok(Slice::from_probe(rows, page.limit))
}

/// How many reviews [`list`] pages through.
pub async fn count(
    db: &impl ConnectionTrait,
    viewer: Option<&Viewer>,
    request: Request,
) -> AppResult<u64> {
    let filter = filter(db, viewer, &request).await?;
    Ok(rows::count(db, filter).await?)
}
