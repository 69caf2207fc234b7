//! A TCP link between the server and a dependency (PostgreSQL, Redis) that a test can break the way
//! real outages break: refused (the port closed, every open connection cut, as while the service
//! restarts) or black-holed (connections accepted and kept, nothing ever answered, as behind a dead
//! network path). The shared services on this machine are never touched.

use std::net::SocketAddr;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    Refuse,
    Blackhole,
}

pub struct Link {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
}

impl Link {
    /// Listens on a free local port and forwards to `target` (host:port).
    pub async fn start(target: &str) -> Link {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("link binds");
        let addr = listener.local_addr().expect("local address");
        let (mode, watcher) = watch::channel(Mode::Forward);
        tokio::spawn(serve(Some(listener), addr, target.to_string(), watcher));
        Link { addr, mode }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

/// `host:port` of a `scheme://[user@]host:port/...` URL.
pub fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
        .to_string()
}

/// `url` with its host and port replaced by `addr`, keeping user, path and query.
pub fn through(url: &str, addr: SocketAddr) -> String {
    url.replacen(&host_port(url), &addr.to_string(), 1)
}

async fn serve(
    mut listener: Option<TcpListener>,
    addr: SocketAddr,
    target: String,
    mut mode: watch::Receiver<Mode>,
) {
    loop {
        let current = *mode.borrow_and_update();
        if current == Mode::Refuse {
            // A closed port: connecting is refused, as while the service restarts.
            listener = None;
        } else if listener.is_none() {
            listener = Some(TcpListener::bind(addr).await.expect("link binds again"));
        }
        tokio::select! {
            changed = mode.changed() => if changed.is_err() { return },
            accepted = accept(&listener) => {
                if let Ok((inbound, _)) = accepted {
                    tokio::spawn(connection(inbound, target.clone(), mode.clone()));
                }
            }
        }
    }
}

async fn accept(listener: &Option<TcpListener>) -> std::io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Relays one connection until the link breaks: cut when refused, held silent when black-holed.
async fn connection(mut inbound: TcpStream, target: String, mut mode: watch::Receiver<Mode>) {
    if *mode.borrow() == Mode::Forward {
        let Ok(mut outbound) = TcpStream::connect(&target).await else {
            return;
        };
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => return,
            _ = mode.wait_for(|m| *m != Mode::Forward) => {}
        }
    }
    if *mode.borrow() == Mode::Blackhole {
        swallow(&mut inbound, &mut mode).await;
    }
}

/// Reads and drops whatever the client sends, answering nothing, until the link is restored or cut.
async fn swallow(inbound: &mut TcpStream, mode: &mut watch::Receiver<Mode>) {
    let mut sink = [0u8; 4096];
    loop {
        tokio::select! {
            read = inbound.read(&mut sink) => if matches!(read, Ok(0) | Err(_)) { return },
            _ = mode.wait_for(|m| *m != Mode::Blackhole) => return,
        }
    }
}
