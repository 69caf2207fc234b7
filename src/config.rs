//! Every setting, read from FUNDI_* environment variables with embedded defaults and validated at start-up.

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One documented setting: its variable, default and meaning. `fundi --help` prints this table.
pub struct Setting {
    pub var: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

pub const SETTINGS: &[Setting] = &[
    Setting {
        var: "FUNDI_BIND",
        default: "127.0.0.1:8080",
        help: "address and port the API listens on",
    },
    Setting {
        var: "FUNDI_METRICS_BIND",
        default: "(unset: /metrics on FUNDI_BIND)",
        help: "serve /metrics on this address and port instead, e.g. 0.0.0.0:9090, reachable by Prometheus but not published",
    },
    Setting {
        var: "FUNDI_METRICS_TOKEN",
        default: "(unset)",
        help: "require Authorization: Bearer <token> on /metrics; at least 16 characters",
    },
    Setting {
        var: "FUNDI_DATA_DIR",
        default: "./data",
        help: "directory for the SQLite file, generated secrets and mail files",
    },
    Setting {
        var: "FUNDI_DATABASE_URL",
        default: "sqlite://<data dir>/fundi.db",
        help: "sqlite://... or postgres://user:pass@host/db; TLS by ?sslmode=disable|prefer|require|verify-ca|verify-full and &sslrootcert=<CA file>",
    },
    Setting {
        var: "FUNDI_DATABASE_ACQUIRE_TIMEOUT_MS",
        default: "10000",
        help: "longest a request waits for a database connection; past it (the database unreachable, or every connection busy) it fails with SERVICE_UNAVAILABLE",
    },
    Setting {
        var: "FUNDI_REDIS_URL",
        default: "(unset)",
        help: "redis://host:6379 (rediss:// for TLS) to share events across replicas; unset uses the in-process bus",
    },
    Setting {
        var: "FUNDI_REDIS_ROOT_CERT",
        default: "(unset: public web roots)",
        help: "PEM file of the CA(s) a rediss:// server's certificate must chain to, for a private CA; replaces the public roots",
    },
    Setting {
        var: "FUNDI_REDIS_CHANNEL_PREFIX",
        default: "fundi",
        help: "prefix of every Redis pub/sub channel",
    },
    Setting {
        var: "FUNDI_JWT_SECRET",
        default: "(generated in development)",
        help: "HS256 signing secret, at least 32 bytes; required in production",
    },
    Setting {
        var: "FUNDI_SMTP_URL",
        default: "(unset)",
        help: "smtp://user:pass@host:port (STARTTLS with ?tls=required) or smtps://...; unset writes mail as .eml files under <data dir>/mail",
    },
    Setting {
        var: "FUNDI_MAIL_FROM",
        default: "Fundi <no-reply@fundi.local>",
        help: "sender address of outgoing mail",
    },
    Setting {
        var: "FUNDI_LOG",
        default: "info",
        help: "log filter, e.g. info,fundi=debug",
    },
    Setting {
        var: "FUNDI_LOG_FORMAT",
        default: "text",
        help: "text or json",
    },
    Setting {
        var: "FUNDI_OTLP_ENDPOINT",
        default: "(unset: no traces)",
        help: "OTLP/HTTP collector, e.g. http://otel-collector:4318: spans per request, GraphQL operation and database statement go to <endpoint>/v1/traces (protobuf); OTEL_BSP_* tune batching",
    },
    Setting {
        var: "FUNDI_INTROSPECTION",
        default: "true in development, false in production",
        help: "allow schema introspection, field suggestions in errors and the GraphiQL page",
    },
    Setting {
        var: "FUNDI_ENV",
        default: "development",
        help: "development or production (production refuses generated secrets)",
    },
    Setting {
        var: "FUNDI_ACCESS_TOKEN_MINUTES",
        default: "15",
        help: "lifetime of access tokens",
    },
    Setting {
        var: "FUNDI_REFRESH_TOKEN_DAYS",
        default: "30",
        help: "lifetime of refresh tokens",
    },
    Setting {
        var: "FUNDI_CORS_ORIGINS",
        default: "*",
        help: "comma-separated allowed browser origins, or *",
    },
    Setting {
        var: "FUNDI_MAX_QUERY_DEPTH",
        default: "12",
        help: "deepest allowed GraphQL selection",
    },
    Setting {
        var: "FUNDI_MAX_QUERY_COMPLEXITY",
        default: "1000",
        help: "highest allowed GraphQL query complexity",
    },
    Setting {
        var: "FUNDI_MAX_QUERY_SELECTIONS",
        default: "2000",
        help: "most fields one GraphQL document may select once its fragments are expanded",
    },
    Setting {
        var: "FUNDI_REQUEST_TIMEOUT_MS",
        default: "30000",
        help: "time budget of one GraphQL request over HTTP; a query over it is cancelled, a mutation finishes but is answered REQUEST_TIMEOUT",
    },
    Setting {
        var: "FUNDI_PERSISTED_QUERIES",
        default: "1000",
        help: "automatic persisted queries kept in memory per replica (shared through Redis when set); 0 turns them off",
    },
    Setting {
        var: "FUNDI_CORS_MAX_AGE_SECONDS",
        default: "600",
        help: "how long browsers may cache a CORS preflight answer",
    },
    Setting {
        var: "FUNDI_DATA_DIR_SHARED",
        default: "false",
        help: "true when every replica sees the same FUNDI_DATA_DIR (one shared volume, or a single replica); production with FUNDI_REDIS_URL and no FUNDI_S3_BUCKET needs it",
    },
    Setting {
        var: "FUNDI_S3_BUCKET",
        default: "(unset)",
        help: "S3 bucket for uploaded files; unset keeps them under <data dir>/uploads",
    },
    Setting {
        var: "FUNDI_S3_ENDPOINT",
        default: "(AWS)",
        help: "http(s):// endpoint of an S3-compatible store such as MinIO; unset uses AWS",
    },
    Setting {
        var: "FUNDI_S3_REGION",
        default: "us-east-1",
        help: "region of the S3 bucket",
    },
    Setting {
        var: "FUNDI_S3_ACCESS_KEY_ID",
        default: "(unset)",
        help: "S3 access key id; unset uses the instance's role credentials",
    },
    Setting {
        var: "FUNDI_S3_SECRET_ACCESS_KEY",
        default: "(unset)",
        help: "S3 secret access key, set together with FUNDI_S3_ACCESS_KEY_ID",
    },
    Setting {
        var: "FUNDI_STRIPE_SECRET_KEY",
        default: "(unset)",
        help: "Stripe secret API key (sk_...); unset turns the STRIPE payment method off",
    },
    Setting {
        var: "FUNDI_STRIPE_WEBHOOK_SECRET",
        default: "(unset)",
        help: "signing secret (whsec_...) of the Stripe endpoint POST /webhooks/stripe; required with the key",
    },
    Setting {
        var: "FUNDI_STRIPE_API_BASE",
        default: "https://api.stripe.com",
        help: "base URL of the Stripe API (a local mock in tests)",
    },
    Setting {
        var: "FUNDI_GATEWAY_TIMEOUT_SECONDS",
        default: "15",
        help: "longest wait for one call to a payment provider (Stripe, Razorpay, M-Pesa); then it counts as unreachable",
    },
    Setting {
        var: "FUNDI_PUBLIC_URL",
        default: "http://<FUNDI_BIND>",
        help: "the API's public origin, for links sent by mail (invoice PDFs)",
    },
    Setting {
        var: "FUNDI_INVOICE_LINK_DAYS",
        default: "7",
        help: "how long the invoice PDF link mailed to the customer works",
    },
    Setting {
        var: "FUNDI_RAZORPAY_KEY_ID",
        default: "(unset)",
        help: "Razorpay API key id (rzp_...); unset turns the RAZORPAY payment method off",
    },
    Setting {
        var: "FUNDI_RAZORPAY_KEY_SECRET",
        default: "(unset)",
        help: "Razorpay API key secret; required with the key id, also signs Checkout's payment signatures",
    },
    Setting {
        var: "FUNDI_RAZORPAY_WEBHOOK_SECRET",
        default: "(unset)",
        help: "secret of the Razorpay webhook POST /webhooks/razorpay; required with the key id",
    },
    Setting {
        var: "FUNDI_RAZORPAY_API_BASE",
        default: "https://api.razorpay.com",
        help: "base URL of the Razorpay API (a local mock in tests)",
    },
    Setting {
        var: "FUNDI_OFFER_EXPIRY_ASAP_SECONDS",
        default: "120",
        help: "how long a technician has to answer an offer for an as-soon-as-possible job",
    },
    Setting {
        var: "FUNDI_OFFER_EXPIRY_SCHEDULED_SECONDS",
        default: "1800",
        help: "how long a technician has to answer an offer for a scheduled job",
    },
    Setting {
        var: "FUNDI_DISPATCH_CANDIDATES",
        default: "5",
        help: "how many technicians automatic dispatch offers a job to, one at a time",
    },
    Setting {
        var: "FUNDI_AUTO_VERIFY_HOURS",
        default: "48",
        help: "a completed job the customer has not verified is verified by the system after this",
    },
    Setting {
        var: "FUNDI_SURGE_HIGH_BP",
        default: "1000",
        help: "surge for HIGH priority, in basis points (1000 = 10%)",
    },
    Setting {
        var: "FUNDI_SURGE_URGENT_BP",
        default: "2000",
        help: "surge for URGENT priority, in basis points",
    },
    Setting {
        var: "FUNDI_PLATFORM_FEE_BP",
        default: "1500",
        help: "platform's share of the job price, in basis points (the technician gets the rest)",
    },
    Setting {
        var: "FUNDI_TAX_BP",
        default: "0",
        help: "tax (GST/VAT) on the job price, in basis points",
    },
    Setting {
        var: "FUNDI_DEPOSIT_BP",
        default: "2000",
        help: "deposit held in escrow, in basis points of the total (0 disables)",
    },
    Setting {
        var: "FUNDI_EARNINGS_HOLD_HOURS",
        default: "48",
        help: "a technician's earnings stay pending this long (a dispute can still reverse them)",
    },
    Setting {
        var: "FUNDI_CHAT_RETENTION_DAYS",
        default: "90",
        help: "chat messages (and their attachments) older than this are deleted",
    },
    Setting {
        var: "FUNDI_CHAT_CLOSE_AFTER_DAYS",
        default: "7",
        help: "a finished booking's conversation stays readable but takes no new messages after this",
    },
    Setting {
        var: "FUNDI_TRACKING_SPEED_KMH",
        default: "20",
        help: "average travel speed for ETAs (20 km/h = 3 minutes per km; at least 5 minutes)",
    },
    Setting {
        var: "FUNDI_ARRIVAL_GEOFENCE_METERS",
        default: "100",
        help: "a technician en route this close to the job is marked ARRIVED",
    },
    Setting {
        var: "FUNDI_TRAIL_INTERVAL_SECONDS",
        default: "15",
        help: "at most one stored trail point per booking per this many seconds",
    },
    Setting {
        var: "FUNDI_TRAIL_RETENTION_DAYS",
        default: "30",
        help: "a finished booking's location trail is deleted after this",
    },
    Setting {
        var: "FUNDI_WS_MAX_SUBSCRIPTIONS",
        default: "100",
        help: "operations one WebSocket may have open at once; more are refused with RATE_LIMITED",
    },
    Setting {
        var: "FUNDI_WS_MAX_SOCKETS_PER_ACCOUNT",
        default: "20",
        help: "WebSockets one account may hold open on one replica; more are closed with 4429",
    },
    Setting {
        var: "FUNDI_CANCELLATION_TIERS",
        default: "86400:0,21600:2500,7200:5000,0:7500",
        help: "cancellation fee after acceptance: seconds-left-more-than:basis-points, longest first",
    },
    Setting {
        var: "FUNDI_MPESA_CONSUMER_KEY",
        default: "(unset)",
        help: "Safaricom Daraja app consumer key; unset turns the MPESA method off",
    },
    Setting {
        var: "FUNDI_MPESA_CONSUMER_SECRET",
        default: "(unset)",
        help: "Daraja app consumer secret, set together with the key",
    },
    Setting {
        var: "FUNDI_MPESA_SHORTCODE",
        default: "(unset)",
        help: "paybill or till number (BusinessShortCode) customers pay",
    },
    Setting {
        var: "FUNDI_MPESA_PASSKEY",
        default: "(unset)",
        help: "Lipa na M-Pesa Online passkey of the shortcode",
    },
    Setting {
        var: "FUNDI_MPESA_CALLBACK_TOKEN",
        default: "(unset)",
        help: "secret path segment of the callback route /webhooks/mpesa/<token>, at least 16 characters",
    },
    Setting {
        var: "FUNDI_MPESA_CALLBACK_BASE_URL",
        default: "(unset)",
        help: "public https:// prefix Safaricom reaches this API on, e.g. https://api.example.com",
    },
    Setting {
        var: "FUNDI_MPESA_API_BASE",
        default: "https://sandbox.safaricom.co.ke",
        help: "Daraja API base: the sandbox, or https://api.safaricom.co.ke in production",
    },
    Setting {
        var: "FUNDI_WITHDRAWAL_MIN_MINOR",
        default: "10000",
        help: "smallest withdrawal, in minor units of the balance's currency (10000 = 100.00)",
    },
    Setting {
        var: "FUNDI_PAYOUT_METHOD_HOLD_HOURS",
        default: "24",
        help: "after a payout method is changed (not first set), withdrawals wait this long",
    },
    Setting {
        var: "FUNDI_PIN_MAX_ATTEMPTS",
        default: "5",
        help: "wrong withdrawal PINs in a row before withdrawals lock",
    },
    Setting {
        var: "FUNDI_PIN_LOCK_MINUTES",
        default: "15",
        help: "how long withdrawals stay locked after too many wrong PINs",
    },
    Setting {
        var: "FUNDI_AUTO_PAYOUTS",
        default: "false",
        help: "pay PENDING withdrawals below FUNDI_AUTO_PAYOUT_MAX_MINOR without an admin",
    },
    Setting {
        var: "FUNDI_AUTO_PAYOUT_MAX_MINOR",
        default: "500000",
        help: "withdrawals below this (minor units) are paid automatically when auto payouts are on",
    },
    Setting {
        var: "FUNDI_PAYOUT_QUERY_AFTER_MINUTES",
        default: "10",
        help: "a payout still PROCESSING this long after it was sent is asked about at the gateway",
    },
    Setting {
        var: "FUNDI_PAYOUT_ENCRYPTION_KEY",
        default: "(generated in development)",
        help: "32 bytes, base64, that encrypt payout account numbers and two-factor secrets at rest; required in production",
    },
    Setting {
        var: "FUNDI_MPESA_B2C_SHORTCODE",
        default: "(unset)",
        help: "B2C shortcode payouts are sent from; unset (with the two below) turns M-Pesa payouts off",
    },
    Setting {
        var: "FUNDI_MPESA_B2C_INITIATOR_NAME",
        default: "(unset)",
        help: "Daraja B2C initiator (API operator) name",
    },
    Setting {
        var: "FUNDI_MPESA_B2C_SECURITY_CREDENTIAL",
        default: "(unset)",
        help: "the initiator password encrypted with Safaricom's certificate, as Daraja issues it",
    },
    Setting {
        var: "FUNDI_MPESA_B2C_COMMAND_ID",
        default: "BusinessPayment",
        help: "B2C CommandID: BusinessPayment, SalaryPayment or PromotionPayment",
    },
    Setting {
        var: "FUNDI_SERVER_TIMING",
        default: "true in development, false in production",
        help: "send a Server-Timing header with each HTTP GraphQL response: SQL statements run and their time",
    },
    Setting {
        var: "FUNDI_TRUSTED_PROXIES",
        default: "(none)",
        help: "comma-separated CIDRs of load balancers whose X-Forwarded-For names the client",
    },
    Setting {
        var: "FUNDI_PASSWORD_CHECKS_PER_MINUTE",
        default: "20",
        help: "sign-ins and other password or PIN checks allowed per client address per minute",
    },
    Setting {
        var: "FUNDI_SIGNUPS_PER_HOUR",
        default: "10",
        help: "registrations allowed per client address per hour",
    },
];

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
    pub cors_origins: Vec<String>,
    pub max_query_depth: usize,
    pub max_query_complexity: usize,
    pub max_query_selections: u64,
    pub request_timeout: Duration,
    /// Automatic persisted queries kept per replica; 0 turns them off.
    pub persisted_queries: usize,
    pub cors_max_age: Duration,
    pub bookings: BookingSettings,
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

impl AbuseSettings {
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let trusted_proxies = crate::domain::client_address::TrustedProxies::parse(
            &lookup("FUNDI_TRUSTED_PROXIES").unwrap_or_default(),
        )
        .map_err(|e| err("FUNDI_TRUSTED_PROXIES", e))?;
        Ok(AbuseSettings {
            trusted_proxies,
            password_checks_per_minute: parse_num(
                lookup,
                "FUNDI_PASSWORD_CHECKS_PER_MINUTE",
                20,
                1..=1_000_000,
            )? as u32,
            signups_per_hour: parse_num(lookup, "FUNDI_SIGNUPS_PER_HOUR", 10, 1..=1_000_000)?
                as u32,
        })
    }
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
    pub var: &'static str,
    pub message: String,
}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

