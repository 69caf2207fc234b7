//! The per-replica cache of live sessions that the viewer check reads before the database, kept
//! correct by the bus: a session ending anywhere (logout, password change or reset, refresh-token
//! reuse) evicts it here, and a gap in the bus empties the cache.
//!
//! Two rules keep a revoked session from being served:
//! - An entry is served only while the cache follows the bus connection that is up now. The
//!   listener empties the cache each time the link comes back (or its subscription fell behind),
//!   because endings published in the gap never arrive; until then, and while the link is down,
//!   every request reads the database.
//! - An entry carries the stamp of the evictions as they stood before the database read that
//!   produced it. An ending that arrives while the read runs changes the stamp, so the answer it
//!   raced is not cached (and, if cached first, never served). Stamps are counted per stripe of
//!   accounts, so one account's logout costs the others in its stripe one read each, not everyone.

use crate::domain::account::Role;
use crate::realtime::bus::Link;
use crate::realtime::topics::TopicFamily;
use crate::realtime::{BusMessage, SubscriptionItem};
use crate::services::Services;
use crate::services::accounts::sessions::SessionsEnded;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How many eviction counters accounts are spread over.
const STRIPES: usize = 4096;

/// An entry is read again from the database after this, however quiet the bus: a bound on how long a
/// session ending could go unnoticed should the link fail in a way the subscriber cannot see.
pub const REVALIDATE_AFTER: Duration = Duration::from_secs(60);

/// The evictions that could concern one account, as they stood at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    clears: u64,
    stripe: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    user_id: Uuid,
    role: Role,
    expires_at: DateTime<Utc>,
    stamp: Stamp,
    cached_at: Instant,
}

pub struct SessionCache {
    /// None when the cache is turned off (no entries allowed).
    entries: Option<quick_cache::sync::Cache<Uuid, Entry>>,
    /// Bumped by every eviction of an account's sessions, for the accounts of that stripe.
    stripes: Box<[AtomicU64]>,
    /// Bumped each time the whole cache is emptied.
    clears: AtomicU64,
    /// The bus connection whose endings keep the entries current; 0 while none does.
    following: AtomicU64,
}

impl SessionCache {
    /// A cache of at most `capacity` sessions; 0 turns it off. It serves nothing until it follows a
    /// link (`follow`, which the listener does).
    pub fn new(capacity: usize) -> SessionCache {
        SessionCache {
            entries: (capacity > 0).then(|| quick_cache::sync::Cache::new(capacity)),
            stripes: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
            clears: AtomicU64::new(0),
            following: AtomicU64::new(0),
        }
    }

    fn stripe(&self, user: Uuid) -> &AtomicU64 {
        // The last bytes of a UUIDv7 are random.
        let bytes = user.as_bytes();
        let index = usize::from(u16::from_le_bytes([bytes[14], bytes[15]])) % STRIPES;
        &self.stripes[index]
    }

    fn current(&self, user: Uuid) -> Stamp {
        Stamp {
            clears: self.clears.load(Ordering::SeqCst),
            stripe: self.stripe(user).load(Ordering::SeqCst),
        }
    }

    fn follows(&self, link: Link) -> bool {
        link.up && link.connection == self.following.load(Ordering::SeqCst)
    }

    /// Taken before reading a session from the database, to cache the answer with; None when the
    /// answer may not be cached (the cache is off, or does not follow the bus link `link`).
    pub fn stamp(&self, user: Uuid, link: Link) -> Option<Stamp> {
        (self.entries.is_some() && self.follows(link)).then(|| self.current(user))
    }

    /// The role of `user` when `session` is cached as theirs and still live at `now`; None sends
    /// the caller to the database.
    pub fn live_role(
        &self,
        session: Uuid,
        user: Uuid,
        now: DateTime<Utc>,
        link: Link,
    ) -> Option<Role> {
        let entries = self.entries.as_ref()?;
        if !self.follows(link) {
            return None;
        }
        let entry = entries.get(&session)?;
        if entry.user_id != user {
            return None;
        }
        let stale = entry.stamp != self.current(user)
            || entry.expires_at <= now
            || entry.cached_at.elapsed() >= REVALIDATE_AFTER;
        if stale {
            entries.remove(&session);
            return None;
        }
        Some(entry.role)
    }

    /// Caches what the database said of a live session, unless an eviction that could concern it
    /// came after `stamp` was taken.
    pub fn insert(
        &self,
        session: Uuid,
        user: Uuid,
        role: Role,
        expires_at: DateTime<Utc>,
        stamp: Stamp,
    ) {
        let Some(entries) = &self.entries else {
            return;
        };
        if stamp != self.current(user) {
            return;
        }
        let entry = Entry {
            user_id: user,
            role,
            expires_at,
            stamp,
            cached_at: Instant::now(),
        };
        entries.insert(session, entry);
    }

