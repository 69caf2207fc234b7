//! Every setting declared once: its variable, flag, default, format and help, grouped per concern and provider.
//!
//! The field name is the variable without `FUNDI_`, lower-cased (a test holds every flag to it). A
//! doc comment is the help of `fundi --help` and the README table; a default computed from other
//! settings is written at its end as `[default: …]`, as clap writes the fixed ones. Values are only
//! read here; rules across settings (all-or-nothing providers, production refusals) live in
//! [`super::Config::from_settings`].

use super::values::*;
use super::{Environment, LogFormat};
use crate::domain::cancellation::CancellationPolicy;
use crate::domain::client_address::TrustedProxies;
use clap::Args;
use secrecy::SecretString;
use std::path::PathBuf;

#[derive(Args, Clone, Debug)]
pub struct Settings {
    #[command(flatten)]
    pub server: Server,
    #[command(flatten)]
    pub storage: Storage,
    #[command(flatten)]
    pub redis: Redis,
    #[command(flatten)]
    pub observability: Observability,
    #[command(flatten)]
    pub api: Api,
    #[command(flatten)]
    pub mail: Mail,
    #[command(flatten)]
    pub uploads: Uploads,
    #[command(flatten)]
    pub payments: Payments,
    #[command(flatten)]
    pub stripe: Stripe,
    #[command(flatten)]
    pub razorpay: Razorpay,
    #[command(flatten)]
    pub mpesa: Mpesa,
    #[command(flatten)]
    pub bookings: Bookings,
    #[command(flatten)]
    pub reviews: Reviews,
    #[command(flatten)]
    pub realtime: Realtime,
    #[command(flatten)]
    pub payouts: Payouts,
    #[command(flatten)]
    pub mpesa_b2c: MpesaB2c,
    #[command(flatten)]
    pub abuse: Abuse,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Server")]
pub struct Server {
    /// `development` or `production` (production refuses generated secrets)
    #[arg(long, env = "FUNDI_ENV", default_value = "development", value_parser = environment)]
    pub env: Environment,
    /// address and port to listen on
    #[arg(long, env = "FUNDI_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// the API's public origin, for links sent by mail (invoice PDFs)
    /// [default: `http://<FUNDI_BIND>`]
    #[arg(long, env = "FUNDI_PUBLIC_URL", value_parser = public_url)]
    pub public_url: Option<String>,
    /// directory of the SQLite file, generated secrets, mail files and uploaded files (`uploads/`)
    #[arg(long, env = "FUNDI_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// HS256 signing secret, at least 32 bytes; required in production
    /// [default: generated in development]
    #[arg(long, env = "FUNDI_JWT_SECRET", value_parser = jwt_secret)]
    pub jwt_secret: Option<SecretString>,
    /// lifetime of access tokens
    #[arg(long, env = "FUNDI_ACCESS_TOKEN_MINUTES", default_value = "15", value_parser = whole(1..=1440))]
    pub access_token_minutes: u64,
    /// lifetime of refresh tokens
    #[arg(long, env = "FUNDI_REFRESH_TOKEN_DAYS", default_value = "30", value_parser = whole(1..=365))]
    pub refresh_token_days: u64,
    /// live sessions each replica keeps in memory (about 100 bytes each), so a request from a
    /// cached session skips the database's session check; a session that ends on any replica is
    /// forgotten by all of them through the bus; `0` turns the cache off
    #[arg(long, env = "FUNDI_SESSION_CACHE_ENTRIES", default_value = "100000", value_parser = whole(0..=10_000_000))]
    pub session_cache_entries: u64,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Database")]
pub struct Storage {
    /// `sqlite://…` or `postgres://user:pass@host/db`; TLS (rustls) with
    /// `?sslmode=disable|prefer|require|verify-ca|verify-full` and `&sslrootcert=/path/ca.pem` for a
    /// private CA (without it, verify-* trust the public web roots)
    /// [default: `sqlite://<data dir>/fundi.db`]
    #[arg(long, env = "FUNDI_DATABASE_URL", value_parser = database_url)]
    pub database_url: Option<String>,
    /// longest a request waits for a database connection; past it (database unreachable, every
    /// connection busy) the request fails with `SERVICE_UNAVAILABLE`
    #[arg(long, env = "FUNDI_DATABASE_ACQUIRE_TIMEOUT_MS", default_value = "10000", value_parser = whole(100..=120_000))]
    pub database_acquire_timeout_ms: u64,
    /// most connections one replica (or command) opens to the database; on PostgreSQL, replicas ×
    /// this plus every other client must stay below `max_connections` minus
    /// `superuser_reserved_connections` (see "Sizing the connection pool")
    /// [default: `20` for PostgreSQL, `8` for SQLite]
    #[arg(long, env = "FUNDI_DATABASE_MAX_CONNECTIONS", value_parser = whole(1..=1000))]
    pub database_max_connections: Option<u64>,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Redis")]
pub struct Redis {
    /// `redis://host:6379` to share events across replicas; `rediss://` for TLS (rustls; the
    /// certificate is checked against the public web roots or `FUNDI_REDIS_ROOT_CERT`)
    /// [default: unset (in-process bus)]
    #[arg(long, env = "FUNDI_REDIS_URL", value_parser = redis_url)]
    pub redis_url: Option<String>,
    /// PEM file of the CA(s) a `rediss://` server's certificate must chain to, for a private CA;
    /// the public roots are then not trusted
    /// [default: unset (public web roots)]
    #[arg(long, env = "FUNDI_REDIS_ROOT_CERT", value_parser = trimmed_path)]
    pub redis_root_cert: Option<PathBuf>,
    /// prefix of every Redis pub/sub channel
    #[arg(long, env = "FUNDI_REDIS_CHANNEL_PREFIX", default_value = "fundi")]
    pub redis_channel_prefix: String,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Logs, traces and metrics")]
pub struct Observability {
    /// log filter, e.g. `info,fundi=debug`
    #[arg(long, env = "FUNDI_LOG", default_value = "info")]
    pub log: String,
    /// `text` or `json`
    #[arg(long, env = "FUNDI_LOG_FORMAT", default_value = "text", value_parser = log_format)]
    pub log_format: LogFormat,
    /// OTLP/HTTP collector, e.g. `http://otel-collector:4318`: spans per request, GraphQL operation
    /// and database statement go to `<endpoint>/v1/traces` as protobuf; the standard `OTEL_BSP_*`
    /// variables tune batching
    /// [default: unset (no traces)]
    #[arg(long, env = "FUNDI_OTLP_ENDPOINT", value_parser = otlp_endpoint)]
    pub otlp_endpoint: Option<String>,
    /// serve `/metrics` on this address instead, e.g. `0.0.0.0:9090`, reachable by Prometheus but
    /// not published; the API port then answers 404 there
    /// [default: unset (`/metrics` on `FUNDI_BIND`)]
    #[arg(long, env = "FUNDI_METRICS_BIND", value_parser = host_port)]
    pub metrics_bind: Option<String>,
    /// require `Authorization: Bearer <token>` on `/metrics` (401 otherwise); at least 16 characters
    /// [default: unset]
    #[arg(long, env = "FUNDI_METRICS_TOKEN", value_parser = metrics_token)]
    pub metrics_token: Option<SecretString>,
    /// add a `Server-Timing` header to HTTP GraphQL responses: SQL statements run and their time
    /// [default: `true` in development, `false` in production]
    #[arg(long, env = "FUNDI_SERVER_TIMING", value_parser = switch)]
    pub server_timing: Option<bool>,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "GraphQL and HTTP")]
pub struct Api {
    /// schema introspection, field suggestions in errors and the GraphiQL page
    /// [default: `true` in development, `false` in production]
    #[arg(long, env = "FUNDI_INTROSPECTION", value_parser = switch)]
    pub introspection: Option<bool>,
    /// comma-separated browser origins allowed, or `*`
    #[arg(long, env = "FUNDI_CORS_ORIGINS", default_value = "*", value_parser = comma_list)]
    pub cors_origins: CommaList,
    /// how long browsers may cache a CORS preflight answer
    #[arg(long, env = "FUNDI_CORS_MAX_AGE_SECONDS", default_value = "600", value_parser = whole(0..=86_400))]
    pub cors_max_age_seconds: u64,
    /// deepest selection accepted (introspection is measured against its own cap of 16)
    #[arg(long, env = "FUNDI_MAX_QUERY_DEPTH", default_value = "12", value_parser = whole(2..=64))]
    pub max_query_depth: u64,
    /// highest query complexity accepted
    #[arg(long, env = "FUNDI_MAX_QUERY_COMPLEXITY", default_value = "1000", value_parser = whole(10..=100_000))]
    pub max_query_complexity: u64,
    /// most fields one document may select once its fragments are expanded
    #[arg(long, env = "FUNDI_MAX_QUERY_SELECTIONS", default_value = "2000", value_parser = whole(10..=1_000_000))]
    pub max_query_selections: u64,
    /// time budget of one GraphQL request over HTTP; a query over it is cancelled, a mutation
    /// finishes but is answered `REQUEST_TIMEOUT`
    #[arg(long, env = "FUNDI_REQUEST_TIMEOUT_MS", default_value = "30000", value_parser = whole(1..=600_000))]
    pub request_timeout_ms: u64,
    /// automatic persisted queries kept in memory per replica (shared through Redis when set); `0`
    /// turns them off
    #[arg(long, env = "FUNDI_PERSISTED_QUERIES", default_value = "1000", value_parser = whole(0..=1_000_000))]
    pub persisted_queries: u64,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Mail")]
pub struct Mail {
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://…`
    /// [default: unset (`.eml` files under `<data dir>/mail`)]
    #[arg(long, env = "FUNDI_SMTP_URL", value_parser = smtp_url)]
    pub smtp_url: Option<SecretString>,
    /// sender of outgoing mail
    #[arg(
        long,
        env = "FUNDI_MAIL_FROM",
        default_value = "Fundi <no-reply@fundi.local>"
    )]
    pub mail_from: String,
    /// how long the invoice PDF link mailed to the customer works
    #[arg(long, env = "FUNDI_INVOICE_LINK_DAYS", default_value = "7", value_parser = whole(1..=90))]
    pub invoice_link_days: u64,
}

// Checked only when a bucket is named: see `Config::from_settings`.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Uploaded files (S3)")]
pub struct Uploads {
    /// S3 bucket for uploaded files (KYC documents, chat images)
    /// [default: unset (`<data dir>/uploads`)]
    #[arg(long, env = "FUNDI_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// `http(s)://…` of an S3-compatible store such as MinIO (path-style requests)
    /// [default: unset (AWS)]
    #[arg(long, env = "FUNDI_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// region of the bucket
    #[arg(long, env = "FUNDI_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// access key; set together with the secret below
    /// [default: unset (instance role)]
    #[arg(long, env = "FUNDI_S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,
    /// secret key for `FUNDI_S3_ACCESS_KEY_ID`
    /// [default: unset]
    #[arg(long, env = "FUNDI_S3_SECRET_ACCESS_KEY", value_parser = secret)]
    pub s3_secret_access_key: Option<SecretString>,
    /// `true` when every replica sees the same `FUNDI_DATA_DIR` (one shared volume, or one
    /// replica); production with `FUNDI_REDIS_URL` and no `FUNDI_S3_BUCKET` needs it
    #[arg(long, env = "FUNDI_DATA_DIR_SHARED", default_value = "false", value_parser = switch, action = clap::ArgAction::Set)]
    pub data_dir_shared: bool,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Payment providers")]
pub struct Payments {
    /// longest wait for one call to Stripe, Razorpay or Daraja; past it the provider counts as
    /// unreachable
    #[arg(long, env = "FUNDI_GATEWAY_TIMEOUT_SECONDS", default_value = "15", value_parser = whole(1..=120))]
    pub gateway_timeout_seconds: u64,
}

// All or nothing: checked together in `Config::from_settings`.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Stripe")]
pub struct Stripe {
    /// Stripe secret API key (`sk_…`); turns the STRIPE payment method on
    /// [default: unset (STRIPE off)]
    #[arg(long, env = "FUNDI_STRIPE_SECRET_KEY", value_parser = secret)]
    pub stripe_secret_key: Option<SecretString>,
    /// signing secret (`whsec_…`) of the `POST /webhooks/stripe` endpoint; required with the key
    /// [default: unset]
    #[arg(long, env = "FUNDI_STRIPE_WEBHOOK_SECRET", value_parser = secret)]
    pub stripe_webhook_secret: Option<SecretString>,
    /// where the Stripe API is (a local mock in tests)
    #[arg(
        long,
        env = "FUNDI_STRIPE_API_BASE",
        default_value = "https://api.stripe.com"
    )]
    pub stripe_api_base: String,
}

// All or nothing: checked together in `Config::from_settings`.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Razorpay")]
pub struct Razorpay {
    /// Razorpay API key id (`rzp_…`); turns the RAZORPAY payment method on and requires the two below
    /// [default: unset (RAZORPAY off)]
    #[arg(long, env = "FUNDI_RAZORPAY_KEY_ID")]
    pub razorpay_key_id: Option<String>,
    /// the key's secret: HTTP Basic for the API, and what Checkout signs payments with
    /// [default: unset]
    #[arg(long, env = "FUNDI_RAZORPAY_KEY_SECRET", value_parser = secret)]
    pub razorpay_key_secret: Option<SecretString>,
    /// secret of the `POST /webhooks/razorpay` webhook
    /// [default: unset]
    #[arg(long, env = "FUNDI_RAZORPAY_WEBHOOK_SECRET", value_parser = secret)]
    pub razorpay_webhook_secret: Option<SecretString>,
    /// where the Razorpay API is (a local mock in tests)
    #[arg(
        long,
        env = "FUNDI_RAZORPAY_API_BASE",
        default_value = "https://api.razorpay.com"
    )]
    pub razorpay_api_base: String,
}