pub const MIN_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads settings through `lookup`, so tests can pass their own values without touching the process.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let environment = match lookup("FUNDI_ENV").as_deref().unwrap_or("development") {
            "development" | "dev" => Environment::Development,
            "production" | "prod" => Environment::Production,
            other => {
                return Err(err(
                    "FUNDI_ENV",
                    format!("expected development or production, got {other:?}"),
                ));
            }
        };
        let data_dir = PathBuf::from(lookup("FUNDI_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = lookup("FUNDI_DATABASE_URL").unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", data_dir.join("fundi.db").display())
        });
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(err(
                "FUNDI_DATABASE_URL",
                "expected a sqlite: or postgres:// URL",
            ));
        }
        let redis_url = lookup("FUNDI_REDIS_URL");
        if let Some(url) = &redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            return Err(err(
                "FUNDI_REDIS_URL",
                "expected a redis:// or rediss:// URL",
            ));
        }
        let redis_root_cert = redis_root_cert(&lookup, redis_url.as_deref())?;
        let smtp_url = lookup("FUNDI_SMTP_URL");
        if let Some(url) = &smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            return Err(err("FUNDI_SMTP_URL", "expected an smtp:// or smtps:// URL"));
        }
        let log_format = match lookup("FUNDI_LOG_FORMAT").as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(err(
                    "FUNDI_LOG_FORMAT",
                    format!("expected text or json, got {other:?}"),
                ));
            }
        };
        let (jwt_secret, jwt_secret_source) = match lookup("FUNDI_JWT_SECRET") {
            Some(secret) if secret.len() < MIN_SECRET_BYTES => {
                return Err(err(
                    "FUNDI_JWT_SECRET",
                    format!("must be at least {MIN_SECRET_BYTES} bytes long"),
                ));
            }
            Some(secret) => (SecretString::from(secret), SecretSource::Environment),
            None if environment == Environment::Production => {
                return Err(err(
                    "FUNDI_JWT_SECRET",
                    "must be set in production (a generated secret is refused)",
                ));
            }
            None => (load_or_generate_secret(&data_dir)?, SecretSource::Generated),
        };
        let s3 = s3_config(&lookup)?;
        let stripe = stripe_settings(&lookup)?;
        let razorpay = razorpay_settings(&lookup)?;
        let mpesa = mpesa_settings(&lookup)?;
        let bind = lookup("FUNDI_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let public_url = lookup("FUNDI_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim()
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(err(
                "FUNDI_PUBLIC_URL",
                "expected an http:// or https:// URL",
            ));
        }
        let data_dir_shared = parse_bool(&lookup, "FUNDI_DATA_DIR_SHARED", false)?;
        if environment == Environment::Production
            && redis_url.is_some()
            && s3.is_none()
            && !data_dir_shared
        {
            return Err(err(
                "FUNDI_S3_BUCKET",
                "production with FUNDI_REDIS_URL runs as replicas, and an upload kept on one replica's disk is missing on the others: set FUNDI_S3_BUCKET (S3-compatible storage), or FUNDI_DATA_DIR_SHARED=true when every replica mounts the same FUNDI_DATA_DIR or there is only one",
            ));
        }
        let (metrics_bind, metrics_token) = metrics_access(&lookup, &bind)?;
        let otlp_endpoint = lookup("FUNDI_OTLP_ENDPOINT").map(|e| e.trim().to_string());
        if let Some(endpoint) = &otlp_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(err(
                "FUNDI_OTLP_ENDPOINT",
                "expected an http:// or https:// URL (OTLP over HTTP)",
            ));
        }
        let mpesa_b2c = mpesa_b2c_settings(&lookup, mpesa.is_some())?;
        let payouts = payout_settings(&lookup, environment, &data_dir)?;
        Ok(Config {
            bind,
            metrics_bind,
            metrics_token,
            data_dir,
            database_url,
            database_acquire_timeout: Duration::from_millis(parse_num(
                &lookup,
                "FUNDI_DATABASE_ACQUIRE_TIMEOUT_MS",
                10_000,
                100..=120_000,
            )?),
            redis_url,
            redis_root_cert,
            redis_channel_prefix: lookup("FUNDI_REDIS_CHANNEL_PREFIX")
                .unwrap_or_else(|| "fundi".into()),
            jwt_secret,
            jwt_secret_source,
            smtp_url: smtp_url.map(SecretString::from),
            mail_from: lookup("FUNDI_MAIL_FROM")
                .unwrap_or_else(|| "Fundi <no-reply@fundi.local>".into()),
            log_filter: lookup("FUNDI_LOG").unwrap_or_else(|| "info".into()),
            log_format,
            otlp_endpoint,
            // Production hides the schema unless asked: introspection and suggestions map the API for an attacker.
            introspection: parse_bool(
                &lookup,
                "FUNDI_INTROSPECTION",
                environment == Environment::Development,
            )?,
            environment,
            data_dir_shared,
            access_token_ttl: Duration::from_secs(
                60 * parse_num(&lookup, "FUNDI_ACCESS_TOKEN_MINUTES", 15, 1..=1440)?,
            ),
            refresh_token_ttl: Duration::from_secs(
                86_400 * parse_num(&lookup, "FUNDI_REFRESH_TOKEN_DAYS", 30, 1..=365)?,
            ),
            cors_origins: lookup("FUNDI_CORS_ORIGINS")
                .unwrap_or_else(|| "*".into())
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            max_query_depth: parse_num(&lookup, "FUNDI_MAX_QUERY_DEPTH", 12, 2..=64)? as usize,
            max_query_complexity: parse_num(
                &lookup,
                "FUNDI_MAX_QUERY_COMPLEXITY",
                1000,
                10..=100_000,
            )? as usize,
            max_query_selections: parse_num(
                &lookup,
                "FUNDI_MAX_QUERY_SELECTIONS",
                2000,
                10..=1_000_000,
            )?,
            request_timeout: Duration::from_millis(parse_num(
                &lookup,
                "FUNDI_REQUEST_TIMEOUT_MS",
                30_000,
                1..=600_000,
            )?),
            persisted_queries: parse_num(&lookup, "FUNDI_PERSISTED_QUERIES", 1000, 0..=1_000_000)?
                as usize,
            cors_max_age: Duration::from_secs(parse_num(
                &lookup,
                "FUNDI_CORS_MAX_AGE_SECONDS",
                600,
                0..=86_400,
            )?),
            s3,
            stripe,
            razorpay,
            mpesa,
            gateway_timeout: Duration::from_secs(parse_num(
                &lookup,
                "FUNDI_GATEWAY_TIMEOUT_SECONDS",
                15,
                1..=120,
            )?),
            public_url,
            invoice_link_secs: 86_400
                * parse_num(&lookup, "FUNDI_INVOICE_LINK_DAYS", 7, 1..=90)? as i64,
            mpesa_b2c,
            payouts,
            abuse: AbuseSettings::from_lookup(&lookup)?,
            bookings: BookingSettings::from_lookup(&lookup)?,
            realtime: RealtimeSettings::from_lookup(&lookup)?,
            server_timing: parse_bool(
                &lookup,
                "FUNDI_SERVER_TIMING",
                environment != Environment::Production,
            )?,
        })
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

