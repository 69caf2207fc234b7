//! Rating totals: a technician's, moved by one published (or hidden) review at a time with
//! relative updates, so concurrent publications add up; and the platform's, the Bayesian prior.

use crate::db::entities::technician_profile::{self, Column};
use crate::db::sql::stmt;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, ReturningClause};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryTrait};
use uuid::Uuid;

/// The platform totals row of customers' reviews of technicians.
const TECHNICIANS: &str = "TECHNICIANS";

/// One review's move: `sign` is +1 (published or restored) or -1 (hidden).
#[derive(Debug, Clone, Copy)]
pub struct Move {
    pub sign: i64,
    pub rating: u8,
    /// Quality, punctuality, communication, value, professionalism.
    pub aspects: [u8; 5],
}

fn stars_column(rating: u8) -> Option<Column> {
    Some(match rating {
        1 => Column::Stars1,
        2 => Column::Stars2,
        3 => Column::Stars3,
        4 => Column::Stars4,
        5 => Column::Stars5,
        _ => return None,
    })
}

/// Moves a technician's count, sums and star counts by one review in one relative update; their
/// count and star sum afterwards, or None when there is no such profile.
pub async fn move_technician(
    db: &impl ConnectionTrait,
    technician: Uuid,
    change: Move,
    now: DateTime<Utc>,
) -> Result<Option<(i64, i64)>, DbErr> {
    let backend = db.get_database_backend();
    let by = |column: Column, amount: i64| (column, Expr::col(column).add(change.sign * amount));
    let mut moves = vec![
        by(Column::RatingCount, 1),
        by(Column::RatingSum, i64::from(change.rating)),
    ];
    let aspects = [
        Column::QualitySum,
        Column::PunctualitySum,
        Column::CommunicationSum,
        Column::ValueSum,
        Column::ProfessionalismSum,
    ];
    moves.extend(
        aspects
            .into_iter()
            .zip(change.aspects)
            .map(|(column, stars)| by(column, i64::from(stars))),
    );
    moves.extend(stars_column(change.rating).map(|column| by(column, 1)));
    let mut update =
        technician_profile::Entity::update_many().col_expr(Column::UpdatedAt, Expr::value(now));
    for (column, value) in moves {
        update = update.col_expr(column, value);
    }
    let mut update = update.filter(Column::Id.eq(technician)).into_query();
    update.returning(ReturningClause::Columns(vec![
        Column::RatingCount.into_column_ref(),
        Column::RatingSum.into_column_ref(),
    ]));
    let Some(row) = db.query_one_raw(backend.build(&update)).await? else {
        return Ok(None);
    };
    let count: i32 = row.try_get("", "rating_count")?;
    let sum: i64 = row.try_get("", "rating_sum")?;
    Ok(Some((i64::from(count), sum)))
}

/// Stores a technician's average and Bayesian average, computed from their totals.
pub async fn set_averages(
    db: &impl ConnectionTrait,
    technician: Uuid,
    average: f64,
    bayesian: f64,
) -> Result<(), DbErr> {
    technician_profile::Entity::update_many()
        .col_expr(Column::RatingAverage, Expr::value(average))
        .col_expr(Column::RatingBayesian, Expr::value(bayesian))
        .filter(Column::Id.eq(technician))
        .exec(db)
        .await?;
    Ok(())
}

/// Moves the platform's totals of customers' reviews by `count` reviews adding up to `sum` stars
/// (negative to take them away); the totals afterwards.
pub async fn add_to_platform(
    db: &impl ConnectionTrait,
    count: i64,
    sum: i64,
    now: DateTime<Utc>,
) -> Result<(i64, i64), DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "INSERT INTO rating_totals (subject, review_count, star_sum, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (subject) DO UPDATE SET review_count = rating_totals.review_count + excluded.review_count, \
               star_sum = rating_totals.star_sum + excluded.star_sum, updated_at = excluded.updated_at \
             RETURNING review_count, star_sum",
            [TECHNICIANS.into(), count.into(), sum.into(), now.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("rating_totals".into()))?;
    Ok((
        row.try_get("", "review_count")?,
        row.try_get("", "star_sum")?,
    ))
}

/// The platform's totals of customers' reviews: (count, sum), zero before the first.
pub async fn platform(db: &impl ConnectionTrait) -> Result<(i64, i64), DbErr> {
    let row = db
        .query_one_raw(stmt(
            db.get_database_backend(),
            "SELECT review_count, star_sum FROM rating_totals WHERE subject = $1",
            [TECHNICIANS.into()],
        ))
        .await?;
    match row {
        Some(row) => Ok((
            row.try_get("", "review_count")?,
            row.try_get("", "star_sum")?,
        )),
        None => Ok((0, 0)),
    }
}
