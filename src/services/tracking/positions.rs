//! Live technician tracking: sharing a position on an active booking (checked, ordered, rate-limited,
//! published live), the arrival geofence, the thinned trail and its retention, and watching it.
//!
//! A point costs the database nothing unless it is due in the trail. Order and rate are decided on
//! the booking's head: between replicas (Redis bus) by one atomic compare-and-set of a shared
//! value in Redis, which also serves the latest point to watchers on any replica; with the
//! in-process bus there is one process and its memory decides. The head row in the database is
//! written with each trail point (one per trail interval, in one transaction with the point and
//! the technician's matching position), and is where a replica starts from when neither memory
//! nor Redis knows the booking. The booking itself comes from a per-replica cache that the
//! booking's own change events invalidate, and the bus publish follows at once.

use crate::db::batch;
use crate::db::begin_write;
use crate::db::bookings::access::by_id as booking_by_id;
use crate::db::entities::{booking, tracking_head, tracking_point};
use crate::db::tracking::positions as rows;
use crate::domain::booking_state::{self, Role as ActorRole, Status, TransitionRequest};
use crate::domain::geo::haversine_km;
use crate::domain::tracking::{self as rules, Admission, Head, PointRules, Refusal};
use crate::error::{AppError, AppResult};
use crate::realtime::bus::Link;
use crate::realtime::{BusMessage, EventBus, SharedSwap, Subscription, SubscriptionItem, Topic};
use crate::services::bookings::access;
use crate::services::bookings::flow::Actor;
use crate::services::bookings::status_change;
use crate::services::technicians::technician::{self, PositionReport};
use crate::services::{Effects, Services, Viewer};
use chrono::{DateTime, Utc};
use futures_util::{FutureExt, Stream, StreamExt};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use uuid::Uuid;

/// How long a replica trusts what it cached about a booking (status, parties, job location).
///
/// Staleness bound: a change to the booking reaches the cache through the booking's own bus event,
/// normally within milliseconds of its commit, and the entry is dropped on the next point. Only when
/// that event is lost (Redis away, a lagging subscription) does the TTL decide: a point may then be
/// accepted, or an arrival noticed, at most this many seconds after the booking really changed.
pub const BOOKING_CACHE_TTL_SECS: i64 = 5;

/// How long a replica trusts a cached booking while the bus link it was read under has stayed up:
/// every change since reaches it as an event then (a subscription that fell behind counts as a
/// change), so this only bounds how long an untouched entry lives.
pub const BOOKING_CACHE_LINKED_TTL_SECS: i64 = 300;

/// How long Redis keeps a booking's head after its last point; the database row takes over after.
const SHARED_HEAD_TTL: std::time::Duration = std::time::Duration::from_secs(3_600);

/// `Booking.trail` returns at most this many points, the most recent ones.
pub const MAX_TRAIL_POINTS: u64 = 2_000;

/// Compare-and-set attempts on a head that other replicas keep moving before giving up.
const HEAD_ATTEMPTS: usize = 3;

/// Cached entries beyond this count are swept of expired ones, so the caches cannot grow unbounded.
const CACHE_SWEEP_AT: usize = 10_000;

/// A head this old is not worth keeping in memory: its job has almost certainly ended.
const HEAD_CACHE_IDLE_MS: i64 = 10 * 60 * 1_000;

/// A reading as the technician shares it.
pub struct LocationShare {
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub heading_deg: Option<f64>,
    pub speed_kmh: Option<f64>,
    pub recorded_at: DateTime<Utc>,
}

/// One point as clients see it, live and in the trail; also the bus payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingPoint {
    pub booking_id: Uuid,
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub heading_deg: Option<f64>,
    pub speed_kmh: Option<f64>,
    pub recorded_at: DateTime<Utc>,
    pub distance_km: f64,
    pub eta_minutes: u32,
    /// The booking's version the point was judged on; see [`tracked_booking`]. 0 on a point from a
    /// server that did not send it, which subscribers judge on their cached booking.
    #[serde(default)]
    pub booking_version: i32,
}