impl BookingSettings {
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let bp = |var: &'static str, default: u64| {
            parse_num(lookup, var, default, 0..=10_000).map(|v| v as u32)
        };
        let pricing = crate::domain::pricing::PricingPolicy {
            high_surge_bp: bp("FUNDI_SURGE_HIGH_BP", 1000)?,
            urgent_surge_bp: bp("FUNDI_SURGE_URGENT_BP", 2000)?,
            platform_fee_bp: bp("FUNDI_PLATFORM_FEE_BP", 1500)?,
            tax_bp: bp("FUNDI_TAX_BP", 0)?,
            deposit_bp: bp("FUNDI_DEPOSIT_BP", 2000)?,
        };
        pricing
            .validate()
            .map_err(|e| err("FUNDI_PLATFORM_FEE_BP", format!("{e:?}")))?;
        Ok(BookingSettings {
            offer_expiry_asap_secs: parse_num(
                lookup,
                "FUNDI_OFFER_EXPIRY_ASAP_SECONDS",
                120,
                10..=86_400,
            )? as i64,
            offer_expiry_scheduled_secs: parse_num(
                lookup,
                "FUNDI_OFFER_EXPIRY_SCHEDULED_SECONDS",
                1800,
                10..=604_800,
            )? as i64,
            dispatch_candidates: parse_num(lookup, "FUNDI_DISPATCH_CANDIDATES", 5, 1..=50)?
                as usize,
            auto_verify_secs: 3600
                * parse_num(lookup, "FUNDI_AUTO_VERIFY_HOURS", 48, 1..=720)? as i64,
            earnings_hold_secs: 3600
                * parse_num(lookup, "FUNDI_EARNINGS_HOLD_HOURS", 48, 0..=720)? as i64,
            pricing,
            cancellation: parse_tiers(lookup("FUNDI_CANCELLATION_TIERS").as_deref())?,
        })
    }
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

