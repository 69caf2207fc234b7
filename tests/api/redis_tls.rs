//! Encrypted Redis: with a rediss:// URL and FUNDI_REDIS_ROOT_CERT, replicas share events, values and
//! rate limits through a Redis server whose certificate a private CA signed; a server certificate
//! outside that root is refused.

use crate::support::*;
use fundi::services::accounts::rate_limits::Action;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// A private certificate authority, its certificate written to `<dir>/<name>.pem`.
struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
    pem_path: PathBuf,
}

impl Authority {
    fn new(dir: &Path, name: &str) -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("Fundi test {name}"));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let pem_path = dir.join(format!("{name}.pem"));
        std::fs::write(&pem_path, issuer.pem()).unwrap();
        Authority { issuer, pem_path }
    }

    /// A certificate for `localhost` signed by this authority: (certificate PEM, key PEM).
    fn server_certificate(&self) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        (certificate.pem(), key.serialize_pem())
    }
}

/// A redis-server of its own that speaks only TLS, on a free port, stopped when dropped.
struct TlsRedis {
    child: Child,
    port: u16,
    ca: PathBuf,
    dir: tempfile::TempDir,
}

impl TlsRedis {
    async fn start() -> TlsRedis {
        let dir = tempfile::tempdir().unwrap();
        let ca = Authority::new(dir.path(), "ca");
        let (certificate, key) = ca.server_certificate();
        std::fs::write(dir.path().join("server.pem"), certificate).unwrap();
        std::fs::write(dir.path().join("server.key"), key).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let path = |name: &str| dir.path().join(name).display().to_string();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .args(["--bind", "127.0.0.1", "-::1"])
            .args(["--tls-cert-file", &path("server.pem")])
            .args(["--tls-key-file", &path("server.key")])
            .args(["--tls-ca-cert-file", &path("ca.pem")])
            .args(["--tls-auth-clients", "no"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--dir", &path(""), "--logfile", &path("redis.log")])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (built with TLS) on the PATH");
        let listening = async {
            while tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_err()
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(10), listening)
            .await
            .is_err()
        {
            let log = std::fs::read_to_string(path("redis.log")).unwrap_or_default();
            panic!("redis-server does not listen on its TLS port:\n{log}");
        }
        TlsRedis {
            child,
            port,
            ca: ca.pem_path,
            dir,
        }
    }

    /// The URL under the name the server's certificate carries.
    fn url(&self) -> String {
        format!("rediss://localhost:{}", self.port)
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn trusting(redis: &TlsRedis, root: &Path, prefix: &str) -> Options {
    Options {
        redis_url: Some(redis.url()),
        channel_prefix: prefix.to_string(),
        extra: vec![
            ("FUNDI_REDIS_ROOT_CERT", root.display().to_string()),
            ("FUNDI_PASSWORD_CHECKS_PER_MINUTE", "2".to_string()),
        ],
    }
}

#[tokio::test]
#[ignore = "needs redis-server built with TLS"]
async fn replicas_share_events_values_and_limits_through_redis_over_tls_with_a_private_root() {
    let redis = TlsRedis::start().await;
    let backend = Arc::new(Backend::new().await);
    let prefix = format!("fundi-tls-{}", uuid::Uuid::now_v7().simple());
    // Each replica is ready only once its subscriber connection is up, which here is TLS or nothing.
    let a = TestServer::start_on(backend.clone(), trusting(&redis, &redis.ca, &prefix)).await;
    let b = TestServer::start_on(backend, trusting(&redis, &redis.ca, &prefix)).await;

    let session = a.register("tls-replica@example.com").await;
    let mut ws = WsClient::connect(&a.ws_url, "graphql-transport-ws").await;
    ws.init(session.token()).await;
    ws.subscribe("1", "subscription { notificationAdded { kind } }")
        .await;
    let metrics = a.server.as_ref().unwrap().metrics.clone();
    wait_until(Duration::from_secs(5), || {
        metrics.open_subscriptions.get() == 1
    })
    .await;
    let login = b.login("tls-replica@example.com", PASSWORD).await;
    assert!(login["data"]["login"].is_object(), "{login}");
    let payload = ws.next_payload(Duration::from_secs(10)).await;
    assert_eq!(
        payload["data"]["notificationAdded"]["kind"], "NEW_SIGN_IN",
        "{payload}"
    );

    // Shared values (persisted queries) and rate-limit counters use the same client.
    a.services()
        .bus
        .shared_set("tls-check", "written on a", Duration::from_secs(60))
        .await;
    assert_eq!(
        b.services().bus.shared_get("tls-check").await.as_deref(),
        Some("written on a")
    );
    let address = Some("203.0.113.9");
    for _ in 0..2 {
        a.services()
            .rate_limits
            .check(Action::PasswordCheck, address)
            .await
            .unwrap();
    }
    let refused = b
        .services()
        .rate_limits
        .check(Action::PasswordCheck, address)
        .await;
    assert!(
        refused.is_err(),
        "the allowance used on one replica is counted on the other"
    );
}

#[tokio::test]
#[ignore = "needs redis-server built with TLS"]
async fn a_redis_certificate_outside_the_configured_root_is_refused() {
    use fundi::realtime::BusMessage;
    let redis = TlsRedis::start().await;
    let other = Authority::new(redis.dir.path(), "other-ca");
    let backend = Arc::new(Backend::new().await);
    let vars = [
        ("FUNDI_BIND", "127.0.0.1:0".to_string()),
        (
            "FUNDI_DATA_DIR",
            backend.data_dir.path().display().to_string(),
        ),
        ("FUNDI_DATABASE_URL", backend.database_url.clone()),
        ("FUNDI_JWT_SECRET", JWT_SECRET.to_string()),
        ("FUNDI_REDIS_URL", redis.url()),
        (
            "FUNDI_REDIS_ROOT_CERT",
            other.pem_path.display().to_string(),
        ),
    ];
    let config = fundi::config::Config::from_lookup(|name| {
        vars.iter()
            .find(|(var, _)| *var == name)
            .map(|(_, value)| value.clone())
    })
    .expect("a readable root certificate is a valid setting");
    let shutdown = tokio_util::sync::CancellationToken::new();
    // Start-up does not wait for Redis, as when it is unreachable; nothing gets through instead.
    let services = fundi::app::build_services(config, &shutdown)
        .await
        .expect("services start");
    let refused = services
        .bus
        .publish(BusMessage::new("tls-check", None, serde_json::json!({})))
        .await
        .expect_err("the server's certificate is not signed by the configured root");
    assert!(
        refused.to_string().to_lowercase().contains("certificate"),
        "{refused}"
    );
    let server = fundi::app::start_with(services, "127.0.0.1:0", shutdown)
        .await
        .expect("server starts");
    let ready = reqwest::get(format!("http://{}/readyz", server.addr))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "the database answers, so it is ready");
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["redis"], "unavailable", "{body}");
    server.stop().await.unwrap();
}