/// A booking's last accepted point with its head times and the technician whose point it was: as
/// this replica holds it, as Redis shares it between replicas, and as the head row stores it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct StoredHead {
    #[serde(rename = "r")]
    recorded_ms: i64,
    #[serde(rename = "a")]
    accepted_ms: i64,
    #[serde(rename = "t")]
    trail_ms: i64,
    #[serde(rename = "tech")]
    technician_id: Uuid,
    lat: f64,
    lng: f64,
    #[serde(rename = "acc")]
    accuracy_m: Option<f64>,
    #[serde(rename = "hdg")]
    heading_deg: Option<f64>,
    #[serde(rename = "spd")]
    speed_kmh: Option<f64>,
}

impl StoredHead {
    fn new(head: Head, technician_id: Uuid, report: &PositionReport) -> StoredHead {
        StoredHead {
            recorded_ms: head.recorded_ms,
            accepted_ms: head.accepted_ms,
            trail_ms: head.trail_ms,
            technician_id,
            lat: report.lat,
            lng: report.lng,
            accuracy_m: report.accuracy_m,
            heading_deg: report.heading_deg,
            speed_kmh: report.speed_kmh,
        }
    }

    fn head(&self) -> Head {
        Head {
            recorded_ms: self.recorded_ms,
            accepted_ms: self.accepted_ms,
            trail_ms: self.trail_ms,
        }
    }

    fn report(&self) -> PositionReport {
        PositionReport {
            lat: self.lat,
            lng: self.lng,
            accuracy_m: self.accuracy_m,
            heading_deg: self.heading_deg,
            speed_kmh: self.speed_kmh,
        }
    }

    fn from_row(row: tracking_head::Model) -> StoredHead {
        StoredHead {
            recorded_ms: row.recorded_ms,
            accepted_ms: row.accepted_ms,
            trail_ms: row.trail_ms,
            technician_id: row.technician_id,
            lat: row.lat,
            lng: row.lng,
            accuracy_m: row.accuracy_m,
            heading_deg: row.heading_deg,
            speed_kmh: row.speed_kmh,
        }
    }
}

/// A head as this replica remembers it, with the exact shared value it was read or written as
/// (the compare-and-set's expected value), when it came from Redis.
#[derive(Clone)]
struct HeadEntry {
    stored: StoredHead,
    shared: Option<Arc<str>>,
}

struct CachedBooking {
    booking: Arc<booking::Model>,
    fetched_at: DateTime<Utc>,
    /// The bus link's connection number when the row was read (None: the link was down).
    connection: Option<u64>,
    /// The booking's change events, subscribed before the row was read: anything waiting here
    /// means the cached row may be out of date.
    changes: Subscription,
}

/// This replica's short-lived memory of tracked bookings and their last accepted points.
#[derive(Default)]
pub struct Tracker {
    bookings: Mutex<Swept<CachedBooking>>,
    heads: Mutex<Swept<HeadEntry>>,
}

/// A map swept of stale entries when it has grown: at `CACHE_SWEEP_AT` entries, then again only
/// once it has doubled since the last sweep, so a city with more live jobs than the threshold
/// does not rescan the whole map on every point.
struct Swept<T> {
    map: HashMap<Uuid, T>,
    next_sweep: usize,
}

impl<T> Default for Swept<T> {
    fn default() -> Self {
        Swept {
            map: HashMap::new(),
            next_sweep: CACHE_SWEEP_AT,
        }
    }
}

impl<T> Swept<T> {
    fn sweep_if_grown(&mut self, keep: impl FnMut(&Uuid, &mut T) -> bool) {
        if self.map.len() >= self.next_sweep {
            self.map.retain(keep);
            self.next_sweep = (self.map.len() * 2).max(CACHE_SWEEP_AT);
        }
    }
}