impl RealtimeSettings {
    fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(RealtimeSettings {
            chat_retention_days: parse_num(lookup, "FUNDI_CHAT_RETENTION_DAYS", 90, 1..=3650)?
                as i64,
            chat_close_after_days: parse_num(lookup, "FUNDI_CHAT_CLOSE_AFTER_DAYS", 7, 0..=365)?
                as i64,
            tracking_speed_kmh: parse_num(lookup, "FUNDI_TRACKING_SPEED_KMH", 20, 1..=200)? as f64,
            arrival_geofence_m: parse_num(lookup, "FUNDI_ARRIVAL_GEOFENCE_METERS", 100, 10..=5000)?
                as f64,
            trail_interval_secs: parse_num(lookup, "FUNDI_TRAIL_INTERVAL_SECONDS", 15, 1..=3600)?
                as i64,
            trail_retention_days: parse_num(lookup, "FUNDI_TRAIL_RETENTION_DAYS", 30, 1..=3650)?
                as i64,
            ws_max_subscriptions: parse_num(lookup, "FUNDI_WS_MAX_SUBSCRIPTIONS", 100, 1..=10_000)?
                as usize,
            ws_max_sockets_per_account: parse_num(
                lookup,
                "FUNDI_WS_MAX_SOCKETS_PER_ACCOUNT",
                20,
                1..=1_000,
            )? as usize,
        })
    }
}

fn parse_tiers(
    raw: Option<&str>,
) -> Result<crate::domain::cancellation::CancellationPolicy, ConfigError> {
    use crate::domain::cancellation::{CancellationPolicy, FeeTier};
    let Some(raw) = raw else {
        return Ok(CancellationPolicy::default());
    };
    let bad = || {
        err(
            "FUNDI_CANCELLATION_TIERS",
            "expected seconds:basis-points pairs, longest first, ending with 0:bp",
        )
    };
    let mut pairs = Vec::new();
    for part in raw.split(',') {
        let (secs, bp) = part.trim().split_once(':').ok_or_else(bad)?;
        pairs.push((
            secs.trim().parse::<i64>().map_err(|_| bad())?,
            bp.trim().parse::<u32>().map_err(|_| bad())?,
        ));
    }
    let (last_secs, otherwise) = pairs.pop().ok_or_else(bad)?;
    if last_secs != 0 {
        return Err(bad());
    }
    let policy = CancellationPolicy {
        tiers: pairs
            .into_iter()
            .map(|(more_than_secs, fee_bp)| FeeTier {
                more_than_secs,
                fee_bp,
            })
            .collect(),
        otherwise_fee_bp: otherwise,
    };
    policy.validate().map_err(|_| bad())?;
    Ok(policy)
}

/// The private root(s) of a rediss:// server, read and checked now so that a missing or wrong file
/// stops start-up instead of every later connection. Without a TLS URL the file would be ignored,
/// so that is refused as well.
fn redis_root_cert(
    lookup: &impl Fn(&str) -> Option<String>,
    redis_url: Option<&str>,
) -> Result<Option<RootCertificates>, ConfigError> {
    const VAR: &str = "FUNDI_REDIS_ROOT_CERT";
    let Some(path) = lookup(VAR).map(|p| PathBuf::from(p.trim())) else {
        return Ok(None);
    };
    let Some(url) = redis_url.filter(|url| url.starts_with("rediss://")) else {
        return Err(err(
            VAR,
            "needs a rediss:// FUNDI_REDIS_URL (the root certificate checks TLS connections only)",
        ));
    };
    let pem = std::fs::read(&path)
        .map_err(|e| err(VAR, format!("cannot read {}: {e}", path.display())))?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err(err(
            VAR,
            format!("{} holds no PEM certificate", path.display()),
        ));
    }
    redis::Client::open(url).map_err(|e| err("FUNDI_REDIS_URL", e.to_string()))?;
    // The client parses the file the same way when it connects; a malformed one is named now.
    let certificates = redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(pem.clone()),
    };
    redis::Client::build_with_tls(url, certificates)
        .map_err(|e| err(VAR, format!("{}: {e}", path.display())))?;
    Ok(Some(RootCertificates { path, pem }))
}

