//! The rules across settings: providers configured all or not at all, production refusals, generated development secrets.

use super::command_line::Given;
use super::settings::{self, Settings};
use super::*;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};

impl Config {
    /// Applies the rules no single value can check and builds what the server runs with. `given`
    /// tells a value that was set from its default, for the providers that refuse a partial setup.
    pub fn from_settings(s: Settings, given: &Given) -> Result<Self, ConfigError> {
        let environment = s.server.env;
        let data_dir = s.server.data_dir;
        let database_url = s.storage.database_url.unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", data_dir.join("fundi.db").display())
        });
        let redis_url = s.redis.redis_url;
        let redis_root_cert = redis_root_cert(s.redis.redis_root_cert, redis_url.as_deref())?;
        let (jwt_secret, jwt_secret_source) = match s.server.jwt_secret {
            Some(secret) => (secret, SecretSource::Environment),
            None if environment == Environment::Production => {
                return Err(err(
                    "FUNDI_JWT_SECRET",
                    "must be set in production (a generated secret is refused)",
                ));
            }
            None => (load_or_generate_secret(&data_dir)?, SecretSource::Generated),
        };
        let s3 = s3_config(s.uploads.clone())?;
        let stripe = stripe_settings(s.stripe, given)?;
        let razorpay = razorpay_settings(s.razorpay, given)?;
        let mpesa = mpesa_settings(s.mpesa)?;
        let bind = s.server.bind;
        let public_url = match s.server.public_url {
            Some(url) => url,
            None => values::public_url(&format!("http://{bind}"))
                .map_err(|message| err("FUNDI_PUBLIC_URL", message))?,
        };
        let data_dir_shared = s.uploads.data_dir_shared;
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
        let metrics_bind = s.observability.metrics_bind;
        // Its own address must differ from the API's, or both listeners would fight over one port.
        if let Some(metrics) = &metrics_bind
            && metrics == &bind
            && !metrics.ends_with(":0")
        {
            return Err(err(
                "FUNDI_METRICS_BIND",
                "must differ from FUNDI_BIND (leave it unset to serve /metrics on the API port)",
            ));
        }
        let mpesa_b2c = mpesa_b2c_settings(s.mpesa_b2c, mpesa.is_some())?;
        let payouts = payout_settings(s.payouts, environment, &data_dir)?;
        let bookings = booking_settings(s.bookings)?;
        let reviews = review_settings(s.reviews)?;
        let realtime = realtime_settings(s.realtime)?;
        let api = s.api;
        Ok(Config {
            bind,
            metrics_bind,
            metrics_token: s.observability.metrics_token,
            data_dir,
            database_url,
            database_acquire_timeout: Duration::from_millis(s.storage.database_acquire_timeout_ms),
            database_max_connections: s
                .storage
                .database_max_connections
                .map(|n| fit("FUNDI_DATABASE_MAX_CONNECTIONS", n))
                .transpose()?,
            redis_url,
            redis_root_cert,
            redis_channel_prefix: s.redis.redis_channel_prefix,
            jwt_secret,
            jwt_secret_source,
            smtp_url: s.mail.smtp_url,
            mail_from: s.mail.mail_from,
            log_filter: s.observability.log,
            log_format: s.observability.log_format,
            otlp_endpoint: s.observability.otlp_endpoint,
            // Production hides the schema unless asked: introspection and suggestions map the API for an attacker.
            introspection: api
                .introspection
                .unwrap_or(environment == Environment::Development),
            environment,
            data_dir_shared,
            access_token_ttl: Duration::from_secs(60 * s.server.access_token_minutes),
            refresh_token_ttl: Duration::from_secs(86_400 * s.server.refresh_token_days),
            session_cache_entries: fit(
                "FUNDI_SESSION_CACHE_ENTRIES",
                s.server.session_cache_entries,
            )?,
            cors_origins: api.cors_origins.0,
            max_query_depth: fit("FUNDI_MAX_QUERY_DEPTH", api.max_query_depth)?,
            max_query_complexity: fit("FUNDI_MAX_QUERY_COMPLEXITY", api.max_query_complexity)?,
            max_query_selections: api.max_query_selections,
            request_timeout: Duration::from_millis(api.request_timeout_ms),
            persisted_queries: fit("FUNDI_PERSISTED_QUERIES", api.persisted_queries)?,
            cors_max_age: Duration::from_secs(api.cors_max_age_seconds),
            s3,
            stripe,
            razorpay,
            mpesa,
            gateway_timeout: Duration::from_secs(s.payments.gateway_timeout_seconds),
            public_url,
            invoice_link_secs: 86_400 * s.mail.invoice_link_days as i64,
            mpesa_b2c,
            payouts,
            abuse: AbuseSettings {
                trusted_proxies: s.abuse.trusted_proxies.unwrap_or_default(),
                password_checks_per_minute: fit(
                    "FUNDI_PASSWORD_CHECKS_PER_MINUTE",
                    s.abuse.password_checks_per_minute,
                )?,
                signups_per_hour: fit("FUNDI_SIGNUPS_PER_HOUR", s.abuse.signups_per_hour)?,
            },
            bookings,
            reviews,
            realtime,
            server_timing: s
                .observability
                .server_timing
                .unwrap_or(environment != Environment::Production),
        })
    }
}

