//! When a connection must close because of time: no `connection_init` in time (4408), an anonymous
//! connection with nothing open (4401), an access token past its expiry on the service clock (4403).
//! One timer per connection, reset only when what it waits for changes.

use super::INIT_TIMEOUT;
use super::connection::{Connection, Standing, close};
use crate::services::Clock;
use chrono::{DateTime, Utc};
use std::pin::Pin;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Due {
    Init(Instant),
    /// Checked again at this instant: closed then if nothing is open.
    Anonymous(Instant),
    /// The access token's expiry, read on the service clock (tests move it).
    Token(DateTime<Utc>),
}

pub struct Watchdog {
    clock: Clock,
    moved: watch::Receiver<()>,
    sleep: Pin<Box<Sleep>>,
    due: Due,
}

impl Watchdog {
    pub fn new(clock: Clock) -> Self {
        let at = Instant::now() + INIT_TIMEOUT;
        Watchdog {
            moved: clock.moved(),
            clock,
            sleep: Box::pin(tokio::time::sleep_until(at)),
            due: Due::Init(at),
        }
    }

    /// Follows the connection's standing after a client message: signing in, or a token refreshed.
    pub fn follow(&mut self, connection: &Connection) {
        let due = match &connection.standing {
            Standing::Opened => return,
            Standing::Anonymous if matches!(self.due, Due::Anonymous(_)) => return,
            Standing::Anonymous => Due::Anonymous(Instant::now() + INIT_TIMEOUT),
            Standing::SignedIn(binding) => Due::Token(binding.expires_at()),
        };
        if due != self.due {
            self.due = due;
            self.reset();
        }
    }

    fn reset(&mut self) {
        let at = match self.due {
            Due::Init(at) | Due::Anonymous(at) => at,
            Due::Token(expires) => Instant::now() + self.clock.until(expires),
        };
        self.sleep.as_mut().reset(at);
    }

    /// Resolves with the close code and reason once the connection must close; `open_operations`
    /// is what the connection has running now (the future is made afresh on every loop turn).
    pub async fn fired(&mut self, open_operations: usize) -> (u16, String) {
        loop {
            tokio::select! {
                _ = self.sleep.as_mut() => {}
                Ok(()) = self.moved.changed() => {
                    self.reset();
                    continue;
                }
            }
            match self.due {
                Due::Init(_) => {
                    return (
                        close::INIT_TIMEOUT,
                        "Connection initialisation timeout".into(),
                    );
                }
                Due::Anonymous(_) if open_operations == 0 => {
                    return (close::UNAUTHORIZED, "sign in to subscribe".into());
                }
                Due::Anonymous(_) => self.due = Due::Anonymous(Instant::now() + INIT_TIMEOUT),
                Due::Token(expires) if self.clock.now() >= expires => {
                    return (close::FORBIDDEN, "access token expired".into());
                }
                Due::Token(_) => {}
            }
            self.reset();
        }
    }
}
