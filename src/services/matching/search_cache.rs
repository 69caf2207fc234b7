//! What a search reads besides the directory and the active categories, held in memory on each
//! replica: the platform's weights (every search needs them, admins change them now and then) and
//! each searching customer's own weights and blocks. Loading it and keeping it current from bus
//! events is `search.rs`'s work; this is only the memory.

use crate::domain::matching::Weights;
use lru::LruCache;
use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use uuid::Uuid;

/// How many customers' weights and blocks a replica keeps; the least recently searching are
/// forgotten first and read again (one statement) at their next search.
pub const CUSTOMERS_KEPT: NonZeroUsize = match NonZeroUsize::new(100_000) {
    Some(n) => n,
    None => panic!("a positive number of customers"),
};

/// A customer's side of a search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerFacts {
    /// Their own weights; `None` searches with the platform's.
    pub weights: Option<Weights>,
    /// Technicians they blocked, never matched for them.
    pub blocked: HashSet<Uuid>,
}

/// What a replica remembers. `None` for the weights means not known (not yet loaded, or the last
/// reload failed): searches then read the database, as they would without a cache.
pub struct SearchCache {
    platform_weights: RwLock<Option<Weights>>,
    customers: Mutex<Customers>,
    /// Held while the platform's weights are read again, so a slow reload that read before a change
    /// cannot overwrite one that read after it.
    pub(crate) reloading_weights: tokio::sync::Mutex<()>,
}

struct Customers {
    kept: LruCache<Uuid, Arc<CustomerFacts>>,
    /// Counts forgettings. A search that read a customer from the database keeps what it read only
    /// if nothing was forgotten meanwhile: a change committed while it read would otherwise be
    /// overwritten by the older rows and never read again.
    generation: u64,
}

impl Default for SearchCache {
    fn default() -> Self {
        SearchCache::with_capacity(CUSTOMERS_KEPT)
    }
}

impl SearchCache {
    pub fn with_capacity(customers: NonZeroUsize) -> Self {
        SearchCache {
            platform_weights: RwLock::new(None),
            customers: Mutex::new(Customers {
                kept: LruCache::new(customers),
                generation: 0,
            }),
            reloading_weights: tokio::sync::Mutex::new(()),
        }
    }

    /// The platform's weights, if known.
    pub fn platform_weights(&self) -> Option<Weights> {
        *self
            .platform_weights
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the platform's weights; `None` marks them unknown.
    pub fn set_platform_weights(&self, weights: Option<Weights>) {
        *self
            .platform_weights
            .write()
            .unwrap_or_else(PoisonError::into_inner) = weights;
    }

    /// A customer's facts, if kept.
    pub fn customer(&self, customer: Uuid) -> Option<Arc<CustomerFacts>> {
        self.lock_customers().kept.get(&customer).cloned()
    }

    /// Where forgetting has got to; read it before reading a customer from the database and hand
    /// it to [`SearchCache::keep_customer`].
    pub fn generation(&self) -> u64 {
        self.lock_customers().generation
    }

    /// Keeps what was read for a customer, unless something was forgotten since `generation`
    /// (then the rows read may predate a change, and the next search reads them again).
    pub fn keep_customer(&self, customer: Uuid, facts: Arc<CustomerFacts>, generation: u64) {
        let mut customers = self.lock_customers();
        if customers.generation == generation {
            customers.kept.put(customer, facts);
        }
    }

    /// Forgets one customer, whose weights or blocks changed.
    pub fn forget_customer(&self, customer: Uuid) {
        let mut customers = self.lock_customers();
        customers.kept.pop(&customer);
        customers.generation += 1;
    }

    /// Forgets every customer, after this replica may have missed changes.
    pub fn forget_customers(&self) {
        let mut customers = self.lock_customers();
        customers.kept.clear();
        customers.generation += 1;
    }

    fn lock_customers(&self) -> std::sync::MutexGuard<'_, Customers> {
        self.customers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocking(technician: u128) -> Arc<CustomerFacts> {
        Arc::new(CustomerFacts {
            weights: None,
            blocked: HashSet::from([Uuid::from_u128(technician)]),
        })
    }

    #[test]
    fn a_read_that_a_change_overtook_is_not_kept() {
        let cache = SearchCache::default();
        let customer = Uuid::from_u128(1);
        let before = cache.generation();
        // The customer blocks someone while their earlier search is still reading the database.
        cache.forget_customer(customer);
        cache.keep_customer(customer, blocking(7), before);
        assert_eq!(cache.customer(customer), None, "the older read is dropped");
        let now = cache.generation();
        cache.keep_customer(customer, blocking(8), now);
        assert_eq!(cache.customer(customer), Some(blocking(8)));
    }

    #[test]
    fn forgetting_everyone_drops_every_customer_and_every_read_in_flight() {
        let cache = SearchCache::default();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        cache.keep_customer(a, blocking(7), cache.generation());
        let in_flight = cache.generation();
        cache.forget_customers();
        assert_eq!(cache.customer(a), None);
        cache.keep_customer(b, blocking(7), in_flight);
        assert_eq!(cache.customer(b), None);
    }

    #[test]
    fn the_least_recently_searching_customer_is_forgotten_first() {
        let cache = SearchCache::with_capacity(NonZeroUsize::MIN.saturating_add(1));
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        for customer in [a, b] {
            cache.keep_customer(customer, blocking(7), cache.generation());
        }
        assert!(cache.customer(a).is_some(), "a searched again, b did not");
        cache.keep_customer(c, blocking(7), cache.generation());
        assert!(cache.customer(b).is_none());
        assert!(cache.customer(a).is_some() && cache.customer(c).is_some());
    }

    #[test]
    fn unknown_weights_answer_none() {
        let cache = SearchCache::default();
        assert_eq!(cache.platform_weights(), None);
        cache.set_platform_weights(Some(Weights::default()));
        assert_eq!(cache.platform_weights(), Some(Weights::default()));
        cache.set_platform_weights(None);
        assert_eq!(cache.platform_weights(), None);
    }
}
