//! Bookings: creating service requests (priced and dispatched), listing them by the access rule,
//! moving them through the state machine on a person's behalf, and cancelling with the fee rules.

use crate::db::batch;
use crate::db::begin_write;
use crate::db::bookings::flow::MoveColumn;
use crate::db::bookings::requests::{self as rows, Scope};
use crate::db::entities::{booking, booking_event, job_offer, technician_profile};
use crate::db::is_unique_violation;
use crate::domain::account::Role;
use crate::domain::booking_state::{self, Role as ActorRole, Status, TransitionRequest};
use crate::domain::cancellation::cancellation_fee_bp;
use crate::domain::dispatch::{DispatchMode, OfferStatus};
use crate::domain::geo::LatLng;
use crate::domain::money::Money;
use crate::domain::pricing::{Priority, apply_bp, price_for_duration};
use crate::domain::service_request::{self, RequestDraft};
use crate::domain::technician::KycStatus;
use crate::error::{AppError, AppResult};
use crate::services::bookings::access::{actor_role, visible};
use crate::services::bookings::flow::{self, Actor, transition_error};
use crate::services::bookings::status_change;
use crate::services::platform::pagination::{Page, Slice};
use crate::services::platform::validation::text;
use crate::services::{
    Effects, Services, Viewer, bookings::dispatch, catalogue::categories, money::settlement,
};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use std::collections::HashSet;
use subtle::ConstantTimeEq;
use uuid::Uuid;

pub struct NewRequest {
    pub category: String,
    pub title: String,
    pub description: String,
    pub address: String,
    pub location: LatLng,
    pub priority: Priority,
    pub budget_min: Money,
    pub budget_max: Money,
    pub scheduled_start: Option<DateTime<Utc>>,
    pub estimated_duration_minutes: i32,
    pub technician_id: Option<Uuid>,
    pub idempotency_key: String,
}

/// Creates a request, prices it and starts dispatch; the same idempotency key returns the first booking.
pub async fn create(
    services: &Services,
    viewer: &Viewer,
    request: NewRequest,
) -> AppResult<booking::Model> {
    viewer.require_role(&[Role::Customer])?;
    let key = text(
        &request.idempotency_key,
        "idempotencyKey",
        "idempotencyKey",
        8,
        100,
    )?;
    if let Some(existing) = find_by_key(&services.db, viewer.user_id, &key).await? {
        return Ok(existing);
    }
    let now = services.clock.now();
    let checked = service_request::check(
        &RequestDraft {
            title: &request.title,
            description: &request.description,
            address: &request.address,
            location: request.location,
            priority: request.priority,
            budget_min: request.budget_min,
            budget_max: request.budget_max,
            scheduled_start: request.scheduled_start,
            estimated_duration_minutes: request.estimated_duration_minutes,
        },
        now,
    )?;
    let category = categories::active_by_slug(&services.db, &request.category, "category").await?;
    let (rate, currency) = match request.technician_id {
        Some(technician) => {
            let profile = direct_technician(services, technician, category.id).await?;
            (profile.hourly_rate_minor, profile.currency)
        }
        None => (category.default_hourly_rate_minor, category.currency),
    };
    let policy = &services.config.bookings.pricing;
    let price = price_for_duration(
        rate,
        request.estimated_duration_minutes as u32,
        request.priority,
        policy,
    )
    .map_err(|e| {
        AppError::bad_input(
            "estimatedDurationMinutes",
            format!("cannot price this job: {e:?}"),
        )
    })?;
    let id = Uuid::now_v7();
    let draft = booking::Model {
        id,
        customer_id: viewer.user_id,
        technician_id: request.technician_id,
        category_id: category.id,
        title: checked.title,
        description: checked.description,
        address: checked.address,
        lat: checked.location.lat(),
        lng: checked.location.lng(),
        priority: checked.priority,
        budget_min_minor: checked.budget_min.amount_minor,
        budget_max_minor: checked.budget_max.amount_minor,
        currency,
        scheduled_start: request.scheduled_start,
        estimated_duration_minutes: request.estimated_duration_minutes,
        status: Status::Pending,
        version: 1,
        start_code: format!("{:04}", rand::random_range(0..10_000u32)),
        dispatch_mode: if request.technician_id.is_some() {
            DispatchMode::Direct
        } else {
            DispatchMode::Automatic
        },
        price_base: price.base,
        price_surge: price.surge,
        price_platform_fee: price.platform_fee,
        price_tax: price.tax,
        price_total: price.total,
        price_deposit: price.deposit,
        cancellation_fee_minor: None,
        cancellation_reason: None,
        idempotency_key: key.clone(),
        status_changed_at: now,
        accepted_at: None,
        completed_at: None,
        paid_at: None,
        created_at: now,
        updated_at: now,
    };
    // Candidates are ranked before the transaction so it holds its locks only for writing.
    let queue = if request.technician_id.is_none() && draft.price_deposit == 0 {
        dispatch::candidates(services, &draft, &HashSet::new()).await?
    } else {
        vec![]
    };
    let txn = begin_write(&services.db).await?;
    match rows::insert(&txn, draft.clone()).await {
        Ok(_) => {}
        // A concurrent retry with the same key got there first: answer with its booking.
        Err(e) if is_unique_violation(&e) => {
            drop(txn);
            return find_by_key(&services.db, viewer.user_id, &key)
                .await?
                .ok_or_else(|| AppError::Conflict("retry the request".into()));
        }
        Err(e) => return Err(e.into()),
    }
    flow::created(
        &txn,
        now,
        &draft,
        Actor {
            user_id: Some(viewer.user_id),
            role: ActorRole::Customer,
        },
    )
    .await?;
    let mut effects = Effects::default();
    // With a deposit due, dispatch waits for it to succeed (payments starts it then).
    let created = if draft.price_deposit > 0 {
        draft
    } else {
        dispatch::begin(&txn, services, &mut effects, now, &draft, &queue).await?
    };
    txn.commit().await?;
    services.after_commit(effects);
    Ok(created)
}