    /// Forgets sessions of `user` that ended. Every cached session of theirs is read again once,
    /// including one an ending spared: cheaper than finding them, and never wrong.
    pub fn evict(&self, user: Uuid, ended: &SessionsEnded) {
        self.evict_user(user);
        if let (SessionsEnded::One { session }, Some(entries)) = (ended, &self.entries) {
            entries.remove(session);
        }
    }

    /// Forgets every cached session of `user`.
    pub fn evict_user(&self, user: Uuid) {
        self.stripe(user).fetch_add(1, Ordering::SeqCst);
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.clears.fetch_add(1, Ordering::SeqCst);
        if let Some(entries) = &self.entries {
            entries.clear();
        }
    }

    /// Empties the cache and serves from it again only while `link` is the one up: what is cached
    /// from now on is kept current by that connection's messages.
    pub fn follow(&self, link: Link) {
        self.clear();
        let following = if link.up { link.connection } else { 0 };
        self.following.store(following, Ordering::SeqCst);
    }

    /// Applies an ending that arrived on the bus.
    fn ended(&self, message: &BusMessage) {
        let Some(user) = TopicFamily::AccountSessions.subject(&message.topic) else {
            return;
        };
        match SessionsEnded::from_bus(message) {
            Some(ended) => self.evict(user, &ended),
            // A format this release cannot read still says this account's sessions changed.
            None => self.evict_user(user),
        }
    }

    /// Sessions held now, counting ones already evicted that nothing has looked up since.
    pub fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, |entries| entries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `session` is cached and would be served over `link` now, for tests and diagnostics.
    pub fn serves(&self, session: Uuid, link: Link) -> bool {
        self.follows(link)
            && self
                .entries
                .as_ref()
                .and_then(|entries| entries.get(&session))
                .is_some_and(|entry| entry.stamp == self.current(entry.user_id))
    }
}