impl Tracker {
    fn cached_booking(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        at_least_version: i32,
        link: Link,
    ) -> Option<Arc<booking::Model>> {
        let mut bookings = self.bookings.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = bookings.map.get_mut(&id)?;
        if entry.booking.version < at_least_version
            || expired(entry, now, link)
            || saw_change(&mut entry.changes)
        {
            bookings.map.remove(&id);
            return None;
        }
        Some(entry.booking.clone())
    }

    fn remember_booking(
        &self,
        booking: Arc<booking::Model>,
        now: DateTime<Utc>,
        changes: Subscription,
        link: Link,
    ) {
        let mut bookings = self.bookings.lock().unwrap_or_else(PoisonError::into_inner);
        bookings.sweep_if_grown(|_, e| !expired(e, now, link));
        let fetched_at = now;
        bookings.map.insert(
            booking.id,
            CachedBooking {
                booking,
                fetched_at,
                connection: link.up.then_some(link.connection),
                changes,
            },
        );
    }

    /// Drops what this replica knows about a booking it just changed itself.
    fn forget_booking(&self, id: Uuid) {
        self.bookings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .remove(&id);
    }

    fn cached_head(&self, id: Uuid) -> Option<HeadEntry> {
        self.heads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .get(&id)
            .cloned()
    }

    fn remember_head(&self, id: Uuid, entry: HeadEntry) {
        let mut heads = self.heads.lock().unwrap_or_else(PoisonError::into_inner);
        Self::put_head(&mut heads, id, entry);
    }

    fn put_head(heads: &mut Swept<HeadEntry>, id: Uuid, entry: HeadEntry) {
        let idle_before = entry.stored.accepted_ms - HEAD_CACHE_IDLE_MS;
        heads.sweep_if_grown(|_, h| h.stored.accepted_ms >= idle_before);
        heads.map.insert(id, entry);
    }

    /// Judges a point on this replica's head of the booking (`loaded` when it has none) and keeps
    /// the head it gives, in one step, so two requests for one booking cannot both be admitted.
    fn decide<T>(
        &self,
        id: Uuid,
        loaded: Option<StoredHead>,
        judge: impl FnOnce(Option<&StoredHead>) -> AppResult<(T, StoredHead)>,
    ) -> AppResult<T> {
        let mut heads = self.heads.lock().unwrap_or_else(PoisonError::into_inner);
        let current = heads.map.get(&id).map(|e| e.stored).or(loaded);
        let (verdict, next) = judge(current.as_ref())?;
        let entry = HeadEntry {
            stored: next,
            shared: None,
        };
        Self::put_head(&mut heads, id, entry);
        Ok(verdict)
    }
}

/// Whether a cached booking is too old to trust: after the short TTL, unless the bus link it was
/// read under is still the same and up (then after the long one).
fn expired(entry: &CachedBooking, now: DateTime<Utc>, link: Link) -> bool {
    let age = now - entry.fetched_at;
    let linked = link.up && entry.connection == Some(link.connection);
    let ttl = if linked {
        BOOKING_CACHE_LINKED_TTL_SECS
    } else {
        BOOKING_CACHE_TTL_SECS
    };
    age >= chrono::Duration::seconds(ttl)
}

/// Drains what is waiting on a change subscription without blocking; true if anything was.
fn saw_change(changes: &mut Subscription) -> bool {
    let mut changed = false;
    loop {
        match changes.next().now_or_never() {
            None => return changed,
            Some(Some(SubscriptionItem::Message(_))) => changed = true,
            // Lagged or closed: nothing more will tell us, so assume the worst.
            Some(_) => return true,
        }
    }
}

