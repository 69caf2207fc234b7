//! Apollo Automatic Persisted Queries: once a query's text has been registered with its SHA-256, a
//! client may send the hash alone (over POST or GET). Texts live in a bounded in-process cache and,
//! when replicas share Redis, in Redis too, so a query registered on one replica is found on all.

use crate::realtime::EventBus;
use async_graphql::{Request, Value};
use lru::LruCache;
use sha2::{Digest, Sha256};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a registered query stays in Redis after it was last registered.
const SHARED_TTL: Duration = Duration::from_secs(24 * 3600);

/// Why a persisted-query request cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersistedQueryError {
    /// The hash is unknown here: the client should send the text with the hash.
    NotFound,
    /// Persisted queries are turned off on this server.
    NotSupported,
    /// The text sent does not hash to the hash sent.
    HashMismatch,
    /// The `persistedQuery` extension is malformed or of another version.
    Malformed(&'static str),
}

impl PersistedQueryError {
    /// The code clients branch on, and the message Apollo's link looks for.
    pub fn code(&self) -> &'static str {
        match self {
            PersistedQueryError::NotFound => "PERSISTED_QUERY_NOT_FOUND",
            PersistedQueryError::NotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
            PersistedQueryError::HashMismatch | PersistedQueryError::Malformed(_) => {
                "BAD_USER_INPUT"
            }
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            PersistedQueryError::NotFound => "PersistedQueryNotFound",
            PersistedQueryError::NotSupported => "PersistedQueryNotSupported",
            PersistedQueryError::HashMismatch => "provided sha does not match query",
            PersistedQueryError::Malformed(why) => why,
        }
    }
}

pub struct PersistedQueries {
    /// None when the cache size setting is 0: persisted queries are then not supported.
    local: Option<Mutex<LruCache<String, Arc<str>>>>,
    shared: Option<EventBus>,
}

impl PersistedQueries {
    /// `capacity` texts are kept in this process (0 turns the feature off); `bus` shares them
    /// through Redis when it has Redis behind it.
    pub fn new(capacity: usize, bus: Option<EventBus>) -> Self {
        PersistedQueries {
            local: NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c))),
            shared: bus.filter(EventBus::uses_redis),
        }
    }

    /// Fills in the request's query from its `persistedQuery` extension, or registers the text it
    /// carries. A request without the extension is left alone.
    pub async fn resolve(&self, request: &mut Request) -> Result<(), PersistedQueryError> {
        let Some(extension) = request.extensions.remove("persistedQuery") else {
            return Ok(());
        };
        let hash = parse_extension(&extension)?;
        let Some(local) = &self.local else {
            return Err(PersistedQueryError::NotSupported);
        };
        if request.query.is_empty() {
            request.query = self.find(local, &hash).await?.to_string();
            return Ok(());
        }
        if sha256_hex(&request.query) != hash {
            return Err(PersistedQueryError::HashMismatch);
        }
        let known = lock(local).get(&hash).is_some();
        if !known {
            lock(local).put(hash.clone(), Arc::from(request.query.as_str()));
            if let Some(bus) = &self.shared {
                bus.shared_set(&shared_key(&hash), &request.query, SHARED_TTL)
                    .await;
            }
        }
        Ok(())
    }

    /// The text behind a hash-only request, if this server knows it; the request is left as it is.
    pub async fn known_text(&self, request: &Request) -> Option<Arc<str>> {
        if !request.query.is_empty() {
            return None;
        }
        let hash = parse_extension(request.extensions.get("persistedQuery")?).ok()?;
        self.find(self.local.as_ref()?, &hash).await.ok()
    }

    async fn find(
        &self,
        local: &Mutex<LruCache<String, Arc<str>>>,
        hash: &str,
    ) -> Result<Arc<str>, PersistedQueryError> {
        if let Some(text) = lock(local).get(hash) {
            return Ok(text.clone());
        }
        let bus = self.shared.as_ref().ok_or(PersistedQueryError::NotFound)?;
        let text = bus
            .shared_get(&shared_key(hash))
            .await
            // Only a text that really has this hash is believed, whoever wrote it.
            .filter(|text| sha256_hex(text) == hash)
            .ok_or(PersistedQueryError::NotFound)?;
        let text: Arc<str> = Arc::from(text);
        lock(local).put(hash.to_string(), text.clone());
        Ok(text)
    }
}

