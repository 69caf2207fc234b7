//! The service catalogue: default categories seeded on first start, listing, and admin changes
//! (each told to every replica, which read their in-memory list of active ones again).

use crate::db::batch;
use crate::db::catalogue::categories as db_categories;
use crate::db::entities::service_category;
use crate::db::is_unique_violation;
use crate::domain::account::Role;
use crate::domain::money::Currency;
use crate::error::{AppError, AppResult};
use crate::realtime::{Topic, outbox};
use crate::services::{Effects, Services, Viewer};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

/// What the catalogue publishes when a category is added or changed: only that the list changed,
/// so every replica reads its active categories (`active.rs`) again.
#[derive(Serialize, Deserialize)]
pub struct CategoriesChanged {
    /// The event's format.
    pub v: u32,
}

/// Records, in the caller's transaction, that the categories changed.
async fn categories_changed(txn: &impl ConnectionTrait, effects: &mut Effects) -> AppResult<()> {
    let payload = serde_json::to_value(CategoriesChanged { v: 1 }).map_err(AppError::internal)?;
    outbox::enqueue(txn, Topic::Categories, &payload).await?;
    effects.event();
    Ok(())
}

/// The categories every marketplace starts with: slug, name, description, default hourly rate (KES minor units).
const DEFAULTS: &[(&str, &str, &str, i64)] = &[
    (
        "plumbing",
        "Plumbing",
        "Leaks, blocked drains, taps, water heaters and pipework",
        150_000,
    ),
    (
        "electrical",
        "Electrical",
        "Wiring, sockets, lighting, fault finding and installations",
        180_000,
    ),
    (
        "carpentry",
        "Carpentry",
        "Doors, cabinets, furniture repair and fitting",
        140_000,
    ),
    (
        "masonry",
        "Masonry",
        "Brick, block and stone work, plastering and tiling",
        130_000,
    ),
    (
        "painting",
        "Painting",
        "Interior and exterior painting and finishing",
        120_000,
    ),
    (
        "hvac",
        "HVAC",
        "Air conditioning, ventilation and refrigeration service",
        200_000,
    ),
    (
        "appliance-repair",
        "Appliance repair",
        "Fridges, washing machines, cookers and small appliances",
        160_000,
    ),
    (
        "cleaning",
        "Cleaning",
        "Home and office cleaning, deep cleans and move-outs",
        90_000,
    ),
    (
        "pest-control",
        "Pest control",
        "Inspection and treatment for insects and rodents",
        150_000,
    ),
    (
        "vehicle-service",
        "Vehicle service",
        "Diagnostics, servicing and repairs at your location",
        200_000,
    ),
];