/// A technician a customer asks for by name must be approved and offer the category.
async fn direct_technician(
    services: &Services,
    technician: Uuid,
    category: Uuid,
) -> AppResult<technician_profile::Model> {
    let unavailable =
        || AppError::bad_input("technicianId", "this technician cannot take this job");
    let profile = rows::technician_profile(&services.db, technician)
        .await?
        .ok_or_else(unavailable)?;
    let skilled = rows::has_skill(&services.db, technician, category).await?;
    if profile.kyc_status != KycStatus::Approved || !skilled {
        return Err(unavailable());
    }
    Ok(profile)
}

async fn find_by_key(
    db: &impl ConnectionTrait,
    customer: Uuid,
    key: &str,
) -> AppResult<Option<booking::Model>> {
    Ok(rows::by_key(db, customer, key).await?)
}

/// The bookings `list` pages through: the viewer's own (all of them for staff).
fn scope(viewer: &Viewer) -> Scope {
    match viewer.role {
        Role::Customer => Scope::Customer(viewer.user_id),
        Role::Technician => Scope::Technician(viewer.user_id),
        Role::Admin | Role::Support => Scope::All,
    }
}

/// How many bookings `list` would page through, in one statement.
pub async fn count(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    status: Option<Status>,
) -> AppResult<u64> {
    Ok(rows::count(db, scope(viewer), status).await?)
}

pub async fn list(
    services: &Services,
    viewer: &Viewer,
    page: Page,
    status: Option<Status>,
) -> AppResult<Slice<booking::Model>> {
    let bookings = rows::list(
        &services.db,
        scope(viewer),
        status,
        page.after,
        page.limit + 1,
    )
    .await?;
    Ok(Slice::from_probe(bookings, page.limit))
}

