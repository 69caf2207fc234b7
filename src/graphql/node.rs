//! The Relay `Node` interface and `node(id)`, which authorizes like every other path to an object.

use super::accounts::types::{Address, LoginEvent, User};
use super::bookings::extras::Quote;
use super::bookings::types::Booking;
use super::chat::types::{Message, MessageContext};
use super::context::{services, viewer};
use super::ids::{self, Kind};
use super::money::payments::Payment;
use super::money::withdrawals::Withdrawal;
use super::notifications::operations::Notification;
use super::technicians::kyc::{KycDocument, KycSubmission};
use super::technicians::operations::technician_view;
use super::technicians::types::{AvailabilityException, ServiceCategory, Technician};
use crate::db::entities::{address, availability_exception, login_attempt};
use crate::error::AppError;
use crate::services::{
    Viewer, accounts::account, bookings::quotes, bookings::requests, catalogue::categories,
    chat::history, notifications::in_app, technicians::kyc,
};
use async_graphql::{Context, ID, Interface, Object, Result};
use sea_orm::EntityTrait;
use uuid::Uuid;

#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    User(User),
    Notification(Notification),
    LoginEvent(LoginEvent),
    Technician(Technician),
    ServiceCategory(ServiceCategory),
    AvailabilityException(AvailabilityException),
    Booking(Booking),
    Quote(Quote),
    Message(Message),
    Payment(Payment),
    Withdrawal(Withdrawal),
    Address(Address),
    KycSubmission(KycSubmission),
    KycDocument(KycDocument),
}

/// Owners see their own objects, staff see accounts; for anyone else the object does not exist.
fn visible(viewer: &Viewer, owner: Uuid, staff_may_see: bool) -> bool {
    viewer.user_id == owner || (staff_may_see && viewer.is_staff())
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Node> {
        let viewer = viewer(ctx).await?;
        let db = &services(ctx).db;
        let (kind, uuid) = ids::decode_any(&id, "id")?;
        let not_found = || AppError::NotFound("node".into());
        let node = match kind {
            Kind::User => account::find(db, uuid)
                .await?
                .filter(|u| visible(&viewer, u.id, true))
                .map(|u| Node::User(User(u))),
            Kind::Notification => in_app::find(db, uuid)
                .await?
                .filter(|n| visible(&viewer, n.user_id, false))
                .map(|n| Node::Notification(Notification(n))),
            Kind::LoginEvent => login_attempt::Entity::find_by_id(uuid)
                .one(db)
                .await?
                .filter(|e| e.user_id.is_some_and(|owner| visible(&viewer, owner, true)))
                .map(|e| Node::LoginEvent(LoginEvent(e))),
            Kind::Address => address::Entity::find_by_id(uuid)
                .one(db)
                .await?
                .filter(|a| visible(&viewer, a.user_id, true))
                .map(|a| Node::Address(Address(a))),
            // KYC records: their technician and staff, the same rule as kycDocument.
            Kind::KycSubmission => kyc::find_submission(services(ctx), &viewer, uuid)
                .await?
                .map(|s| Node::KycSubmission(KycSubmission(s))),
            Kind::KycDocument => kyc::find_document(services(ctx), &viewer, uuid)
                .await?
                .map(|d| Node::KycDocument(KycDocument(d))),
            Kind::Technician => technician_view(ctx, uuid).await?.map(Node::Technician),
            Kind::ServiceCategory => categories::find(db, uuid)
                .await?
                .map(|c| Node::ServiceCategory(ServiceCategory(c))),
            Kind::AvailabilityException => availability_exception::Entity::find_by_id(uuid)
                .one(db)
                .await?
                .filter(|e| visible(&viewer, e.technician_id, true))
                .map(|e| Node::AvailabilityException(AvailabilityException(e))),
            Kind::Booking => requests::visible(services(ctx), &viewer, uuid)
                .await
                .ok()
                .map(|b| Node::Booking(Booking(b))),
            Kind::Quote => quotes::visible(services(ctx), &viewer, uuid)
                .await
                .ok()
                .map(|q| Node::Quote(Quote(q))),
            // Payments: whoever may see the booking.
            Kind::Payment => match crate::services::money::payments::find(db, uuid).await {
                Ok(p) => requests::visible(services(ctx), &viewer, p.booking_id)
                    .await
                    .ok()
                    .map(|_| Node::Payment(Payment(p))),
                Err(_) => None,
            },
            // Withdrawals: their technician and staff.
            Kind::Withdrawal => {
                crate::services::money::withdrawals::find_visible(services(ctx), &viewer, uuid)
                    .await
                    .ok()
                    .map(|w| Node::Withdrawal(Withdrawal(w)))
            }
            // Money that matched no payment belongs to no user: staff read it through
            // `unmatchedReceipts`, and `node` answers as for an id that names nothing.
            Kind::UnmatchedReceipt => None,
            // Messages: whoever may read the booking's conversation.
            Kind::Message => {
                history::find(services(ctx), &viewer, uuid)
                    .await?
                    .map(|(conversation, row)| {
                        Node::Message(Message {
                            row,
                            context: MessageContext::new(&conversation),
                        })
                    })
            }
        };
        Ok(node.ok_or_else(not_found)?)
    }
}
