//! Deleting what is kept only for a while: chat messages with their images, and finished jobs'
//! location trails. Safe with many replicas: deletes are idempotent.

use crate::error::AppResult;
use crate::services::{Services, chat::messages, tracking::positions};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the retention job looks for expired data.
const EVERY: Duration = Duration::from_secs(3600);

/// Runs the retention job shortly after start and then hourly until shutdown.
pub fn spawn(services: Services, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut wait = Duration::from_secs(30);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.cancelled() => return,
            }
            wait = EVERY;
            match run(&services).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "retention job removed expired records"),
                Err(e) => tracing::warn!(error = ?e.message(), "retention job failed; will retry"),
            }
        }
    });
}

/// Deletes everything past its retention period now; returns how many records went.
pub async fn run(services: &Services) -> AppResult<usize> {
    Ok(messages::purge_expired(services).await? + positions::purge_expired(services).await?)
}
