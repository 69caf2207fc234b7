//! DataLoaders: every relation field reads through one per-request loader, so a page of results
//! costs a fixed number of queries whatever its length.
//!
//! One [`Loaders`] value serves every relation; each key type below names one relation, and the
//! set-based query behind it lives in the service that owns the table. A batch that fails hands
//! each waiting field the same `async_graphql::Error`, built by `AppError`'s one mapping, so the
//! client sees the original `extensions.code` (and `field`, `requestId`).

use crate::db::entities::{
    address, availability_exception, booking_event, certification, dispute, invoice, mpesa_refund,
    payment, quote, review, review_moderation, service_category, technician_skill, tracking_point,
    user, working_hours,
};
use crate::domain::money::Currency;
use crate::error::{AppResult, REQUEST_ID};
use crate::services::technicians::profiles::{self, TechnicianRecord};
use crate::services::{
    Services, accounts::account, bookings::disputes, bookings::quotes, bookings::requests,
    catalogue::categories, money::invoices, money::mpesa_refunds, money::payments,
    reviews::access as reviews, technicians::technician, tracking::positions,
};
use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, Loader};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The batch queries behind every relation field.
pub struct Batches {
    services: Services,
}

/// What a request (or a WebSocket connection) reads relations through.
pub type Loaders = DataLoader<Batches>;

/// Declares a relation: its key type, what one key yields, and the batch query that answers many.
macro_rules! relation {
    ($(#[$doc:meta])* $key:ident => $value:ty, |$db:ident, $ids:ident| $load:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub Uuid);

        impl Loader<$key> for Batches {
            type Value = $value;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, $value>, Self::Error> {
                let $db = &self.services.db;
                let $ids: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
                let found: HashMap<Uuid, $value> = $load.await?;
                Ok(found.into_iter().map(|(id, v)| ($key(id), v)).collect())
            }
        }
    };
}

relation!(
    /// A user account by id.
    UserById => user::Model, |db, ids| account::find_many(db, &ids));
relation!(
    /// A service category by id.
    CategoryById => service_category::Model, |db, ids| categories::find_many(db, &ids));
relation!(
/// A technician's account and profile by technician id.
TechnicianById => Arc<TechnicianRecord>, |db, ids| async {
    let found = profiles::load_many(db, &ids).await?;
    AppResult::Ok(found.into_iter().map(|(id, r)| (id, Arc::new(r))).collect())
});
relation!(
    /// A technician's skills.
    SkillsOfTechnician => Vec<technician_skill::Model>,
    |db, ids| profiles::skills_of(db, &ids));
relation!(
    /// A technician's certifications.
    CertificationsOfTechnician => Vec<certification::Model>,
    |db, ids| profiles::certifications_of(db, &ids));
relation!(
    /// A technician's weekly hours.
    HoursOfTechnician => Vec<working_hours::Model>, |db, ids| technician::weeks_of(db, &ids));
relation!(
    /// A technician's availability exceptions.
    ExceptionsOfTechnician => Vec<availability_exception::Model>,
    |db, ids| technician::exceptions_of(db, &ids));
relation!(
    /// A user's saved addresses.
    AddressesOfUser => Vec<address::Model>, |db, ids| account::addresses_of(db, &ids));
relation!(
    /// A booking's transitions.
    EventsOfBooking => Vec<booking_event::Model>, |db, ids| requests::events_of(db, &ids));
relation!(
    /// A booking's quotes.
    QuotesOfBooking => Vec<quote::Model>, |db, ids| quotes::of_bookings(db, &ids));
relation!(
    /// A booking's payments.
    PaymentsOfBooking => Vec<payment::Model>, |db, ids| payments::of_bookings(db, &ids));
relation!(
    /// A booking's invoice and credit notes.
    InvoicesOfBooking => Vec<invoice::Model>, |db, ids| invoices::of_bookings(db, &ids));
relation!(
    /// A booking's latest dispute.
    DisputeOfBooking => dispute::Model, |db, ids| disputes::latest_of_bookings(db, &ids));
relation!(
    /// A payment's M-Pesa B2C refunds.
    RefundsOfPayment => Vec<mpesa_refund::Model>, |db, ids| mpesa_refunds::of_payments(db, &ids));

relation!(
    /// A booking's reviews, whoever may read them (fields filter by the double-blind rule).
    ReviewsOfBooking => Vec<review::Model>, |db, ids| reviews::of_bookings(db, &ids));
relation!(
    /// A review by id, whoever may read it.
    ReviewById => review::Model, |db, ids| reviews::by_ids(db, &ids));
relation!(
    /// A customer's rating from technicians' published reviews; none before the first.
    CustomerRatingOf => reviews::CustomerRating, |db, ids| reviews::customer_ratings(db, &ids));
relation!(
    /// A review's moderation log (staff read it).
    ModerationOfReview => Vec<review_moderation::Model>,
    |db, ids| reviews::moderation_of(db, &ids));

/// Whether a user voted a review helpful: (review, voter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HelpfulVoteBy(pub Uuid, pub Uuid);

impl Loader<HelpfulVoteBy> for Batches {
    type Value = bool;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[HelpfulVoteBy],
    ) -> Result<HashMap<HelpfulVoteBy, bool>, Self::Error> {
        let mut by_voter: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for key in keys {
            by_voter.entry(key.1).or_default().push(key.0);
        }
        let mut found = HashMap::new();
        for (voter, reviews) in by_voter {
            let voted = reviews::voted_by(&self.services.db, voter, &reviews).await?;
            for review in reviews {
                found.insert(HelpfulVoteBy(review, voter), voted.contains(&review));
            }
        }
        Ok(found)
    }
}