/// Where /metrics is served and the token it needs. Its own address must differ from the API's, or
/// both listeners would fight over one port.
fn metrics_access(
    lookup: &impl Fn(&str) -> Option<String>,
    api_bind: &str,
) -> Result<(Option<String>, Option<SecretString>), ConfigError> {
    let bind = lookup("FUNDI_METRICS_BIND").map(|b| b.trim().to_string());
    if let Some(bind) = &bind {
        if !bind.contains(':') {
            return Err(err("FUNDI_METRICS_BIND", "expected host:port"));
        }
        if bind == api_bind && !bind.ends_with(":0") {
            return Err(err(
                "FUNDI_METRICS_BIND",
                "must differ from FUNDI_BIND (leave it unset to serve /metrics on the API port)",
            ));
        }
    }
    let token = lookup("FUNDI_METRICS_TOKEN").map(|t| t.trim().to_string());
    if let Some(token) = &token
        && token.len() < 16
    {
        return Err(err("FUNDI_METRICS_TOKEN", "must be at least 16 characters"));
    }
    Ok((bind, token.map(SecretString::from)))
}

/// Stripe, present only when a secret key is set. The webhook secret is required with it: without
/// webhooks no Stripe payment would ever complete, and a lone webhook secret is a typo'd key.
fn stripe_settings(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<StripeSettings>, ConfigError> {
    let key = lookup("FUNDI_STRIPE_SECRET_KEY");
    let webhook_secret = lookup("FUNDI_STRIPE_WEBHOOK_SECRET");
    let api_base = lookup("FUNDI_STRIPE_API_BASE");
    let Some(key) = key else {
        if webhook_secret.is_some() || api_base.is_some() {
            return Err(err(
                "FUNDI_STRIPE_SECRET_KEY",
                "must be set when other FUNDI_STRIPE_ settings are",
            ));
        }
        return Ok(None);
    };
    let webhook_secret = webhook_secret.ok_or_else(|| {
        err(
            "FUNDI_STRIPE_WEBHOOK_SECRET",
            "must be set together with FUNDI_STRIPE_SECRET_KEY",
        )
    })?;
    let api_base = api_base.unwrap_or_else(|| "https://api.stripe.com".into());
    if !(api_base.starts_with("http://") || api_base.starts_with("https://")) {
        return Err(err(
            "FUNDI_STRIPE_API_BASE",
            "expected an http:// or https:// URL",
        ));
    }
    Ok(Some(StripeSettings {
        secret_key: SecretString::from(key.trim().to_string()),
        webhook_secret: SecretString::from(webhook_secret.trim().to_string()),
        api_base: api_base.trim().trim_end_matches('/').to_string(),
    }))
}

/// Razorpay, present only when a key id is set; then the key secret and the webhook secret are
/// required too, for the same reasons as Stripe's: a payment whose app never verifies it completes
/// only by webhook, and a lone secret is a typo'd key id.
fn razorpay_settings(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<RazorpaySettings>, ConfigError> {
    let key_id = lookup("FUNDI_RAZORPAY_KEY_ID");
    let key_secret = lookup("FUNDI_RAZORPAY_KEY_SECRET");
    let webhook_secret = lookup("FUNDI_RAZORPAY_WEBHOOK_SECRET");
    let api_base = lookup("FUNDI_RAZORPAY_API_BASE");
    let Some(key_id) = key_id else {
        if key_secret.is_some() || webhook_secret.is_some() || api_base.is_some() {
            return Err(err(
                "FUNDI_RAZORPAY_KEY_ID",
                "must be set when other FUNDI_RAZORPAY_ settings are",
            ));
        }
        return Ok(None);
    };
    let key_secret = key_secret.ok_or_else(|| {
        err(
            "FUNDI_RAZORPAY_KEY_SECRET",
            "must be set together with FUNDI_RAZORPAY_KEY_ID",
        )
    })?;
    let webhook_secret = webhook_secret.ok_or_else(|| {
        err(
            "FUNDI_RAZORPAY_WEBHOOK_SECRET",
            "must be set together with FUNDI_RAZORPAY_KEY_ID",
        )
    })?;
    let api_base = api_base.unwrap_or_else(|| "https://api.razorpay.com".into());
    if !(api_base.starts_with("http://") || api_base.starts_with("https://")) {
        return Err(err(
            "FUNDI_RAZORPAY_API_BASE",
            "expected an http:// or https:// URL",
        ));
    }
    Ok(Some(RazorpaySettings {
        key_id: key_id.trim().to_string(),
        key_secret: SecretString::from(key_secret.trim().to_string()),
        webhook_secret: SecretString::from(webhook_secret.trim().to_string()),
        api_base: api_base.trim().trim_end_matches('/').to_string(),
    }))
}

/// The S3 settings, present only when a bucket is named. Keys come in pairs, and settings without a
/// bucket are refused rather than ignored, so a typo cannot silently leave uploads on local disk.
fn s3_config(lookup: &impl Fn(&str) -> Option<String>) -> Result<Option<S3Config>, ConfigError> {
    let endpoint = lookup("FUNDI_S3_ENDPOINT");
    let region = lookup("FUNDI_S3_REGION");
    let access_key_id = lookup("FUNDI_S3_ACCESS_KEY_ID");
    let secret_access_key = lookup("FUNDI_S3_SECRET_ACCESS_KEY");
    let Some(bucket) = lookup("FUNDI_S3_BUCKET") else {
        if endpoint.is_some() || access_key_id.is_some() || secret_access_key.is_some() {
            return Err(err(
                "FUNDI_S3_BUCKET",
                "must be set when other FUNDI_S3_ settings are",
            ));
        }
        return Ok(None);
    };
    if let Some(url) = &endpoint
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(err(
            "FUNDI_S3_ENDPOINT",
            "expected an http:// or https:// URL",
        ));
    }
    match (&access_key_id, &secret_access_key) {
        (Some(_), None) => {
            return Err(err(
                "FUNDI_S3_SECRET_ACCESS_KEY",
                "must be set together with FUNDI_S3_ACCESS_KEY_ID",
            ));
        }
        (None, Some(_)) => {
            return Err(err(
                "FUNDI_S3_ACCESS_KEY_ID",
                "must be set together with FUNDI_S3_SECRET_ACCESS_KEY",
            ));
        }
        _ => {}
    }
    Ok(Some(S3Config {
        bucket: bucket.trim().to_string(),
        endpoint,
        region: region.unwrap_or_else(|| "us-east-1".into()),
        access_key_id,
        secret_access_key: secret_access_key.map(SecretString::from),
    }))
}

/// The M-Pesa settings, present only when a consumer key is set; then every other one but the API
/// base is required, so a half-configured gateway fails at start-up rather than at a customer's payment.
fn mpesa_settings(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<Option<MpesaSettings>, ConfigError> {
    let Some(consumer_key) = lookup("FUNDI_MPESA_CONSUMER_KEY") else {
        return Ok(None);
    };
    let required = |var: &'static str| {
        lookup(var)
            .map(|v| v.trim().to_string())
            .ok_or_else(|| err(var, "must be set when FUNDI_MPESA_CONSUMER_KEY is"))
    };
    let consumer_secret = required("FUNDI_MPESA_CONSUMER_SECRET")?;
    let shortcode = required("FUNDI_MPESA_SHORTCODE")?;
    if shortcode.is_empty() || !shortcode.chars().all(|c| c.is_ascii_digit()) {
        return Err(err("FUNDI_MPESA_SHORTCODE", "expected digits"));
    }
    let passkey = required("FUNDI_MPESA_PASSKEY")?;
    let callback_token = required("FUNDI_MPESA_CALLBACK_TOKEN")?;
    // The token is the callback's only credential (Daraja does not sign callbacks), so it must be unguessable.
    if callback_token.len() < 16
        || !callback_token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(err(
            "FUNDI_MPESA_CALLBACK_TOKEN",
            "expected at least 16 letters, digits, - or _",
        ));
    }
    let http_url = |var: &'static str, value: String| {
        if value.starts_with("http://") || value.starts_with("https://") {
            Ok(value.trim_end_matches('/').to_string())
        } else {
            Err(err(var, "expected an http:// or https:// URL"))
        }
    };
    let callback_base_url = http_url(
        "FUNDI_MPESA_CALLBACK_BASE_URL",
        required("FUNDI_MPESA_CALLBACK_BASE_URL")?,
    )?;
    let api_base = http_url(
        "FUNDI_MPESA_API_BASE",
        lookup("FUNDI_MPESA_API_BASE").unwrap_or_else(|| "https://sandbox.safaricom.co.ke".into()),
    )?;
    Ok(Some(MpesaSettings {
        consumer_key: consumer_key.trim().to_string(),
        consumer_secret: SecretString::from(consumer_secret),
        shortcode,
        passkey: SecretString::from(passkey),
        callback_token: SecretString::from(callback_token),
        callback_base_url,
        api_base,
    }))
}

