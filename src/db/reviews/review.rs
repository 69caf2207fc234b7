//! The reviews themselves: written once per side (a unique index), read by booking and by id, and
//! moved by conditional updates that say whether this call made the move: published, hidden or
//! restored, answered.

use crate::db::entities::review::{self, Column, Entity};
use crate::db::sql::stmt;
use crate::domain::reviews::Direction;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, IntoActiveModel,
    QueryFilter, QueryOrder, QueryTrait, UpdateMany,
};
use std::collections::HashMap;
use uuid::Uuid;

/// Inserts a review unless its author already reviewed the booking (ON CONFLICT DO NOTHING, so a
/// PostgreSQL transaction is not aborted); rows inserted.
pub async fn insert_if_new(db: &impl ConnectionTrait, row: review::Model) -> Result<u64, DbErr> {
    Entity::insert(row.into_active_model())
        .on_conflict(
            OnConflict::columns([Column::BookingId, Column::AuthorId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
}

pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<review::Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// Reviews by id, for a page of reports.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, review::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = Entity::find()
        .filter(Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

/// A booking's reviews (at most one per side), oldest first.
pub async fn of_booking(
    db: &impl ConnectionTrait,
    booking: Uuid,
) -> Result<Vec<review::Model>, DbErr> {
    Entity::find()
        .filter(Column::BookingId.eq(booking))
        .order_by_asc(Column::Id)
        .all(db)
        .await
}

/// The reviews of several bookings, by booking.
pub async fn of_bookings(
    db: &impl ConnectionTrait,
    bookings: &[Uuid],
) -> Result<HashMap<Uuid, Vec<review::Model>>, DbErr> {
    let mut found: HashMap<Uuid, Vec<review::Model>> = HashMap::new();
    if bookings.is_empty() {
        return Ok(found);
    }
    let rows = Entity::find()
        .filter(Column::BookingId.is_in(bookings.iter().copied()))
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    for row in rows {
        found.entry(row.booking_id).or_default().push(row);
    }
    Ok(found)
}

/// Runs a conditional update of one review and returns the row as it now is, or None when the
/// condition did not hold (someone else made the move first).
async fn moved(
    db: &impl ConnectionTrait,
    update: UpdateMany<Entity>,
) -> Result<Option<review::Model>, DbErr> {
    let backend = db.get_database_backend();
    let mut query = update.into_query();
    query.returning_all();
    let row = db.query_one_raw(backend.build(&query)).await?;
    row.map(|row| review::Model::from_query_result(&row, ""))
        .transpose()
}

/// Publishes review `id` unless it already is: the claim that adds it to the aggregates once.
pub async fn publish(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<review::Model>, DbErr> {
    let update = Entity::update_many()
        .col_expr(Column::PublishedAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::PublishedAt.is_null());
    moved(db, update).await
}

/// Hides review `id` with `reason` unless it already is hidden.
pub async fn hide(
    db: &impl ConnectionTrait,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<review::Model>, DbErr> {
    let update = Entity::update_many()
        .col_expr(Column::HiddenAt, Expr::value(now))
        .col_expr(Column::HiddenReason, Expr::value(reason))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::HiddenAt.is_null());
    moved(db, update).await
}

/// Shows hidden review `id` again, unless it is not hidden.
pub async fn restore(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<review::Model>, DbErr> {
    let update = Entity::update_many()
        .col_expr(Column::HiddenAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::HiddenReason, Expr::value(Option::<String>::None))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::HiddenAt.is_not_null());
    moved(db, update).await
}

/// Stores the one response to review `id`, while it is published, shown and unanswered.
pub async fn respond(
    db: &impl ConnectionTrait,
    id: Uuid,
    response: &str,
    now: DateTime<Utc>,
) -> Result<Option<review::Model>, DbErr> {
    let update = Entity::update_many()
        .col_expr(Column::Response, Expr::value(response))
        .col_expr(Column::RespondedAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::PublishedAt.is_not_null())
        .filter(Column::HiddenAt.is_null())
        .filter(Column::Response.is_null());
    moved(db, update).await
}

/// Adds one to review `id`'s helpful votes; the review as it now is.
pub async fn count_helpful(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<review::Model>, DbErr> {
    let update = Entity::update_many()
        .col_expr(Column::HelpfulCount, Expr::col(Column::HelpfulCount).add(1))
        .filter(Column::Id.eq(id));
    moved(db, update).await
}

/// Published, shown reviews of customers by technicians: (count, star sum) per customer.
pub async fn customer_ratings(
    db: &impl ConnectionTrait,
    customers: &[Uuid],
) -> Result<HashMap<Uuid, (i64, i64)>, DbErr> {
    let mut found = HashMap::new();
    if customers.is_empty() {
        return Ok(found);
    }
    let backend = db.get_database_backend();
    let placeholders: Vec<String> = (0..customers.len())
        .map(|i| format!("${}", i + 2))
        .collect();
    let sql = format!(
        "SELECT subject_id, COUNT(*) AS reviews, SUM(rating) AS stars FROM reviews \
         WHERE direction = $1 AND subject_id IN ({}) AND published_at IS NOT NULL AND hidden_at IS NULL \
         GROUP BY subject_id",
        placeholders.join(", ")
    );
    let mut values = vec![Direction::TechnicianToCustomer.into()];
    values.extend(customers.iter().map(|id| (*id).into()));
    for row in db.query_all_raw(stmt(backend, &sql, values)).await? {
        let customer: Uuid = row.try_get("", "subject_id")?;
        let reviews: i64 = row.try_get("", "reviews")?;
        let stars: i64 = row.try_get("", "stars")?;
        found.insert(customer, (reviews, stars));
    }
    Ok(found)
}
