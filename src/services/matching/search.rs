//! Matching: keeping the in-memory directory and search cache current (from the database at start,
//! then from bus events on every replica) and ranking nearby technicians for a customer with the
//! explainable score.

use crate::db::matching::search as rows;
use crate::domain::account::Role;
use crate::domain::geo::{DEFAULT_MINUTES_PER_KM, LatLng, eta_minutes};
use crate::domain::matching::{FactorScore, MatchFacts, Total, Weights, explain, total};
use crate::domain::money::Money;
use crate::domain::pricing::{Priority, apply_bp};
use crate::domain::schedule::works_at;
use crate::error::{AppError, AppResult};
use crate::realtime::{BusMessage, SubscriptionItem, Topic, outbox};
use crate::services::matching::directory::{Candidate, LivePosition};
use crate::services::matching::loading;
use crate::services::matching::search_cache::{CustomerFacts, SearchCache};
use crate::services::{Effects, Services, Viewer, catalogue::categories};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Serialize, Deserialize)]
struct DirectoryEvent {
    technician_id: Uuid,
}

#[derive(Serialize, Deserialize)]
struct PositionEvent {
    technician_id: Uuid,
    lat: f64,
    lng: f64,
    at: DateTime<Utc>,
}

/// Records, in the caller's transaction, that a technician's matching facts changed, so every replica reloads them.
pub async fn directory_changed(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    technician_id: Uuid,
) -> AppResult<()> {
    let payload =
        serde_json::to_value(DirectoryEvent { technician_id }).map_err(AppError::internal)?;
    // Numbered per technician: one global counter would make every such change wait on one row.
    let sequence_key = format!("technicians.directory.{technician_id}");
    outbox::enqueue_sequenced(txn, Topic::TechnicianDirectory, &sequence_key, &payload).await?;
    effects.event();
    Ok(())
}

/// Reloads one technician into this replica's directory right away, so the change is visible to the
/// next search here without waiting for the bus.
pub async fn refresh_local(services: &Services, technician_id: Uuid) -> AppResult<()> {
    match loading::load_candidate(&services.db, technician_id).await? {
        Some(candidate) => services.matching.put(candidate),
        None => services.matching.remove(technician_id),
    }
    Ok(())
}

/// Shares a live position with every replica's directory; positions are not durable, the next one supersedes.
pub async fn publish_position(
    services: &Services,
    technician_id: Uuid,
    point: LatLng,
    at: DateTime<Utc>,
) {
    services
        .matching
        .move_live(technician_id, LivePosition { point, at });
    let payload = match serde_json::to_value(PositionEvent {
        technician_id,
        lat: point.lat(),
        lng: point.lng(),
        at,
    }) {
        Ok(payload) => payload,
        Err(e) => {
            tracing::warn!(error = %e, "position not shared with other replicas");
            return;
        }
    };
    let message = BusMessage::new(Topic::TechnicianPositions.key(), None, payload);
    if let Err(e) = services.bus.publish(message).await {
        tracing::warn!(error = %e, "position not shared with other replicas");
    }
}

/// Keeps this replica's directory in step with changes made anywhere.
pub fn spawn_listener(services: Services, shutdown: CancellationToken) {
    let mut directory = services.bus.subscribe(&Topic::TechnicianDirectory.key());
    let mut positions = services.bus.subscribe(&Topic::TechnicianPositions.key());
    tokio::spawn(async move {
        loop {
            tokio::select! {
                item = directory.next() => match item {
                    Some(SubscriptionItem::Message(message)) => {
                        if let Ok(event) = serde_json::from_value::<DirectoryEvent>(message.payload.clone())
                            && let Err(e) = refresh_local(&services, event.technician_id).await
                        {
                            tracing::warn!(error = ?e.message(), "directory refresh failed");
                        }
                    }
                    Some(SubscriptionItem::Lagged { .. }) | None => {
                        // Missed changes: rebuild everything rather than guess which.
                        match loading::load_index(&services.db).await {
                            Ok(fresh) => services.matching.replace_with(fresh),
                            Err(e) => tracing::warn!(error = ?e.message(), "directory rebuild failed"),
                        }
                        directory = services.bus.subscribe(&Topic::TechnicianDirectory.key());
                    }
                },
                item = positions.next() => match item {
                    Some(SubscriptionItem::Message(message)) => {
                        if let Ok(p) = serde_json::from_value::<PositionEvent>(message.payload.clone())
                            && let Ok(point) = LatLng::new(p.lat, p.lng)
                        {
                            services.matching.move_live(p.technician_id, LivePosition { point, at: p.at });
                        }
                    }
                    // Positions are superseded every few seconds; a lag only means resubscribing.
                    _ => positions = services.bus.subscribe(&Topic::TechnicianPositions.key()),
                },
                _ = shutdown.cancelled() => return,
            }
        }
    });
}

