//! Assembling the application: services from settings, the HTTP server, and shutdown.

use crate::config::Config;
use crate::gateways::mail::{FileMailer, Mailer, SmtpMailer};
use crate::graphql::build_schema_with;
use crate::graphql::pipeline::persisted_queries::PersistedQueries;
use crate::http::{HttpState, router};
use crate::metrics::Metrics;
use crate::realtime::{EventBus, outbox::OutboxRelay};
use crate::services::{Clock, Services, accounts::tokens::TokenKeys};
use anyhow::Context;
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long in-flight work gets after a stop signal before the process exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The database pool as the settings size it.
pub fn pool_options(config: &Config) -> crate::db::PoolOptions {
    crate::db::PoolOptions {
        max_connections: config.database_max_connections,
        acquire_timeout: config.database_acquire_timeout,
    }
}

/// Connects the database (running pending migrations), the event bus, the outbox relay, the mailer and the file store.
pub async fn build_services(
    config: Config,
    shutdown: &CancellationToken,
) -> anyhow::Result<Services> {
    let db = crate::db::connect_with(&config.database_url, pool_options(&config))
        .await
        .context("FUNDI_DATABASE_URL: cannot open the database")?;
    crate::db::migrate_up(&db)
        .await
        .context("cannot apply database migrations")?;
    // One client for every use of Redis (the bus, shared values, rate limits): same URL, same roots.
    let redis = match &config.redis_url {
        Some(url) => {
            let root_cert = config.redis_root_cert.as_ref().map(|c| c.pem.as_slice());
            Some(crate::realtime::bus::redis_client(url, root_cert).context("FUNDI_REDIS_URL")?)
        }
        None => None,
    };
    let bus = match &redis {
        Some(client) => EventBus::redis(
            client.clone(),
            &config.redis_channel_prefix,
            shutdown.clone(),
        ),
        None => EventBus::in_process(),
    };
    let relay = OutboxRelay::spawn(db.clone(), bus.clone(), shutdown.clone());
    let mailer: Arc<dyn Mailer> = match &config.smtp_url {
        Some(url) => Arc::new(
            SmtpMailer::new(url.expose_secret(), &config.mail_from).context("FUNDI_SMTP_URL")?,
        ),
        None => Arc::new(
            FileMailer::new(config.data_dir.join("mail"), &config.mail_from)
                .context("FUNDI_DATA_DIR: mail directory")?,
        ),
    };
    let tokens = Arc::new(TokenKeys::new(config.jwt_secret_bytes()));
    if config.uploads_split_across_replicas() {
        // Production refuses this in its settings; development only says so.
        tracing::warn!(
            "FUNDI_REDIS_URL is set but uploads stay on this replica's disk: files uploaded through one replica are missing on the others; set FUNDI_S3_BUCKET or FUNDI_DATA_DIR_SHARED=true"
        );
    }
    let storage = crate::services::platform::storage::build(&config)?;
    let clock = Clock::default();
    let mpesa = match &config.mpesa {
        Some(settings) => Some(Arc::new(crate::gateways::mpesa::Mpesa::new(
            settings.clone(),
            config.gateway_timeout,
        )?)),
        None => None,
    };
    let mpesa_b2c = match (&mpesa, &config.mpesa_b2c) {
        (Some(daraja), Some(b2c)) => Some(Arc::new(crate::gateways::mpesa_b2c::MpesaB2c::new(
            daraja.clone(),
            b2c.clone(),
        ))),
        _ => None,
    };
    crate::services::catalogue::categories::seed_defaults(&db, clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("seeding categories: {}", e.message()))?;
    let loading = std::time::Instant::now();
    let matching = crate::services::matching::loading::load_index(&db)
        .await
        .map_err(|e| anyhow::anyhow!("loading technicians: {}", e.message()))?;
    tracing::info!(
        technicians = matching.len(),
        millis = loading.elapsed().as_millis(),
        "matching index loaded"
    );
    let active_categories = crate::services::catalogue::active::ActiveCategories::load(&db)
        .await
        .map_err(|e| anyhow::anyhow!("loading categories: {}", e.message()))?;
    let search_cache = crate::services::matching::search::load_search_cache(&db)
        .await
        .map_err(|e| anyhow::anyhow!("loading matching weights: {}", e.message()))?;
    let config_payout_key = config.payouts.encryption_key.clone();
    let session_cache = Arc::new(crate::services::accounts::session_cache::SessionCache::new(
        config.session_cache_entries,
    ));
    let rate_limits = crate::services::accounts::rate_limits::RateLimits::new(
        &config.abuse,
        redis,
        &config.redis_channel_prefix,
    );
    let services = Services {
        config: Arc::new(config),
        db,
        bus,
        relay,
        mailer,
        clock,
        tokens,
        storage,
        matching: Arc::new(matching),
        active_categories: Arc::new(active_categories),
        search_cache: Arc::new(search_cache),
        tracking: Arc::default(),
        deliveries: Arc::default(),
        mpesa,
        mpesa_b2c,
        vault: Arc::new(
            crate::services::accounts::vault::Vault::new(&config_payout_key)
                .context("FUNDI_PAYOUT_ENCRYPTION_KEY")?,
        ),
        rate_limits: Arc::new(rate_limits),
        session_cache,
    };
    let sealed = crate::services::accounts::totp::seal_plain_secrets(&services.db, &services.vault)
        .await
        .map_err(|e| anyhow::anyhow!("sealing two-factor secrets: {}", e.message()))?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed two-factor secrets stored in plain text");
    }
    crate::services::matching::search::spawn_listener(services.clone(), shutdown.clone());
    crate::services::accounts::session_cache::spawn_listener(services.clone(), shutdown.clone());
    crate::services::matching::search::spawn_cache_listener(services.clone(), shutdown.clone());
    crate::services::bookings::timers::spawn(services.clone(), shutdown.clone());
    crate::services::chat::delivery::spawn(services.clone(), shutdown.clone());
    crate::services::platform::retention::spawn(services.clone(), shutdown.clone());
    Ok(services)
}