/// What escrow holds for a booking: its escrow account is named by booking and currency.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EscrowOfBooking {
    pub booking: Uuid,
    pub currency: Currency,
}

impl Loader<EscrowOfBooking> for Batches {
    type Value = i64;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[EscrowOfBooking],
    ) -> Result<HashMap<EscrowOfBooking, i64>, Self::Error> {
        let bookings: Vec<(Uuid, Currency)> =
            keys.iter().map(|k| (k.booking, k.currency)).collect();
        let found = payments::escrow_of_bookings(&self.services.db, &bookings).await?;
        Ok(keys
            .iter()
            .filter_map(|k| Some((k.clone(), *found.get(&k.booking)?)))
            .collect())
    }
}

/// A job's stored trail: the points its technician recorded on the booking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TrailOfJob(pub Uuid, pub Uuid);

impl Loader<TrailOfJob> for Batches {
    type Value = Vec<tracking_point::Model>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[TrailOfJob],
    ) -> Result<HashMap<TrailOfJob, Self::Value>, Self::Error> {
        let jobs: Vec<(Uuid, Uuid)> = keys.iter().map(|k| (k.0, k.1)).collect();
        let found = positions::trails_of(&self.services.db, &jobs).await?;
        Ok(found
            .into_iter()
            .map(|((booking, technician), rows)| (TrailOfJob(booking, technician), rows))
            .collect())
    }
}

/// Turns of the scheduler a batch lets pass before its window opens. A page's rows can register
/// their keys over several turns (futures-util's `FuturesUnordered`, which resolves long lists,
/// hands control back to the runtime part-way when the futures it polls wake), and on a busy
/// server a batch whose timer started at once closed before the last rows had asked.
const TURNS_BEFORE_WINDOW: usize = 4;

