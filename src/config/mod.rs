//! Every setting, validated at start-up into the `Config` the server runs with; declared in `settings`, read from FUNDI_* variables or flags.

mod command_line;
mod rules;
mod settings;
mod table;
#[cfg(test)]
mod tests;
mod values;

pub use command_line::{CommandLineError, Given, for_help};
pub use settings::Settings;
pub use table::{Setting, documented, markdown as settings_markdown};

use clap::{Command, FromArgMatches};
use secrecy::{ExposeSecret, SecretString};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the JWT secret came from; production refuses a generated one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretSource {
    Environment,
    Generated,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub bind: String,
    /// Where /metrics is served instead of the API port, when set.
    pub metrics_bind: Option<String>,
    /// Bearer token /metrics requires, when set.
    pub metrics_token: Option<SecretString>,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Longest a statement waits for a pooled connection before the request fails.
    pub database_acquire_timeout: Duration,
    /// Most connections the pool opens; None leaves it to the backend's default.
    pub database_max_connections: Option<u32>,
    pub redis_url: Option<String>,
    /// The only roots a rediss:// server's certificate may chain to; None trusts the public web roots.
    pub redis_root_cert: Option<RootCertificates>,
    pub redis_channel_prefix: String,
    pub jwt_secret: SecretString,
    pub jwt_secret_source: SecretSource,
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    pub log_filter: String,
    pub log_format: LogFormat,
    /// OTLP/HTTP collector traces are sent to; None sends none.
    pub otlp_endpoint: Option<String>,
    /// Schema introspection, field suggestions in errors and GraphiQL; off by default in production.
    pub introspection: bool,
    pub environment: Environment,
    /// Every replica sees the same data directory, so local uploads are visible to all of them.
    pub data_dir_shared: bool,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Live sessions this replica caches; 0 turns the cache off.
    pub session_cache_entries: usize,
    pub cors_origins: Vec<String>,
    pub max_query_depth: usize,
    pub max_query_complexity: usize,
    pub max_query_selections: u64,
    pub request_timeout: Duration,
    /// Automatic persisted queries kept per replica; 0 turns them off.
    pub persisted_queries: usize,
    pub cors_max_age: Duration,
    pub bookings: BookingSettings,
    pub reviews: ReviewSettings,
    pub realtime: RealtimeSettings,
    /// Where uploaded files go: an S3-compatible bucket, or (None) the local data directory.
    pub s3: Option<S3Config>,
    /// The STRIPE payment method, present only when a secret key is set.
    pub stripe: Option<StripeSettings>,
    /// The RAZORPAY payment method (Orders and Checkout), present only when a key id is set.
    pub razorpay: Option<RazorpaySettings>,
    /// The MPESA payment method (Safaricom Daraja STK Push), present only when a consumer key is set.
    pub mpesa: Option<MpesaSettings>,
    /// Longest wait for one payment-provider API call.
    pub gateway_timeout: Duration,
    /// The API's public origin without a trailing slash; mailed links start with it.
    pub public_url: String,
    /// Lifetime of the invoice PDF link in the customer's email.
    pub invoice_link_secs: i64,
    /// M-Pesa B2C payouts to technicians; present only when its settings are, and needs `mpesa`.
    pub mpesa_b2c: Option<MpesaB2cSettings>,
    pub payouts: PayoutSettings,
    /// Whether HTTP GraphQL responses say in `Server-Timing` how many SQL statements they ran.
    pub server_timing: bool,
    pub abuse: AbuseSettings,
}

/// Who the client is behind a load balancer, and how often one address may run costly operations.
#[derive(Clone, Debug)]
pub struct AbuseSettings {
    pub trusted_proxies: crate::domain::client_address::TrustedProxies,
    pub password_checks_per_minute: u32,
    pub signups_per_hour: u32,
}

/// Daraja B2C (business to customer) credentials payouts are sent with. The OAuth app, API base
/// and callback token are M-Pesa's own settings.
#[derive(Clone, Debug)]
pub struct MpesaB2cSettings {
    pub shortcode: String,
    pub initiator_name: String,
    pub security_credential: SecretString,
    pub command_id: String,
}

/// Withdrawal rules: minimum, holds, PIN lockout, automatic payouts and the key payout accounts
/// are encrypted with.
#[derive(Clone, Debug)]
pub struct PayoutSettings {
    pub min_withdrawal_minor: i64,
    pub method_hold_secs: i64,
    pub pin_max_attempts: i32,
    pub pin_lock_secs: i64,
    pub auto_payouts: bool,
    pub auto_payout_max_minor: i64,
    pub query_after_secs: i64,
    /// AES-256-GCM key for payout account details.
    pub encryption_key: SecretString,
}