/// A server that is accepting connections.
pub struct RunningServer {
    pub addr: SocketAddr,
    /// Where /metrics is served when FUNDI_METRICS_BIND gives it its own listener.
    pub metrics_addr: Option<SocketAddr>,
    pub services: Services,
    pub metrics: Metrics,
    pub shutdown: CancellationToken,
    handle: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting, closes WebSockets with 1001 and waits for in-flight requests, at most the grace period.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until the server has stopped (after `shutdown` is cancelled), bounded by the grace period.
    pub async fn wait(self) -> anyhow::Result<()> {
        let shutdown = self.shutdown.clone();
        let mut handle = self.handle;
        tokio::select! {
            result = &mut handle => return Ok(result??),
            _ = shutdown.cancelled() => {}
        }
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut handle).await {
            Ok(result) => Ok(result??),
            Err(_) => {
                tracing::warn!(
                    "in-flight requests did not finish within the grace period; exiting anyway"
                );
                handle.abort();
                Ok(())
            }
        }
    }
}

pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    let shutdown = CancellationToken::new();
    let bind = config.bind.clone();
    let services = build_services(config, &shutdown).await?;
    start_with(services, &bind, shutdown).await
}

pub async fn start_with(
    services: Services,
    bind: &str,
    shutdown: CancellationToken,
) -> anyhow::Result<RunningServer> {
    let metrics = Metrics::new()?;
    let persisted = Arc::new(PersistedQueries::new(
        services.config.persisted_queries,
        Some(services.bus.clone()),
    ));
    let schema = build_schema_with(
        Some(services.clone()),
        Some(metrics.clone()),
        &services.config,
        persisted.clone(),
    );
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("FUNDI_BIND: cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    let state = HttpState {
        schema,
        services: services.clone(),
        metrics: metrics.clone(),
        config: services.config.clone(),
        shutdown: shutdown.clone(),
        persisted,
        sockets: Arc::default(),
    };
    let metrics_addr = match &services.config.metrics_bind {
        Some(metrics_bind) => Some(serve_metrics(metrics_bind, state.clone(), &shutdown).await?),
        None => None,
    };
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let signal = shutdown.clone().cancelled_owned();
    let handle = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(signal)
            .await
    });
    tracing::info!(%addr, "fundi is listening");
    Ok(RunningServer {
        addr,
        metrics_addr,
        services,
        metrics,
        shutdown,
        handle,
    })
}

/// The dedicated /metrics listener, stopped with the server.
async fn serve_metrics(
    bind: &str,
    state: HttpState,
    shutdown: &CancellationToken,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("FUNDI_METRICS_BIND: cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    let signal = shutdown.clone().cancelled_owned();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, crate::http::metrics::router(state))
            .with_graceful_shutdown(signal)
            .await
        {
            tracing::error!(error = %e, "metrics listener stopped");
        }
    });
    tracing::info!(%addr, "metrics are served here");
    Ok(addr)
}
