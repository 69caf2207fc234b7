//! A technician's public reviews, a page at a time: published, shown reviews by customers, newest,
//! highest, lowest or most helpful first, each order a keyset walk with the id breaking ties.

use crate::db::entities::review::{self, Column, Entity};
use crate::domain::reviews::Direction;
use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use uuid::Uuid;

/// The order of a technician's public list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Newest,
    Highest,
    Lowest,
    MostHelpful,
}

/// Which reviews the list holds.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    pub technician: Uuid,
    /// Only reviews with these stars.
    pub rating: Option<i32>,
}

fn public(filter: Filter) -> Select<Entity> {
    let mut query = Entity::find()
        .filter(Column::SubjectId.eq(filter.technician))
        .filter(Column::Direction.eq(Direction::CustomerToTechnician))
        .filter(Column::PublishedAt.is_not_null())
        .filter(Column::HiddenAt.is_null());
    if let Some(rating) = filter.rating {
        query = query.filter(Column::Rating.eq(rating));
    }
    query
}

/// Rows after `cursor` (the last row of the previous page) in `order`.
fn after(order: Order, cursor: &review::Model) -> Condition {
    let tie = Condition::all().add(Column::Id.lt(cursor.id));
    let (column, value, descending) = match order {
        Order::Newest => return tie,
        Order::Highest => (Column::Rating, cursor.rating, true),
        Order::Lowest => (Column::Rating, cursor.rating, false),
        Order::MostHelpful => (Column::HelpfulCount, cursor.helpful_count, true),
    };
    let beyond = if descending {
        column.lt(value)
    } else {
        column.gt(value)
    };
    Condition::any()
        .add(beyond)
        .add(Condition::all().add(column.eq(value)).add(tie))
}

/// Up to `limit` public reviews in `order`, after `cursor` when given.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: Filter,
    order: Order,
    cursor: Option<&review::Model>,
    limit: u64,
) -> Result<Vec<review::Model>, DbErr> {
    let mut query = public(filter);
    if let Some(cursor) = cursor {
        query = query.filter(after(order, cursor));
    }
    query = match order {
        Order::Newest => query,
        Order::Highest => query.order_by_desc(Column::Rating),
        Order::Lowest => query.order_by_asc(Column::Rating),
        Order::MostHelpful => query.order_by_desc(Column::HelpfulCount),
    };
    query.order_by_desc(Column::Id).limit(limit).all(db).await
}

/// How many reviews [`list`] pages through.
pub async fn count(db: &impl ConnectionTrait, filter: Filter) -> Result<u64, DbErr> {
    public(filter).count(db).await
}
