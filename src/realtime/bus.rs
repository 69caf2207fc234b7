//! The EventBus: publish and subscribe by topic, in-process or through Redis with one subscriber connection per process.

use super::hub::Hub;
use super::message::BusMessage;
use super::topics::TopicFamily;
use futures_util::{Stream, StreamExt};
use redis::AsyncCommands;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{Mutex, watch};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("redis unavailable: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis subscriber not connected")]
    NotSubscribed,
    #[error("redis did not answer within {0:?}")]
    TimedOut(Duration),
    #[error("message not encoded: {0}")]
    Encode(serde_json::Error),
}

/// The one way this process makes a Redis client, for the bus and for every other use of Redis,
/// so all of them trust the same roots. A `rediss://` URL is encrypted with rustls and checked
/// against `root_cert_pem` (PEM, the only roots trusted) when given, else the public web roots.
pub fn redis_client(
    url: &str,
    root_cert_pem: Option<&[u8]>,
) -> Result<redis::Client, redis::RedisError> {
    match root_cert_pem {
        Some(pem) => redis::Client::build_with_tls(
            url,
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem.to_vec()),
            },
        ),
        None => redis::Client::open(url),
    }
}

/// Longest a request waits for a shared value before going on without it.
pub const SHARED_VALUE_TIMEOUT: Duration = Duration::from_millis(250);

/// Longest a live message (one without a sequence: a position, a typing indicator) waits for
/// Redis. Live messages are published from inside requests and are worth nothing late, so a Redis
/// that stops answering costs such a request at most this, however many queue for the connection.
pub const LIVE_PUBLISH_TIMEOUT: Duration = Duration::from_millis(500);

/// Whether what is published now reaches this process, and which connection brings it. State kept
/// from the bus's messages (a cache they invalidate) is only as good as the connection it followed:
/// a message published while the link was down, or before the current connection, never arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// The subscriber is subscribed (always, for the in-process bus).
    pub up: bool,
    /// How many times the subscriber has subscribed since start; a new number means a gap before it.
    pub connection: u64,
}

/// What `shared_swap` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedSwap {
    /// The value was as expected and now is the new one.
    Swapped,
    /// Another writer got there first: the value as it is now (None: absent).
    Current(Option<String>),
}

/// Compare-and-set of one string key: ARGV[1] the expected value ('' for absent), ARGV[2] the new
/// one, ARGV[3] its time to live in milliseconds. Returns {1} or {0, current}.
static SWAP_SCRIPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"local current = redis.call('GET', KEYS[1])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return {1}
end
return {0, current}",
    )
});

#[derive(Clone)]
pub struct EventBus {
    inner: Arc<Inner>,
}

struct Inner {
    hub: Hub,
    redis: Option<RedisLink>,
    link: watch::Sender<Link>,
}

struct RedisLink {
    client: redis::Client,
    channel_prefix: String,
    publisher: Mutex<Option<redis::aio::ConnectionManager>>,
}

impl EventBus {
    pub fn in_process() -> Self {
        EventBus {
            inner: Arc::new(Inner {
                hub: Hub::default(),
                redis: None,
                // Publishing is a function call: nothing between publisher and subscriber can drop.
                link: watch::Sender::new(Link {
                    up: true,
                    connection: 1,
                }),
            }),
        }
    }

    /// A bus shared through Redis, reached by `client` (see [`redis_client`]). Start-up does not
    /// wait for Redis: the subscriber connects (and reconnects) in the background, and
    /// `is_redis_subscribed` reports its state.
    pub fn redis(client: redis::Client, channel_prefix: &str, shutdown: CancellationToken) -> Self {
        let bus = EventBus {
            inner: Arc::new(Inner {
                hub: Hub::default(),
                redis: Some(RedisLink {
                    client,
                    channel_prefix: channel_prefix.to_string(),
                    publisher: Mutex::new(None),
                }),
                link: watch::Sender::new(Link {
                    up: false,
                    connection: 0,
                }),
            }),
        };
        tokio::spawn(subscriber_loop(bus.inner.clone(), shutdown));
        bus
    }

    pub fn uses_redis(&self) -> bool {
        self.inner.redis.is_some()
    }

    /// None for the in-process bus; otherwise whether the Redis subscriber is connected.
    pub fn is_redis_subscribed(&self) -> Option<bool> {
        self.inner.redis.as_ref().map(|_| self.link().up)
    }

    /// None for the in-process bus; otherwise how many times the Redis subscriber has connected.
    /// What was published while it was away never reaches this process, so a reader that keeps
    /// state built from events reads it afresh when this number moves, however short the gap.
    pub fn redis_connections(&self) -> Option<u64> {
        self.inner.redis.as_ref().map(|_| self.link().connection)
    }

