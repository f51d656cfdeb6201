//! A listing spread over several index partitions (`keys::listing_partitions`) read as one:
//! each partition's page starts after the listing's cursor, and the pages merge by index sort
//! key. Sort keys are unique within a listing, so the last entry shown is the whole cursor.

use crate::store::{Cursor, IndexKey, Page, Record};
use std::collections::{HashMap, HashSet};

/// The listing's cursor as a start in `partition`: the same index sort key, in that partition.
pub fn cursor_in(cursor: &Cursor, partition: &str) -> Cursor {
    Cursor {
        index: cursor.index.as_ref().map(|i| IndexKey {
            pk: partition.to_owned(),
            sk: i.sk.clone(),
        }),
        ..cursor.clone()
    }
}

/// Where an entry sits in its listing; the table keys only break ties, as the stores do.
fn position(entry: &Record) -> (&str, &str, &str) {
    let index = entry.index.as_ref().map_or("", |i| i.sk.as_str());
    (index, &entry.pk, &entry.sk)
}

/// One page of at most `limit` entries from pages of the same listing's partitions (each in
/// listing order, each asked for `limit`), with a cursor when more may follow.
pub fn merge(pages: Vec<Page>, limit: usize, newest_first: bool) -> Page {
    let mut more = false;
    let mut entries = Vec::new();
    for page in pages {
        more |= page.next.is_some();
        entries.extend(page.records);
    }
    entries.sort_by(|a, b| position(a).cmp(&position(b)));
    if newest_first {
        entries.reverse();
    }
    more |= entries.len() > limit;
    entries.truncate(limit);
    let next = match (more, entries.last()) {
        (true, Some(last)) => Some(Cursor::after(last)),
        _ => None,
    };
    Page {
        records: entries,
        next,
    }
}

/// The table keys of entries, each once: BatchGetItem refuses a key asked twice.
pub fn keys_of(entries: &[Record]) -> Vec<(String, String)> {
    let mut asked = HashSet::new();
    entries
        .iter()
        .map(|e| (e.pk.clone(), e.sk.clone()))
        .filter(|key| asked.insert(key.clone()))
        .collect()
}