const WEIGHTS_KEY: &str = "matching.weights";

fn weights_from_json(raw: &str) -> Option<Weights> {
    let w: HashMap<String, u32> = serde_json::from_str(raw).ok()?;
    let get = |k: &str| w.get(k).copied();
    let weights = Weights {
        skill: get("skill")?,
        distance: get("distance")?,
        availability: get("availability")?,
        rating: get("rating")?,
        experience: get("experience")?,
        price_vs_budget: get("priceVsBudget")?,
        response_time: get("responseTime")?,
        completion_rate: get("completionRate")?,
        customer_preference: get("customerPreference")?,
    };
    weights.validate().ok().map(|_| weights)
}

pub fn weights_to_json(w: &Weights) -> String {
    serde_json::json!({
        "skill": w.skill, "distance": w.distance, "availability": w.availability, "rating": w.rating,
        "experience": w.experience, "priceVsBudget": w.price_vs_budget, "responseTime": w.response_time,
        "completionRate": w.completion_rate, "customerPreference": w.customer_preference,
    })
    .to_string()
}

/// The platform's weights (admin setting), or the defaults.
pub async fn platform_weights(db: &impl ConnectionTrait) -> AppResult<Weights> {
    let raw = rows::setting(db, WEIGHTS_KEY).await?;
    Ok(raw
        .as_deref()
        .and_then(weights_from_json)
        .unwrap_or_default())
}

pub fn check_weights(weights: &Weights) -> AppResult<()> {
    weights.validate().map_err(|e| {
        AppError::bad_input(
            "weights",
            format!("weights must add up to 100 (they add up to {})", e.sum),
        )
    })
}

pub async fn set_platform_weights(
    services: &Services,
    viewer: &Viewer,
    weights: Weights,
) -> AppResult<Weights> {
    viewer.require_role(&[Role::Admin])?;
    check_weights(&weights)?;
    let txn = crate::db::begin_write(&services.db).await?;
    rows::put_setting(
        &txn,
        WEIGHTS_KEY,
        weights_to_json(&weights),
        services.clock.now(),
    )
    .await?;
    let payload = serde_json::to_value(WeightsChanged { v: 1 }).map_err(AppError::internal)?;
    outbox::enqueue(&txn, Topic::MatchingWeights, &payload).await?;
    let mut effects = Effects::default();
    effects.event();
    txn.commit().await?;
    services.after_commit(effects);
    // This replica's next search sees the change without waiting for the bus.
    reload_platform_weights(services).await;
    Ok(weights)
}

/// A customer's own weights; `None` clears them (back to the platform's).
pub async fn set_customer_weights(
    services: &Services,
    viewer: &Viewer,
    weights: Option<Weights>,
) -> AppResult<Option<Weights>> {
    viewer.require_role(&[Role::Customer])?;
    if let Some(w) = &weights {
        check_weights(w)?;
    }
    let now = services.clock.now();
    let txn = crate::db::begin_write(&services.db).await?;
    rows::put_customer_weights(
        &txn,
        viewer.user_id,
        weights.as_ref().map(weights_to_json),
        now,
    )
    .await?;
    let mut effects = Effects::default();
    customer_changed(&txn, &mut effects, viewer.user_id).await?;
    txn.commit().await?;
    services.after_commit(effects);
    services.search_cache.forget_customer(viewer.user_id);
    Ok(weights)
}

