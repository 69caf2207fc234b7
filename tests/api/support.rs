//! Test support: start a real server on 127.0.0.1:0 with its own database, and talk to it as clients do.

use fundi::app::RunningServer;
use fundi::config::Config;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const PASSWORD: &str = "correct horse battery";

/// A PostgreSQL database made for one test and dropped after it.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // The test's runtime is going away; drop the database from a runtime of our own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(db) = sea_orm::Database::connect(&admin_url).await {
                    use sea_orm::ConnectionTrait;
                    let _ = db
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                }
            });
        })
        .join();
    }
}

/// Where a test's data lives; two servers can share one to act as replicas.
pub struct Backend {
    pub database_url: String,
    pub data_dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

impl Backend {
    pub async fn new() -> Backend {
        let data_dir = tempfile::tempdir().expect("temp dir");
        match std::env::var("FUNDI_TEST_DATABASE_URL")
            .ok()
            .filter(|v| !v.is_empty())
        {
            Some(admin_url) => {
                let name = format!("fundi_test_{}", uuid::Uuid::now_v7().simple());
                let admin = sea_orm::Database::connect(&admin_url)
                    .await
                    .expect("FUNDI_TEST_DATABASE_URL must reach PostgreSQL");
                use sea_orm::ConnectionTrait;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(base, _)| base)
                    .expect("database URL with a path");
                Backend {
                    database_url: format!("{base}/{name}"),
                    data_dir,
                    _pg: Some(PgDatabase { admin_url, name }),
                }
            }
            None => {
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.path().join("fundi.db").display()
                );
                Backend {
                    database_url: url,
                    data_dir,
                    _pg: None,
                }
            }
        }
    }
}

