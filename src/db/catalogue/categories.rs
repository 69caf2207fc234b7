//! Service categories: seeded, listed, found by id or slug, created and changed.

use crate::db::entities::service_category;
use crate::domain::money::Currency;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

/// Inserts the given categories, skipping any whose slug is already taken.
pub async fn insert_missing(
    db: &impl ConnectionTrait,
    rows: Vec<service_category::Model>,
) -> Result<(), DbErr> {
    service_category::Entity::insert_many(
        rows.into_iter().map(service_category::ActiveModel::from),
    )
    .on_conflict(
        OnConflict::column(service_category::Column::Slug)
            .do_nothing()
            .to_owned(),
    )
    .try_insert()
    .exec(db)
    .await?;
    Ok(())
}

/// Categories by name; only active ones unless `include_inactive`.
pub async fn list(
    db: &impl ConnectionTrait,
    include_inactive: bool,
) -> Result<Vec<service_category::Model>, DbErr> {
    let mut query = service_category::Entity::find().order_by_asc(service_category::Column::Name);
    if !include_inactive {
        query = query.filter(service_category::Column::Active.eq(true));
    }
    query.all(db).await
}

pub async fn by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<service_category::Model>, DbErr> {
    service_category::Entity::find_by_id(id).one(db).await
}

/// Categories by id, many in one statement, inactive ones included.
pub async fn by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<Vec<service_category::Model>, DbErr> {
    service_category::Entity::find()
        .filter(service_category::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

pub async fn by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<service_category::Model>, DbErr> {
    service_category::Entity::find()
        .filter(service_category::Column::Slug.eq(slug))
        .one(db)
        .await
}

/// Stores a new category and returns it as stored; a taken slug fails with the unique violation.
pub async fn insert(
    db: &impl ConnectionTrait,
    row: service_category::Model,
) -> Result<service_category::Model, DbErr> {
    service_category::Entity::insert(service_category::ActiveModel::from(row))
        .exec_with_returning(db)
        .await
}

/// The fields a category change writes; `None` leaves a column as it is.
#[derive(Debug, Default)]
pub struct Changes {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
    pub default_hourly_rate_minor: Option<i64>,
    pub currency: Option<Currency>,
}

/// Writes the given changes and `updated_at` to `existing`'s row; returns the row as stored.
pub async fn update(
    db: &impl ConnectionTrait,
    existing: service_category::Model,
    changes: Changes,
    now: DateTime<Utc>,
) -> Result<service_category::Model, DbErr> {
    let mut active: service_category::ActiveModel = existing.into();
    if let Some(slug) = changes.slug {
        active.slug = Set(slug);
    }
    if let Some(name) = changes.name {
        active.name = Set(name);
    }
    if let Some(description) = changes.description {
        active.description = Set(description);
    }
    if let Some(flag) = changes.active {
        active.active = Set(flag);
    }
    if let Some(rate) = changes.default_hourly_rate_minor {
        active.default_hourly_rate_minor = Set(rate);
    }
    if let Some(currency) = changes.currency {
        active.currency = Set(currency);
    }
    active.updated_at = Set(now);
    active.update(db).await
}