fn booking_settings(b: settings::Bookings) -> Result<BookingSettings, ConfigError> {
    let pricing = crate::domain::pricing::PricingPolicy {
        high_surge_bp: fit("FUNDI_SURGE_HIGH_BP", b.surge_high_bp)?,
        urgent_surge_bp: fit("FUNDI_SURGE_URGENT_BP", b.surge_urgent_bp)?,
        platform_fee_bp: fit("FUNDI_PLATFORM_FEE_BP", b.platform_fee_bp)?,
        tax_bp: fit("FUNDI_TAX_BP", b.tax_bp)?,
        deposit_bp: fit("FUNDI_DEPOSIT_BP", b.deposit_bp)?,
    };
    pricing
        .validate()
        .map_err(|e| err("FUNDI_PLATFORM_FEE_BP", format!("{e:?}")))?;
    Ok(BookingSettings {
        offer_expiry_asap_secs: b.offer_expiry_asap_seconds as i64,
        offer_expiry_scheduled_secs: b.offer_expiry_scheduled_seconds as i64,
        dispatch_candidates: fit("FUNDI_DISPATCH_CANDIDATES", b.dispatch_candidates)?,
        auto_verify_secs: 3600 * b.auto_verify_hours as i64,
        earnings_hold_secs: 3600 * b.earnings_hold_hours as i64,
        pricing,
        cancellation: b.cancellation_tiers,
    })
}

fn review_settings(r: settings::Reviews) -> Result<ReviewSettings, ConfigError> {
    let window_secs = 86_400 * r.review_window_days as i64;
    let reminder_secs = 3_600 * r.review_reminder_hours as i64;
    // A reminder at or after the window's end would ask for a review that can no longer be written.
    if reminder_secs >= window_secs {
        return Err(err(
            "FUNDI_REVIEW_REMINDER_HOURS",
            format!(
                "must be less than FUNDI_REVIEW_WINDOW_DAYS ({} hours)",
                window_secs / 3_600
            ),
        ));
    }
    Ok(ReviewSettings {
        window_secs,
        reminder_secs,
        prior_weight: fit("FUNDI_RATING_PRIOR_REVIEWS", r.rating_prior_reviews)?,
    })
}

fn realtime_settings(r: settings::Realtime) -> Result<RealtimeSettings, ConfigError> {
    Ok(RealtimeSettings {
        chat_retention_days: r.chat_retention_days as i64,
        chat_close_after_days: r.chat_close_after_days as i64,
        tracking_speed_kmh: r.tracking_speed_kmh as f64,
        arrival_geofence_m: r.arrival_geofence_meters as f64,
        trail_interval_secs: r.trail_interval_seconds as i64,
        trail_retention_days: r.trail_retention_days as i64,
        ws_max_subscriptions: fit("FUNDI_WS_MAX_SUBSCRIPTIONS", r.ws_max_subscriptions)?,
        ws_max_sockets_per_account: fit(
            "FUNDI_WS_MAX_SOCKETS_PER_ACCOUNT",
            r.ws_max_sockets_per_account,
        )?,
    })
}

/// A bounded setting in the type the server keeps it in. Every parser's range sits far inside these
/// types, so this cannot fail today; should a range ever outgrow its type, start-up says so instead
/// of the value silently wrapping.
fn fit<T: TryFrom<u64>>(var: &str, value: u64) -> Result<T, ConfigError> {
    T::try_from(value).map_err(|_| err(var, format!("{value} is too large")))
}