    /// The subscriber's link now.
    pub fn link(&self) -> Link {
        *self.inner.link.borrow()
    }

    /// Follows the subscriber's link: told each time it goes down or comes up again.
    pub fn watch_link(&self) -> watch::Receiver<Link> {
        self.inner.link.subscribe()
    }

    /// Whether a durable publish now would reach this process's own subscribers.
    pub fn ready_for_durable(&self) -> bool {
        self.is_redis_subscribed().unwrap_or(true)
    }

    pub async fn publish(&self, message: BusMessage) -> Result<(), BusError> {
        let Some(redis) = &self.inner.redis else {
            self.inner.hub.deliver(Arc::new(message));
            return Ok(());
        };
        if message.seq.is_some() {
            return redis.publish(message).await;
        }
        tokio::time::timeout(LIVE_PUBLISH_TIMEOUT, redis.publish(message))
            .await
            .unwrap_or(Err(BusError::TimedOut(LIVE_PUBLISH_TIMEOUT)))
    }

    /// Reads a value every replica shares (Redis only; None on the in-process bus). A slow or absent
    /// Redis answers None within `SHARED_VALUE_TIMEOUT`, so no request waits on it for long.
    pub async fn shared_get(&self, key: &str) -> Option<String> {
        let redis = self.inner.redis.as_ref()?;
        let key = format!("{}:kv:{key}", redis.channel_prefix);
        let read = async {
            let mut connection = redis.publisher().await.ok()?;
            connection
                .get::<_, Option<String>>(key)
                .await
                .ok()
                .flatten()
        };
        tokio::time::timeout(SHARED_VALUE_TIMEOUT, read)
            .await
            .ok()
            .flatten()
    }

    /// Stores a value every replica can read for `ttl`; best effort, like `shared_get`.
    pub async fn shared_set(&self, key: &str, value: &str, ttl: Duration) {
        let Some(redis) = self.inner.redis.as_ref() else {
            return;
        };
        let key = format!("{}:kv:{key}", redis.channel_prefix);
        let write = async {
            let Ok(mut connection) = redis.publisher().await else {
                return;
            };
            let written: Result<(), redis::RedisError> =
                connection.set_ex(key, value, ttl.as_secs().max(1)).await;
            if let Err(e) = written {
                tracing::warn!(error = %e, "could not store a shared value in redis");
            }
        };
        let _ = tokio::time::timeout(SHARED_VALUE_TIMEOUT, write).await;
    }

    /// Replaces a shared value (the same keys as `shared_get`) with `new` only if it still is
    /// `expected` (None: absent), atomically however many replicas try at once. Redis only: None on
    /// the in-process bus, where this process's own memory is the only copy. Waits at most
    /// `SHARED_VALUE_TIMEOUT`; an error means the caller has to decide without Redis.
    pub async fn shared_swap(
        &self,
        key: &str,
        expected: Option<&str>,
        new: &str,
        ttl: Duration,
    ) -> Option<Result<SharedSwap, BusError>> {
        let redis = self.inner.redis.as_ref()?;
        let key = format!("{}:kv:{key}", redis.channel_prefix);
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let swap = async {
            let mut connection = redis.publisher().await?;
            let (swapped, current): (i64, Option<String>) = SWAP_SCRIPT
                .key(key)
                .arg(expected.unwrap_or(""))
                .arg(new)
                .arg(ttl_ms)
                .invoke_async(&mut connection)
                .await?;
            Ok::<_, BusError>(if swapped == 1 {
                SharedSwap::Swapped
            } else {
                SharedSwap::Current(current)
            })
        };
        Some(
            tokio::time::timeout(SHARED_VALUE_TIMEOUT, swap)
                .await
                .unwrap_or(Err(BusError::TimedOut(SHARED_VALUE_TIMEOUT))),
        )
    }

    pub fn subscribe(&self, topic: &str) -> Subscription {
        Subscription {
            inner: BroadcastStream::new(self.inner.hub.subscribe(topic)),
            done: false,
        }
    }

    /// Every topic of `family` as one stream, with the same falling-behind rule as `subscribe`.
    pub fn subscribe_family(&self, family: TopicFamily) -> Subscription {
        Subscription {
            inner: BroadcastStream::new(self.inner.hub.subscribe_family(family)),
            done: false,
        }
    }
}

impl RedisLink {
    async fn publish(&self, message: BusMessage) -> Result<(), BusError> {
        let mut connection = self.publisher().await?;
        let channel = format!("{}:{}", self.channel_prefix, message.topic);
        let body = serde_json::to_string(&message).map_err(BusError::Encode)?;
        let result: Result<(), redis::RedisError> = connection.publish(channel, body).await;
        if let Err(e) = result {
            // Drop the connection so the next publish dials afresh instead of retrying a dead socket.
            *self.publisher.lock().await = None;
            return Err(e.into());
        }
        Ok(())
    }