/// Safaricom Daraja (M-Pesa STK Push) credentials and where its callback reaches this API.
#[derive(Clone, Debug)]
pub struct MpesaSettings {
    pub consumer_key: String,
    pub consumer_secret: SecretString,
    pub shortcode: String,
    pub passkey: SecretString,
    pub callback_token: SecretString,
    /// Public prefix, without a trailing slash, that `/webhooks/mpesa/<token>` is appended to.
    pub callback_base_url: String,
    /// Daraja's base URL, without a trailing slash.
    pub api_base: String,
}

/// Stripe's API key, the webhook signing secret and where the API lives.
#[derive(Clone, Debug)]
pub struct StripeSettings {
    pub secret_key: SecretString,
    pub webhook_secret: SecretString,
    pub api_base: String,
}

/// Razorpay's API key pair (HTTP Basic; the secret also signs Checkout's answer), the webhook
/// secret and where the API lives.
#[derive(Clone, Debug)]
pub struct RazorpaySettings {
    pub key_id: String,
    pub key_secret: SecretString,
    pub webhook_secret: SecretString,
    pub api_base: String,
}

/// An S3-compatible object store for uploaded files.
#[derive(Clone, Debug)]
pub struct S3Config {
    pub bucket: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
}

/// PEM certificates read from a file at start-up, to be trusted as the only roots of a TLS server.
#[derive(Clone)]
pub struct RootCertificates {
    pub path: PathBuf,
    pub pem: Vec<u8>,
}

impl std::fmt::Debug for RootCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RootCertificates({})", self.path.display())
    }
}

/// A bad setting: the message names the variable and fits on one line.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: String,
    pub message: String,
}

fn err(var: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var: var.into(),
        message: message.into(),
    }
}

pub const MIN_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the process environment; a variable set to nothing (or only spaces) counts as unset.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env_lookup)
    }

    /// Reads settings through `lookup`, so tests can pass their own values without touching the process.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match Self::from_command_line(table::command(), &[], lookup) {
            Ok((config, _)) => Ok(config),
            Err(CommandLineError::Setting(e)) => Err(e),
            Err(CommandLineError::Usage(e)) => Err(err("settings", e.to_string())),
        }
    }

    /// Parses `args` with `command` (which flattens [`Settings`]), settings from `lookup` unless a
    /// flag gives them, then applies the rules across settings. The matches are the command's own.
    pub fn from_command_line(
        command: Command,
        args: &[OsString],
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(Self, clap::ArgMatches), CommandLineError> {
        let (matches, given) = command_line::parse(command, args, lookup)?;
        let settings = Settings::from_arg_matches(&matches).map_err(CommandLineError::Usage)?;
        Ok((Self::from_settings(settings, &given)?, matches))
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// Replicas (Redis configured) keeping uploads on local disks that are not shared: a file
    /// uploaded through one replica is missing on the others. Production refuses this at start-up.
    pub fn uploads_split_across_replicas(&self) -> bool {
        self.redis_url.is_some() && self.s3.is_none() && !self.data_dir_shared
    }

    pub fn jwt_secret_bytes(&self) -> &[u8] {
        self.jwt_secret.expose_secret().as_bytes()
    }
}

/// `args` parsed with `command` as [`Config::from_command_line`] does, without the environment and
/// without the rules across settings: enough to choose a subcommand or print help.
pub fn parse_arguments(
    command: Command,
    args: &[OsString],
) -> Result<clap::ArgMatches, CommandLineError> {
    command_line::parse(command, args, |_| None).map(|(matches, _)| matches)
}

/// The process environment as settings see it: unset, empty and blank are all unset.
pub fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Dispatch, timing and pricing rules for bookings; every number from the product's rules is a setting.
#[derive(Clone, Debug)]
pub struct BookingSettings {
    pub offer_expiry_asap_secs: i64,
    pub offer_expiry_scheduled_secs: i64,
    pub dispatch_candidates: usize,
    pub auto_verify_secs: i64,
    pub earnings_hold_secs: i64,
    pub pricing: crate::domain::pricing::PricingPolicy,
    pub cancellation: crate::domain::cancellation::CancellationPolicy,
}
/// Reviews: how long a finished job stays open for them, when the reminder goes out, and the weight
/// of the platform's mean in a technician's Bayesian average.
#[derive(Clone, Debug)]
pub struct ReviewSettings {
    pub window_secs: i64,
    pub reminder_secs: i64,
    pub prior_weight: u32,
}

/// Chat and live tracking: retention, closing, ETA speed, arrival geofence and trail thinning.
#[derive(Clone, Debug)]
pub struct RealtimeSettings {
    pub chat_retention_days: i64,
    pub chat_close_after_days: i64,
    pub tracking_speed_kmh: f64,
    pub arrival_geofence_m: f64,
    pub trail_interval_secs: i64,
    pub trail_retention_days: i64,
    pub ws_max_subscriptions: usize,
    pub ws_max_sockets_per_account: usize,
}