/// The private root(s) of a rediss:// server, read and checked now so that a missing or wrong file
/// stops start-up instead of every later connection. Without a TLS URL the file would be ignored,
/// so that is refused as well.
fn redis_root_cert(
    path: Option<PathBuf>,
    redis_url: Option<&str>,
) -> Result<Option<RootCertificates>, ConfigError> {
    const VAR: &str = "FUNDI_REDIS_ROOT_CERT";
    let Some(path) = path else {
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

fn trimmed(secret: &SecretString) -> SecretString {
    SecretString::from(secret.expose_secret().trim())
}

fn http_url(var: &str, value: &str) -> Result<String, ConfigError> {
    if value.starts_with("http://") || value.starts_with("https://") {
        Ok(value.trim().trim_end_matches('/').to_string())
    } else {
        Err(err(var, "expected an http:// or https:// URL"))
    }
}

/// Stripe, present only when a secret key is set. The webhook secret is required with it: without
/// webhooks no Stripe payment would ever complete, and a lone webhook secret is a typo'd key.
fn stripe_settings(
    s: settings::Stripe,
    given: &Given,
) -> Result<Option<StripeSettings>, ConfigError> {
    let Some(key) = s.stripe_secret_key else {
        if s.stripe_webhook_secret.is_some() || given.has("FUNDI_STRIPE_API_BASE") {
            return Err(err(
                "FUNDI_STRIPE_SECRET_KEY",
                "must be set when other FUNDI_STRIPE_ settings are",
            ));
        }
        return Ok(None);
    };
    let webhook_secret = s.stripe_webhook_secret.ok_or_else(|| {
        err(
            "FUNDI_STRIPE_WEBHOOK_SECRET",
            "must be set together with FUNDI_STRIPE_SECRET_KEY",
        )
    })?;
    Ok(Some(StripeSettings {
        api_base: http_url("FUNDI_STRIPE_API_BASE", &s.stripe_api_base)?,
        secret_key: trimmed(&key),
        webhook_secret: trimmed(&webhook_secret),
    }))
}

/// Razorpay, present only when a key id is set; then the key secret and the webhook secret are
/// required too, for the same reasons as Stripe's: a payment whose app never verifies it completes
/// only by webhook, and a lone secret is a typo'd key id.
fn razorpay_settings(
    s: settings::Razorpay,
    given: &Given,
) -> Result<Option<RazorpaySettings>, ConfigError> {
    let Some(key_id) = s.razorpay_key_id else {
        if s.razorpay_key_secret.is_some()
            || s.razorpay_webhook_secret.is_some()
            || given.has("FUNDI_RAZORPAY_API_BASE")
        {
            return Err(err(
                "FUNDI_RAZORPAY_KEY_ID",
                "must be set when other FUNDI_RAZORPAY_ settings are",
            ));
        }
        return Ok(None);
    };
    let key_secret = s.razorpay_key_secret.ok_or_else(|| {
        err(
            "FUNDI_RAZORPAY_KEY_SECRET",
            "must be set together with FUNDI_RAZORPAY_KEY_ID",
        )
    })?;
    let webhook_secret = s.razorpay_webhook_secret.ok_or_else(|| {
        err(
            "FUNDI_RAZORPAY_WEBHOOK_SECRET",
            "must be set together with FUNDI_RAZORPAY_KEY_ID",
        )
    })?;
    Ok(Some(RazorpaySettings {
        api_base: http_url("FUNDI_RAZORPAY_API_BASE", &s.razorpay_api_base)?,
        key_id: key_id.trim().to_string(),
        key_secret: trimmed(&key_secret),
        webhook_secret: trimmed(&webhook_secret),
    }))
}

/// The S3 settings, present only when a bucket is named. Keys come in pairs, and settings without a
/// bucket are refused rather than ignored, so a typo cannot silently leave uploads on local disk.
fn s3_config(u: settings::Uploads) -> Result<Option<S3Config>, ConfigError> {
    let Some(bucket) = u.s3_bucket else {
        if u.s3_endpoint.is_some()
            || u.s3_access_key_id.is_some()
            || u.s3_secret_access_key.is_some()
        {
            return Err(err(
                "FUNDI_S3_BUCKET",
                "must be set when other FUNDI_S3_ settings are",
            ));
        }
        return Ok(None);
    };
    if let Some(url) = &u.s3_endpoint
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(err(
            "FUNDI_S3_ENDPOINT",
            "expected an http:// or https:// URL",
        ));
    }
    match (&u.s3_access_key_id, &u.s3_secret_access_key) {
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
        endpoint: u.s3_endpoint,
        region: u.s3_region,
        access_key_id: u.s3_access_key_id,
        secret_access_key: u.s3_secret_access_key,
    }))
}