/// The items `found` for `entries`, in the entries' order, leaving out any item gone from the
/// table or whose index key is no longer its entry's (the index lags), so an entry seen in two
/// partitions while it moved shows once.
pub fn still_listed(entries: &[Record], found: Vec<Record>) -> Vec<Record> {
    let mut found: HashMap<(String, String), Record> = found
        .into_iter()
        .map(|r| ((r.pk.clone(), r.sk.clone()), r))
        .collect();
    entries
        .iter()
        .filter_map(|entry| {
            let key = (entry.pk.clone(), entry.sk.clone());
            match found.get(&key) {
                Some(item) if item.index == entry.index => found.remove(&key),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn entry(partition: usize, sk: &str) -> Record {
        Record::new(format!("item#{sk}"), "ITEM", serde_json::Value::Null)
            .indexed(format!("listing#{partition}"), sk)
    }

    /// One partition's page as a store answers it: entries after the cursor, in order.
    fn page_of(entries: &[Record], cursor: Option<&Cursor>, limit: usize, newest: bool) -> Page {
        let mut found: Vec<Record> = entries.to_vec();
        found.sort_by(|a, b| position(a).cmp(&position(b)));
        if newest {
            found.reverse();
        }
        if let Some(c) = cursor {
            let at = c.index.as_ref().map(|i| i.sk.as_str()).unwrap_or_default();
            let at = (at, c.pk.as_str(), c.sk.as_str());
            found.retain(|r| (position(r) > at) != newest && position(r) != at);
        }
        let more = found.len() > limit;
        found.truncate(limit);
        let next = more.then(|| found.last().map(Cursor::after)).flatten();
        Page {
            records: found,
            next,
        }
    }

    /// Every page of a listing spread over `partitions`, read as `Repo::list` reads it.
    fn read_all(partitions: &[Vec<Record>], limit: usize, newest: bool) -> Vec<Vec<String>> {
        let mut pages = Vec::new();
        let mut cursor: Option<Cursor> = None;
        loop {
            let answers = partitions
                .iter()
                .enumerate()
                .map(|(n, entries)| {
                    let start = cursor
                        .as_ref()
                        .map(|c| cursor_in(c, &format!("listing#{n}")));
                    page_of(entries, start.as_ref(), limit, newest)
                })
                .collect();
            let page = merge(answers, limit, newest);
            pages.push(
                page.records
                    .iter()
                    .filter_map(|r| r.index.as_ref().map(|i| i.sk.clone()))
                    .collect(),
            );
            match page.next {
                Some(next) => cursor = Some(next),
                None => return pages,
            }
            assert!(pages.len() < 10_000, "the listing never ends");
        }
    }

    #[test]
    fn a_cursor_moves_to_each_partition_with_its_sort_key() {
        let cursor = Cursor::after(&entry(2, "0005"));
        let moved = cursor_in(&cursor, "listing#0");
        assert_eq!(
            moved.index.map(|i| (i.pk, i.sk)),
            Some(("listing#0".into(), "0005".into()))
        );
        assert_eq!((moved.pk, moved.sk), (cursor.pk, cursor.sk));
    }

    #[test]
    fn pages_merge_in_order_and_say_when_more_follow() {
        let page = |sks: &[&str], next: bool| Page {
            records: sks.iter().map(|sk| entry(0, sk)).collect(),
            next: next.then(|| Cursor::after(&entry(0, sks[sks.len() - 1]))),
        };
        let merged = merge(
            vec![page(&["1", "4"], false), page(&["2", "3"], false)],
            3,
            false,
        );
        let sks: Vec<_> = merged
            .records
            .iter()
            .map(|r| position(r).0.to_owned())
            .collect();
        assert_eq!(sks, ["1", "2", "3"]);
        assert_eq!(
            merged.next.and_then(|c| c.index).map(|i| i.sk),
            Some("3".into())
        );

        let newest = merge(vec![page(&["4", "1"], false), page(&["3"], false)], 3, true);
        let sks: Vec<_> = newest
            .records
            .iter()
            .map(|r| position(r).0.to_owned())
            .collect();
        assert_eq!(sks, ["4", "3", "1"]);
        assert_eq!(newest.next, None, "everything fitted");

        // A partition with more than it answered keeps the listing going.
        let cut = merge(vec![page(&["1"], true), page(&[], false)], 3, false);
        assert!(cut.next.is_some());
    }

    #[test]
    fn an_entry_seen_in_two_partitions_or_gone_from_the_table_is_left_out() {
        let item = |key: &str, partition: usize| {
            Record::new(format!("item#{key}"), "ITEM", serde_json::json!(key))
                .indexed(format!("listing#{partition}"), key)
        };
        // `a` moved from partition 0 to 1, and the index still shows both; `c` was deleted.
        let entries = [item("a", 0), item("a", 1), item("b", 2), item("c", 3)].map(|r| r.entry());
        let keys = keys_of(&entries);
        assert_eq!(keys.len(), 3, "each key asked once: {keys:?}");
        let shown = still_listed(&entries, vec![item("b", 2), item("a", 1)]);
        let data: Vec<_> = shown.iter().map(|r| r.data.clone()).collect();
        assert_eq!(data, ["a", "b"]);
    }

    proptest! {
        #[test]
        fn any_spread_pages_to_the_sorted_whole_exactly_once(
            keys in proptest::collection::btree_set("[0-9a-f]{1,6}", 0..60),
            spread in proptest::collection::vec(0usize..4, 60),
            partitions in 1usize..5,
            limit in 1usize..8,
            newest in any::<bool>(),
        ) {
            let mut shards = vec![Vec::new(); partitions];
            let mut placed = BTreeMap::new();
            for (key, at) in keys.iter().zip(&spread) {
                shards[at % partitions].push(entry(at % partitions, key));
                placed.insert(key.clone(), ());
            }
            let pages = read_all(&shards, limit, newest);
            let mut expected: Vec<String> = placed.into_keys().collect();
            if newest {
                expected.reverse();
            }
            prop_assert!(pages.iter().all(|p| p.len() <= limit));
            // Every page but the last is full: pages are exact.
            prop_assert!(pages[..pages.len() - 1].iter().all(|p| p.len() == limit));
            let listed: Vec<String> = pages.concat();
            prop_assert_eq!(listed, expected);
        }
    }
}