/// Each booking's transitions, oldest first, for many bookings in one statement.
pub async fn events_of(
    db: &impl ConnectionTrait,
    bookings: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<booking_event::Model>>> {
    let events = rows::events_for_bookings(db, bookings).await?;
    Ok(batch::group(events, |e| e.booking_id))
}

/// What the viewer may move this booking to now.
pub fn available_transitions(viewer: &Viewer, booking: &booking::Model) -> Vec<Status> {
    actor_role(viewer, booking)
        .map(|role| booking_state::allowed_targets(booking.status, role))
        .unwrap_or_default()
}

/// A person moves a booking: checked against the table for their role, compare-and-set, logged,
/// published; refusals and withdrawals go straight back to dispatch.
pub async fn transition(
    services: &Services,
    viewer: &Viewer,
    id: Uuid,
    to: Status,
    reason: Option<&str>,
    start_code: Option<&str>,
) -> AppResult<booking::Model> {
    let booking = visible(services, viewer, id).await?;
    // Every booking `visible` returns has a role for its viewer; refuse rather than panic if not.
    let role = actor_role(viewer, &booking).ok_or_else(AppError::forbidden)?;
    let from = booking.status;
    let now = services.clock.now();
    let start_code_ok = start_code
        .is_some_and(|c| bool::from(c.trim().as_bytes().ct_eq(booking.start_code.as_bytes())));
    let request = TransitionRequest {
        to,
        role,
        reason: reason.filter(|r| !r.trim().is_empty()),
        start_code_ok,
        now: now.timestamp(),
        paid_at: booking.paid_at.map(|t| t.timestamp()),
    };
    booking_state::apply(from, request).map_err(|e| transition_error(e, from))?;
    // Disputes carry a record and money of their own: the same move through transitionBooking
    // takes the dispute path, so neither is a way around the other.
    if to == Status::Disputed {
        let reason = reason.unwrap_or("disputed through transitionBooking");
        return crate::services::bookings::disputes::open(services, viewer, id, reason, None).await;
    }
    if from == Status::Disputed {
        let outcome = if to == Status::Refunded {
            crate::domain::disputes::Outcome::RefundCustomer
        } else {
            crate::domain::disputes::Outcome::ReleaseToTechnician
        };
        let resolution = crate::services::bookings::disputes::Resolution {
            outcome,
            customer_refund_percent: None,
            note: reason.map(str::to_string),
        };
        return crate::services::bookings::disputes::resolve(services, viewer, id, resolution)
            .await;
    }
    let txn = begin_write(&services.db).await?;
    let mut effects = Effects::default();
    let actor = Actor {
        user_id: Some(viewer.user_id),
        role,
    };
    let mut extra = vec![];
    match to {
        Status::Accepted => extra.push(MoveColumn::AcceptedAt(now)),
        Status::Completed => extra.push(MoveColumn::CompletedAt(now)),
        // The same fee and reason as cancelBooking, so neither path is a way around the other.
        Status::Cancelled => extra = cancellation_columns(services, &booking, now, reason),
        _ => {}
    }
    let mut after =
        status_change::apply(&txn, &mut effects, now, &booking, to, actor, reason, extra).await?;
    after = follow_up(&txn, services, &mut effects, now, &after).await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(after)
}

/// What the system does at once after some states: re-dispatch after a refusal, settlement after
/// verification (PAID when escrow holds the total, PAYMENT_PENDING until then), and the money of a
/// cancellation.
pub async fn follow_up(
    txn: &impl ConnectionTrait,
    services: &Services,
    effects: &mut Effects,
    now: DateTime<Utc>,
    booking: &booking::Model,
) -> AppResult<booking::Model> {
    match booking.status {
        Status::Rejected => dispatch::redispatch(txn, services, effects, now, booking).await,
        Status::Verified => settlement::settle(txn, services, effects, now, booking).await,
        Status::Cancelled => {
            settlement::on_cancelled(txn, services, now, booking).await?;
            Ok(booking.clone())
        }
        _ => Ok(booking.clone()),
    }
}

/// The fee a customer pays to cancel now: free until a technician accepts, then by time left.
pub fn cancellation_fee(services: &Services, booking: &booking::Model, now: DateTime<Utc>) -> i64 {
    let accepted = booking.accepted_at.is_some() && booking.status.technician_is_busy();
    let bp = cancellation_fee_bp(
        accepted,
        booking.scheduled_start.map(|s| s.timestamp()),
        now.timestamp(),
        &services.config.bookings.cancellation,
    );
    apply_bp(booking.price_total, bp).unwrap_or(0)
}

/// What a cancellation records on the booking: the fee owed now and the reason given.
fn cancellation_columns(
    services: &Services,
    booking: &booking::Model,
    now: DateTime<Utc>,
    reason: Option<&str>,
) -> Vec<MoveColumn> {
    let fee = cancellation_fee(services, booking, now);
    vec![
        MoveColumn::CancellationFeeMinor(fee),
        MoveColumn::CancellationReason(reason.map(|r| r.chars().take(500).collect::<String>())),
    ]
}

pub async fn cancel(
    services: &Services,
    viewer: &Viewer,
    id: Uuid,
    reason: Option<&str>,
) -> AppResult<booking::Model> {
    let booking = visible(services, viewer, id).await?;
    // Every booking `visible` returns has a role for its viewer; refuse rather than panic if not.
    let role = actor_role(viewer, &booking).ok_or_else(AppError::forbidden)?;
    if !matches!(role, ActorRole::Customer | ActorRole::Admin) {
        return Err(AppError::Forbidden(
            "only the customer (or an admin) cancels a booking".into(),
        ));
    }
    let from = booking.status;
    let now = services.clock.now();
    // Admins are held to their own rules (any customer move, and stopping work in progress), with
    // the reason every move on someone's behalf needs.
    let request = TransitionRequest {
        to: Status::Cancelled,
        role,
        reason,
        start_code_ok: false,
        now: now.timestamp(),
        paid_at: None,
    };
    booking_state::apply(from, request).map_err(|e| transition_error(e, from))?;
    let extra = cancellation_columns(services, &booking, now, reason);
    let txn = begin_write(&services.db).await?;
    let mut effects = Effects::default();
    let actor = Actor {
        user_id: Some(viewer.user_id),
        role,
    };
    let after = status_change::apply(
        &txn,
        &mut effects,
        now,
        &booking,
        Status::Cancelled,
        actor,
        reason,
        extra,
    )
    .await?;
    settlement::on_cancelled(&txn, services, now, &after).await?;
    txn.commit().await?;
    services.after_commit(effects);
    Ok(after)
}

/// A technician's offers still waiting for an answer, newest first.
pub async fn open_offers(
    services: &Services,
    viewer: &Viewer,
) -> AppResult<Vec<(job_offer::Model, booking::Model)>> {
    viewer.require_role(&[Role::Technician])?;
    let offers =
        rows::offers_of_technician(&services.db, viewer.user_id, OfferStatus::Offered).await?;
    let ids: Vec<Uuid> = offers.iter().map(|o| o.booking_id).collect();
    let bookings = rows::by_ids(&services.db, ids).await?;
    Ok(offers
        .into_iter()
        .filter_map(|o| {
            bookings
                .iter()
                .find(|b| b.id == o.booking_id)
                .cloned()
                .map(|b| (o, b))
        })
        .collect())
}
