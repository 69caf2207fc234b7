//! The service clock: real UTC time, with an offset that only tests move forward.

use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::sync::watch;

#[derive(Clone)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
    /// Ticks whenever the offset moves, so timers set by this clock (a socket's token expiry) can
    /// look again instead of sleeping through a jump.
    moved: Arc<watch::Sender<()>>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            offset_ms: Arc::default(),
            moved: Arc::new(watch::channel(()).0),
        }
    }
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every copy of it) forward, for tests of expiry and throttling windows.
    pub fn advance(&self, by: chrono::Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
        self.moved.send_replace(());
    }

    /// Changes each time the clock is moved forward by more than real time.
    pub fn moved(&self) -> watch::Receiver<()> {
        self.moved.subscribe()
    }

    /// How long real time must pass until this clock reads `at` (zero if it already does).
    pub fn until(&self, at: DateTime<Utc>) -> std::time::Duration {
        (at - self.now()).to_std().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn moving_the_clock_wakes_whoever_watches_it() {
        let clock = Clock::default();
        let mut moved = clock.moved();
        let at = clock.now() + chrono::Duration::minutes(10);
        assert!(clock.until(at) > std::time::Duration::from_secs(590));
        clock.advance(chrono::Duration::minutes(11));
        moved.changed().await.unwrap();
        assert_eq!(clock.until(at), std::time::Duration::ZERO);
    }
}