/// B2C payouts, present only when its shortcode is set; then the initiator and credential are
/// required too, and so is the M-Pesa app they authenticate through.
fn mpesa_b2c_settings(
    lookup: &impl Fn(&str) -> Option<String>,
    mpesa_configured: bool,
) -> Result<Option<MpesaB2cSettings>, ConfigError> {
    let Some(shortcode) = lookup("FUNDI_MPESA_B2C_SHORTCODE") else {
        return Ok(None);
    };
    let shortcode = shortcode.trim().to_string();
    if shortcode.is_empty() || !shortcode.chars().all(|c| c.is_ascii_digit()) {
        return Err(err("FUNDI_MPESA_B2C_SHORTCODE", "expected digits"));
    }
    if !mpesa_configured {
        return Err(err(
            "FUNDI_MPESA_B2C_SHORTCODE",
            "needs the M-Pesa app settings (FUNDI_MPESA_CONSUMER_KEY and the rest)",
        ));
    }
    let required = |var: &'static str| {
        lookup(var)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| err(var, "must be set when FUNDI_MPESA_B2C_SHORTCODE is"))
    };
    let initiator_name = required("FUNDI_MPESA_B2C_INITIATOR_NAME")?;
    let security_credential = required("FUNDI_MPESA_B2C_SECURITY_CREDENTIAL")?;
    let command_id =
        lookup("FUNDI_MPESA_B2C_COMMAND_ID").unwrap_or_else(|| "BusinessPayment".into());
    if !matches!(
        command_id.as_str(),
        "BusinessPayment" | "SalaryPayment" | "PromotionPayment"
    ) {
        return Err(err(
            "FUNDI_MPESA_B2C_COMMAND_ID",
            "expected BusinessPayment, SalaryPayment or PromotionPayment",
        ));
    }
    Ok(Some(MpesaB2cSettings {
        shortcode,
        initiator_name,
        security_credential: SecretString::from(security_credential),
        command_id,
    }))
}

fn payout_settings(
    lookup: &impl Fn(&str) -> Option<String>,
    environment: Environment,
    data_dir: &Path,
) -> Result<PayoutSettings, ConfigError> {
    let encryption_key = match lookup("FUNDI_PAYOUT_ENCRYPTION_KEY") {
        Some(key) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(key.trim())
                .map_err(|_| err("FUNDI_PAYOUT_ENCRYPTION_KEY", "expected base64"))?;
            if decoded.len() != 32 {
                return Err(err(
                    "FUNDI_PAYOUT_ENCRYPTION_KEY",
                    "expected exactly 32 bytes once decoded",
                ));
            }
            SecretString::from(key.trim().to_string())
        }
        None if environment == Environment::Production => {
            return Err(err(
                "FUNDI_PAYOUT_ENCRYPTION_KEY",
                "must be set in production (a generated key is refused)",
            ));
        }
        None => load_or_generate_key(data_dir)?,
    };
    Ok(PayoutSettings {
        min_withdrawal_minor: parse_num(
            lookup,
            "FUNDI_WITHDRAWAL_MIN_MINOR",
            10_000,
            1..=1_000_000_000,
        )? as i64,
        method_hold_secs: 3600
            * parse_num(lookup, "FUNDI_PAYOUT_METHOD_HOLD_HOURS", 24, 0..=720)? as i64,
        pin_max_attempts: parse_num(lookup, "FUNDI_PIN_MAX_ATTEMPTS", 5, 1..=20)? as i32,
        pin_lock_secs: 60 * parse_num(lookup, "FUNDI_PIN_LOCK_MINUTES", 15, 1..=1440)? as i64,
        auto_payouts: parse_bool(lookup, "FUNDI_AUTO_PAYOUTS", false)?,
        auto_payout_max_minor: parse_num(
            lookup,
            "FUNDI_AUTO_PAYOUT_MAX_MINOR",
            500_000,
            0..=1_000_000_000_000,
        )? as i64,
        query_after_secs: 60
            * parse_num(lookup, "FUNDI_PAYOUT_QUERY_AFTER_MINUTES", 10, 1..=1440)? as i64,
        encryption_key,
    })
}

/// Development convenience, like the JWT secret: a random payout key kept in the data directory.
fn load_or_generate_key(data_dir: &Path) -> Result<SecretString, ConfigError> {
    let path = data_dir.join("payout-key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_string();
        if base64::engine::general_purpose::STANDARD
            .decode(&existing)
            .is_ok_and(|k| k.len() == 32)
        {
            return Ok(SecretString::from(existing));
        }
    }
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let key = base64::engine::general_purpose::STANDARD.encode(bytes);
    std::fs::create_dir_all(data_dir)
        .and_then(|_| write_private(&path, &key))
        .map_err(|e| {
            err(
                "FUNDI_DATA_DIR",
                format!(
                    "cannot store the generated payout key at {}: {e}",
                    path.display()
                ),
            )
        })?;
    Ok(SecretString::from(key))
}

fn parse_bool(
    lookup: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match lookup(var).map(|v| v.to_ascii_lowercase()).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "on" | "yes") => Ok(true),
        Some("0" | "false" | "off" | "no") => Ok(false),
        Some(other) => Err(err(var, format!("expected true or false, got {other:?}"))),
    }
}

fn parse_num(
    lookup: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let Some(raw) = lookup(var) else {
        return Ok(default);
    };
    let value: u64 = raw
        .trim()
        .parse()
        .map_err(|_| err(var, format!("expected a whole number, got {raw:?}")))?;
    if !range.contains(&value) {
        return Err(err(
            var,
            format!("must be between {} and {}", range.start(), range.end()),
        ));
    }
    Ok(value)
}

