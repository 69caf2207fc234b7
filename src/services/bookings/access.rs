//! Who may see a booking, and in which part: the one rule that bookings, chat, tracking, payments,
//! disputes and `node(id)` all apply. For anyone outside it a booking does not exist (NOT_FOUND);
//! a database failure is an error, never a missing booking.

use crate::db::bookings::access as rows;
use crate::db::entities::booking;
use crate::domain::account::Role;
use crate::domain::booking_state::Role as ActorRole;
use crate::error::{AppError, AppResult};
use crate::services::{Services, Viewer};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

/// The viewer's relation to a booking, which decides what they may see and do.
pub fn actor_role(viewer: &Viewer, booking: &booking::Model) -> Option<ActorRole> {
    match viewer.role {
        Role::Admin => Some(ActorRole::Admin),
        Role::Support => Some(ActorRole::Support),
        Role::Customer if booking.customer_id == viewer.user_id => Some(ActorRole::Customer),
        Role::Technician if booking.technician_id == Some(viewer.user_id) => {
            Some(ActorRole::Technician)
        }
        _ => None,
    }
}

/// A booking by id, whoever asks; for use cases that have already checked access.
pub async fn load(db: &impl ConnectionTrait, id: Uuid) -> AppResult<booking::Model> {
    rows::by_id(db, id)
        .await?
        .ok_or_else(|| AppError::NotFound("booking".into()))
}

/// Whether the viewer may see an already loaded booking; for anyone else it does not exist.
pub fn check_visible(viewer: &Viewer, booking: &booking::Model) -> AppResult<()> {
    match actor_role(viewer, booking) {
        Some(_) => Ok(()),
        None => Err(AppError::NotFound("booking".into())),
    }
}

/// A booking the viewer may see; for anyone else it does not exist.
pub async fn visible(services: &Services, viewer: &Viewer, id: Uuid) -> AppResult<booking::Model> {
    let booking = rows::by_id(&services.db, id).await?;
    booking
        .filter(|b| actor_role(viewer, b).is_some())
        .ok_or_else(|| AppError::NotFound("booking".into()))
}
