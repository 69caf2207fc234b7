//! Database access: connecting, migrating, sea-orm entities and hand-written queries over `&impl ConnectionTrait`.

pub mod accounts;
pub mod batch;
pub mod bookings;
pub mod catalogue;
pub mod chat;
pub mod entities;
pub mod lease;
pub mod matching;
pub mod money;
pub mod notifications;
pub mod platform;
pub mod reviews;
pub mod sql;
pub mod stats;
pub mod stored;
pub mod technicians;
pub mod tracking;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::time::Duration;

/// How long a statement waits for a pooled connection (one free, or a new one opened) by default.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The pool's size and patience.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Most connections open at once; None takes the backend's default (`default_max_connections`).
    pub max_connections: Option<u32>,
    /// Longest a statement waits for a connection.
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_connections: None,
            acquire_timeout: ACQUIRE_TIMEOUT,
        }
    }
}

/// The pool size when none is set: PostgreSQL serves many connections at once; SQLite writes one
/// at a time, so more connections would only queue on its lock.
pub fn default_max_connections(url: &str) -> u32 {
    if url.starts_with("sqlite:") { 8 } else { 20 }
}

/// Opens the pool with the default size and acquire timeout.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, PoolOptions::default()).await
}

/// Opens the pool. SQLite gets WAL and a busy timeout so the embedded default copes with concurrent
/// writers. Past the acquire timeout without a connection (the database unreachable, or every
/// connection busy) a statement fails, and the request with it, rather than waiting on.
pub async fn connect_with(url: &str, pool: PoolOptions) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_file(url)
        && let Some(parent) = std::path::Path::new(&path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", parent.display())))?;
    }
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(
            pool.max_connections
                .unwrap_or_else(|| default_max_connections(url)),
        )
        .min_connections(1)
        .acquire_timeout(pool.acquire_timeout)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    let mut db = Database::connect(options).await?;
    stats::install(&mut db);
    Ok(db)
}

fn sqlite_file(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}

pub async fn migrate_up(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Starts a transaction that will write. On SQLite it takes the write lock up front, so two writers
/// queue on the busy timeout instead of failing when a read lock cannot be upgraded.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Whether the database answers, for readiness checks.
pub async fn ping(db: &impl ConnectionTrait) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

/// Whether an error is a unique-constraint violation, which callers turn into CONFLICT or an idempotent replay.
pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Whether an error means the database could not be reached (connection refused or cut, no pooled
/// connection in time, the server shutting down) rather than that a statement was wrong; requests
/// answer these SERVICE_UNAVAILABLE, as worth retrying.
pub fn is_unavailable(e: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error};
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(cause)) | DbErr::Query(RuntimeErr::SqlxError(cause)) => {
            match cause.as_ref() {
                Error::Io(_)
                | Error::Tls(_)
                | Error::PoolTimedOut
                | Error::PoolClosed
                | Error::WorkerCrashed => true,
                // SQLSTATE class 08 (connection exception) and 57P (operator intervention: the
                // server shutting down or restarting).
                Error::Database(db) => db
                    .code()
                    .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
                _ => false,
            }
        }
        _ => false,
    }
}

/// A connection whose query results can be read as a stream, row by row.
pub trait StreamingConnection: sea_orm::ConnectionTrait + sea_orm::StreamTrait + Send {}

impl<T: sea_orm::ConnectionTrait + sea_orm::StreamTrait + Send> StreamingConnection for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_databases_are_told_apart_from_failed_statements() {
        let timed_out = DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout);
        assert!(is_unavailable(&timed_out));
        let reset = DbErr::Query(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(
            sea_orm::sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into()),
        )));
        assert!(is_unavailable(&reset));
        assert!(!is_unavailable(&DbErr::RecordNotFound("booking".into())));
        assert!(!is_unavailable(&DbErr::Custom("bad statement".into())));
    }
}
