//! Set-based reads: rows fetched for many keys in one statement, handed back grouped by key.

use std::collections::HashMap;
use std::hash::Hash;

/// Groups rows by `key`, keeping their order within each group.
pub fn group<K: Hash + Eq, T>(
    rows: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> HashMap<K, Vec<T>> {
    let mut groups: HashMap<K, Vec<T>> = HashMap::new();
    for row in rows {
        groups.entry(key(&row)).or_default().push(row);
    }
    groups
}

/// One row per key; when several share a key, the last one wins.
pub fn index<K: Hash + Eq, T>(
    rows: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> HashMap<K, T> {
    rows.into_iter().map(|row| (key(&row), row)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_row_order_and_index_keeps_the_last() {
        let rows = vec![(1, "a"), (2, "b"), (1, "c")];
        let grouped = group(rows.clone(), |r| r.0);
        assert_eq!(grouped[&1], vec![(1, "a"), (1, "c")]);
        assert_eq!(grouped[&2], vec![(2, "b")]);
        let indexed = index(rows, |r| r.0);
        assert_eq!(indexed[&1], (1, "c"));
    }
}
