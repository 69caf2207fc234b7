//! The transactional outbox: durable events are written with the change that caused them and relayed to the bus after commit.

use super::bus::EventBus;
use super::message::BusMessage;
use super::topics::Topic;
use crate::db::{lease, sql::stmt};
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
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
            Utc::now().into(),
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

/// Moves committed outbox rows onto the bus, in id order, from one replica at a time (a lease), so
/// each topic's events arrive in sequence. Services `kick` it after commit; it also polls, which picks
/// up rows committed by other replicas and retries after a bus outage.
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

async fn run(
    db: DatabaseConnection,
    bus: EventBus,
    kick: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let holder = Uuid::now_v7();
    let mut held_until: Option<std::time::Instant> = None;
    let mut last_cleanup = std::time::Instant::now();
    loop {
        tokio::select! {
            _ = kick.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = shutdown.cancelled() => return,
        }
        if !bus.ready_for_durable() {
            continue;
        }
        // Renew the lease only when half of it is used up, not on every commit: the relay runs after
        // each one, and a write per run would double its cost under load.
        let renew = held_until.is_none_or(|until| {
            until.saturating_duration_since(std::time::Instant::now()) < LEASE_TTL / 2
        });
        if renew {
            match lease::acquire(&db, LEASE, holder, Utc::now(), LEASE_TTL_DELTA).await {
                Ok(true) => held_until = Some(std::time::Instant::now() + LEASE_TTL),
                Ok(false) => {
                    held_until = None;
                    continue;
                }
                Err(e) => {
                    held_until = None;
                    tracing::warn!(error = %e, "outbox relay cannot take its lease");
                    continue;
                }
            }
        }
        if let Err(e) = relay_pending(&db, &bus).await {
            tracing::warn!(error = %e, "outbox relay paused; will retry");
        }
        if last_cleanup.elapsed() > Duration::from_secs(3600) {
            last_cleanup = std::time::Instant::now();
            let cutoff = Utc::now() - chrono::Duration::days(1);
            let cleanup = Query::delete()
                .from_table("outbox")
                .and_where(Expr::col("published_at").lt(cutoff))
                .to_owned();
            if let Err(e) = db.execute(&cleanup).await {
                tracing::warn!(error = %e, "outbox cleanup failed");
            }
        }
    }
}

/// Publishes every unpublished row; stops at the first bus failure, leaving the rest for the next try.
pub async fn relay_pending(db: &DatabaseConnection, bus: &EventBus) -> anyhow::Result<usize> {
    let backend = db.get_database_backend();
    let mut total = 0;
    loop {
        let rows = db
            .query_all_raw(stmt(
                backend,
                "SELECT id, topic, seq, payload FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1",
                [(BATCH as i64).into()],
            ))
            .await?;
        let mut sent = Vec::with_capacity(rows.len());
        let mut failure = None;
        for row in &rows {
            let id: i64 = row.try_get("", "id")?;
            let payload: String = row.try_get("", "payload")?;
            let message = BusMessage::new(
                row.try_get::<String>("", "topic")?,
                Some(row.try_get("", "seq")?),
                serde_json::from_str(&payload)?,
            );
            if let Err(e) = bus.publish(message).await {
                failure = Some(e);
                break;
            }
            sent.push(id);
        }
        if !sent.is_empty() {
            let mark = Query::update()
                .table("outbox")
                .value("published_at", Utc::now())
                .and_where(Expr::col("id").is_in(sent.clone()))
                .to_owned();
            db.execute(&mark).await?;
            total += sent.len();
        }
        if let Some(e) = failure {
            return Err(e.into());
        }
        if (rows.len() as u64) < BATCH {
            return Ok(total);
        }
    }
}