    async fn publisher(&self) -> Result<redis::aio::ConnectionManager, BusError> {
        let mut slot = self.publisher.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)));
        let connection =
            redis::aio::ConnectionManager::new_with_config(self.client.clone(), config).await?;
        *slot = Some(connection.clone());
        Ok(connection)
    }
}

/// Keeps ONE pattern subscription per process and fans what arrives out to local subscribers.
async fn subscriber_loop(inner: Arc<Inner>, shutdown: CancellationToken) {
    // Started only for a bus with a Redis link; without one there is nothing to subscribe to.
    let Some(redis) = inner.redis.as_ref() else {
        return;
    };
    let pattern = format!("{}:*", redis.channel_prefix);
    let mut backoff = Duration::from_millis(100);
    while !shutdown.is_cancelled() {
        let connected = async {
            let mut pubsub = redis.client.get_async_pubsub().await?;
            pubsub.psubscribe(&pattern).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let mut pubsub = match tokio::time::timeout(Duration::from_secs(3), connected).await {
            Ok(Ok(pubsub)) => pubsub,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "redis subscriber cannot connect; retrying");
                tokio::select! { _ = tokio::time::sleep(backoff) => {}, _ = shutdown.cancelled() => break }
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
            Err(_) => continue,
        };
        backoff = Duration::from_millis(100);
        inner.link.send_modify(|link| {
            link.up = true;
            link.connection += 1;
        });
        tracing::info!("redis subscriber connected");
        let mut messages = pubsub.on_message();
        loop {
            tokio::select! {
                next = messages.next() => match next {
                    Some(msg) => {
                        let Ok(body) = msg.get_payload::<String>() else { continue };
                        match serde_json::from_str::<BusMessage>(&body) {
                            Ok(message) => inner.hub.deliver(Arc::new(message)),
                            _ => tracing::warn!("ignoring malformed bus message"),
                        }
                    }
                    None => break,
                },
                _ = shutdown.cancelled() => break,
            }
        }
        inner.link.send_modify(|link| link.up = false);
        if !shutdown.is_cancelled() {
            tracing::warn!("redis subscriber disconnected; reconnecting");
        }
    }
}

/// What a subscriber receives: a message, or word that it fell behind and should refetch.
#[derive(Debug, Clone)]
pub enum SubscriptionItem {
    Message(Arc<BusMessage>),
    Lagged { missed: u64 },
}

/// A stream of one topic's messages. After a `Lagged` item it ends: a subscriber that fell behind
/// resubscribes and refetches by sequence number rather than silently missing events.
pub struct Subscription {
    inner: BroadcastStream<Arc<BusMessage>>,
    done: bool,
}

impl Stream for Subscription {
    type Item = SubscriptionItem;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(message))) => Poll::Ready(Some(SubscriptionItem::Message(message))),
            Poll::Ready(Some(Err(BroadcastStreamRecvError::Lagged(missed)))) => {
                self.done = true;
                Poll::Ready(Some(SubscriptionItem::Lagged { missed }))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_process_publish_reaches_subscribers() {
        let bus = EventBus::in_process();
        let mut sub = bus.subscribe("t");
        bus.publish(BusMessage::new("t", Some(1), serde_json::json!({"x": 1})))
            .await
            .unwrap();
        match sub.next().await.unwrap() {
            SubscriptionItem::Message(m) => assert_eq!(m.payload["x"], 1),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_payload_is_decoded_once_and_shared() {
        #[derive(serde::Deserialize, PartialEq, Debug)]
        struct Point {
            x: i64,
        }
        let message = BusMessage::new("t", None, serde_json::json!({"x": 7}));
        let first = message.decode::<Point>().unwrap();
        let copy = message.clone();
        let again = copy.decode::<Point>().unwrap();
        assert!(Arc::ptr_eq(&first, &again), "clones share the decoded form");
        // Another shape still decodes, just without the cache; a wrong one is None.
        assert_eq!(
            *message.decode::<serde_json::Value>().unwrap(),
            serde_json::json!({"x": 7})
        );
        assert!(message.decode::<Vec<i64>>().is_none());
    }

    #[tokio::test]
    async fn a_lagging_subscription_is_told_and_ends() {
        let bus = EventBus::in_process();
        let mut sub = bus.subscribe("t");
        for seq in 0..400 {
            bus.publish(BusMessage::new("t", Some(seq), serde_json::Value::Null))
                .await
                .unwrap();
        }
        assert!(matches!(
            sub.next().await,
            Some(SubscriptionItem::Lagged { .. })
        ));
        assert!(sub.next().await.is_none());
    }
}