/// Keeps this replica's cache in step with session endings anywhere: evicts on each, and starts
/// afresh when its subscription fell behind or the bus link went down or came back.
pub fn spawn_listener(services: Services, shutdown: CancellationToken) {
    let cache = services.session_cache.clone();
    let bus = services.bus.clone();
    // Subscribed before the cache follows the link, so no ending falls in between.
    let mut endings = bus.subscribe_family(TopicFamily::AccountSessions);
    let mut link = bus.watch_link();
    cache.follow(*link.borrow_and_update());
    tokio::spawn(async move {
        loop {
            tokio::select! {
                changed = link.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    cache.follow(*link.borrow_and_update());
                }
                item = endings.next() => match item {
                    Some(SubscriptionItem::Message(message)) => cache.ended(&message),
                    Some(SubscriptionItem::Lagged { missed }) => {
                        tracing::warn!(missed, "session endings fell behind; session cache emptied");
                        endings = bus.subscribe_family(TopicFamily::AccountSessions);
                        cache.clear();
                    }
                    None => {
                        endings = bus.subscribe_family(TopicFamily::AccountSessions);
                        cache.clear();
                    }
                },
                _ = shutdown.cancelled() => break,
            }
        }
        // Nothing evicts any more: serve nothing more.
        cache.follow(Link {
            up: false,
            connection: 0,
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::Topic;

    const UP: Link = Link {
        up: true,
        connection: 1,
    };

    fn following(capacity: usize) -> SessionCache {
        let cache = SessionCache::new(capacity);
        cache.follow(UP);
        cache
    }

    fn later() -> DateTime<Utc> {
        Utc::now() + chrono::Duration::days(1)
    }

    /// Caches `session` of `user` as a read that began now would.
    fn cached(cache: &SessionCache, session: Uuid, user: Uuid) {
        let stamp = cache.stamp(user, UP).expect("cacheable");
        cache.insert(session, user, Role::Customer, later(), stamp);
    }

    #[test]
    fn a_cached_session_is_served_to_its_own_user_only_until_it_expires() {
        let cache = following(10);
        let (session, user) = (Uuid::now_v7(), Uuid::now_v7());
        cached(&cache, session, user);
        let now = Utc::now();
        assert_eq!(
            cache.live_role(session, user, now, UP),
            Some(Role::Customer)
        );
        assert_eq!(cache.live_role(session, Uuid::now_v7(), now, UP), None);
        assert_eq!(cache.live_role(Uuid::now_v7(), user, now, UP), None);
        assert_eq!(
            cache.live_role(session, user, later() + chrono::Duration::seconds(1), UP),
            None,
            "past the session's end the database decides"
        );
        assert_eq!(
            cache.live_role(session, user, now, UP),
            None,
            "and it is gone"
        );
    }

    #[test]
    fn the_cache_holds_at_most_its_capacity() {
        let cache = following(100);
        let user = Uuid::now_v7();
        let sessions: Vec<Uuid> = (0..1000).map(|_| Uuid::now_v7()).collect();
        for session in &sessions {
            cached(&cache, *session, user);
        }
        assert!(cache.len() <= 100, "{} entries", cache.len());
        let served = sessions
            .iter()
            .filter(|s| cache.live_role(**s, user, Utc::now(), UP).is_some())
            .count();
        assert!((1..=100).contains(&served), "{served} served");
    }

    #[test]
    fn a_read_that_raced_an_eviction_is_not_cached() {
        let cache = following(10);
        let (session, user) = (Uuid::now_v7(), Uuid::now_v7());
        // The read begins, the session ends (its eviction arrives), then the read's answer comes back.
        let stamp = cache.stamp(user, UP).unwrap();
        cache.evict(user, &SessionsEnded::One { session });
        cache.insert(session, user, Role::Customer, later(), stamp);
        assert_eq!(cache.live_role(session, user, Utc::now(), UP), None);

        // Another account's ending in another stripe does not hold this one back.
        let stamp = cache.stamp(user, UP).unwrap();
        let other = (0..)
            .map(|_| Uuid::now_v7())
            .find(|u| !std::ptr::eq(cache.stripe(*u), cache.stripe(user)))
            .unwrap();
        cache.evict_user(other);
        cache.insert(session, user, Role::Customer, later(), stamp);
        assert!(cache.live_role(session, user, Utc::now(), UP).is_some());
    }

    #[test]
    fn an_entry_cached_before_a_racing_eviction_is_never_served() {
        let cache = following(10);
        let (session, user) = (Uuid::now_v7(), Uuid::now_v7());
        let stamp = cache.stamp(user, UP).unwrap();
        cache.insert(session, user, Role::Customer, later(), stamp);
        cache.evict(
            user,
            &SessionsEnded::AllBut {
                keep: Some(Uuid::now_v7()),
            },
        );
        assert_eq!(cache.live_role(session, user, Utc::now(), UP), None);
    }

    #[test]
    fn a_read_that_raced_a_clear_is_not_cached() {
        let cache = following(10);
        let (session, user) = (Uuid::now_v7(), Uuid::now_v7());
        let stamp = cache.stamp(user, UP).unwrap();
        cache.clear();
        cache.insert(session, user, Role::Customer, later(), stamp);
        assert_eq!(cache.live_role(session, user, Utc::now(), UP), None);
    }

    #[test]
    fn nothing_is_served_or_cached_off_the_followed_link() {
        let cache = following(10);
        let (session, user) = (Uuid::now_v7(), Uuid::now_v7());
        cached(&cache, session, user);
        let down = Link {
            up: false,
            connection: 1,
        };
        let next = Link {
            up: true,
            connection: 2,
        };
        assert_eq!(cache.live_role(session, user, Utc::now(), down), None);
        assert!(cache.stamp(user, down).is_none());
        assert_eq!(
            cache.live_role(session, user, Utc::now(), next),
            None,
            "a new connection means endings may have been missed"
        );
        cache.follow(next);
        assert_eq!(cache.live_role(session, user, Utc::now(), next), None);
        assert!(cache.is_empty(), "following a new connection starts empty");
        assert!(
            SessionCache::new(10).stamp(user, UP).is_none(),
            "not yet following"
        );
        assert!(SessionCache::new(0).stamp(user, UP).is_none(), "turned off");
    }

    #[test]
    fn endings_from_the_bus_evict_their_account() {
        let cache = following(10);
        let (session, user) = (Uuid::now_v7(), Uuid::now_v7());
        cached(&cache, session, user);
        let ended = serde_json::to_value(SessionsEnded::AllBut { keep: None }).unwrap();
        cache.ended(&BusMessage::new(
            Topic::AccountSessions(user).key(),
            Some(1),
            ended,
        ));
        assert_eq!(cache.live_role(session, user, Utc::now(), UP), None);

        cached(&cache, session, user);
        cache.ended(&BusMessage::new(
            Topic::AccountSessions(user).key(),
            None,
            serde_json::json!({"ended": "somethingNew"}),
        ));
        assert_eq!(
            cache.live_role(session, user, Utc::now(), UP),
            None,
            "an ending it cannot read still evicts"
        );
    }
}