/// Adds any default category that is missing; existing ones (possibly edited by admins) are left alone.
pub async fn seed_defaults(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<()> {
    let rows = DEFAULTS
        .iter()
        .map(|(slug, name, description, rate)| service_category::Model {
            id: Uuid::now_v7(),
            slug: (*slug).into(),
            name: (*name).into(),
            description: (*description).into(),
            active: true,
            default_hourly_rate_minor: *rate,
            currency: Currency::KES,
            created_at: now,
            updated_at: now,
        })
        .collect();
    db_categories::insert_missing(db, rows).await?;
    Ok(())
}

pub async fn list(
    db: &impl ConnectionTrait,
    include_inactive: bool,
) -> AppResult<Vec<service_category::Model>> {
    Ok(db_categories::list(db, include_inactive).await?)
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> AppResult<Option<service_category::Model>> {
    Ok(db_categories::by_id(db, id).await?)
}

/// Categories by id, many in one statement, inactive ones included (past jobs keep theirs).
pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, service_category::Model>> {
    let rows = db_categories::by_ids(db, ids).await?;
    Ok(batch::index(rows, |c| c.id))
}

pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> AppResult<Option<service_category::Model>> {
    Ok(db_categories::by_slug(db, slug).await?)
}

/// A category named by slug that must exist and be active, for new requests and new skills.
pub async fn active_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
    field: &str,
) -> AppResult<service_category::Model> {
    match find_by_slug(db, slug.trim()).await? {
        Some(category) if category.active => Ok(category),
        Some(_) => Err(AppError::bad_input(
            field,
            format!("category {slug} is not offered any more"),
        )),
        None => Err(AppError::bad_input(
            field,
            format!("unknown category {slug}"),
        )),
    }
}

pub struct CategoryInput {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
    pub default_hourly_rate_minor: Option<i64>,
    pub currency: Option<String>,
}

fn check_slug(slug: &str) -> AppResult<String> {
    let slug = slug.trim().to_lowercase();
    let ok = (2..=40).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if !ok {
        return Err(AppError::bad_input(
            "slug",
            "slug must be 2 to 40 lowercase letters, digits or dashes",
        ));
    }
    Ok(slug)
}

fn check_text(value: &str, field: &str, max: usize) -> AppResult<String> {
    crate::services::platform::validation::text(value, field, field, 1, max)
}

fn check_name(value: &str, field: &str, max: usize) -> AppResult<String> {
    crate::services::platform::validation::name(value, field, field, 1, max)
}

/// A currency a client names by its ISO 4217 code; refused at `field` when ISO 4217 has no such
/// money.
pub fn check_currency(value: &str, field: &str) -> AppResult<Currency> {
    Currency::parse(value)
        .map_err(|problem| AppError::bad_input(field, format!("currency {}", problem.message())))
}

fn check_rate(value: i64, field: &str) -> AppResult<i64> {
    if !(0..=10_000_000_000).contains(&value) {
        return Err(AppError::bad_input(
            field,
            "rate must be between 0 and 10,000,000,000 minor units",
        ));
    }
    Ok(value)
}

pub async fn create(
    services: &Services,
    viewer: &Viewer,
    input: CategoryInput,
) -> AppResult<service_category::Model> {
    viewer.require_role(&[Role::Admin])?;
    let now = services.clock.now();
    let slug = check_slug(
        input
            .slug
            .as_deref()
            .ok_or_else(|| AppError::bad_input("slug", "slug is required"))?,
    )?;
    let name = check_name(
        input
            .name
            .as_deref()
            .ok_or_else(|| AppError::bad_input("name", "name is required"))?,
        "name",
        80,
    )?;
    let description = match input.description.as_deref() {
        Some(d) if !d.trim().is_empty() => check_text(d, "description", 500)?,
        _ => String::new(),
    };
    let row = service_category::Model {
        id: Uuid::now_v7(),
        slug,
        name,
        description,
        active: input.active.unwrap_or(true),
        default_hourly_rate_minor: check_rate(
            input.default_hourly_rate_minor.unwrap_or(0),
            "defaultHourlyRate",
        )?,
        currency: input
            .currency
            .as_deref()
            .map(|currency| check_currency(currency, "defaultHourlyRate.currency"))
            .transpose()?
            .unwrap_or(Currency::KES),
        created_at: now,
        updated_at: now,
    };
    let txn = crate::db::begin_write(&services.db).await?;
    let created = db_categories::insert(&txn, row).await.map_err(slug_taken)?;
    let mut effects = Effects::default();
    categories_changed(&txn, &mut effects).await?;
    txn.commit().await?;
    applied(services, effects).await;
    Ok(created)
}

/// A slug another category holds is the client's mistake, named on its field.
fn slug_taken(e: DbErr) -> AppError {
    if is_unique_violation(&e) {
        AppError::bad_input("slug", "a category with this slug already exists")
    } else {
        e.into()
    }
}

/// After a committed change: its events go out, and this replica's next search sees it without
/// waiting for the bus.
async fn applied(services: &Services, effects: Effects) {
    services.after_commit(effects);
    services.active_categories.reload(&services.db).await;
}

/// Changes a category. Deactivating hides it from new requests and new skills; history keeps it.
pub async fn update(
    services: &Services,
    viewer: &Viewer,
    id: Uuid,
    input: CategoryInput,
) -> AppResult<service_category::Model> {
    viewer.require_role(&[Role::Admin])?;
    let now = services.clock.now();
    let txn = crate::db::begin_write(&services.db).await?;
    let existing = find(&txn, id)
        .await?
        .ok_or_else(|| AppError::NotFound("category".into()))?;
    let changes = db_categories::Changes {
        slug: input.slug.as_deref().map(check_slug).transpose()?,
        name: input
            .name
            .as_deref()
            .map(|name| check_name(name, "name", 80))
            .transpose()?,
        description: input
            .description
            .as_deref()
            .map(|description| description.trim().chars().take(500).collect()),
        active: input.active,
        default_hourly_rate_minor: input
            .default_hourly_rate_minor
            .map(|rate| check_rate(rate, "defaultHourlyRate"))
            .transpose()?,
        currency: input
            .currency
            .as_deref()
            .map(|currency| check_currency(currency, "defaultHourlyRate.currency"))
            .transpose()?,
    };
    let updated = db_categories::update(&txn, existing, changes, now)
        .await
        .map_err(slug_taken)?;
    let mut effects = Effects::default();
    categories_changed(&txn, &mut effects).await?;
    txn.commit().await?;
    applied(services, effects).await;
    Ok(updated)
}