/// Development convenience: a random secret kept in the data directory so tokens survive restarts.
fn load_or_generate_secret(data_dir: &Path) -> Result<SecretString, ConfigError> {
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_string();
        if existing.len() >= MIN_SECRET_BYTES {
            return Ok(SecretString::from(existing));
        }
    }
    let mut bytes = [0u8; 48];
    rand::fill(&mut bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    std::fs::create_dir_all(data_dir)
        .and_then(|_| write_private(&path, &secret))
        .map_err(|e| {
            err(
                "FUNDI_DATA_DIR",
                format!(
                    "cannot store the generated JWT secret at {}: {e}",
                    path.display()
                ),
            )
        })?;
    Ok(SecretString::from(secret))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(move |name| map.get(name).cloned())
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let dir = std::env::temp_dir().join(format!("fundi-config-{}", uuid::Uuid::now_v7()));
        let c = config(&[("FUNDI_DATA_DIR", dir.to_str().unwrap())]).unwrap();
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert!(c.database_url.starts_with("sqlite://"));
        assert!(c.redis_url.is_none());
        assert!(c.introspection);
        assert_eq!(c.jwt_secret_source, SecretSource::Generated);
        assert_eq!(c.access_token_ttl, Duration::from_secs(900));
        let again = config(&[("FUNDI_DATA_DIR", dir.to_str().unwrap())]).unwrap();
        assert_eq!(
            c.jwt_secret.expose_secret(),
            again.jwt_secret.expose_secret(),
            "generated secret survives restarts"
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn short_jwt_secret_is_refused_naming_the_variable() {
        let e = config(&[("FUNDI_JWT_SECRET", "short")]).unwrap_err();
        assert_eq!(e.var, "FUNDI_JWT_SECRET");
    }

    #[test]
    fn production_refuses_a_generated_secret() {
        let e = config(&[("FUNDI_ENV", "production")]).unwrap_err();
        assert_eq!(e.var, "FUNDI_JWT_SECRET");
        let with_jwt = [("FUNDI_ENV", "production"), ("FUNDI_JWT_SECRET", SECRET)];
        let e = config(&with_jwt).unwrap_err();
        assert_eq!(e.var, "FUNDI_PAYOUT_ENCRYPTION_KEY");
        let key = base64::engine::general_purpose::STANDARD.encode([3u8; 32]);
        let complete = [
            ("FUNDI_ENV", "production"),
            ("FUNDI_JWT_SECRET", SECRET),
            ("FUNDI_PAYOUT_ENCRYPTION_KEY", key.as_str()),
        ];
        assert!(config(&complete).is_ok());
    }

    /// 32 bytes of 3, base64.
    const PAYOUT_KEY: &str = "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=";

    fn production(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        let mut vars = vec![
            ("FUNDI_ENV", "production"),
            ("FUNDI_JWT_SECRET", SECRET),
            ("FUNDI_PAYOUT_ENCRYPTION_KEY", PAYOUT_KEY),
        ];
        vars.extend_from_slice(extra);
        config(&vars)
    }

    #[test]
    fn production_hides_the_schema_unless_introspection_is_asked_for() {
        assert!(!production(&[]).unwrap().introspection);
        assert!(
            production(&[("FUNDI_INTROSPECTION", "true")])
                .unwrap()
                .introspection
        );
        let dir = std::env::temp_dir().join(format!("fundi-config-{}", uuid::Uuid::now_v7()));
        let development = config(&[
            ("FUNDI_JWT_SECRET", SECRET),
            ("FUNDI_DATA_DIR", dir.to_str().unwrap()),
        ])
        .unwrap();
        assert!(development.introspection);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn production_replicas_need_shared_upload_storage() {
        let redis = ("FUNDI_REDIS_URL", "redis://cache:6379");
        let e = production(&[redis]).unwrap_err();
        assert_eq!(e.var, "FUNDI_S3_BUCKET");
        assert!(e.message.contains("FUNDI_DATA_DIR_SHARED"), "{e}");
        assert!(production(&[redis, ("FUNDI_S3_BUCKET", "uploads")]).is_ok());
        assert!(production(&[redis, ("FUNDI_DATA_DIR_SHARED", "true")]).is_ok());
        assert!(
            production(&[]).is_ok(),
            "one server without Redis keeps local uploads"
        );
        let development = config(&[("FUNDI_JWT_SECRET", SECRET), redis]).unwrap();
        assert!(
            development.uploads_split_across_replicas(),
            "development starts, and warns"
        );
    }

    #[test]
    fn metrics_settings_are_checked() {
        let base = ("FUNDI_JWT_SECRET", SECRET);
        for (var, value) in [
            ("FUNDI_METRICS_BIND", "9090"),
            ("FUNDI_METRICS_BIND", "127.0.0.1:8080"),
            ("FUNDI_METRICS_TOKEN", "short"),
        ] {
            assert_eq!(
                config(&[base, (var, value)]).unwrap_err().var,
                var,
                "{value}"
            );
        }
        let c = config(&[
            base,
            ("FUNDI_METRICS_BIND", "0.0.0.0:9090"),
            ("FUNDI_METRICS_TOKEN", "scrape-token-0123456789"),
        ])
        .unwrap();
        assert_eq!(c.metrics_bind.as_deref(), Some("0.0.0.0:9090"));
        assert!(c.metrics_token.is_some());
    }

    #[test]
    fn server_timing_is_on_in_development_and_off_in_production_unless_set() {
        assert!(
            config(&[("FUNDI_JWT_SECRET", SECRET)])
                .unwrap()
                .server_timing
        );
        let key = base64::engine::general_purpose::STANDARD.encode([3u8; 32]);
        let production = [
            ("FUNDI_ENV", "production"),
            ("FUNDI_JWT_SECRET", SECRET),
            ("FUNDI_PAYOUT_ENCRYPTION_KEY", key.as_str()),
        ];
        assert!(!config(&production).unwrap().server_timing);
        let mut asked = production.to_vec();
        asked.push(("FUNDI_SERVER_TIMING", "true"));
        assert!(config(&asked).unwrap().server_timing);
        let off = [("FUNDI_JWT_SECRET", SECRET), ("FUNDI_SERVER_TIMING", "off")];
        assert!(!config(&off).unwrap().server_timing);
    }

    #[test]
    fn the_payout_key_must_be_32_bytes_of_base64() {
        for bad in ["not base64!", "c2hvcnQ="] {
            let e = config(&[
                ("FUNDI_JWT_SECRET", SECRET),
                ("FUNDI_PAYOUT_ENCRYPTION_KEY", bad),
            ])
            .unwrap_err();
            assert_eq!(e.var, "FUNDI_PAYOUT_ENCRYPTION_KEY", "{bad}");
        }
    }

    #[test]
    fn b2c_payouts_need_the_mpesa_app_and_their_credentials() {
        let e = config(&[
            ("FUNDI_JWT_SECRET", SECRET),
            ("FUNDI_MPESA_B2C_SHORTCODE", "600000"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "FUNDI_MPESA_B2C_SHORTCODE");
        assert!(
            config(&[("FUNDI_JWT_SECRET", SECRET)])
                .unwrap()
                .mpesa_b2c
                .is_none()
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("FUNDI_ENV", "staging"),
            ("FUNDI_LOG_FORMAT", "xml"),
            ("FUNDI_INTROSPECTION", "maybe"),
            ("FUNDI_DATABASE_URL", "mysql://x"),
            ("FUNDI_REDIS_URL", "http://x"),
            ("FUNDI_SMTP_URL", "http://x"),
            ("FUNDI_ACCESS_TOKEN_MINUTES", "0"),
        ] {
            let e = config(&[("FUNDI_JWT_SECRET", SECRET), (var, value)]).unwrap_err();
            assert_eq!(e.var, var, "{var}={value}");
        }
    }

    #[test]
    fn s3_settings_need_a_bucket_and_paired_keys() {
        let base = [("FUNDI_JWT_SECRET", SECRET)];
        assert!(config(&base).unwrap().s3.is_none());
        let s3 = config(&[
            base[0],
            ("FUNDI_S3_BUCKET", "kyc"),
            ("FUNDI_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("FUNDI_S3_ACCESS_KEY_ID", "id"),
            ("FUNDI_S3_SECRET_ACCESS_KEY", "secret"),
        ])
        .unwrap()
        .s3
        .unwrap();
        assert_eq!(
            (s3.bucket.as_str(), s3.region.as_str()),
            ("kyc", "us-east-1")
        );
        let e = config(&[
            base[0],
            ("FUNDI_S3_BUCKET", "kyc"),
            ("FUNDI_S3_ACCESS_KEY_ID", "id"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "FUNDI_S3_SECRET_ACCESS_KEY");
        let e = config(&[
            base[0],
            ("FUNDI_S3_BUCKET", "kyc"),
            ("FUNDI_S3_ENDPOINT", "minio:9000"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "FUNDI_S3_ENDPOINT");
        let e = config(&[base[0], ("FUNDI_S3_ENDPOINT", "http://127.0.0.1:9000")]).unwrap_err();
        assert_eq!(e.var, "FUNDI_S3_BUCKET");
    }

    #[test]
    fn stripe_needs_its_key_and_webhook_secret_together() {
        let base = [("FUNDI_JWT_SECRET", SECRET)];
        assert!(config(&base).unwrap().stripe.is_none());
        let stripe = config(&[
            base[0],
            ("FUNDI_STRIPE_SECRET_KEY", "sk_test_1"),
            ("FUNDI_STRIPE_WEBHOOK_SECRET", "whsec_1"),
        ])
        .unwrap()
        .stripe
        .unwrap();
        assert_eq!(stripe.api_base, "https://api.stripe.com");
        let e = config(&[base[0], ("FUNDI_STRIPE_SECRET_KEY", "sk_test_1")]).unwrap_err();
        assert_eq!(e.var, "FUNDI_STRIPE_WEBHOOK_SECRET");
        let e = config(&[base[0], ("FUNDI_STRIPE_WEBHOOK_SECRET", "whsec_1")]).unwrap_err();
        assert_eq!(e.var, "FUNDI_STRIPE_SECRET_KEY");
        let e = config(&[
            base[0],
            ("FUNDI_STRIPE_SECRET_KEY", "sk_test_1"),
            ("FUNDI_STRIPE_WEBHOOK_SECRET", "whsec_1"),
            ("FUNDI_STRIPE_API_BASE", "api.stripe.com"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "FUNDI_STRIPE_API_BASE");
    }

    #[test]
    fn razorpay_needs_its_key_pair_and_webhook_secret_together() {
        let base = [("FUNDI_JWT_SECRET", SECRET)];
        assert!(config(&base).unwrap().razorpay.is_none());
        let full = [
            base[0],
            ("FUNDI_RAZORPAY_KEY_ID", "rzp_test_1"),
            ("FUNDI_RAZORPAY_KEY_SECRET", "secret"),
            ("FUNDI_RAZORPAY_WEBHOOK_SECRET", "whsecret"),
        ];
        let razorpay = config(&full).unwrap().razorpay.unwrap();
        assert_eq!(razorpay.api_base, "https://api.razorpay.com");
        assert_eq!(razorpay.key_id, "rzp_test_1");
        assert_eq!(
            config(&full[..2]).unwrap_err().var,
            "FUNDI_RAZORPAY_KEY_SECRET"
        );
        assert_eq!(
            config(&full[..3]).unwrap_err().var,
            "FUNDI_RAZORPAY_WEBHOOK_SECRET"
        );
        assert_eq!(
            config(&[base[0], full[3]]).unwrap_err().var,
            "FUNDI_RAZORPAY_KEY_ID"
        );
        let mut bad_base = full.to_vec();
        bad_base.push(("FUNDI_RAZORPAY_API_BASE", "api.razorpay.com"));
        assert_eq!(
            config(&bad_base).unwrap_err().var,
            "FUNDI_RAZORPAY_API_BASE"
        );
    }

    #[test]
    fn mpesa_settings_are_all_or_nothing() {
        let base = [("FUNDI_JWT_SECRET", SECRET)];
        assert!(config(&base).unwrap().mpesa.is_none());
        let full = [
            base[0],
            ("FUNDI_MPESA_CONSUMER_KEY", "key"),
            ("FUNDI_MPESA_CONSUMER_SECRET", "secret"),
            ("FUNDI_MPESA_SHORTCODE", "174379"),
            ("FUNDI_MPESA_PASSKEY", "passkey"),
            ("FUNDI_MPESA_CALLBACK_TOKEN", "0123456789abcdef"),
            ("FUNDI_MPESA_CALLBACK_BASE_URL", "https://api.example.com/"),
        ];
        let mpesa = config(&full).unwrap().mpesa.unwrap();
        assert_eq!(mpesa.api_base, "https://sandbox.safaricom.co.ke");
        assert_eq!(mpesa.callback_base_url, "https://api.example.com");
        let e = config(&full[..3]).unwrap_err();
        assert_eq!(e.var, "FUNDI_MPESA_SHORTCODE");
        let mut short_token = full;
        short_token[5].1 = "short";
        assert_eq!(
            config(&short_token).unwrap_err().var,
            "FUNDI_MPESA_CALLBACK_TOKEN"
        );
    }

    #[test]
    fn a_redis_root_certificate_needs_a_tls_url_and_a_certificate_file() {
        let dir = tempfile_dir();
        let pem = dir.join("ca.pem");
        // Any certificate will do for parsing; this one is a self-signed test CA.
        std::fs::write(&pem, TEST_CA_PEM).unwrap();
        let not_pem = dir.join("key.txt");
        std::fs::write(&not_pem, "not a certificate").unwrap();
        let garbled = dir.join("garbled.pem");
        let body = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        std::fs::write(&garbled, body).unwrap();
        let (pem, not_pem) = (pem.to_str().unwrap(), not_pem.to_str().unwrap());
        let garbled = garbled.to_str().unwrap();
        let base = ("FUNDI_JWT_SECRET", SECRET);
        let tls = ("FUNDI_REDIS_URL", "rediss://cache.internal:6380");
        let c = config(&[base, tls, ("FUNDI_REDIS_ROOT_CERT", pem)]).unwrap();
        assert_eq!(c.redis_root_cert.unwrap().pem, TEST_CA_PEM.as_bytes());
        for vars in [
            vec![base, ("FUNDI_REDIS_ROOT_CERT", pem)],
            vec![
                base,
                ("FUNDI_REDIS_URL", "redis://cache.internal:6379"),
                ("FUNDI_REDIS_ROOT_CERT", pem),
            ],
            vec![base, tls, ("FUNDI_REDIS_ROOT_CERT", not_pem)],
            vec![base, tls, ("FUNDI_REDIS_ROOT_CERT", garbled)],
            vec![base, tls, ("FUNDI_REDIS_ROOT_CERT", "/nonexistent/ca.pem")],
        ] {
            let e = config(&vars).unwrap_err();
            assert_eq!(e.var, "FUNDI_REDIS_ROOT_CERT", "{vars:?}: {e}");
        }
        assert!(config(&[base, tls]).unwrap().redis_root_cert.is_none());
        std::fs::remove_dir_all(dir).ok();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fundi-config-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A self-signed certificate authority made for these tests (P-256).
    const TEST_CA_PEM: &str = "\
-----BEGIN CERTIFICATE-----
MIIBhTCCASugAwIBAgIUKEQPtLE1oPortuYb3gfbJW8ODvIwCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNRnVuZGkgdGVzdCBDQTAeFw0yNjEyMDcwMTQ5MjVaFw0zNjEy
MDQwMTQ5MjVaMBgxFjAUBgNVBAMMDUZ1bmRpIHRlc3QgQ0EwWTATBgcqhkjOPQIB
BggqhkjOPQMBBwNCAAT0uU6PAZhf5iZBoqL/nqRosmIm1eXnGb9V4bT79VZQtdH5
YOOKmpJaVHdJKyqr2xU0hODCsXUTg/DlFSwhRRM0o1MwUTAdBgNVHQ4EFgQUICv6
HiL7OSG/qYkooa9L+xnCGX4wHwYDVR0jBBgwFoAUICv6HiL7OSG/qYkooa9L+xnC
GX4wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAhM2MwKp6p9oo
cI2RYSmCDfB6ByDYss0bivxt76R/cEACIC03b+/FmxACHpF2OcyaPlVj9kgqWwhq
By915ofb3+1f
-----END CERTIFICATE-----
";

    #[test]
    fn every_setting_read_is_documented() {
        let source = include_str!("config.rs");
        for var in source
            .split('"')
            .filter(|s| s.starts_with("FUNDI_") && s.len() > 6 && !s.contains(' '))
        {
            assert!(
                SETTINGS.iter().any(|s| s.var == var),
                "{var} is read but not in SETTINGS"
            );
        }
    }
}