/// The booking from this replica's cache, or read (and cached) when unknown, expired, changed or
/// older than `at_least_version`. Shared with the live-access checks of subscriptions, which read
/// it on every event.
///
/// `at_least_version` is the booking version an event was produced under (0 when unknown). Events
/// on a booking's other topics (chat, live location) can overtake the booking's own change event:
/// a location point is published directly while the change waits in the outbox, and over Redis
/// the two travel separately. A copy older than the event's version is read again, so an event
/// produced after the change is never judged on the booking from before it. In the steady state
/// events carry the cached version and cost no query.
pub async fn tracked_booking(
    services: &Services,
    id: Uuid,
    at_least_version: i32,
) -> AppResult<Option<Arc<booking::Model>>> {
    let now = services.clock.now();
    let link = services.bus.link();
    if let Some(booking) = services
        .tracking
        .cached_booking(id, now, at_least_version, link)
    {
        return Ok(Some(booking));
    }
    // Subscribed before reading, so a change committed in between still invalidates the entry.
    let changes = services.bus.subscribe(&Topic::Booking(id).key());
    let Some(row) = booking_by_id(&services.db, id).await? else {
        return Ok(None);
    };
    let booking = Arc::new(row);
    services
        .tracking
        .remember_booking(booking.clone(), now, changes, link);
    Ok(Some(booking))
}

/// Only the booking's own technician shares, and only while the job is active. Who cannot see the
/// booking at all is told it does not exist, as everywhere else.
fn check_sharer(viewer: &Viewer, booking: &booking::Model) -> AppResult<()> {
    match access::actor_role(viewer, booking) {
        None => Err(AppError::NotFound("booking".into())),
        Some(ActorRole::Technician) if rules::shares_location(booking.status) => Ok(()),
        Some(ActorRole::Technician) => Err(AppError::Forbidden(
            "location is shared only while the job is accepted, en route, arrived or in progress"
                .into(),
        )),
        Some(_) => Err(AppError::Forbidden(
            "only the booking's technician shares its location".into(),
        )),
    }
}

/// Accepts one reading from the booking's technician: publishes it live, marks arrival inside the
/// geofence, and every trail interval stores it and updates the technician's matching position.
pub async fn share(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
    share: LocationShare,
) -> AppResult<TrackingPoint> {
    let mut booking = tracked_booking(services, booking_id, 0)
        .await?
        .ok_or_else(|| AppError::NotFound("booking".into()))?;
    if check_sharer(viewer, &booking).is_err() {
        // A cached row may predate the move that allows this (its change event can still be on
        // its way through Redis): a refusal is only ever given on a fresh read.
        services.tracking.forget_booking(booking_id);
        booking = tracked_booking(services, booking_id, 0)
            .await?
            .ok_or_else(|| AppError::NotFound("booking".into()))?;
        check_sharer(viewer, &booking)?;
    }
    let report = PositionReport {
        lat: share.lat,
        lng: share.lng,
        accuracy_m: share.accuracy_m,
        heading_deg: share.heading_deg,
        speed_kmh: share.speed_kmh,
    };
    technician::check_report(&report)?;
    // Millisecond precision everywhere, so the head, the trail and the bus agree on "the same point".
    let recorded_at = to_millis(share.recorded_at);
    let now = services.clock.now();
    let (admission, head) = admit(services, &booking, &report, recorded_at, now).await?;
    let point = point_for(services, &booking, &report, recorded_at);
    publish(&services.bus, &point).await;

    // The point is accepted and live now. What follows is bookkeeping: a failure is logged rather
    // than returned, since a client retrying the same point would only be told it is out of order.
    let geofence_m = services.config.realtime.arrival_geofence_m;
    if rules::arrives(booking.status, point.distance_km, geofence_m)
        && let Err(e) = mark_arrived(services, booking_id, now).await
    {
        tracing::warn!(%booking_id, error = ?e.message(), "arrival not recorded");
    }
    if admission.keep_in_trail
        && let Err(e) = store_trail_point(services, booking_id, &head, now).await
    {
        tracing::warn!(%booking_id, error = ?e.message(), "trail point not stored");
    }
    Ok(point)
}

