//! A booking's conversation: who takes part in it (the booking's own access rule). Sending and
//! reading build on this; what travels on its topic is in `events`.

use crate::db::entities::booking;
use crate::domain::booking_state::Role as ActorRole;
use crate::error::{AppError, AppResult};
use crate::services::bookings::access;
use crate::services::{Services, Viewer};
use uuid::Uuid;

/// A booking's conversation as one viewer may use it.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub booking: booking::Model,
    pub viewer_id: Uuid,
    pub viewer_role: ActorRole,
}

impl Conversation {
    pub fn id(&self) -> Uuid {
        self.booking.id
    }

    /// The customer and the current technician: the people messages are delivered to.
    pub fn participants(&self) -> Vec<Uuid> {
        participants_of(&self.booking)
    }

    pub fn viewer_is_participant(&self) -> bool {
        matches!(
            self.viewer_role,
            ActorRole::Customer | ActorRole::Technician
        )
    }
}

pub fn participants_of(booking: &booking::Model) -> Vec<Uuid> {
    std::iter::once(booking.customer_id)
        .chain(booking.technician_id)
        .collect()
}

/// The conversation of a booking the viewer may see: its customer, its technician and staff. For
/// anyone else the booking does not exist, as on every other path.
pub async fn conversation(
    services: &Services,
    viewer: &Viewer,
    booking_id: Uuid,
) -> AppResult<Conversation> {
    let booking = access::visible(services, viewer, booking_id).await?;
    let viewer_role = access::actor_role(viewer, &booking).ok_or_else(AppError::forbidden)?;
    Ok(Conversation {
        booking,
        viewer_id: viewer.user_id,
        viewer_role,
    })
}
