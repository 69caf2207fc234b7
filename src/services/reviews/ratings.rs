//! A technician's rating totals moved by one review, inside the transaction that publishes, hides
//! or restores it: their count, sums and stars, the platform's totals, then the average and the
//! Bayesian average computed from them, and the matching directory told.

use crate::db::entities::review;
use crate::db::reviews::aggregates::{self as rows, Move};
use crate::domain::ratings::{Change, average, bayesian_average};
use crate::domain::reviews::Direction;
use crate::error::AppResult;
use crate::services::{Effects, Services, matching::search};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

/// A whole number of stars as stored, 0 when missing or out of range (never, for a checked review).
fn stars(value: Option<i32>) -> u8 {
    value.and_then(|v| u8::try_from(v).ok()).unwrap_or(0)
}

/// Adds a review to (or takes it from) its technician's totals and the platform's. Only a
/// customer's review of a technician counts; anything else is left alone.
pub async fn apply(
    txn: &impl ConnectionTrait,
    services: &Services,
    effects: &mut Effects,
    review: &review::Model,
    change: Change,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if review.direction != Direction::CustomerToTechnician {
        return Ok(());
    }
    let rating = stars(Some(review.rating));
    let moved = Move {
        sign: change.sign(),
        rating,
        aspects: [
            stars(review.quality),
            stars(review.punctuality),
            stars(review.communication),
            stars(review.value),
            stars(review.professionalism),
        ],
    };
    let technician = review.subject_id;
    let Some((count, sum)) = rows::move_technician(txn, technician, moved, now).await? else {
        return Ok(());
    };
    let (platform_count, platform_sum) =
        rows::add_to_platform(txn, change.sign(), change.sign() * i64::from(rating), now).await?;
    let prior = average(platform_sum, platform_count);
    let weight = services.config.reviews.prior_weight;
    rows::set_averages(
        txn,
        technician,
        average(sum, count).unwrap_or(0.0),
        bayesian_average(sum, count, prior, weight).unwrap_or(0.0),
    )
    .await?;
    // Every replica's directory reloads the technician, so matching ranks on the new figures.
    search::directory_changed(txn, effects, technician).await
}
