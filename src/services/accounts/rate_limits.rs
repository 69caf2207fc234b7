//! Per-client-address rate limits on costly or sensitive operations (password and PIN checks, sign-ups):
//! counted in Redis when replicas share one, otherwise in this process with governor.

use crate::config::AbuseSettings;
use crate::error::{AppError, AppResult};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;

/// What is being limited; each has its own allowance per client address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Anything that runs Argon2 on a password or PIN: sign-in, sign-up, password and PIN changes.
    PasswordCheck,
    /// Creating an account.
    SignUp,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::PasswordCheck => "password",
            Action::SignUp => "signup",
        }
    }
}

/// `count` per `window`, for one client address.
#[derive(Clone, Copy, Debug)]
struct Allowance {
    count: u32,
    window: Duration,
}

/// Beyond this many remembered addresses, forgotten ones (whose allowance is full again) are dropped.
const LOCAL_KEYS_BEFORE_SWEEP: usize = 10_000;
/// A limit check never waits longer than this on Redis; then this replica's own count decides.
const REDIS_TIMEOUT: Duration = Duration::from_millis(500);

pub struct RateLimits {
    password: Allowance,
    signup: Allowance,
    local_password: DefaultKeyedRateLimiter<String>,
    local_signup: DefaultKeyedRateLimiter<String>,
    redis: Option<RedisCounters>,
}

struct RedisCounters {
    client: redis::Client,
    prefix: String,
    connection: Mutex<Option<redis::aio::ConnectionManager>>,
}

fn quota(allowance: Allowance) -> Quota {
    let count = NonZeroU32::new(allowance.count).unwrap_or(NonZeroU32::MIN);
    // `with_period` refuses only a zero period, and a minute or an hour divided by a u32 is not zero.
    #[allow(clippy::expect_used)]
    Quota::with_period(allowance.window / count.get())
        .expect("a window of at least a minute divided by a u32 is positive")
        .allow_burst(count)
}

impl RateLimits {
    /// Limits from settings; with a Redis client, counts are shared by every replica using it.
    pub fn new(settings: &AbuseSettings, redis: Option<redis::Client>, prefix: &str) -> Self {
        let password = Allowance {
            count: settings.password_checks_per_minute,
            window: Duration::from_secs(60),
        };
        let signup = Allowance {
            count: settings.signups_per_hour,
            window: Duration::from_secs(3600),
        };
        let redis = redis.map(|client| RedisCounters {
            client,
            prefix: prefix.to_string(),
            connection: Mutex::new(None),
        });
        RateLimits {
            password,
            signup,
            local_password: RateLimiter::keyed(quota(password)),
            local_signup: RateLimiter::keyed(quota(signup)),
            redis,
        }
    }

    /// Counts one `action` by `client` and refuses it with RATE_LIMITED (and when to retry) once the
    /// address has used its allowance. A request without a known address shares one allowance.
    pub async fn check(&self, action: Action, client: Option<&str>) -> AppResult<()> {
        let key = client.unwrap_or("unknown").to_string();
        let allowance = match action {
            Action::PasswordCheck => self.password,
            Action::SignUp => self.signup,
        };
        if let Some(redis) = &self.redis {
            match tokio::time::timeout(REDIS_TIMEOUT, redis.hit(action, &key, allowance)).await {
                Ok(Ok(verdict)) => return verdict,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "rate limit counter unavailable in Redis; counting locally")
                }
                Err(_) => tracing::warn!("rate limit counter in Redis timed out; counting locally"),
            }
        }
        self.check_locally(action, key)
    }

    fn check_locally(&self, action: Action, key: String) -> AppResult<()> {
        let limiter = match action {
            Action::PasswordCheck => &self.local_password,
            Action::SignUp => &self.local_signup,
        };
        if limiter.len() > LOCAL_KEYS_BEFORE_SWEEP {
            limiter.retain_recent();
        }
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            // Whole seconds, rounded up so a client that waits them is let in.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            refusal(action, i64::try_from(secs).unwrap_or(i64::MAX))
        })
    }
}

fn refusal(action: Action, retry_after_secs: i64) -> AppError {
    let what = match action {
        Action::PasswordCheck => "too many password checks from this address",
        Action::SignUp => "too many sign-ups from this address",
    };
    AppError::RateLimited {
        message: format!("{what}; try again later"),
        retry_after_secs: retry_after_secs.max(1),
    }
}

impl RedisCounters {
    /// A fixed window per address: the first hit creates the counter with the window as its expiry, and
    /// INCR counts atomically however many replicas hit it at once.
    async fn hit(
        &self,
        action: Action,
        key: &str,
        allowance: Allowance,
    ) -> Result<AppResult<()>, redis::RedisError> {
        let window = allowance.window.as_secs();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let slot = now / window;
        let counter = format!("{}:ratelimit:{}:{key}:{slot}", self.prefix, action.name());
        let mut connection = self.connection().await?;
        let result: Result<(u32,), _> = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&counter)
            .arg(0)
            .arg("EX")
            .arg(window + 1)
            .arg("NX")
            .ignore()
            .incr(&counter, 1)
            .query_async(&mut connection)
            .await;
        let (count,) = match result {
            Ok(count) => count,
            Err(e) => {
                *self.connection.lock().await = None;
                return Err(e);
            }
        };
        if count > allowance.count {
            let retry = (slot + 1) * window - now;
            return Ok(Err(refusal(action, retry as i64)));
        }
        Ok(Ok(()))
    }

    async fn connection(&self) -> Result<redis::aio::ConnectionManager, redis::RedisError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT));
        let connection =
            redis::aio::ConnectionManager::new_with_config(self.client.clone(), config).await?;
        *slot = Some(connection.clone());
        Ok(connection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_minute: u32) -> RateLimits {
        let settings = AbuseSettings {
            trusted_proxies: Default::default(),
            password_checks_per_minute: per_minute,
            signups_per_hour: 2,
        };
        RateLimits::new(&settings, None, "test")
    }

    #[tokio::test]
    async fn each_address_has_its_own_allowance() {
        let limits = limits(3);
        for _ in 0..3 {
            limits
                .check(Action::PasswordCheck, Some("198.51.100.1"))
                .await
                .unwrap();
        }
        let refused = limits
            .check(Action::PasswordCheck, Some("198.51.100.1"))
            .await
            .unwrap_err();
        assert!(
            matches!(refused, AppError::RateLimited { retry_after_secs, .. } if (1..=20).contains(&retry_after_secs)),
            "{refused:?}"
        );
        limits
            .check(Action::PasswordCheck, Some("198.51.100.2"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn actions_are_counted_apart() {
        let limits = limits(1);
        limits
            .check(Action::PasswordCheck, Some("a"))
            .await
            .unwrap();
        limits.check(Action::SignUp, Some("a")).await.unwrap();
        limits.check(Action::SignUp, Some("a")).await.unwrap();
        assert!(limits.check(Action::SignUp, Some("a")).await.is_err());
    }
}
