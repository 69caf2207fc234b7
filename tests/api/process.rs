//! The `fundi serve` binary as a child process with exactly the environment a test gives it, its
//! stderr captured, for what only the real process shows: logging set-up and start-up checks.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct ServerProcess {
    child: Child,
    pub base: String,
    stderr: Arc<Mutex<String>>,
}

/// How `fundi serve` ended before it printed its address.
#[derive(Debug)]
pub struct StartFailure {
    pub stderr: String,
}

impl ServerProcess {
    /// Starts `fundi serve` with only `env` (no inherited variables) and waits until it listens.
    pub fn spawn(env: &[(String, String)]) -> Result<ServerProcess, StartFailure> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fundi"))
            .arg("serve")
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("fundi binary starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("stderr piped");
        let sink = stderr.clone();
        let reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("http://").nth(1) {
                    let _ = tx.send(rest.trim_end_matches("/graphql").to_string());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => Ok(ServerProcess {
                child,
                base: format!("http://{addr}"),
                stderr,
            }),
            // Exited (stdout closed) or never listened: collect all it said once it is gone.
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = reader.join();
                let stderr = stderr.lock().unwrap().clone();
                Err(StartFailure { stderr })
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Everything the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
