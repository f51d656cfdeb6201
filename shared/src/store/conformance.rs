//! The behaviour every [`Store`] adapter must show, run against each of them: the embedded store
//! in its unit tests, DynamoDB Local in the end-to-end tests. `ns` keeps runs apart in a shared
//! table. The checks panic with a description of what went wrong, as test assertions do.

use super::dynamodb::{record_size, MAX_ITEM_BYTES};
use super::{Cursor, IndexKey, Insert, Query, QueryOptions, Record, Store, StoreError};
use futures::future::join_all;
use serde_json::json;

pub async fn run_all(store: &dyn Store, ns: &str) {
    insert_is_conditional(store, ns).await;
    update_checks_the_version(store, ns).await;
    insert_all_is_all_or_nothing(store, ns).await;
    partition_queries_filter_order_and_page(store, ns).await;
    index_queries_order_page_and_follow_updates(store, ns).await;
    index_entries_start_anywhere_and_items_come_by_key(store, ns).await;
    concurrent_writers_do_not_both_win(store, ns).await;
    delete_removes_and_tolerates_missing(store, ns).await;
    items_past_the_size_limit_are_refused(store, ns).await;
}

/// A record of `pk`/`sk` whose item takes exactly `size` bytes at version 1.
fn record_of_size(pk: &str, sk: &str, size: usize) -> Record {
    let empty = Record::new(pk, sk, json!({"text": ""}));
    let filler = size.saturating_sub(record_size(&empty, 1));
    Record::new(pk, sk, json!({"text": "x".repeat(filler)}))
}

fn too_large<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::ItemTooLarge { size, .. }) => {
            assert_eq!(
                size,
                MAX_ITEM_BYTES + 1,
                "{what}: the size by DynamoDB's rules"
            )
        }
        other => panic!("{what}: expected ItemTooLarge, got {other:?}"),
    }
}

async fn items_past_the_size_limit_are_refused(store: &dyn Store, ns: &str) {
    let pk = format!("{ns}#size");
    let fits = record_of_size(&pk, "a", MAX_ITEM_BYTES);
    assert_eq!(record_size(&fits, 1), MAX_ITEM_BYTES);
    assert_eq!(
        store.insert(fits.clone()).await.unwrap(),
        Insert::Created,
        "an item of exactly 400 KB fits"
    );
    too_large(
        store
            .insert(record_of_size(&pk, "b", MAX_ITEM_BYTES + 1))
            .await,
        "insert",
    );
    assert_eq!(store.get(&pk, "b").await.unwrap(), None, "nothing written");
    // Checked before the condition, as DynamoDB does: a taken key answers the same.
    too_large(
        store
            .insert(record_of_size(&pk, "a", MAX_ITEM_BYTES + 1))
            .await,
        "insert over a taken key",
    );

    let mut grown = record_of_size(&pk, "a", MAX_ITEM_BYTES + 1);
    grown.version = 1;
    too_large(store.update(grown.clone()).await, "update");
    grown.version = 7;
    too_large(store.update(grown).await, "update from a stale version");
    let stored = store.get(&pk, "a").await.unwrap().expect("still there");
    assert_eq!((stored.version, stored.data), (1, fits.data), "unchanged");

    let batch = vec![
        Record::new(&pk, "c", json!({})),
        record_of_size(&pk, "d", MAX_ITEM_BYTES + 1),
    ];
    too_large(store.insert_all(batch).await, "insert_all");
    assert_eq!(store.get(&pk, "c").await.unwrap(), None, "all or nothing");
}

async fn delete_removes_and_tolerates_missing(store: &dyn Store, ns: &str) {
    let pk = format!("{ns}#delete");
    let record = Record::new(&pk, "a", json!({})).indexed(format!("{ns}#DELETED"), "1");
    store.insert(record.clone()).await.unwrap();
    store.delete(&pk, "a").await.unwrap();
    assert_eq!(store.get(&pk, "a").await.unwrap(), None);
    let listed = store
        .query(
            &Query::Index {
                pk: format!("{ns}#DELETED"),
            },
            &QueryOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        listed.records.is_empty(),
        "a deleted record leaves its listing"
    );
    store.delete(&pk, "a").await.unwrap();
    assert_eq!(
        store.insert(record).await.unwrap(),
        Insert::Created,
        "a deleted key can be written again"
    );
}

async fn insert_is_conditional(store: &dyn Store, ns: &str) {
    let pk = format!("{ns}#insert");
    assert_eq!(store.get(&pk, "a").await.unwrap(), None, "missing record");
    let first =
        Record::new(&pk, "a", json!({"n": 1, "amount": "19.99"})).expiring_at(4_000_000_000);
    assert_eq!(store.insert(first.clone()).await.unwrap(), Insert::Created);
    let second = Record::new(&pk, "a", json!({"n": 2}));
    match store.insert(second).await.unwrap() {
        Insert::Exists(existing) => {
            assert_eq!(
                existing.data, first.data,
                "a duplicate insert must not overwrite"
            );
            assert_eq!(existing.version, 1);
        }
        Insert::Created => panic!("a second insert with the same keys must not succeed"),
    }
    let stored = store.get(&pk, "a").await.unwrap().expect("stored record");
    assert_eq!(stored.data, first.data);
    assert_eq!(stored.version, 1);
    assert_eq!(stored.expires_at, Some(4_000_000_000));
    // The same partition with another sort key is another record.
    assert_eq!(
        store
            .insert(Record::new(&pk, "b", json!({})))
            .await
            .unwrap(),
        Insert::Created
    );
}

