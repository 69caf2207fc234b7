//! One event on the bus as every replica reads it: topic, optional sequence and JSON payload, with
//! the payload decoded once per process however many subscribers read it.

use serde::{Deserialize, Serialize};
use std::any::Any;
use std::sync::{Arc, OnceLock};

/// One event on the bus. Durable events carry their per-topic sequence number; live ones carry none.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BusMessage {
    pub topic: String,
    pub seq: Option<i64>,
    pub payload: serde_json::Value,
    #[serde(skip)]
    decoded: Decoded,
}

impl BusMessage {
    pub fn new(topic: impl Into<String>, seq: Option<i64>, payload: serde_json::Value) -> Self {
        BusMessage {
            topic: topic.into(),
            seq,
            payload,
            decoded: Decoded::default(),
        }
    }

    /// The payload as a `T`, decoded by the first subscriber that asks and shared with the rest: a
    /// message fanned out to a thousand subscribers is parsed once, not a thousand times.
    pub fn decode<T>(&self) -> Option<Arc<T>>
    where
        T: serde::de::DeserializeOwned + Send + Sync + 'static,
    {
        let parse = || {
            serde_json::from_value::<T>(self.payload.clone())
                .ok()
                .map(Arc::new)
        };
        let cached = self
            .decoded
            .0
            .get_or_init(|| Arc::new(parse()) as Arc<dyn Any + Send + Sync>);
        match cached.downcast_ref::<Option<Arc<T>>>() {
            Some(value) => value.clone(),
            // Someone decoded it as another type first; this rare reader parses for itself.
            None => parse(),
        }
    }
}

/// A message's payload in decoded form, cached once per process. Never sent, never compared.
#[derive(Default)]
struct Decoded(OnceLock<Arc<dyn Any + Send + Sync>>);

impl Clone for Decoded {
    fn clone(&self) -> Self {
        Decoded(self.0.clone())
    }
}

impl PartialEq for Decoded {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for Decoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "decoded"
        } else {
            "raw"
        })
    }
}
