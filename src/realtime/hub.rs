//! The in-process fan-out: one bounded broadcast channel per topic with at least one local subscriber.

use super::message::BusMessage;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::broadcast;

/// Messages a subscriber may have waiting before it counts as fallen behind.
pub const SUBSCRIBER_BUFFER: usize = 256;

#[derive(Default)]
pub struct Hub {
    topics: Mutex<HashMap<String, broadcast::Sender<Arc<BusMessage>>>>,
}

impl Hub {
    pub fn subscribe(&self, topic: &str) -> broadcast::Receiver<Arc<BusMessage>> {
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        topics
            .entry(topic.to_string())
            .or_insert_with(|| broadcast::channel(SUBSCRIBER_BUFFER).0)
            .subscribe()
    }

    /// Hands a message to every local subscriber of its topic without waiting on any of them;
    /// a topic whose last subscriber has gone is forgotten.
    pub fn deliver(&self, message: Arc<BusMessage>) {
        let mut topics = self.topics.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = topics.get(&message.topic)
            && sender.send(message.clone()).is_err()
        {
            topics.remove(&message.topic);
        }
    }

    pub fn topic_count(&self) -> usize {
        self.topics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
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
