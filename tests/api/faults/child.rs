//! `fundi serve` as a child process that a test can kill with SIGKILL, stop with SIGTERM and start
//! again on the same database, with what it wrote to stderr kept for failure messages.

use crate::support::{Backend, JWT_SECRET};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How much of the server's stderr a failure message shows.
const LOG_TAIL: usize = 4000;

pub struct Fundi {
    env: Vec<(String, String)>,
    child: Option<Child>,
    /// `http://127.0.0.1:<port>` of the running process; a restart listens on a new port.
    pub base: String,
    log: Arc<Mutex<String>>,
}

/// The settings every fault test starts from: its own database and data directory, quiet logs,
/// and per-address limits out of the way (every client here is 127.0.0.1).
pub fn base_env(backend: &Backend) -> Vec<(String, String)> {
    [
        ("FUNDI_BIND", "127.0.0.1:0".to_string()),
        (
            "FUNDI_DATA_DIR",
            backend.data_dir.path().display().to_string(),
        ),
        ("FUNDI_DATABASE_URL", backend.database_url.clone()),
        ("FUNDI_JWT_SECRET", JWT_SECRET.to_string()),
        ("FUNDI_LOG", "warn".to_string()),
        ("FUNDI_PASSWORD_CHECKS_PER_MINUTE", "100000".to_string()),
        ("FUNDI_SIGNUPS_PER_HOUR", "100000".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

impl Fundi {
    /// Starts `fundi serve` with only `env` and waits until it listens.
    pub fn start(env: Vec<(String, String)>) -> Fundi {
        let mut server = Fundi {
            env,
            child: None,
            base: String::new(),
            log: Arc::default(),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fundi"))
            .arg("serve")
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("fundi binary starts");
        let mut stderr = child.stderr.take().expect("stderr piped");
        let log = self.log.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                log.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = std::sync::mpsc::channel();
        // Keeps reading after the address line, so the process never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("http://").nth(1) {
                    let _ = tx.send(rest.trim_end_matches("/graphql").to_string());
                }
            }
        });
        self.child = Some(child);
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => self.base = format!("http://{addr}"),
            Err(_) => {
                self.kill();
                panic!("fundi did not start:\n{}", self.log_tail());
            }
        }
    }

    /// SIGKILL: no shutdown code runs, as when a node dies.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A crash followed by a fresh start on the same database and data directory.
    pub fn kill_and_restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// SIGTERM, as an orchestrator stops a pod.
    pub fn terminate(&self) {
        let child = self.child.as_ref().expect("running");
        let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
        // SAFETY: kill(2) with a pid this test spawned and has not yet reaped.
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(sent, 0, "SIGTERM delivered");
    }

    /// How the process ended, if it did within `limit`.
    pub async fn exit_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            let child = self.child.as_mut()?;
            if let Some(status) = child.try_wait().expect("child status") {
                self.child = None;
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The end of what the process (and the ones before it) wrote to stderr.
    pub fn log_tail(&self) -> String {
        let log = self.log.lock().unwrap();
        let start = log.len().saturating_sub(LOG_TAIL);
        let start = (start..log.len())
            .find(|&i| log.is_char_boundary(i))
            .unwrap_or(log.len());
        log[start..].to_string()
    }
}

impl Drop for Fundi {
    fn drop(&mut self) {
        self.kill();
    }
}