fn to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

/// Admits the point if the domain rules allow it on the booking's head and makes it the head:
/// between replicas through Redis, otherwise (in-process bus, or Redis not answering) in this
/// replica's memory. Returns the admission and the new head.
async fn admit(
    services: &Services,
    booking: &booking::Model,
    report: &PositionReport,
    recorded_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<(Admission, StoredHead)> {
    let point_rules = PointRules::new(services.config.realtime.trail_interval_secs);
    let (recorded_ms, now_ms) = (recorded_at.timestamp_millis(), now.timestamp_millis());
    let technician_id = booking.technician_id.unwrap_or_default();
    let judge = |stored: Option<&StoredHead>| {
        // A technician who withdrew left a head behind; the next one starts afresh on this job.
        let judged = stored
            .filter(|s| s.technician_id == technician_id)
            .map(StoredHead::head);
        let admission = rules::admit(judged.as_ref(), recorded_ms, now_ms, &point_rules)
            .map_err(refusal_error)?;
        let next = StoredHead::new(admission.head, technician_id, report);
        Ok::<_, AppError>((admission, next))
    };
    if services.bus.uses_redis()
        && let Some(admitted) = admit_shared(services, booking.id, &judge).await?
    {
        return Ok(admitted);
    }
    let loaded = match services.tracking.cached_head(booking.id) {
        Some(_) => None,
        None => load_head(services, booking.id).await?,
    };
    services.tracking.decide(booking.id, loaded, |current| {
        judge(current).map(|(admission, next)| ((admission, next), next))
    })
}

fn shared_head_key(booking_id: Uuid) -> String {
    format!("tracking.head.{booking_id}")
}

/// The admission by compare-and-set of the head Redis shares between replicas, so two replicas
/// taking points for one booking cannot both win. None when Redis does not answer: the caller
/// then decides on this replica's own head, as rate limits do.
async fn admit_shared(
    services: &Services,
    booking_id: Uuid,
    judge: &impl Fn(Option<&StoredHead>) -> AppResult<(Admission, StoredHead)>,
) -> AppResult<Option<(Admission, StoredHead)>> {
    let key = shared_head_key(booking_id);
    // A remembered head can only be older than the shared one (heads only move forward), so a
    // refusal judged on it stands; an admission judged on it is confirmed by the compare-and-set.
    let (mut current, mut expected) = match services.tracking.cached_head(booking_id) {
        Some(HeadEntry {
            stored,
            shared: Some(shared),
        }) => (Some(stored), Some(shared)),
        _ => match services.bus.shared_get(&key).await {
            Some(value) => (parse_shared(&value), Some(Arc::from(value))),
            None => (load_head(services, booking_id).await?, None),
        },
    };
    for _ in 0..HEAD_ATTEMPTS {
        let (admission, next) = judge(current.as_ref())?;
        let value = match serde_json::to_string(&next) {
            Ok(value) => value,
            Err(e) => return Err(AppError::Internal(e.into())),
        };
        let swap = services
            .bus
            .shared_swap(&key, expected.as_deref(), &value, SHARED_HEAD_TTL)
            .await;
        match swap {
            Some(Ok(SharedSwap::Swapped)) => {
                let entry = HeadEntry {
                    stored: next,
                    shared: Some(Arc::from(value)),
                };
                services.tracking.remember_head(booking_id, entry);
                return Ok(Some((admission, next)));
            }
            // Another replica accepted a point for this booking meanwhile: judge against theirs.
            Some(Ok(SharedSwap::Current(Some(value)))) => {
                current = parse_shared(&value);
                expected = Some(Arc::from(value));
            }
            // Gone from Redis (expired, or Redis restarted): the stored row is where to start.
            Some(Ok(SharedSwap::Current(None))) => {
                current = load_head(services, booking_id).await?;
                expected = None;
            }
            Some(Err(e)) => {
                tracing::warn!(%booking_id, error = %e, "shared head unavailable in Redis; deciding locally");
                return Ok(None);
            }
            None => return Ok(None),
        }
    }
    Err(AppError::RateLimited {
        message: "points for this booking are arriving faster than one per second".into(),
        retry_after_secs: 1,
    })
}

fn parse_shared(value: &str) -> Option<StoredHead> {
    serde_json::from_str(value).ok()
}

fn refusal_error(refusal: Refusal) -> AppError {
    match refusal {
        Refusal::TooFarAhead => AppError::bad_input(
            "recordedAt",
            "recordedAt is more than 2 minutes ahead of the server's clock",
        ),
        Refusal::NotAfterLast => AppError::bad_input(
            "recordedAt",
            "recordedAt must be later than the last accepted point's",
        ),
        Refusal::TooSoon { retry_after_ms } => AppError::RateLimited {
            message: "at most one location point per second per booking".into(),
            retry_after_secs: (retry_after_ms + 999) / 1_000,
        },
    }
}

async fn load_head(services: &Services, booking_id: Uuid) -> AppResult<Option<StoredHead>> {
    Ok(rows::head(&services.db, booking_id)
        .await?
        .map(StoredHead::from_row))
}

/// Distance to the job and ETA at the configured travel speed, for a reading on `booking`.
fn point_for(
    services: &Services,
    booking: &booking::Model,
    report: &PositionReport,
    recorded_at: DateTime<Utc>,
) -> TrackingPoint {
    let distance_km = haversine_km((report.lat, report.lng), (booking.lat, booking.lng));
    TrackingPoint {
        booking_id: booking.id,
        lat: report.lat,
        lng: report.lng,
        accuracy_m: report.accuracy_m,
        heading_deg: report.heading_deg,
        speed_kmh: report.speed_kmh,
        recorded_at,
        distance_km,
        eta_minutes: rules::eta_at_speed(distance_km, services.config.realtime.tracking_speed_kmh),
        booking_version: booking.version,
    }
}

/// Live only: a lost point is superseded by the next one within seconds, so no outbox.
async fn publish(bus: &EventBus, point: &TrackingPoint) {
    let payload = match serde_json::to_value(point) {
        Ok(payload) => payload,
        Err(e) => {
            tracing::warn!(booking_id = %point.booking_id, error = %e, "live location not published");
            return;
        }
    };
    let message = BusMessage::new(Topic::Tracking(point.booking_id).key(), None, payload);
    if let Err(e) = bus.publish(message).await {
        tracing::warn!(booking_id = %point.booking_id, error = %e, "live location not published");
    }
}

/// The platform marks arrival (EN_ROUTE -> ARRIVED as SYSTEM), recorded and notified like any move.
/// Someone moving the booking first (the technician, a cancellation) simply wins.
async fn mark_arrived(services: &Services, booking_id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    let txn = begin_write(&services.db).await?;
    let Some(current) = booking_by_id(&txn, booking_id).await? else {
        return Ok(());
    };
    let from = current.status;
    let request = TransitionRequest {
        to: Status::Arrived,
        role: ActorRole::System,
        reason: None,
        start_code_ok: false,
        now: now.timestamp(),
        paid_at: None,
    };
    if booking_state::apply(from, request).is_err() {
        return Ok(());
    }
    let reason = format!(
        "location within {} m of the job",
        services.config.realtime.arrival_geofence_m
    );
    let mut effects = Effects::default();
    let moved = status_change::apply(
        &txn,
        &mut effects,
        now,
        &current,
        Status::Arrived,
        Actor::system(),
        Some(&reason),
        vec![],
    )
    .await;
    match moved {
        Ok(_) => {}
        Err(AppError::Conflict(_)) => return Ok(()),
        Err(e) => return Err(e),
    }
    txn.commit().await?;
    services.after_commit(effects);
    services.tracking.forget_booking(booking_id);
    Ok(())
}

/// Stores a trail point in one transaction with the booking's head row and the technician's
/// matching position (which follows the trail's pace: matching only needs a coarse position for a
/// busy technician), then shares that position with every replica's directory.
async fn store_trail_point(
    services: &Services,
    booking_id: Uuid,
    head: &StoredHead,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let recorded_at = DateTime::from_timestamp_millis(head.recorded_ms).unwrap_or(now);
    let point = tracking_point::Model {
        id: Uuid::now_v7(),
        booking_id,
        technician_id: head.technician_id,
        lat: head.lat,
        lng: head.lng,
        accuracy_m: head.accuracy_m,
        heading_deg: head.heading_deg,
        speed_kmh: head.speed_kmh,
        recorded_at,
        created_at: now,
        updated_at: now,
    };
    let row = tracking_head::Model {
        booking_id,
        technician_id: head.technician_id,
        lat: head.lat,
        lng: head.lng,
        accuracy_m: head.accuracy_m,
        heading_deg: head.heading_deg,
        speed_kmh: head.speed_kmh,
        recorded_ms: head.recorded_ms,
        accepted_ms: head.accepted_ms,
        trail_ms: head.trail_ms,
        created_at: now,
        updated_at: now,
    };
    let txn = begin_write(&services.db).await?;
    rows::insert_point(&txn, point).await?;
    rows::upsert_head(&txn, row).await?;
    let position =
        technician::store_position(&txn, head.technician_id, &head.report(), now).await?;
    txn.commit().await?;
    technician::share_position(services, head.technician_id, position, now).await;
    Ok(())
}

/// The stored trails of many (booking, technician) pairs in one statement: each the most recent
/// [`MAX_TRAIL_POINTS`], oldest first. A booking's trail is its current technician's: one who
/// withdrew took their route with them.
pub async fn trails_of(
    db: &impl ConnectionTrait,
    jobs: &[(Uuid, Uuid)],
) -> AppResult<HashMap<(Uuid, Uuid), Vec<tracking_point::Model>>> {
    if jobs.is_empty() {
        return Ok(HashMap::new());
    }
    let bookings: Vec<Uuid> = jobs.iter().map(|(booking, _)| *booking).collect();
    let rows = rows::recent_points(db, &bookings, MAX_TRAIL_POINTS).await?;
    let wanted: HashSet<(Uuid, Uuid)> = jobs.iter().copied().collect();
    let rows = rows
        .into_iter()
        .filter(|row| wanted.contains(&(row.booking_id, row.technician_id)));
    Ok(batch::group(rows, |row| {
        (row.booking_id, row.technician_id)
    }))
}

/// Stored trail rows as points of `booking` (distance and ETA to its site).
pub fn trail_points(
    services: &Services,
    booking: &booking::Model,
    rows: Vec<tracking_point::Model>,
) -> Vec<TrackingPoint> {
    rows.into_iter()
        .map(|row| {
            let report = PositionReport {
                lat: row.lat,
                lng: row.lng,
                accuracy_m: row.accuracy_m,
                heading_deg: row.heading_deg,
                speed_kmh: row.speed_kmh,
            };
            point_for(services, booking, &report, row.recorded_at)
        })
        .collect()
}

/// The last accepted point of a booking: the head Redis shares between replicas, or this
/// replica's own (in-process bus), else the stored head row.
pub async fn latest(
    services: &Services,
    booking: &booking::Model,
) -> AppResult<Option<TrackingPoint>> {
    let known = if services.bus.uses_redis() {
        services
            .bus
            .shared_get(&shared_head_key(booking.id))
            .await
            .and_then(|value| parse_shared(&value))
    } else {
        services
            .tracking
            .cached_head(booking.id)
            .map(|entry| entry.stored)
    };
    let stored = match known {
        Some(stored) => Some(stored),
        None => load_head(services, booking.id).await?,
    };
    let Some(stored) = stored.filter(|s| Some(s.technician_id) == booking.technician_id) else {
        return Ok(None);
    };
    let recorded_at = DateTime::from_timestamp_millis(stored.recorded_ms).unwrap_or_default();
    Ok(Some(point_for(
        services,
        booking,
        &stored.report(),
        recorded_at,
    )))
}

/// The technician's position on a booking for its customer, its technician and staff: the latest
/// point at once, then each live one. Everyone else is told the booking does not exist.
pub async fn watch(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
) -> AppResult<impl Stream<Item = TrackingPoint> + Send + 'static + use<>> {
    let booking = access::visible(services, viewer, booking_id).await?;
    // Subscribed before reading the latest point, so a point accepted in between is not lost; it
    // may then arrive twice (stored and live), which the recordedAt filter below removes.
    let topic = Topic::Tracking(booking_id).key();
    let live = follow(services.bus.clone(), topic);
    let latest = latest(services, &booking).await?;
    let since = latest.as_ref().map(|p| p.recorded_at);
    let live = live.filter(move |p| std::future::ready(since.is_none_or(|s| p.recorded_at > s)));
    Ok(futures_util::stream::iter(latest).chain(live))
}

