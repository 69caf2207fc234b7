//! Benchmark: the server's memory per idle subscription. Starts `fundi serve` as its own process
//! (SQLite in a temporary data directory, a free port), registers one customer, opens N
//! graphql-transport-ws connections, each with `subscription { notificationAdded { id } }`, waits
//! until the server reports them all open and the process is idle, and reads the server's VmRSS
//! from /proc/<pid>/status before, halfway and after. Prints bytes per subscription and per
//! connection: overall ((after - before) / N) and marginal (second half only, which leaves out
//! one-off growth such as the runtime's and allocator's first arenas).
//!
//! Run: `cargo bench --bench idle_subscriptions` (Linux only: it reads /proc). Settings:
//! `FUNDI_BENCH_SUBSCRIPTIONS` (default 10000) and `FUNDI_BENCH_SUBSCRIPTIONS_PER_CONNECTION`
//! (default 1; more puts several subscriptions on one socket). Each connection is a file
//! descriptor in this process and in the server: the bench raises its soft `ulimit -n` to the
//! hard limit (the server inherits it) and stops early if that is still too low.

// A panic in a benchmark aborts the run, not a request: benches may unwrap and expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Sockets per customer account: the highest `FUNDI_WS_MAX_SOCKETS_PER_ACCOUNT` allows.
const SOCKETS_PER_ACCOUNT: usize = 1_000;
/// Connections being opened at once.
const OPENING: usize = 100;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Raises the soft open-files limit to the hard one; returns the soft limit now in force.
fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}

/// The resident set of a process, in bytes, from /proc/<pid>/status.
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line");
    kb * 1024
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    child: Child,
    base: String,
    ws_url: String,
    http: reqwest::Client,
}

impl Server {
    async fn start(data_dir: &std::path::Path) -> Server {
        let port = free_port();
        let log = std::fs::File::create(data_dir.join("server.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_fundi"))
            .arg("serve")
            .env("FUNDI_DATA_DIR", data_dir)
            .env("FUNDI_BIND", format!("127.0.0.1:{port}"))
            .env("FUNDI_LOG", "warn")
            // One account may hold at most this many sockets; the bench spreads its sockets over
            // as many customers as that takes.
            .env(
                "FUNDI_WS_MAX_SOCKETS_PER_ACCOUNT",
                SOCKETS_PER_ACCOUNT.to_string(),
            )
            .env_remove("FUNDI_DATABASE_URL")
            .env_remove("FUNDI_REDIS_URL")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("fundi starts");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            ws_url: format!("ws://127.0.0.1:{port}/graphql/ws"),
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = server.http.get(format!("{}/readyz", server.base)).send();
            if matches!(ready.await, Ok(r) if r.status().is_success()) {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "server not ready; see {}",
                data_dir.join("server.log").display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn register(&self, email: &str) -> String {
        common::register(
            &self.http,
            &format!("{}/graphql", self.base),
            email,
            "CUSTOMER",
        )
        .await
    }

    /// A gauge from /metrics.
    async fn gauge(&self, name: &str) -> i64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            // Both gauges read here are integer gauges, written as whole numbers.
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(0)
    }

    /// Waits until the server counts `subscriptions`, then until its memory stops moving.
    async fn settle(&self, subscriptions: usize) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.gauge("fundi_graphql_open_subscriptions").await < subscriptions as i64 {
            assert!(Instant::now() < deadline, "subscriptions not all open");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let mut last = rss_bytes(self.pid());
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let now = rss_bytes(self.pid());
            if now.abs_diff(last) < 64 * 1024 {
                return now;
            }
            last = now;
        }
    }

