//! The transactional outbox: durable events are written with the change that caused them and relayed to the bus after commit.

use super::bus::EventBus;
use super::message::BusMessage;
use super::topics::Topic;
use crate::db::{lease, sql::stmt};
use chrono::Utc;
use futures_util::StreamExt;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Records a durable event inside the caller's transaction and returns its per-topic sequence number.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    topic: Topic,
    payload: &serde_json::Value,
) -> Result<i64, DbErr> {
    enqueue_sequenced(db, topic, &topic.key(), payload).await
}

/// Like `enqueue`, numbering the event within `sequence_key` rather than the whole topic, for busy
/// shared channels where only the order per subject matters (one technician's directory changes).
pub async fn enqueue_sequenced(
    db: &impl ConnectionTrait,
    topic: Topic,
    sequence_key: &str,
    payload: &serde_json::Value,
) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let key = topic.key();
    let created_at = Utc::now();
    if backend == DbBackend::Postgres {
        // One round trip: the upsert (which takes the topic's row lock, so concurrent writers to one
        // topic get consecutive numbers and commit in that order) feeds the insert.
        let row = db
            .query_one_raw(stmt(
                backend,
                "WITH next AS (INSERT INTO topic_sequences (topic, last_seq) VALUES ($1, 1) \
                 ON CONFLICT (topic) DO UPDATE SET last_seq = topic_sequences.last_seq + 1 \
                 RETURNING last_seq) \
                 INSERT INTO outbox (topic, seq, payload, created_at) \
                 SELECT $2, last_seq, $3, $4 FROM next RETURNING seq",
                [
                    sequence_key.into(),
                    key.into(),
                    payload.to_string().into(),
                    created_at.into(),
                ],
            ))
            .await?
            .ok_or_else(|| DbErr::Custom("outbox insert returned no row".into()))?;
        return row.try_get("", "seq");
    }
    // The upsert takes the topic's row lock, so concurrent writers to one topic get consecutive numbers
    // and commit in that order.
    let row = db
        .query_one_raw(stmt(
            backend,
            "INSERT INTO topic_sequences (topic, last_seq) VALUES ($1, 1) \
             ON CONFLICT (topic) DO UPDATE SET last_seq = topic_sequences.last_seq + 1 RETURNING last_seq",
            [sequence_key.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("sequence upsert returned no row".into()))?;
    let seq: i64 = row.try_get("", "last_seq")?;
    db.execute_raw(stmt(
        backend,
        "INSERT INTO outbox (topic, seq, payload, created_at) VALUES ($1, $2, $3, $4)",
        [
            key.into(),
            seq.into(),
            payload.to_string().into(),
            created_at.into(),
        ],
    ))
    .await?;
    Ok(seq)
}

const BATCH: u64 = 200;
const LEASE: &str = "outbox-relay";
const LEASE_TTL: Duration = Duration::from_secs(10);
/// The same length as chrono reckons it, checked when compiling.
const LEASE_TTL_DELTA: chrono::TimeDelta =
    match chrono::TimeDelta::new(LEASE_TTL.as_secs() as i64, LEASE_TTL.subsec_nanos()) {
        Some(delta) => delta,
        None => panic!("the lease TTL fits a TimeDelta"),
    };

/// How often the relay looks for rows without being asked. Rows committed on this replica kick it at
/// once, and a replica that does not hold the lease announces its rows on the bus
/// (`Topic::OutboxWritten`), so this only takes over the lease from a replica that stopped and
/// retries after a bus outage. Rare, so that an idle replica barely touches the database.
const FALLBACK_POLL: Duration = Duration::from_secs(3);

/// Moves committed outbox rows onto the bus, in id order, from one replica at a time (a lease), so
/// each topic's events arrive in sequence. Services `kick` it after commit.
#[derive(Clone)]
pub struct OutboxRelay {
    kick: Arc<Notify>,
}

impl OutboxRelay {
    pub fn spawn(db: DatabaseConnection, bus: EventBus, shutdown: CancellationToken) -> Self {
        let kick = Arc::new(Notify::new());
        tokio::spawn(run(db, bus, kick.clone(), shutdown));
        OutboxRelay { kick }
    }

    /// Asks the relay to look for new rows now.
    pub fn kick(&self) {
        self.kick.notify_one();
    }
}

/// Why the relay is looking now.
#[derive(Clone, Copy, PartialEq)]
enum Wake {
    /// This replica committed rows.
    Kicked,
    /// Another replica announced rows it committed.
    Announced,
    /// The fallback poll, or start-up.
    Polled,
    /// Published rows have waited long enough to be marked.
    MarkDue,
}

/// How long rows the relay has published may wait to be marked so. Under load each pass marks the
/// previous pass's rows in its own statement (PostgreSQL) or one more (SQLite); this bounds how long
/// the last rows of a burst wait, and with them how much a replica that dies now sends twice.
const MARK_AFTER: Duration = Duration::from_millis(100);

/// Rows this replica published and has not yet marked published, so each pass leaves them out.
#[derive(Default)]
struct Unmarked {
    ids: Vec<i64>,
}

async fn run(
    db: DatabaseConnection,
    bus: EventBus,
    kick: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let holder = Uuid::now_v7();
    let mut held_until: Option<std::time::Instant> = None;
    let mut last_cleanup = std::time::Instant::now();
    let mut unmarked = Unmarked::default();
    let mut announcements = bus.subscribe(&Topic::OutboxWritten.key());
    // Start-up looks at once: rows a stopped replica left behind go out without waiting for a poll.
    let mut wake = Wake::Polled;
    loop {
        if wake == Wake::MarkDue {
            mark(&db, &mut unmarked).await;
        } else if bus.ready_for_durable() {
            let holding = held_until.is_some_and(|until| until > std::time::Instant::now());
            // Another replica's rows are its lease holder's business; one that does not hold the
            // lease leaves them to the holder, or to its own next poll should the holder be gone.
            if holding || wake != Wake::Announced {
                held_until = relay_once(&db, &bus, holder, held_until, wake, &mut unmarked).await;
            }
        }
        if last_cleanup.elapsed() > Duration::from_secs(3600) {
            last_cleanup = std::time::Instant::now();
            clean_up(&db).await;
        }
        let marks_waiting = !unmarked.ids.is_empty();
        wake = tokio::select! {
            _ = kick.notified() => Wake::Kicked,
            item = announcements.next() => {
                if item.is_none() {
                    // A subscription ends after falling behind; anything missed is found by looking now.
                    announcements = bus.subscribe(&Topic::OutboxWritten.key());
                }
                Wake::Announced
            }
            _ = tokio::time::sleep(MARK_AFTER), if marks_waiting => Wake::MarkDue,
            _ = tokio::time::sleep(FALLBACK_POLL) => Wake::Polled,
            _ = shutdown.cancelled() => {
                mark(&db, &mut unmarked).await;
                return;
            }
        };
    }
}

/// One pass: renews or takes the lease when needed and relays; returns until when the lease is held.
/// Rows this replica committed while another holds the lease are announced to the holder.
async fn relay_once(
    db: &DatabaseConnection,
    bus: &EventBus,
    holder: Uuid,
    mut held_until: Option<std::time::Instant>,
    wake: Wake,
    unmarked: &mut Unmarked,
) -> Option<std::time::Instant> {
    // Renew the lease only when half of it is used up, not on every commit: the relay runs after
    // each one, and a write per run would double its cost under load.
    let renew = held_until.is_none_or(|until| {
        until.saturating_duration_since(std::time::Instant::now()) < LEASE_TTL / 2
    });
    if renew {
        match lease::acquire(db, LEASE, holder, Utc::now(), LEASE_TTL_DELTA).await {
            Ok(true) => held_until = Some(std::time::Instant::now() + LEASE_TTL),
            Ok(false) => {
                // What this replica sent while it held the lease is marked before the new holder
                // looks, as far as it can be.
                mark(db, unmarked).await;
                if wake == Wake::Kicked {
                    announce(bus).await;
                }
                return None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "outbox relay cannot take its lease");
                return None;
            }
        }
    }
    if let Err(e) = relay_pending(db, bus, unmarked).await {
        tracing::warn!(error = %e, "outbox relay paused; will retry");
    }
    held_until
}