async fn update_checks_the_version(store: &dyn Store, ns: &str) {
    let pk = format!("{ns}#update");
    store
        .insert(Record::new(&pk, "r", json!({"status": "recorded"})))
        .await
        .unwrap();
    let mut current = store.get(&pk, "r").await.unwrap().unwrap();
    let stale = current.clone();
    current.data = json!({"status": "commissioned"});
    store.update(current).await.unwrap();
    let after = store.get(&pk, "r").await.unwrap().unwrap();
    assert_eq!(after.version, 2);
    assert_eq!(after.data, json!({"status": "commissioned"}));

    let mut late = stale;
    late.data = json!({"status": "refunded"});
    assert!(
        matches!(
            store.update(late).await,
            Err(StoreError::VersionConflict { .. })
        ),
        "an update from a stale read must fail"
    );
    assert_eq!(
        store.get(&pk, "r").await.unwrap().unwrap().data,
        json!({"status": "commissioned"})
    );
    let ghost = Record::new(&pk, "ghost", json!({}));
    assert!(
        matches!(
            store.update(ghost).await,
            Err(StoreError::VersionConflict { .. })
        ),
        "an update must not create a record"
    );
    assert_eq!(store.get(&pk, "ghost").await.unwrap(), None);
}

async fn insert_all_is_all_or_nothing(store: &dyn Store, ns: &str) {
    let pk = format!("{ns}#all");
    let pair = vec![
        Record::new(&pk, "1", json!({"i": 1})),
        Record::new(format!("{pk}#alias"), "1", json!({"i": 2})),
    ];
    assert_eq!(store.insert_all(pair).await.unwrap(), None);
    let clash = vec![
        Record::new(&pk, "2", json!({"i": 3})),
        Record::new(format!("{pk}#alias"), "1", json!({"i": 4})),
    ];
    assert_eq!(store.insert_all(clash).await.unwrap(), Some(1));
    assert_eq!(
        store.get(&pk, "2").await.unwrap(),
        None,
        "nothing of a refused batch may be written"
    );
    assert_eq!(
        store
            .get(&format!("{pk}#alias"), "1")
            .await
            .unwrap()
            .unwrap()
            .data,
        json!({"i": 2})
    );
}