/// The M-Pesa settings, present only when a consumer key is set; then every other one but the API
/// base is required, so a half-configured gateway fails at start-up rather than at a customer's payment.
fn mpesa_settings(m: settings::Mpesa) -> Result<Option<MpesaSettings>, ConfigError> {
    let Some(consumer_key) = m.mpesa_consumer_key else {
        return Ok(None);
    };
    fn required(var: &str, value: Option<String>) -> Result<String, ConfigError> {
        value
            .map(|v| v.trim().to_string())
            .ok_or_else(|| err(var, "must be set when FUNDI_MPESA_CONSUMER_KEY is"))
    }
    let exposed = |secret: Option<SecretString>| secret.map(|s| s.expose_secret().to_string());
    let consumer_secret = required(
        "FUNDI_MPESA_CONSUMER_SECRET",
        exposed(m.mpesa_consumer_secret),
    )?;
    let shortcode = required("FUNDI_MPESA_SHORTCODE", m.mpesa_shortcode)?;
    if shortcode.is_empty() || !shortcode.chars().all(|c| c.is_ascii_digit()) {
        return Err(err("FUNDI_MPESA_SHORTCODE", "expected digits"));
    }
    let passkey = required("FUNDI_MPESA_PASSKEY", exposed(m.mpesa_passkey))?;
    let callback_token = required(
        "FUNDI_MPESA_CALLBACK_TOKEN",
        exposed(m.mpesa_callback_token),
    )?;
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
    let callback_base_url = http_url(
        "FUNDI_MPESA_CALLBACK_BASE_URL",
        &required("FUNDI_MPESA_CALLBACK_BASE_URL", m.mpesa_callback_base_url)?,
    )?;
    let api_base = http_url("FUNDI_MPESA_API_BASE", &m.mpesa_api_base)?;
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
    b: settings::MpesaB2c,
    mpesa_configured: bool,
) -> Result<Option<MpesaB2cSettings>, ConfigError> {
    let Some(shortcode) = b.mpesa_b2c_shortcode else {
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
    fn required(var: &str, value: Option<String>) -> Result<String, ConfigError> {
        value
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| err(var, "must be set when FUNDI_MPESA_B2C_SHORTCODE is"))
    }
    let initiator_name = required("FUNDI_MPESA_B2C_INITIATOR_NAME", b.mpesa_b2c_initiator_name)?;
    let security_credential = required(
        "FUNDI_MPESA_B2C_SECURITY_CREDENTIAL",
        b.mpesa_b2c_security_credential
            .map(|s| s.expose_secret().to_string()),
    )?;
    let command_id = b.mpesa_b2c_command_id;
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
    p: settings::Payouts,
    environment: Environment,
    data_dir: &Path,
) -> Result<PayoutSettings, ConfigError> {
    let encryption_key = match p.payout_encryption_key {
        Some(key) => key,
        None if environment == Environment::Production => {
            return Err(err(
                "FUNDI_PAYOUT_ENCRYPTION_KEY",
                "must be set in production (a generated key is refused)",
            ));
        }
        None => load_or_generate_key(data_dir)?,
    };
    Ok(PayoutSettings {
        min_withdrawal_minor: p.withdrawal_min_minor as i64,
        method_hold_secs: 3600 * p.payout_method_hold_hours as i64,
        pin_max_attempts: fit("FUNDI_PIN_MAX_ATTEMPTS", p.pin_max_attempts)?,
        pin_lock_secs: 60 * p.pin_lock_minutes as i64,
        auto_payouts: p.auto_payouts,
        auto_payout_max_minor: p.auto_payout_max_minor as i64,
        query_after_secs: 60 * p.payout_query_after_minutes as i64,
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