/// Tells the replica holding the lease that rows are waiting. Best effort: its fallback poll finds
/// them if this is lost.
async fn announce(bus: &EventBus) {
    let message = BusMessage::new(Topic::OutboxWritten.key(), None, serde_json::Value::Null);
    if let Err(e) = bus.publish(message).await {
        tracing::debug!(error = %e, "outbox rows not announced; the lease holder's poll finds them");
    }
}

/// Deletes rows published more than a day ago.
async fn clean_up(db: &DatabaseConnection) {
    let cutoff = Utc::now() - chrono::Duration::days(1);
    let cleanup = Query::delete()
        .from_table("outbox")
        .and_where(Expr::col("published_at").lt(cutoff))
        .to_owned();
    if let Err(e) = db.execute(&cleanup).await {
        tracing::warn!(error = %e, "outbox cleanup failed");
    }
}

/// Marks the rows this replica has published, in one statement; on failure they stay in the list,
/// left out of later passes, and are marked by a later call.
async fn mark(db: &DatabaseConnection, unmarked: &mut Unmarked) {
    if unmarked.ids.is_empty() {
        return;
    }
    let backend = db.get_database_backend();
    let (sql, values) = mark_sql(&unmarked.ids, Utc::now());
    match db.execute_raw(stmt(backend, &sql, values)).await {
        Ok(_) => unmarked.ids.clear(),
        Err(e) => tracing::warn!(error = %e, "published outbox rows not marked; will retry"),
    }
}