pub async fn customer_weights(
    db: &impl ConnectionTrait,
    customer: Uuid,
) -> AppResult<Option<Weights>> {
    let row = rows::customer_preference(db, customer).await?;
    Ok(row
        .and_then(|r| r.matching_weights)
        .as_deref()
        .and_then(weights_from_json))
}

pub struct MatchRequest {
    pub category: String,
    pub location: LatLng,
    pub radius_km: Option<f64>,
    pub priority: Priority,
    pub budget: Option<Money>,
    pub preferred_start: Option<DateTime<Utc>>,
    pub first: Option<i32>,
}

pub struct TechnicianMatch {
    pub technician_id: Uuid,
    /// The technician's hourly rate with the request's priority surge applied.
    pub quoted_hourly_rate: Money,
    pub distance_km: f64,
    pub eta_minutes: u32,
    pub score: Total,
    /// What the score was computed from, kept so its reasons are written only if someone asks.
    facts: MatchFacts,
    weights: Weights,
}

impl TechnicianMatch {
    /// Every factor of the score with its reason: computed on demand, since ranking scores every
    /// nearby technician and most are never shown.
    pub fn factors(&self) -> Vec<FactorScore> {
        explain(&self.facts, &self.weights)
    }
}

pub const DEFAULT_SEARCH_RADIUS_KM: f64 = 10.0;
pub const MAX_SEARCH_RADIUS_KM: f64 = 50.0;
pub const MAX_MATCHES: i32 = 50;

fn works_at_instant(c: &Candidate, at: DateTime<Utc>) -> bool {
    works_at(
        &c.week,
        &c.exceptions,
        at.with_timezone(&c.time_zone).naive_local(),
    )
}

/// Ranks technicians for a customer: only approved, available, skilled technicians with a usable
/// position whose own radius reaches the customer, never ones the customer blocked; by score, then distance.
pub async fn match_technicians(
    services: &Services,
    viewer: &Viewer,
    request: MatchRequest,
) -> AppResult<Vec<TechnicianMatch>> {
    viewer.require_role(&[Role::Customer, Role::Admin, Role::Support])?;
    let radius = request.radius_km.unwrap_or(DEFAULT_SEARCH_RADIUS_KM);
    if !radius.is_finite() || radius <= 0.0 || radius > MAX_SEARCH_RADIUS_KM {
        return Err(AppError::bad_input(
            "radiusKm",
            format!("radius must be more than 0 and at most {MAX_SEARCH_RADIUS_KM} km"),
        ));
    }
    let first = request.first.unwrap_or(10);
    if !(1..=MAX_MATCHES).contains(&first) {
        return Err(AppError::bad_input(
            "first",
            format!("first must be between 1 and {MAX_MATCHES}"),
        ));
    }
    let budget = match request.budget {
        Some(budget) if budget.amount_minor < 0 => {
            return Err(AppError::bad_input(
                "budget.amountMinor",
                "budget cannot be negative",
            ));
        }
        budget => budget,
    };
    if let Some(at) = request.preferred_start {
        crate::services::platform::validation::not_too_far(
            at,
            "preferredStart",
            services.clock.now(),
        )?;
    }
    let category = active_category(services, &request.category).await?;
    let search = Search {
        customer: viewer.user_id,
        category,
        point: request.location,
        radius_km: radius,
        priority: request.priority,
        budget,
        preferred_start: request.preferred_start,
        first: first as usize,
    };
    rank(services, &search, &HashSet::new()).await
}

/// What to rank technicians for: a customer's job at a point.
pub struct Search {
    pub customer: Uuid,
    pub category: Uuid,
    pub point: LatLng,
    pub radius_km: f64,
    pub priority: Priority,
    pub budget: Option<Money>,
    pub preferred_start: Option<DateTime<Utc>>,
    pub first: usize,
}