/// The cache is only ever touched for a lookup or an insert, so a poisoned lock still holds
/// consistent entries.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn shared_key(hash: &str) -> String {
    format!("apq:{hash}")
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// `{"version": 1, "sha256Hash": "<64 hex digits>"}`; the hash is returned in lower case.
fn parse_extension(value: &Value) -> Result<String, PersistedQueryError> {
    let Value::Object(fields) = value else {
        return Err(PersistedQueryError::Malformed(
            "extensions.persistedQuery must be an object",
        ));
    };
    match fields.get("version") {
        Some(Value::Number(n)) if n.as_i64() == Some(1) => {}
        _ => {
            return Err(PersistedQueryError::Malformed(
                "only version 1 of persisted queries is supported",
            ));
        }
    }
    match fields.get("sha256Hash") {
        Some(Value::String(hash))
            if hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            Ok(hash.to_ascii_lowercase())
        }
        _ => Err(PersistedQueryError::Malformed(
            "extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERY: &str = "{ __typename }";

    fn request(query: &str, hash: &str) -> Request {
        let mut request = Request::new(query);
        request.extensions.insert(
            "persistedQuery".into(),
            Value::from_json(serde_json::json!({"version": 1, "sha256Hash": hash})).unwrap(),
        );
        request
    }

    #[tokio::test]
    async fn a_hash_is_unknown_until_registered_with_its_text() {
        let store = PersistedQueries::new(10, None);
        let hash = sha256_hex(QUERY);
        let mut hash_only = request("", &hash);
        assert_eq!(
            store.resolve(&mut hash_only).await,
            Err(PersistedQueryError::NotFound)
        );
        let mut register = request(QUERY, &hash);
        store.resolve(&mut register).await.unwrap();
        assert_eq!(register.query, QUERY);
        let mut again = request("", &hash.to_uppercase());
        store.resolve(&mut again).await.unwrap();
        assert_eq!(again.query, QUERY);
    }

    #[tokio::test]
    async fn a_text_that_does_not_match_its_hash_is_refused() {
        let store = PersistedQueries::new(10, None);
        let mut wrong = request(QUERY, &sha256_hex("{ me { id } }"));
        assert_eq!(
            store.resolve(&mut wrong).await,
            Err(PersistedQueryError::HashMismatch)
        );
    }

    #[tokio::test]
    async fn the_cache_is_bounded() {
        let store = PersistedQueries::new(2, None);
        for text in ["{ a }", "{ b }", "{ c }"] {
            store
                .resolve(&mut request(text, &sha256_hex(text)))
                .await
                .unwrap();
        }
        let mut oldest = request("", &sha256_hex("{ a }"));
        assert_eq!(
            store.resolve(&mut oldest).await,
            Err(PersistedQueryError::NotFound)
        );
        let mut newest = request("", &sha256_hex("{ c }"));
        store.resolve(&mut newest).await.unwrap();
    }

    #[tokio::test]
    async fn malformed_extensions_and_a_turned_off_cache_are_refused() {
        let store = PersistedQueries::new(10, None);
        let cases = [
            serde_json::json!("abc"),
            serde_json::json!({"version": 2, "sha256Hash": sha256_hex(QUERY)}),
            serde_json::json!({"version": 1, "sha256Hash": "xyz"}),
        ];
        for extension in cases {
            let mut bad = Request::new("");
            bad.extensions.insert(
                "persistedQuery".into(),
                Value::from_json(extension).unwrap(),
            );
            assert!(matches!(
                store.resolve(&mut bad).await,
                Err(PersistedQueryError::Malformed(_))
            ));
        }
        let off = PersistedQueries::new(0, None);
        assert_eq!(
            off.resolve(&mut request("", &sha256_hex(QUERY))).await,
            Err(PersistedQueryError::NotSupported)
        );
        // Without the extension nothing happens, on or off.
        off.resolve(&mut Request::new(QUERY)).await.unwrap();
    }
}
