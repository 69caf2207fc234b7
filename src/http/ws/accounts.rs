//! Open WebSockets per account on this replica, so one account cannot hold more than its share.
//! Counted per replica: a cross-replica count would need a shared counter kept alive by heartbeats
//! (a crashed replica never decrements), which costs more than the cap is worth.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use uuid::Uuid;

#[derive(Default)]
pub struct AccountSockets {
    open: Mutex<HashMap<Uuid, usize>>,
}

/// One open socket of an account; dropping it gives the place back.
pub struct SocketSlot {
    owner: Arc<AccountSockets>,
    account: Uuid,
}

impl AccountSockets {
    /// A place for another socket of `account`, or None when it already holds `max`.
    pub fn claim(self: &Arc<Self>, account: Uuid, max: usize) -> Option<SocketSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(account).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(SocketSlot {
            owner: self.clone(),
            account,
        })
    }

    pub fn open_for(&self, account: Uuid) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&account)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut open = self
            .owner
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.account) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.account);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_holds_at_most_max_sockets_and_closing_one_frees_a_place() {
        let sockets = Arc::new(AccountSockets::default());
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let first = sockets.claim(alice, 2).expect("first");
        let _second = sockets.claim(alice, 2).expect("second");
        assert!(sockets.claim(alice, 2).is_none());
        assert!(sockets.claim(bob, 2).is_some(), "others are not affected");
        drop(first);
        assert_eq!(sockets.open_for(alice), 1);
        assert!(sockets.claim(alice, 2).is_some());
    }

    #[test]
    fn an_account_with_no_sockets_is_forgotten() {
        let sockets = Arc::new(AccountSockets::default());
        let alice = Uuid::now_v7();
        drop(sockets.claim(alice, 1));
        assert!(sockets.open.lock().unwrap().is_empty());
    }
}
