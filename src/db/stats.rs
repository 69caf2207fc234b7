//! Per-request database statistics: how many SQL statements a request ran and how long they took.
//!
//! sea-orm reports every statement to one callback per connection pool; the callback adds it to
//! the counter of the request being served, found through a task-local. Work a request hands to
//! another task (DataLoader batches) carries the counter with it through [`carry`].

use futures_util::future::BoxFuture;
use sea_orm::DatabaseConnection;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

tokio::task_local! {
    static CURRENT: Arc<Counter>;
}

/// Statements run so far by one request.
#[derive(Debug, Default)]
pub struct Counter {
    statements: AtomicU64,
    nanos: AtomicU64,
}

impl Counter {
    fn record(&self, elapsed: Duration) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            statements: self.statements.load(Ordering::Relaxed),
            elapsed: Duration::from_nanos(self.nanos.load(Ordering::Relaxed)),
        }
    }
}

/// What a request cost the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub statements: u64,
    /// Time spent in the statements, summed (concurrent ones overlap).
    pub elapsed: Duration,
}

impl Snapshot {
    /// As a `Server-Timing` entry: `db;desc="7 statements";dur=3.1` (milliseconds).
    pub fn server_timing(&self) -> String {
        let noun = if self.statements == 1 {
            "statement"
        } else {
            "statements"
        };
        format!(
            "db;desc=\"{} {noun}\";dur={:.1}",
            self.statements,
            self.elapsed.as_secs_f64() * 1000.0
        )
    }
}

/// Makes the pool report every statement to the counter of the request running it, if any.
pub fn install(db: &mut DatabaseConnection) {
    db.set_metric_callback(|info| {
        let _ = CURRENT.try_with(|counter| counter.record(info.elapsed));
    });
}

/// Runs `work` with a fresh counter and returns its output with what it cost the database.
pub async fn measure<F: Future>(work: F) -> (F::Output, Snapshot) {
    let counter = Arc::new(Counter::default());
    let output = CURRENT.scope(counter.clone(), work).await;
    (output, counter.snapshot())
}

/// Wraps work about to be spawned so its statements count towards the current request (if one is
/// being measured).
pub fn carry(work: BoxFuture<'static, ()>) -> BoxFuture<'static, ()> {
    match CURRENT.try_with(Clone::clone) {
        Ok(counter) => Box::pin(CURRENT.scope(counter, work)),
        Err(_) => work,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_timing_names_the_count_and_milliseconds() {
        let one = Snapshot {
            statements: 1,
            elapsed: Duration::from_micros(340),
        };
        assert_eq!(one.server_timing(), "db;desc=\"1 statement\";dur=0.3");
        let seven = Snapshot {
            statements: 7,
            elapsed: Duration::from_micros(3_140),
        };
        assert_eq!(seven.server_timing(), "db;desc=\"7 statements\";dur=3.1");
    }

    #[tokio::test]
    async fn spawned_work_counts_towards_the_request_that_spawned_it() {
        let ((), snapshot) = measure(async {
            CURRENT.with(|c| c.record(Duration::from_millis(1)));
            let spawned = carry(Box::pin(async {
                CURRENT.with(|c| c.record(Duration::from_millis(2)));
            }));
            tokio::spawn(spawned).await.unwrap();
        })
        .await;
        assert_eq!(snapshot.statements, 2);
        assert_eq!(snapshot.elapsed, Duration::from_millis(3));
    }

    #[tokio::test]
    async fn work_outside_a_request_is_not_counted() {
        let spawned = carry(Box::pin(async {
            assert!(CURRENT.try_with(|_| ()).is_err());
        }));
        tokio::spawn(spawned).await.unwrap();
    }
}