async fn partition_queries_filter_order_and_page(store: &dyn Store, ns: &str) {
    let pk = format!("{ns}#part");
    for sk in ["RW#2", "RW#1", "RW#3", "TX", "REFUND"] {
        store
            .insert(Record::new(&pk, sk, json!({"sk": sk})))
            .await
            .unwrap();
    }
    let query = Query::Partition {
        pk: pk.clone(),
        sk_prefix: "RW#".into(),
    };
    let all = store.query(&query, &QueryOptions::default()).await.unwrap();
    let sks: Vec<_> = all.records.iter().map(|r| r.sk.as_str()).collect();
    assert_eq!(sks, ["RW#1", "RW#2", "RW#3"]);
    assert_eq!(all.next, None);

    let first = store
        .query(
            &query,
            &QueryOptions {
                limit: 2,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(first.records.len(), 2);
    let cursor = first.next.expect("a cursor when more records follow");
    let rest = store
        .query(
            &query,
            &QueryOptions {
                limit: 2,
                cursor: Some(cursor),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let sks: Vec<_> = rest.records.iter().map(|r| r.sk.as_str()).collect();
    assert_eq!(sks, ["RW#3"]);
    assert_eq!(rest.next, None, "no cursor on the last page");

    let newest = store
        .query(
            &query,
            &QueryOptions {
                limit: 1,
                newest_first: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(newest.records[0].sk, "RW#3");

    let whole = Query::Partition {
        pk: pk.clone(),
        sk_prefix: String::new(),
    };
    let all = store.query(&whole, &QueryOptions::default()).await.unwrap();
    assert_eq!(
        all.records.len(),
        5,
        "an empty prefix lists the whole partition"
    );
}

async fn index_queries_order_page_and_follow_updates(store: &dyn Store, ns: &str) {
    let index = format!("{ns}#LIST");
    for (pk, isk) in [("c", "0003"), ("a", "0001"), ("b", "0002"), ("d", "0002")] {
        let record =
            Record::new(format!("{ns}#item#{pk}"), "A", json!({"pk": pk})).indexed(&index, isk);
        store.insert(record).await.unwrap();
    }
    store
        .insert(Record::new(format!("{ns}#item#unindexed"), "A", json!({})))
        .await
        .unwrap();
    let query = Query::Index { pk: index.clone() };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .query(
                &query,
                &QueryOptions {
                    limit: 3,
                    cursor,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        seen.extend(
            page.records
                .iter()
                .map(|r| r.data["pk"].as_str().unwrap_or("").to_string()),
        );
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // DynamoDB leaves the order of equal index keys open; paging must still return each once.
    assert_eq!(seen.len(), 4, "every indexed record once: {seen:?}");
    assert_eq!(
        (seen[0].as_str(), seen[3].as_str()),
        ("a", "c"),
        "index order"
    );
    let mut ties = [seen[1].clone(), seen[2].clone()];
    ties.sort();
    assert_eq!(ties, ["b", "d"]);

    let newest = store
        .query(
            &query,
            &QueryOptions {
                limit: 1,
                newest_first: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(newest.records[0].data["pk"], "c");

    // Moving a record to another index key moves it between listings.
    let mut moved = store
        .get(&format!("{ns}#item#a"), "A")
        .await
        .unwrap()
        .unwrap();
    moved.index = Some(IndexKey {
        pk: format!("{ns}#OTHER"),
        sk: "0001".into(),
    });
    store.update(moved).await.unwrap();
    let left = store.query(&query, &QueryOptions::default()).await.unwrap();
    assert_eq!(left.records.len(), 3);
    let other = store
        .query(
            &Query::Index {
                pk: format!("{ns}#OTHER"),
            },
            &QueryOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(other.records.len(), 1);
}

/// What a listing spread over several index partitions needs: keys alone from each, starting
/// after an entry that lives in another partition, then the items it shows by key.
async fn index_entries_start_anywhere_and_items_come_by_key(store: &dyn Store, ns: &str) {
    let index = format!("{ns}#SPREAD");
    for n in ["1", "3", "5"] {
        let record =
            Record::new(format!("{ns}#spread#{n}"), "A", json!({"n": n})).indexed(&index, n);
        store.insert(record).await.unwrap();
    }
    let sks = |records: &[Record]| -> Vec<String> {
        records
            .iter()
            .filter_map(|r| r.index.as_ref().map(|i| i.sk.clone()))
            .collect()
    };
    let first = QueryOptions {
        limit: 2,
        ..Default::default()
    };
    let page = store.index_entries(&index, &first).await.unwrap();
    assert_eq!(sks(&page.records), ["1", "3"]);
    assert!(page.next.is_some(), "a third entry follows");
    assert_eq!(page.records[0].pk, format!("{ns}#spread#1"));
    assert!(
        page.records.iter().all(|r| r.data.is_null()),
        "entries carry keys alone"
    );

    // A start from another partition's entry: its sort key, put in this partition.
    let elsewhere = |sk: &str| Cursor {
        pk: format!("{ns}#elsewhere"),
        sk: "A".into(),
        index: Some(IndexKey {
            pk: index.clone(),
            sk: sk.into(),
        }),
    };
    let after = QueryOptions {
        cursor: Some(elsewhere("2")),
        ..Default::default()
    };
    let page = store.index_entries(&index, &after).await.unwrap();
    assert_eq!(sks(&page.records), ["3", "5"]);
    assert_eq!(page.next, None);
    let before = QueryOptions {
        cursor: Some(elsewhere("4")),
        newest_first: true,
        ..Default::default()
    };
    let page = store.index_entries(&index, &before).await.unwrap();
    assert_eq!(sks(&page.records), ["3", "1"]);

    let keys = [
        (format!("{ns}#spread#5"), "A".to_string()),
        (format!("{ns}#spread#missing"), "A".to_string()),
        (format!("{ns}#spread#1"), "A".to_string()),
    ];
    let found = store.get_many(&keys).await.unwrap();
    let ns_found: Vec<_> = found.iter().map(|r| r.data["n"].clone()).collect();
    assert_eq!(ns_found, [json!("5"), json!("1")], "in the keys' order");
    assert!(store.get_many(&[]).await.unwrap().is_empty());
}

async fn concurrent_writers_do_not_both_win(store: &dyn Store, ns: &str) {
    let pk = format!("{ns}#race");
    let inserts = (0..8).map(|i| store.insert(Record::new(&pk, "r", json!({ "writer": i }))));
    let outcomes = join_all(inserts).await;
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Insert::Created)))
        .count();
    assert_eq!(created, 1, "exactly one concurrent insert wins");

    let base = store.get(&pk, "r").await.unwrap().unwrap();
    let updates = (0..8).map(|i| {
        let mut record = base.clone();
        record.data = json!({ "updater": i });
        store.update(record)
    });
    let outcomes = join_all(updates).await;
    let won = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(
        won, 1,
        "exactly one concurrent update from the same version wins"
    );
    assert!(outcomes
        .iter()
        .filter_map(|o| o.as_ref().err())
        .all(|e| matches!(e, StoreError::VersionConflict { .. })));
}