/// `UPDATE outbox SET published_at = $1 WHERE id IN ($2, …)` for the given ids.
fn mark_sql(ids: &[i64], at: chrono::DateTime<Utc>) -> (String, Vec<sea_orm::Value>) {
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(ids.len() + 1);
    values.push(at.into());
    let list = in_list(ids, 2, &mut values);
    (
        format!("UPDATE outbox SET published_at = $1 WHERE id IN ({list})"),
        values,
    )
}

/// `$n, $n+1, …` for `ids`, pushing them onto `values`.
fn in_list(ids: &[i64], first: usize, values: &mut Vec<sea_orm::Value>) -> String {
    let mut list = String::with_capacity(ids.len() * 5);
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            list.push_str(", ");
        }
        list.push('$');
        list.push_str(&(first + i).to_string());
        values.push((*id).into());
    }
    list
}

/// The next batch of unpublished rows, leaving out those this replica published and has not yet
/// marked. On PostgreSQL the same statement marks those (they count as marked once it succeeds);
/// on SQLite they are marked a batch at a time. Either way a pass under load costs one statement.
async fn next_batch(
    db: &DatabaseConnection,
    unmarked: &mut Unmarked,
) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
    let backend = db.get_database_backend();
    let postgres = backend == DbBackend::Postgres;
    if !postgres && unmarked.ids.len() as u64 >= BATCH {
        mark(db, unmarked).await;
    }
    let mut values: Vec<sea_orm::Value> = vec![(BATCH as i64).into()];
    let sql = if unmarked.ids.is_empty() {
        "SELECT id, topic, seq, payload FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1"
            .to_string()
    } else if postgres {
        values.push(Utc::now().into());
        let list = in_list(&unmarked.ids, 3, &mut values);
        format!(
            "WITH marked AS (UPDATE outbox SET published_at = $2 WHERE id IN ({list})) \
             SELECT id, topic, seq, payload FROM outbox WHERE published_at IS NULL \
             AND id NOT IN ({list}) ORDER BY id LIMIT $1"
        )
    } else {
        let list = in_list(&unmarked.ids, 2, &mut values);
        format!(
            "SELECT id, topic, seq, payload FROM outbox WHERE published_at IS NULL \
             AND id NOT IN ({list}) ORDER BY id LIMIT $1"
        )
    };
    let rows = db.query_all_raw(stmt(backend, &sql, values)).await?;
    if postgres {
        unmarked.ids.clear();
    }
    Ok(rows)
}

/// Publishes every unpublished row; stops at the first bus failure, leaving the rest for the next try.
async fn relay_pending(
    db: &DatabaseConnection,
    bus: &EventBus,
    unmarked: &mut Unmarked,
) -> anyhow::Result<usize> {
    let mut total = 0;
    loop {
        let rows = next_batch(db, unmarked).await?;
        for row in &rows {
            let id: i64 = row.try_get("", "id")?;
            let payload: String = row.try_get("", "payload")?;
            let message = BusMessage::new(
                row.try_get::<String>("", "topic")?,
                Some(row.try_get("", "seq")?),
                serde_json::from_str(&payload)?,
            );
            bus.publish(message).await?;
            unmarked.ids.push(id);
            total += 1;
        }
        if (rows.len() as u64) < BATCH {
            return Ok(total);
        }
    }
}
