//! Quotes' queries: storing a quote, superseding and answering open ones under compare-and-set on
//! their status, repricing a booking on its version, and reading quotes by id or booking.

use crate::db::entities::{booking, quote};
use crate::domain::pricing::PriceBreakdown;
use crate::domain::quotes::QuoteStatus;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use uuid::Uuid;

/// Moves every quote of a booking in `from` to `to`.
pub async fn set_status_for_booking(
    db: &impl ConnectionTrait,
    booking: Uuid,
    from: QuoteStatus,
    to: QuoteStatus,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    quote::Entity::update_many()
        .col_expr(quote::Column::Status, Expr::value(to))
        .col_expr(quote::Column::UpdatedAt, Expr::value(now))
        .filter(quote::Column::BookingId.eq(booking))
        .filter(quote::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(())
}

/// Stores a new quote.
pub async fn insert(db: &impl ConnectionTrait, quote: quote::Model) -> Result<(), DbErr> {
    quote::Entity::insert(quote.into_active_model())
        .exec(db)
        .await?;
    Ok(())
}

/// The customer's answer a status change records: when, and the note given.
#[derive(Debug, Clone)]
pub struct Response {
    pub note: Option<String>,
}

/// Moves quote `id` from `from` to `to`, recording `response` (answered at `now`) when given, only
/// while it is still in `from`. Rows affected.
pub async fn set_status(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: QuoteStatus,
    to: QuoteStatus,
    now: DateTime<Utc>,
    response: Option<Response>,
) -> Result<u64, DbErr> {
    let mut update = quote::Entity::update_many()
        .col_expr(quote::Column::Status, Expr::value(to))
        .col_expr(quote::Column::UpdatedAt, Expr::value(now));
    if let Some(response) = response {
        update = update
            .col_expr(quote::Column::RespondedAt, Expr::value(now))
            .col_expr(quote::Column::ResponseNote, Expr::value(response.note));
    }
    let changed = update
        .filter(quote::Column::Id.eq(id))
        .filter(quote::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(changed.rows_affected)
}

/// Sets booking `id`'s price and bumps its version, only if it is still at `version`. Rows affected.
pub async fn set_booking_price(
    db: &impl ConnectionTrait,
    id: Uuid,
    version: i32,
    price: &PriceBreakdown,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let changed = booking::Entity::update_many()
        .col_expr(booking::Column::PriceBase, Expr::value(price.base))
        .col_expr(booking::Column::PriceSurge, Expr::value(price.surge))
        .col_expr(
            booking::Column::PricePlatformFee,
            Expr::value(price.platform_fee),
        )
        .col_expr(booking::Column::PriceTax, Expr::value(price.tax))
        .col_expr(booking::Column::PriceTotal, Expr::value(price.total))
        .col_expr(booking::Column::PriceDeposit, Expr::value(price.deposit))
        .col_expr(
            booking::Column::Version,
            Expr::col(booking::Column::Version).add(1),
        )
        .col_expr(booking::Column::UpdatedAt, Expr::value(now))
        .filter(booking::Column::Id.eq(id))
        .filter(booking::Column::Version.eq(version))
        .exec(db)
        .await?;
    Ok(changed.rows_affected)
}

/// A quote by id.
pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<quote::Model>, DbErr> {
    quote::Entity::find_by_id(id).one(db).await
}

/// Every quote of the given bookings, oldest first.
pub async fn for_bookings(
    db: &impl ConnectionTrait,
    bookings: &[Uuid],
) -> Result<Vec<quote::Model>, DbErr> {
    quote::Entity::find()
        .filter(quote::Column::BookingId.is_in(bookings.iter().copied()))
        .order_by_asc(quote::Column::Id)
        .all(db)
        .await
}
