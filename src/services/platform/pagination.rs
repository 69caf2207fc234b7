//! Relay-style pagination arguments: page size bounds and opaque keyset cursors over UUIDv7 ids.

use crate::error::{AppError, AppResult};
use base64::Engine;
use uuid::Uuid;

pub const MAX_PAGE_SIZE: i32 = 100;
pub const DEFAULT_PAGE_SIZE: i32 = 20;

#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// Rows to return; one more is fetched to learn whether another page follows.
    pub limit: u64,
    pub after: Option<Uuid>,
}

impl Page {
    pub fn parse(first: Option<i32>, after: Option<&str>) -> AppResult<Page> {
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&first) {
            return Err(AppError::bad_input(
                "first",
                format!("first must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        let after = after.map(decode_cursor).transpose()?;
        Ok(Page {
            limit: first as u64,
            after,
        })
    }
}

pub fn encode_cursor(id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

pub fn decode_cursor(cursor: &str) -> AppResult<Uuid> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| AppError::bad_input("after", "malformed cursor"))
}

/// A fetched page: the rows and whether more follow.
pub struct Slice<T> {
    pub items: Vec<T>,
    pub has_next: bool,
}

impl<T> Slice<T> {
    /// Takes `limit + 1` fetched rows and trims the probe row.
    pub fn from_probe(mut rows: Vec<T>, limit: u64) -> Self {
        let has_next = rows.len() as u64 > limit;
        // Saturating: a limit past usize keeps every row, as it would have.
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Slice {
            items: rows,
            has_next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_is_bounded() {
        assert!(Page::parse(Some(0), None).is_err());
        assert!(Page::parse(Some(101), None).is_err());
        assert_eq!(Page::parse(Some(100), None).unwrap().limit, 100);
        assert_eq!(Page::parse(None, None).unwrap().limit, 20);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(id)).unwrap(), id);
        assert!(
            matches!(decode_cursor("not-a-cursor"), Err(AppError::BadInput { field, .. }) if field == "after")
        );
    }

    #[test]
    fn probe_row_sets_has_next() {
        let s = Slice::from_probe(vec![1, 2, 3], 2);
        assert_eq!(s.items, vec![1, 2]);
        assert!(s.has_next);
        assert!(!Slice::from_probe(vec![1], 2).has_next);
    }
}