/// Redis for the suite when FUNDI_TEST_REDIS_URL is set; tests that need it fail without it.
pub fn test_redis_url() -> Option<String> {
    std::env::var("FUNDI_TEST_REDIS_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

pub fn require_redis() -> String {
    test_redis_url().expect(
        "this test needs FUNDI_TEST_REDIS_URL (a Redis server); run it with the variable set",
    )
}

pub struct Options {
    pub redis_url: Option<String>,
    pub channel_prefix: String,
    pub extra: Vec<(&'static str, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            redis_url: test_redis_url(),
            channel_prefix: format!("fundi-test-{}", uuid::Uuid::now_v7().simple()),
            extra: Vec::new(),
        }
    }
}

pub struct TestServer {
    pub server: Option<RunningServer>,
    pub base: String,
    pub ws_url: String,
    pub mail_dir: PathBuf,
    http: reqwest::Client,
    /// Keeps the database and data directory alive as long as the server.
    _backend: std::sync::Arc<Backend>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let backend = std::sync::Arc::new(Backend::new().await);
        TestServer::start_on(backend, Options::default()).await
    }

    /// A server on its own database with these settings added, e.g. a payment provider's keys
    /// pointing at a local mock.
    pub async fn start_with(settings: Vec<(&'static str, String)>) -> TestServer {
        let backend = std::sync::Arc::new(Backend::new().await);
        let options = Options {
            extra: settings,
            ..Options::default()
        };
        TestServer::start_on(backend, options).await
    }

    pub async fn start_on(backend: std::sync::Arc<Backend>, options: Options) -> TestServer {
        let mut vars: HashMap<&str, String> = HashMap::from([
            ("FUNDI_BIND", "127.0.0.1:0".to_string()),
            (
                "FUNDI_DATA_DIR",
                backend.data_dir.path().display().to_string(),
            ),
            ("FUNDI_DATABASE_URL", backend.database_url.clone()),
            ("FUNDI_JWT_SECRET", JWT_SECRET.to_string()),
            ("FUNDI_REDIS_CHANNEL_PREFIX", options.channel_prefix.clone()),
            // Every test client signs in from 127.0.0.1; tests of the per-address limits set them low.
            ("FUNDI_PASSWORD_CHECKS_PER_MINUTE", "100000".to_string()),
            ("FUNDI_SIGNUPS_PER_HOUR", "100000".to_string()),
        ]);
        if let Some(url) = options.redis_url {
            vars.insert("FUNDI_REDIS_URL", url);
        }
        for (k, v) in options.extra {
            vars.insert(k, v);
        }
        let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config");
        let shutdown = CancellationToken::new();
        let services = fundi::app::build_services(config, &shutdown)
            .await
            .expect("services start");
        let server = fundi::app::start_with(services, "127.0.0.1:0", shutdown)
            .await
            .expect("server starts");
        if server.services.bus.uses_redis() {
            wait_until(Duration::from_secs(10), || {
                server.services.bus.is_redis_subscribed() == Some(true)
            })
            .await;
        }
        let addr = server.addr;
        TestServer {
            base: format!("http://{addr}"),
            ws_url: format!("ws://{addr}/graphql/ws"),
            mail_dir: backend.data_dir.path().join("mail"),
            server: Some(server),
            http: reqwest::Client::new(),
            _backend: backend,
        }
    }

    pub fn services(&self) -> &fundi::services::Services {
        &self.server.as_ref().expect("running").services
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// POSTs one operation and returns the whole response body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        response.json().await.expect("JSON body")
    }

    /// The Prometheus text at /metrics on the API port.
    pub async fn metrics_text(&self) -> String {
        let response = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("request sent");
        response.text().await.expect("text body")
    }

    /// GET /graphql as a browser asks for it.
    pub async fn graphiql(&self) -> reqwest::Response {
        self.http
            .get(self.url("/graphql"))
            .header("accept", "text/html")
            .send()
            .await
            .expect("request sent")
    }

    /// POSTs a request body as it is (persisted-query extensions, batches) and returns the response body.
    pub async fn post_json(&self, body: Value) -> Value {
        let response = self
            .http
            .post(self.url("/graphql"))
            .json(&body)
            .send()
            .await
            .expect("request sent");
        response.json().await.expect("JSON body")
    }

    /// Runs an operation that must succeed and returns its `data`.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Runs an operation that must fail and returns its first error.
    pub async fn err(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        body["errors"][0].clone()
    }

    pub async fn register(&self, email: &str) -> Session {
        self.register_as(email, "CUSTOMER").await
    }

    pub async fn register_as(&self, email: &str, role: &str) -> Session {
        let data = self
            .ok(
                None,
                "mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken user { id email } } }",
                json!({"input": {"email": email, "password": PASSWORD, "fullName": "Test Person", "role": role}}),
            )
            .await;
        Session::from_payload(&data["register"])
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        self.gql(
            None,
            "mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken user { id } } }",
            json!({"input": {"email": email, "password": password}}),
        )
        .await
    }

    /// The newest 6-digit code mailed to `to` whose subject contains `subject`.
    pub async fn mailed_code(&self, to: &str, subject: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let mut found: Vec<(std::time::SystemTime, String)> = Vec::new();
            if let Ok(entries) = std::fs::read_dir(&self.mail_dir) {
                for entry in entries.flatten() {
                    let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                    if text.contains(to) && text.contains(subject) {
                        let modified = entry
                            .metadata()
                            .and_then(|m| m.modified())
                            .unwrap_or(std::time::UNIX_EPOCH);
                        found.push((modified, text));
                    }
                }
            }
            found.sort_by_key(|(modified, _)| *modified);
            if let Some((_, text)) = found.last()
                && let Some(code) = text
                    .split("code is ")
                    .nth(1)
                    .map(|rest| rest.chars().take(6).collect::<String>())
            {
                return code;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no mail to {to} about {subject:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn advance_clock(&self, by: chrono::Duration) {
        self.services().clock.advance(by);
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("clean stop");
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
}

impl Session {
    pub fn from_payload(payload: &Value) -> Session {
        Session {
            access: payload["accessToken"]
                .as_str()
                .expect("access token")
                .to_string(),
            refresh: payload["refreshToken"]
                .as_str()
                .expect("refresh token")
                .to_string(),
            user_id: payload["user"]["id"].as_str().expect("user id").to_string(),
        }
    }

    pub fn token(&self) -> Option<&str> {
        Some(&self.access)
    }
}

pub fn code(error: &Value) -> &str {
    error["extensions"]["code"].as_str().unwrap_or("<none>")
}

pub async fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "condition not met in {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A GraphQL WebSocket client speaking `protocol` (graphql-transport-ws or graphql-ws).
pub struct WsClient {
    pub socket: Socket,
    pub protocol: &'static str,
}

impl WsClient {
    pub async fn connect(url: &str, protocol: &'static str) -> WsClient {
        let mut request = url.into_client_request().expect("ws request");
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocol.parse().expect("header"));
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("ws connects");
        WsClient { socket, protocol }
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("ws send");
    }

    /// The next JSON message, skipping keep-alives; None when the server closed the socket.
    pub async fn next_json(&mut self, limit: Duration) -> Option<Value> {
        loop {
            let message = tokio::time::timeout(limit, self.socket.next())
                .await
                .expect("ws message in time")?;
            match message.ok()? {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON frame");
                    if matches!(value["type"].as_str(), Some("ka" | "ping" | "pong")) {
                        continue;
                    }
                    return Some(value);
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Waits for the close frame and returns its code.
    pub async fn close_code(&mut self, limit: Duration) -> Option<u16> {
        loop {
            match tokio::time::timeout(limit, self.socket.next())
                .await
                .expect("close in time")
            {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    }

    pub async fn init(&mut self, token: Option<&str>) -> Value {
        let payload = match token {
            Some(token) => json!({"authorization": format!("Bearer {token}")}),
            None => json!({}),
        };
        self.send(json!({"type": "connection_init", "payload": payload}))
            .await;
        self.next_json(Duration::from_secs(5))
            .await
            .unwrap_or(Value::Null)
    }

    pub async fn subscribe(&mut self, id: &str, query: &str) {
        let kind = if self.protocol == "graphql-ws" {
            "start"
        } else {
            "subscribe"
        };
        self.send(json!({"id": id, "type": kind, "payload": {"query": query}}))
            .await;
    }

    /// The next payload delivered for a subscription (`next`, or `data` on the legacy protocol).
    pub async fn next_payload(&mut self, limit: Duration) -> Value {
        loop {
            let message = self.next_json(limit).await.expect("socket open");
            match message["type"].as_str() {
                Some("next" | "data") => return message["payload"].clone(),
                Some("error") => return json!({"errors": message["payload"]}),
                _ => continue,
            }
        }
    }
}

/// A TCP proxy that can cut every connection and refuse new ones, to simulate a dependency outage.
pub struct Proxy {
    pub addr: std::net::SocketAddr,
    up: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    /// A proxy in front of the test Redis (`FUNDI_TEST_REDIS_URL`), for tests that cut it off.
    pub async fn to_test_redis() -> Proxy {
        let redis = require_redis();
        let target = redis
            .trim_start_matches("redis://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        Proxy::start(&target).await
    }

    pub async fn start(target: &str) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("proxy binds");
        let addr = listener.local_addr().unwrap();
        let (up, _) = tokio::sync::watch::channel(true);
        let watcher = up.clone();
        let target = target.to_string();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut state = watcher.subscribe();
                if !*state.borrow() {
                    continue; // dropped: refused while down
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = state.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Proxy { addr, up }
    }

    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}

/// Two server instances on one database and one Redis, as two replicas behind a load balancer.
pub async fn replicas() -> (TestServer, TestServer) {
    let redis = require_redis();
    let backend = std::sync::Arc::new(Backend::new().await);
    let prefix = format!("fundi-test-{}", uuid::Uuid::now_v7().simple());
    let options = || Options {
        redis_url: Some(redis.clone()),
        channel_prefix: prefix.clone(),
        extra: Vec::new(),
    };
    let a = TestServer::start_on(backend.clone(), options()).await;
    let b = TestServer::start_on(backend, options()).await;
    (a, b)
}

/// Waits until every durable event written so far has gone out on the bus, so a subscription
/// opened afterwards sees only what happens from then on (pub/sub replays nothing).
pub async fn outbox_drained(s: &TestServer) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &s.services().db;
    let count = Statement::from_string(
        db.get_database_backend(),
        "SELECT COUNT(*) AS waiting FROM outbox WHERE published_at IS NULL",
    );
    // Up to 20 s: when the replica holding the relay's lease has lost Redis, another takes the
    // lease over only once it runs out (10 s).
    for _ in 0..400 {
        let row = db.query_one_raw(count.clone()).await.unwrap().unwrap();
        let waiting: i64 = row.try_get("", "waiting").unwrap();
        if waiting == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outbox did not drain");
}

/// Runs a query over HTTP and returns its body with the statement count from `Server-Timing`.
pub async fn counted(
    s: &TestServer,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> (Value, u64) {
    let mut request = s
        .http()
        .post(s.url("/graphql"))
        .json(&json!({"query": query, "variables": variables}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let timing = response
        .headers()
        .get("server-timing")
        .expect("a Server-Timing header")
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = response.json().await.expect("JSON body");
    (body, statements(&timing))
}

/// `db;desc="7 statements";dur=3.1` -> 7.
pub fn statements(timing: &str) -> u64 {
    let desc = timing
        .split(';')
        .find_map(|part| part.trim().strip_prefix("desc=\""))
        .unwrap_or_else(|| panic!("no desc in {timing}"));
    desc.split(' ').next().unwrap().parse().unwrap()
}

/// The JSON bodies (with their Authorization headers) a mock provider received at path `at`.
pub async fn calls(mock: &wiremock::MockServer, at: &str) -> Vec<(Value, String)> {
    mock.received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == at)
        .map(|r| {
            let auth = r
                .headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (serde_json::from_slice(&r.body).unwrap_or(Value::Null), auth)
        })
        .collect()
}