// All or nothing once the consumer key is set: checked together in `Config::from_settings`.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "M-Pesa (Safaricom Daraja)")]
pub struct Mpesa {
    /// Safaricom Daraja app's consumer key; turns the MPESA payment method on and requires the
    /// four below
    /// [default: unset (MPESA off)]
    #[arg(long, env = "FUNDI_MPESA_CONSUMER_KEY")]
    pub mpesa_consumer_key: Option<String>,
    /// the Daraja app's consumer secret
    /// [default: unset]
    #[arg(long, env = "FUNDI_MPESA_CONSUMER_SECRET", value_parser = secret)]
    pub mpesa_consumer_secret: Option<SecretString>,
    /// paybill or till number customers pay (`BusinessShortCode`)
    /// [default: unset]
    #[arg(long, env = "FUNDI_MPESA_SHORTCODE")]
    pub mpesa_shortcode: Option<String>,
    /// the shortcode's Lipa na M-Pesa Online passkey
    /// [default: unset]
    #[arg(long, env = "FUNDI_MPESA_PASSKEY", value_parser = secret)]
    pub mpesa_passkey: Option<SecretString>,
    /// secret path segment of `POST /webhooks/mpesa/{token}` (16+ letters, digits, `-`, `_`)
    /// [default: unset]
    #[arg(long, env = "FUNDI_MPESA_CALLBACK_TOKEN", value_parser = secret)]
    pub mpesa_callback_token: Option<SecretString>,
    /// public `https://…` prefix Safaricom reaches this API on, e.g. `https://api.example.com`
    /// [default: unset]
    #[arg(long, env = "FUNDI_MPESA_CALLBACK_BASE_URL")]
    pub mpesa_callback_base_url: Option<String>,
    /// Daraja's base URL (`https://api.safaricom.co.ke` in production; a local mock in tests)
    #[arg(
        long,
        env = "FUNDI_MPESA_API_BASE",
        default_value = "https://sandbox.safaricom.co.ke"
    )]
    pub mpesa_api_base: String,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Bookings and prices")]
