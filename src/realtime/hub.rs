//! The in-process fan-out: one bounded broadcast channel per topic, and per family of topics, with
//! at least one local subscriber.

use super::message::BusMessage;
use super::topics::TopicFamily;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::broadcast;

/// Messages a subscriber may have waiting before it counts as fallen behind.
pub const SUBSCRIBER_BUFFER: usize = 256;

type Sender = broadcast::Sender<Arc<BusMessage>>;

#[derive(Default)]
pub struct Hub {
    routes: Mutex<Routes>,
}

#[derive(Default)]
struct Routes {
    topics: HashMap<String, Sender>,
    /// Few (one per kind of per-replica state), so each delivery checks them all.
    families: Vec<(TopicFamily, Sender)>,
}

impl Hub {
    fn routes(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn subscribe(&self, topic: &str) -> broadcast::Receiver<Arc<BusMessage>> {
        self.routes()
            .topics
            .entry(topic.to_string())
            .or_insert_with(|| broadcast::channel(SUBSCRIBER_BUFFER).0)
            .subscribe()
    }

    /// Every message on any topic of `family`, in the order they arrive.
    pub fn subscribe_family(&self, family: TopicFamily) -> broadcast::Receiver<Arc<BusMessage>> {
        let mut routes = self.routes();
        if let Some((_, sender)) = routes.families.iter().find(|(f, _)| *f == family) {
            return sender.subscribe();
        }
        let (sender, receiver) = broadcast::channel(SUBSCRIBER_BUFFER);
        routes.families.push((family, sender));
        receiver
    }

    /// Hands a message to every local subscriber of its topic, and of a family it belongs to,
    /// without waiting on any of them; a topic or family whose last subscriber has gone is forgotten.
    pub fn deliver(&self, message: Arc<BusMessage>) {
        let mut routes = self.routes();
        if let Some(sender) = routes.topics.get(&message.topic)
            && sender.send(message.clone()).is_err()
        {
            routes.topics.remove(&message.topic);
        }
        if !routes.families.is_empty() {
            routes.families.retain(|(family, sender)| {
                !family.contains(&message.topic) || sender.send(message.clone()).is_ok()
            });
        }
    }

    pub fn topic_count(&self) -> usize {
        self.routes().topics.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(topic: &str, seq: i64) -> Arc<BusMessage> {
        Arc::new(BusMessage::new(topic, Some(seq), serde_json::json!({})))
    }

    #[tokio::test]
    async fn subscribers_receive_only_their_topic() {
        let hub = Hub::default();
        let mut a = hub.subscribe("a");
        let mut b = hub.subscribe("b");
        hub.deliver(msg("a", 1));
        assert_eq!(a.recv().await.unwrap().seq, Some(1));
        assert!(b.try_recv().is_err());
    }

    #[test]
    fn a_topic_without_subscribers_is_forgotten() {
        let hub = Hub::default();
        drop(hub.subscribe("a"));
        hub.deliver(msg("a", 1));
        assert_eq!(hub.topic_count(), 0);
    }

    #[tokio::test]
    async fn a_family_subscriber_receives_every_topic_of_its_family_only() {
        let hub = Hub::default();
        let mut family = hub.subscribe_family(TopicFamily::AccountSessions);
        let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let sessions = |user| crate::realtime::Topic::AccountSessions(user).key();
        hub.deliver(msg(&sessions(a), 1));
        hub.deliver(msg(&format!("user.{a}.notifications"), 2));
        hub.deliver(msg(&sessions(b), 3));
        assert_eq!(family.recv().await.unwrap().topic, sessions(a));
        assert_eq!(family.recv().await.unwrap().topic, sessions(b));
        assert!(family.try_recv().is_err());
        drop(family);
        hub.deliver(msg(&sessions(a), 4));
        assert!(
            hub.routes().families.is_empty(),
            "forgotten without subscribers"
        );
    }

    #[tokio::test]
    async fn a_slow_subscriber_lags_without_blocking_others() {
        let hub = Hub::default();
        let mut slow = hub.subscribe("a");
        let mut fast = hub.subscribe("a");
        for seq in 0..(SUBSCRIBER_BUFFER as i64 + 10) {
            hub.deliver(msg("a", seq));
            assert_eq!(fast.recv().await.unwrap().seq, Some(seq));
        }
        assert!(matches!(
            slow.recv().await,
            Err(broadcast::error::RecvError::Lagged(_))
        ));
    }
}