/// Scores the nearest candidates and returns the best, skipping blocked and `exclude`d technicians.
/// Shared by `matchTechnicians` and automatic dispatch, so both rank alike.
pub async fn rank(
    services: &Services,
    search: &Search,
    exclude: &HashSet<Uuid>,
) -> AppResult<Vec<TechnicianMatch>> {
    let customer = customer_facts(services, search.customer).await?;
    let weights = match customer.weights {
        Some(own) => own,
        None => known_platform_weights(services).await?,
    };
    let blocked = &customer.blocked;
    let now = services.clock.now();
    let surge = services.config.bookings.pricing.surge_bp(search.priority);
    // Rank nearest-first from the spatial index, then score only those candidates.
    let pool = (search.first * 5).max(100);
    let mut matches: Vec<TechnicianMatch> = services
        .matching
        .near(search.point, search.radius_km, search.category, pool, now)
        .into_iter()
        .filter(|(c, _)| !blocked.contains(&c.id) && !exclude.contains(&c.id))
        .map(|(c, distance_km)| {
            let years_in_category = c
                .skills
                .iter()
                .find(|(id, _)| *id == search.category)
                .map_or(0, |(_, y)| *y);
            let facts = MatchFacts {
                has_skill: true,
                years_in_category,
                distance_km,
                service_radius_km: c.service_radius_km,
                available_now: true,
                works_at_preferred_start: search.preferred_start.map(|at| works_at_instant(&c, at)),
                rating_average: c.rating_average,
                rating_count: c.rating_count,
                years_of_experience: c.years_of_experience,
                hourly_rate_minor: c.hourly_rate_minor,
                // A budget in another currency says nothing about this rate.
                budget_minor: search
                    .budget
                    .filter(|budget| budget.currency == c.currency)
                    .map(|budget| budget.amount_minor),
                median_response_seconds: c.median_response_secs,
                completion_rate: c.completion_rate,
                hired_before: false,
                favourited: false,
            };
            let quoted = c.hourly_rate_minor + apply_bp(c.hourly_rate_minor, surge).unwrap_or(0);
            TechnicianMatch {
                technician_id: c.id,
                quoted_hourly_rate: Money::new(quoted, c.currency),
                distance_km,
                eta_minutes: eta_minutes(distance_km, DEFAULT_MINUTES_PER_KM),
                score: total(&facts, &weights),
                facts,
                weights,
            }
        })
        .collect();
    matches.sort_by(|a, b| {
        b.score
            .total
            .total_cmp(&a.score.total)
            .then(a.distance_km.total_cmp(&b.distance_km))
    });
    matches.truncate(search.first);
    Ok(matches)
}

/// The id of the active category a search names, from memory; a slug this replica does not hold
/// as active is looked up in the database, which says why it cannot be searched (unknown, or no
/// longer offered) or finds one added on another replica a moment ago.
async fn active_category(services: &Services, slug: &str) -> AppResult<Uuid> {
    if let Some(id) = services.active_categories.id_of(slug.trim()) {
        return Ok(id);
    }
    Ok(categories::active_by_slug(&services.db, slug, "category")
        .await?
        .id)
}

/// The platform's weights from memory, or from the database while this replica does not know them.
async fn known_platform_weights(services: &Services) -> AppResult<Weights> {
    match services.search_cache.platform_weights() {
        Some(weights) => Ok(weights),
        None => platform_weights(&services.db).await,
    }
}

/// A customer's own weights and blocks: kept from their last search, or read in one statement.
pub async fn customer_facts(services: &Services, customer: Uuid) -> AppResult<Arc<CustomerFacts>> {
    if let Some(kept) = services.search_cache.customer(customer) {
        return Ok(kept);
    }
    let generation = services.search_cache.generation();
    let (weights, blocked) = rows::customer_facts(&services.db, customer).await?;
    let facts = Arc::new(CustomerFacts {
        weights: weights.as_deref().and_then(weights_from_json),
        blocked: blocked.into_iter().collect(),
    });
    services
        .search_cache
        .keep_customer(customer, facts.clone(), generation);
    Ok(facts)
}

/// The search cache as the database has it now, for a replica starting up.
pub async fn load_search_cache(db: &DatabaseConnection) -> AppResult<SearchCache> {
    let cache = SearchCache::default();
    cache.set_platform_weights(Some(platform_weights(db).await?));
    Ok(cache)
}