pub struct Bookings {
    /// time a technician has to answer an offer for an as-soon-as-possible job
    #[arg(long, env = "FUNDI_OFFER_EXPIRY_ASAP_SECONDS", default_value = "120", value_parser = whole(10..=86_400))]
    pub offer_expiry_asap_seconds: u64,
    /// time a technician has to answer an offer for a scheduled job
    #[arg(long, env = "FUNDI_OFFER_EXPIRY_SCHEDULED_SECONDS", default_value = "1800", value_parser = whole(10..=604_800))]
    pub offer_expiry_scheduled_seconds: u64,
    /// technicians automatic dispatch offers a job to, one at a time
    #[arg(long, env = "FUNDI_DISPATCH_CANDIDATES", default_value = "5", value_parser = whole(1..=50))]
    pub dispatch_candidates: u64,
    /// the system verifies a completed job the customer has not verified after this
    #[arg(long, env = "FUNDI_AUTO_VERIFY_HOURS", default_value = "48", value_parser = whole(1..=720))]
    pub auto_verify_hours: u64,
    /// surge for HIGH priority, in basis points (1000 = 10%)
    #[arg(long, env = "FUNDI_SURGE_HIGH_BP", default_value = "1000", value_parser = whole(0..=10_000))]
    pub surge_high_bp: u64,
    /// surge for URGENT priority, in basis points
    #[arg(long, env = "FUNDI_SURGE_URGENT_BP", default_value = "2000", value_parser = whole(0..=10_000))]
    pub surge_urgent_bp: u64,
    /// platform's share of the job price, in basis points (the technician gets the rest)
    #[arg(long, env = "FUNDI_PLATFORM_FEE_BP", default_value = "1500", value_parser = whole(0..=10_000))]
    pub platform_fee_bp: u64,
    /// tax (GST/VAT) on the job price, in basis points
    #[arg(long, env = "FUNDI_TAX_BP", default_value = "0", value_parser = whole(0..=10_000))]
    pub tax_bp: u64,
    /// deposit due before dispatch, held in escrow, in basis points of the total (`0`: no deposit)
    #[arg(long, env = "FUNDI_DEPOSIT_BP", default_value = "2000", value_parser = whole(0..=10_000))]
    pub deposit_bp: u64,
    /// a technician's earnings stay pending this long before they are available (a dispute can
    /// still reverse them)
    #[arg(long, env = "FUNDI_EARNINGS_HOLD_HOURS", default_value = "48", value_parser = whole(0..=720))]
    pub earnings_hold_hours: u64,
    /// fee tiers after acceptance: seconds left more than : basis points, longest first
    #[arg(long, env = "FUNDI_CANCELLATION_TIERS", default_value = "86400:0,21600:2500,7200:5000,0:7500", value_parser = cancellation_tiers)]
    pub cancellation_tiers: CancellationPolicy,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Reviews and ratings")]
pub struct Reviews {
    /// each side of a paid job (or one whose dispute was resolved) may review the other this long;
    /// reviews written so far are published when it ends
    #[arg(long, env = "FUNDI_REVIEW_WINDOW_DAYS", default_value = "14", value_parser = whole(1..=90))]
    pub review_window_days: u64,
    /// whoever has not reviewed a paid job is reminded this long after payment (less than the window)
    #[arg(long, env = "FUNDI_REVIEW_REMINDER_HOURS", default_value = "24", value_parser = whole(1..=2_159))]
    pub review_reminder_hours: u64,
    /// the Bayesian average ranks a technician as if they had this many more reviews at the
    /// platform's mean, so a few five-star reviews do not outrank a long record (`0`: the plain average)
    #[arg(long, env = "FUNDI_RATING_PRIOR_REVIEWS", default_value = "5", value_parser = whole(0..=1_000))]
    pub rating_prior_reviews: u64,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Chat, tracking and WebSockets")]
pub struct Realtime {
    /// chat messages and their images are deleted after this
    #[arg(long, env = "FUNDI_CHAT_RETENTION_DAYS", default_value = "90", value_parser = whole(1..=3650))]
    pub chat_retention_days: u64,
    /// a finished job's conversation stays readable but takes no new messages after this
    #[arg(long, env = "FUNDI_CHAT_CLOSE_AFTER_DAYS", default_value = "7", value_parser = whole(0..=365))]
    pub chat_close_after_days: u64,
    /// average speed for tracking ETAs (20 km/h = 3 minutes per km; at least 5 minutes)
    #[arg(long, env = "FUNDI_TRACKING_SPEED_KMH", default_value = "20", value_parser = whole(1..=200))]
    pub tracking_speed_kmh: u64,
    /// a technician en route this close to the job is marked ARRIVED
    #[arg(long, env = "FUNDI_ARRIVAL_GEOFENCE_METERS", default_value = "100", value_parser = whole(10..=5000))]
    pub arrival_geofence_meters: u64,
    /// at most one stored trail point per booking per interval
    #[arg(long, env = "FUNDI_TRAIL_INTERVAL_SECONDS", default_value = "15", value_parser = whole(1..=3600))]
    pub trail_interval_seconds: u64,
    /// a finished job's location trail is deleted after this
    #[arg(long, env = "FUNDI_TRAIL_RETENTION_DAYS", default_value = "30", value_parser = whole(1..=3650))]
    pub trail_retention_days: u64,
    /// operations one WebSocket may have open at once; more are refused with `RATE_LIMITED`
    #[arg(long, env = "FUNDI_WS_MAX_SUBSCRIPTIONS", default_value = "100", value_parser = whole(1..=10_000))]
    pub ws_max_subscriptions: u64,
    /// WebSockets one account may hold open on one replica; more are closed with 4429
    #[arg(long, env = "FUNDI_WS_MAX_SOCKETS_PER_ACCOUNT", default_value = "20", value_parser = whole(1..=1_000))]
    pub ws_max_sockets_per_account: u64,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Withdrawals and payouts")]
pub struct Payouts {
    /// smallest withdrawal, in minor units of the balance's currency (10000 = 100.00)
    #[arg(long, env = "FUNDI_WITHDRAWAL_MIN_MINOR", default_value = "10000", value_parser = whole(1..=1_000_000_000))]
    pub withdrawal_min_minor: u64,
    /// after a payout method is changed (not first set), withdrawals wait this long
    #[arg(long, env = "FUNDI_PAYOUT_METHOD_HOLD_HOURS", default_value = "24", value_parser = whole(0..=720))]
    pub payout_method_hold_hours: u64,
    /// wrong withdrawal PINs in a row before withdrawals lock
    #[arg(long, env = "FUNDI_PIN_MAX_ATTEMPTS", default_value = "5", value_parser = whole(1..=20))]
    pub pin_max_attempts: u64,
    /// how long withdrawals stay locked after too many wrong PINs
    #[arg(long, env = "FUNDI_PIN_LOCK_MINUTES", default_value = "15", value_parser = whole(1..=1440))]
    pub pin_lock_minutes: u64,
    /// pay PENDING withdrawals below `FUNDI_AUTO_PAYOUT_MAX_MINOR` without an admin
    #[arg(long, env = "FUNDI_AUTO_PAYOUTS", default_value = "false", value_parser = switch, action = clap::ArgAction::Set)]
    pub auto_payouts: bool,
    /// automatic payouts take withdrawals below this (minor units)
    #[arg(long, env = "FUNDI_AUTO_PAYOUT_MAX_MINOR", default_value = "500000", value_parser = whole(0..=1_000_000_000_000))]
    pub auto_payout_max_minor: u64,
    /// a B2C payout or refund with no result this long after it was sent is asked about
    /// (Transaction Status)
    #[arg(long, env = "FUNDI_PAYOUT_QUERY_AFTER_MINUTES", default_value = "10", value_parser = whole(1..=1440))]
    pub payout_query_after_minutes: u64,
    /// 32 bytes, base64 (`openssl rand -base64 32`): encrypts payout account details and
    /// two-factor secrets at rest; required in production
    /// [default: generated in development]
    #[arg(long, env = "FUNDI_PAYOUT_ENCRYPTION_KEY", value_parser = payout_key)]
    pub payout_encryption_key: Option<SecretString>,
}

// All or nothing once the shortcode is set, and only with the M-Pesa app: checked in `Config::from_settings`.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "M-Pesa payouts and refunds (B2C)")]
pub struct MpesaB2c {
    /// B2C shortcode payouts and refunds are sent from; needs the M-Pesa app settings and the two
    /// below
    /// [default: unset (M-Pesa payouts and automatic M-Pesa refunds off)]
    #[arg(long, env = "FUNDI_MPESA_B2C_SHORTCODE")]
    pub mpesa_b2c_shortcode: Option<String>,
    /// Daraja B2C initiator (API operator) name
    /// [default: unset]
    #[arg(long, env = "FUNDI_MPESA_B2C_INITIATOR_NAME")]
    pub mpesa_b2c_initiator_name: Option<String>,
    /// the initiator password encrypted with Safaricom's certificate, as the Daraja portal issues it
    /// [default: unset]
    #[arg(long, env = "FUNDI_MPESA_B2C_SECURITY_CREDENTIAL", value_parser = secret)]
    pub mpesa_b2c_security_credential: Option<SecretString>,
    /// for withdrawals: `BusinessPayment`, `SalaryPayment` or `PromotionPayment` (refunds are
    /// always `BusinessPayment`)
    #[arg(
        long,
        env = "FUNDI_MPESA_B2C_COMMAND_ID",
        default_value = "BusinessPayment"
    )]
    pub mpesa_b2c_command_id: String,
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Abuse limits")]
pub struct Abuse {
    /// comma-separated CIDRs (or addresses) of load balancers; only a connection from one of them
    /// may name the client in `X-Forwarded-For`
    /// [default: none]
    #[arg(long, env = "FUNDI_TRUSTED_PROXIES", value_parser = trusted_proxies)]
    pub trusted_proxies: Option<TrustedProxies>,
    /// sign-ins and other password, PIN or two-factor operations allowed per client address per
    /// minute (shared through Redis when set)
    #[arg(long, env = "FUNDI_PASSWORD_CHECKS_PER_MINUTE", default_value = "20", value_parser = whole(1..=1_000_000))]
    pub password_checks_per_minute: u64,
    /// registrations allowed per client address per hour (shared through Redis when set)
    #[arg(long, env = "FUNDI_SIGNUPS_PER_HOUR", default_value = "10", value_parser = whole(1..=1_000_000))]
    pub signups_per_hour: u64,
}