/// Points published on `topic`, resubscribing after a lag: positions are superseded every second,
/// so a subscriber that fell behind just carries on with the newest.
fn follow(bus: EventBus, topic: String) -> impl Stream<Item = TrackingPoint> + Send + 'static {
    let subscription = bus.subscribe(&topic);
    futures_util::stream::unfold(
        (subscription, bus, topic),
        |(mut subscription, bus, topic)| async move {
            loop {
                match subscription.next().await? {
                    SubscriptionItem::Message(message) => {
                        if let Some(point) = message.decode::<TrackingPoint>() {
                            return Some(((*point).clone(), (subscription, bus, topic)));
                        }
                    }
                    SubscriptionItem::Lagged { .. } => subscription = bus.subscribe(&topic),
                }
            }
        },
    )
}

/// Deletes the trails (and heads) of bookings that reached a final status more than
/// `trail_retention_days` ago; returns how many trail points went.
pub async fn purge_expired(services: &Services) -> AppResult<usize> {
    let now_ms = services.clock.now().timestamp_millis();
    let cutoff_ms = rules::trail_cutoff_ms(now_ms, services.config.realtime.trail_retention_days);
    let cutoff = DateTime::from_timestamp_millis(cutoff_ms).unwrap_or_default();
    let finals: Vec<&str> = rules::final_statuses().iter().map(|s| s.as_str()).collect();
    let points = rows::purge_for_statuses_before(&services.db, finals, cutoff).await?;
    Ok(usize::try_from(points).unwrap_or(usize::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_cache_is_swept_again_only_after_it_doubles() {
        let mut cache = Swept::<u32>::default();
        let mut sweeps = 0;
        for n in 0..(CACHE_SWEEP_AT * 3) {
            cache.sweep_if_grown(|_, _| {
                sweeps += 1;
                true
            });
            cache.map.insert(Uuid::from_u128(n as u128), 0);
        }
        // Every entry is live, so nothing goes; the scans happen at 10k and 20k entries only.
        assert_eq!(cache.map.len(), CACHE_SWEEP_AT * 3);
        assert_eq!(sweeps, CACHE_SWEEP_AT + CACHE_SWEEP_AT * 2);
        assert_eq!(cache.next_sweep, CACHE_SWEEP_AT * 4);
        // Once stale entries go, the threshold follows what is left.
        cache.map.retain(|id, _| id.as_u128() < 100);
        cache.next_sweep = 50;
        cache.sweep_if_grown(|id, _| id.as_u128() < 10);
        assert_eq!(cache.map.len(), 10);
        assert_eq!(cache.next_sweep, CACHE_SWEEP_AT);
    }
}