    fn stop(mut self) {
        // SAFETY: signals our own child process.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

/// One client socket: connection_init, wait for the ack, then `subscriptions` subscriptions.
async fn open(url: &str, token: &str, subscriptions: usize) -> Socket {
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    // Small client buffers: the bench process holds as many sockets as the server.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
        .await
        .expect("ws connects");
    let init =
        json!({"type": "connection_init", "payload": {"authorization": format!("Bearer {token}")}});
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) if text.contains("connection_ack") => break,
            Some(Ok(Message::Text(text))) if text.contains("ping") => continue,
            other => panic!("no connection_ack: {other:?}"),
        }
    }
    for n in 0..subscriptions {
        let subscribe = json!({"id": n.to_string(), "type": "subscribe",
            "payload": {"query": "subscription { notificationAdded { id } }"}});
        socket
            .send(Message::Text(subscribe.to_string().into()))
            .await
            .unwrap();
    }
    socket
}

/// Opens `connections` more sockets; the n-th socket overall signs in as customer n / 1,000.
async fn open_many(
    sockets: &mut Vec<Socket>,
    url: &str,
    tokens: &[String],
    connections: usize,
    per_connection: usize,
) {
    let first = sockets.len();
    let opened: Vec<Socket> = futures_util::stream::iter(first..first + connections)
        .map(|n| open(url, &tokens[n / SOCKETS_PER_ACCOUNT], per_connection))
        .buffer_unordered(OPENING)
        .collect()
        .await;
    sockets.extend(opened);
}

fn per(bytes: u64, count: usize) -> String {
    format!("{:.1} KB", bytes as f64 / count.max(1) as f64 / 1024.0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let subscriptions = setting("FUNDI_BENCH_SUBSCRIPTIONS", 10_000);
    let per_connection = setting("FUNDI_BENCH_SUBSCRIPTIONS_PER_CONNECTION", 1).max(1);
    let connections = subscriptions.div_ceil(per_connection);
    let subscriptions = connections * per_connection;
    let fds = raise_fd_limit();
    assert!(
        usize::try_from(fds).unwrap_or(usize::MAX) > connections + 200,
        "open-files limit {fds} is too low for {connections} connections; raise `ulimit -n`"
    );

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let mut tokens = Vec::new();
    for n in 0..connections.div_ceil(SOCKETS_PER_ACCOUNT) {
        tokens.push(
            server
                .register(&format!("idle-bench-{n}@example.com"))
                .await,
        );
    }
    // Warm up: one connection opened and closed, so first-use allocations are in the baseline.
    let mut sockets = Vec::new();
    open_many(&mut sockets, &server.ws_url, &tokens, 1, 1).await;
    server.settle(1).await;
    for mut socket in sockets.drain(..) {
        let _ = socket.close(None).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.gauge("fundi_websocket_connections").await > 0 {
        assert!(Instant::now() < deadline, "warm-up socket not closed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = server.settle(0).await;

    let started = Instant::now();
    let half = connections / 2;
    open_many(&mut sockets, &server.ws_url, &tokens, half, per_connection).await;
    let middle = server.settle(half * per_connection).await;
    open_many(
        &mut sockets,
        &server.ws_url,
        &tokens,
        connections - half,
        per_connection,
    )
    .await;
    let after = server.settle(subscriptions).await;
    let opened_in = started.elapsed();
    let open_sockets = server.gauge("fundi_websocket_connections").await;
    assert_eq!(
        open_sockets, connections as i64,
        "server counts every socket"
    );

    let total = after.saturating_sub(before);
    let marginal = after.saturating_sub(middle);
    let marginal_connections = connections - half;
    println!(
        "{subscriptions} idle subscriptions on {connections} graphql-transport-ws connections \
         (opened and settled in {:.1} s)",
        opened_in.as_secs_f64()
    );
    println!(
        "server VmRSS: {:.1} MB before, {:.1} MB at half, {:.1} MB after",
        before as f64 / 1048576.0,
        middle as f64 / 1048576.0,
        after as f64 / 1048576.0
    );
    println!("| measure | per subscription | per connection |");
    println!("|---|---|---|");
    println!(
        "| overall (after - before) | {} | {} |",
        per(total, subscriptions),
        per(total, connections)
    );
    println!(
        "| marginal (second half) | {} | {} |",
        per(marginal, marginal_connections * per_connection),
        per(marginal, marginal_connections)
    );
    drop(sockets);
    server.stop();
}