/// Runs a batch in its own task, still counted as part of the request that asked for it and
/// naming that request's id in any internal error.
fn spawn(batch: BoxFuture<'static, ()>) {
    let batch: BoxFuture<'static, ()> = Box::pin(async move {
        for _ in 0..TURNS_BEFORE_WINDOW {
            tokio::task::yield_now().await;
        }
        batch.await
    });
    let batch = crate::db::stats::carry(batch);
    let batch: BoxFuture<'static, ()> = match REQUEST_ID.try_with(Clone::clone) {
        Ok(id) => Box::pin(REQUEST_ID.scope(id, batch)),
        Err(_) => batch,
    };
    tokio::spawn(batch);
}

/// How long a batch waits for more keys after its first. Resolving a page of 50 rows with a few
/// relations each takes longer than the crate's 1 ms on a busy server, and a batch that closes
/// early costs a second statement; a few milliseconds per level of nesting is the lesser cost.
const BATCH_WINDOW: Duration = Duration::from_millis(5);

/// Loaders for one HTTP request: each row is read at most once per request.
pub fn per_request(services: &Services) -> Loaders {
    DataLoader::new(
        Batches {
            services: services.clone(),
        },
        spawn,
    )
    .delay(BATCH_WINDOW)
}

/// Loaders for one WebSocket connection. It lives as long as the socket, so nothing is cached:
/// every event must see current rows.
pub fn per_connection(services: &Services) -> Loaders {
    let loaders = per_request(services);
    loaders.enable_all_cache(false);
    loaders
}

/// Adds this request's loaders.
pub fn attach(request: async_graphql::Request, services: &Services) -> async_graphql::Request {
    request.data(per_request(services))
}

/// The value one key yields, or None when there is no such row.
pub async fn one<K>(
    ctx: &Context<'_>,
    key: K,
) -> async_graphql::Result<Option<<Batches as Loader<K>>::Value>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    Batches: Loader<K, Error = async_graphql::Error>,
{
    ctx.data_unchecked::<Loaders>().load_one(key).await
}

/// Hands this request's loader rows a resolver already read, so later fields asking for them
/// neither query again nor wait for a batch.
pub async fn feed<K, I>(ctx: &Context<'_>, values: I)
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    I: IntoIterator<Item = (K, <Batches as Loader<K>>::Value)>,
    Batches: Loader<K, Error = async_graphql::Error>,
{
    ctx.data_unchecked::<Loaders>().feed_many(values).await;
}

/// The rows one key yields for a to-many relation; none is an empty list.
pub async fn list<K, T>(ctx: &Context<'_>, key: K) -> async_graphql::Result<Vec<T>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    T: Send + Sync + Clone + 'static,
    Batches: Loader<K, Value = Vec<T>, Error = async_graphql::Error>,
{
    Ok(one(ctx, key).await?.unwrap_or_default())
}

/// The values of many keys, for fields that list several related rows.
pub async fn many<K, I>(
    ctx: &Context<'_>,
    keys: I,
) -> async_graphql::Result<HashMap<K, <Batches as Loader<K>>::Value>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    I: IntoIterator<Item = K>,
    Batches: Loader<K, Error = async_graphql::Error>,
{
    ctx.data_unchecked::<Loaders>().load_many(keys).await
}

#[cfg(test)]
mod tests {
    use crate::error::AppError;

    /// What a field waiting on a failed batch receives: the batch's error, cloned.
    fn shared(e: AppError) -> serde_json::Value {
        let batch_error: async_graphql::Error = e.into();
        let field_error = batch_error.clone();
        serde_json::to_value(field_error.extensions.unwrap()).unwrap()
    }

    #[test]
    fn a_failed_batch_keeps_the_code_and_field_of_its_error() {
        let not_found = shared(AppError::NotFound("booking".into()));
        assert_eq!(not_found["code"], "NOT_FOUND");
        let bad = shared(AppError::bad_input("after", "malformed cursor"));
        assert_eq!(bad["code"], "BAD_USER_INPUT");
        assert_eq!(bad["field"], "after");
        let internal = shared(AppError::internal(anyhow::anyhow!("disk full")));
        assert_eq!(internal["code"], "INTERNAL_SERVER_ERROR");
    }
}