/// Reads the platform's weights again. One reload at a time, so the last to finish read last; when
/// it fails they are marked unknown (searches read the database) until a later one succeeds.
pub async fn reload_platform_weights(services: &Services) {
    let _one_at_a_time = services.search_cache.reloading_weights.lock().await;
    match platform_weights(&services.db).await {
        Ok(weights) => services.search_cache.set_platform_weights(Some(weights)),
        Err(e) => {
            tracing::warn!(error = ?e.message(), "weights not reloaded; searches read them from the database");
            services.search_cache.set_platform_weights(None);
        }
    }
}

/// What the platform's weights changing looks like on the bus: only that they changed.
#[derive(Serialize, Deserialize)]
struct WeightsChanged {
    /// The event's format.
    v: u32,
}

/// One customer's weights or blocks changed.
#[derive(Serialize, Deserialize)]
struct CustomerChanged {
    /// The event's format.
    v: u32,
    customer_id: Uuid,
}

/// Records, in the caller's transaction, that a customer's own weights or blocks changed, so every
/// replica forgets what it kept of them. The caller also forgets them on this replica after commit.
pub async fn customer_changed(
    txn: &impl ConnectionTrait,
    effects: &mut Effects,
    customer_id: Uuid,
) -> AppResult<()> {
    let payload =
        serde_json::to_value(CustomerChanged { v: 1, customer_id }).map_err(AppError::internal)?;
    // Numbered per customer, like the directory's per-technician changes.
    let sequence_key = format!("matching.customers.{customer_id}");
    outbox::enqueue_sequenced(txn, Topic::CustomerMatching, &sequence_key, &payload).await?;
    effects.event();
    Ok(())
}

/// How often the cache listener checks that the bus is still connected, and retries reloads that failed.
const CACHE_CHECK: Duration = Duration::from_secs(1);

/// Keeps this replica's search cache and active categories in step with changes made anywhere.
/// Whenever it may have missed some (a lagging subscription, the Redis subscriber reconnecting) it
/// reads everything again.
pub fn spawn_cache_listener(services: Services, shutdown: CancellationToken) {
    let mut categories = services.bus.subscribe(&Topic::Categories.key());
    let mut weights = services.bus.subscribe(&Topic::MatchingWeights.key());
    let mut customers = services.bus.subscribe(&Topic::CustomerMatching.key());
    let mut check = tokio::time::interval(CACHE_CHECK);
    // What was loaded at start predates the Redis subscriber's first connection: the first one
    // counts as a reconnection too.
    let mut connections = services.bus.redis_connections().map(|_| 0);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                item = categories.next() => {
                    // Subscribe again before reading, so nothing committed after the read is missed.
                    if !matches!(item, Some(SubscriptionItem::Message(_))) {
                        categories = services.bus.subscribe(&Topic::Categories.key());
                    }
                    services.active_categories.reload(&services.db).await;
                }
                item = weights.next() => {
                    if !matches!(item, Some(SubscriptionItem::Message(_))) {
                        weights = services.bus.subscribe(&Topic::MatchingWeights.key());
                    }
                    reload_platform_weights(&services).await;
                }
                item = customers.next() => match item {
                    Some(SubscriptionItem::Message(message)) => {
                        match message.decode::<CustomerChanged>() {
                            Some(event) => services.search_cache.forget_customer(event.customer_id),
                            // Someone changed, but who cannot be read: forget everyone.
                            None => services.search_cache.forget_customers(),
                        }
                    }
                    Some(SubscriptionItem::Lagged { .. }) | None => {
                        customers = services.bus.subscribe(&Topic::CustomerMatching.key());
                        services.search_cache.forget_customers();
                    }
                },
                _ = check.tick() => {
                    let now = services.bus.redis_connections();
                    // Events relayed while this replica's Redis subscriber was away never reach it.
                    if now != connections {
                        connections = now;
                        services.search_cache.forget_customers();
                        services.active_categories.reload(&services.db).await;
                        reload_platform_weights(&services).await;
                    } else {
                        if !services.active_categories.is_known() {
                            services.active_categories.reload(&services.db).await;
                        }
                        if services.search_cache.platform_weights().is_none() {
                            reload_platform_weights(&services).await;
                        }
                    }
                }
                _ = shutdown.cancelled() => return,
            }
        }
    });
}
