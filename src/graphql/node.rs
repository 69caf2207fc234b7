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
use super::reviews::types::Review;
use super::technicians::kyc::{KycDocument, KycSubmission};
use super::technicians::operations::technician_view;
use super::technicians::types::{AvailabilityException, ServiceCategory, Technician};
use crate::error::{AppError, AppResult};
use crate::services::{
    accounts::account, bookings::access, bookings::quotes, catalogue::categories, chat::history,
    money::payments, money::withdrawals, notifications::in_app, reviews::access as reviews,
    technicians::kyc, technicians::technician,
};
use async_graphql::{Context, ID, Interface, Object, Result};

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
    Review(Review),
}

/// A lookup that answers NOT_FOUND for an object the viewer may not see, as an absent one: both are
/// None here. Any other error (a database failure) stays an error.
fn found<T>(result: AppResult<T>) -> AppResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
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
        // Each wing's own rule decides who sees what; none is repeated here.
        let node = match kind {
            Kind::User => account::visible_user(db, &viewer, uuid)
                .await?
                .map(|u| Node::User(User(u))),
            Kind::Notification => in_app::visible(db, &viewer, uuid)
                .await?
                .map(|n| Node::Notification(Notification(n))),
            Kind::LoginEvent => account::visible_login_event(db, &viewer, uuid)
                .await?
                .map(|e| Node::LoginEvent(LoginEvent(e))),
            Kind::Address => account::visible_address(db, &viewer, uuid)
                .await?
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
            Kind::AvailabilityException => technician::visible_exception(db, &viewer, uuid)
                .await?
                .map(|e| Node::AvailabilityException(AvailabilityException(e))),
            Kind::Booking => found(access::visible(services(ctx), &viewer, uuid).await)?
                .map(|b| Node::Booking(Booking(b))),
            Kind::Quote => found(quotes::visible(services(ctx), &viewer, uuid).await)?
                .map(|q| Node::Quote(Quote(q))),
            // Payments: whoever may see the booking.
            Kind::Payment => payments::visible(services(ctx), &viewer, uuid)
                .await?
                .map(|p| Node::Payment(Payment(p))),
            // Withdrawals: their technician and staff.
            Kind::Withdrawal => {
                found(withdrawals::find_visible(services(ctx), &viewer, uuid).await)?
                    .map(|w| Node::Withdrawal(Withdrawal(w)))
            }
            // Money that matched no payment belongs to no user: staff read it through
            // `unmatchedReceipts`, and `node` answers as for an id that names nothing.
            Kind::UnmatchedReceipt => None,
            // Reviews: the double-blind rule, as everywhere a review is read.
            Kind::Review => reviews::find_visible(db, Some(&viewer), uuid)
                .await?
                .map(|r| Node::Review(Review(r))),
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
