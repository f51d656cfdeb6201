//! A store decorator that counts what every call would cost on DynamoDB: the requests, and the
//! read and write capacity units by AWS's billing rules (item sizes as the DynamoDB adapter
//! writes them, writes rounded up per KB, reads per 4 KB, transactions at twice the units,
//! failed conditional writes billed like successful ones, and index writes by the projection).
//! The economics test and the benchmarks read their figures from it.

use super::dynamodb::{record_size, BATCH_GET_LIMIT};
use super::{Insert, Page, Query, QueryOptions, Record, Store, StoreError};
use async_trait::async_trait;
use rust_decimal::Decimal;
use std::sync::{Arc, Mutex, PoisonError};

/// What the table's global secondary index copies of each item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexProjection {
    /// Every attribute: an index entry is as large as its item and changes with it.
    All,
    /// The keys alone: an entry changes only when its keys do.
    KeysOnly,
}

/// Requests and capacity units counted since the last [`MeteredStore::take`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bill {
    /// GetItem, and BatchGetItem for a listing's items.
    pub gets: u32,
    pub puts: u32,
    pub deletes: u32,
    pub queries: u32,
    pub transactions: u32,
    /// Half read units: an eventually consistent read of up to 4 KB costs one.
    read_halves: u32,
    pub table_write_units: u32,
    pub index_write_units: u32,
}

impl Bill {
    pub fn calls(&self) -> u32 {
        self.gets + self.puts + self.deletes + self.queries + self.transactions
    }

    pub fn read_units(&self) -> Decimal {
        Decimal::new(i64::from(self.read_halves) * 5, 1)
    }

    pub fn write_units(&self) -> u32 {
        self.table_write_units + self.index_write_units
    }
}

pub struct MeteredStore {
    inner: Arc<dyn Store>,
    projection: IndexProjection,
    bill: Mutex<Bill>,
}

const KB: usize = 1024;

/// Units for `size` bytes billed in blocks of `block`, never less than one.
fn units(size: usize, block: usize) -> u32 {
    u32::try_from(size.div_ceil(block).max(1)).unwrap_or(u32::MAX)
}

impl MeteredStore {
    pub fn new(inner: Arc<dyn Store>, projection: IndexProjection) -> Self {
        Self {
            inner,
            projection,
            bill: Mutex::new(Bill::default()),
        }
    }

    /// The bill so far, starting a new one.
    pub fn take(&self) -> Bill {
        std::mem::take(&mut *self.bill.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn charge(&self, add: impl FnOnce(&mut Bill)) {
        add(&mut self.bill.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// The size of a record's index entry, if it has one.
    fn entry_size(&self, record: &Record, version: u64) -> Option<usize> {
        let index = record.index.as_ref()?;
        Some(match self.projection {
            IndexProjection::All => record_size(record, version),
            IndexProjection::KeysOnly => {
                "pk".len()
                    + record.pk.len()
                    + "sk".len()
                    + record.sk.len()
                    + "gsi1pk".len()
                    + index.pk.len()
                    + "gsi1sk".len()
                    + index.sk.len()
            }
        })
    }

    /// Index units for replacing `old` (if any) by `new` (if any).
    fn index_units(&self, old: Option<(&Record, u64)>, new: Option<(&Record, u64)>) -> u32 {
        let old_entry = old.and_then(|(r, v)| Some((r.index.as_ref()?, self.entry_size(r, v)?)));
        let new_entry = new.and_then(|(r, v)| Some((r.index.as_ref()?, self.entry_size(r, v)?)));
        match (old_entry, new_entry) {
            (None, None) => 0,
            (Some((_, size)), None) | (None, Some((_, size))) => units(size, KB),
            (Some((old_key, old_size)), Some((new_key, new_size))) if old_key != new_key => {
                units(old_size, KB) + units(new_size, KB)
            }
            (Some(_), Some((_, size))) => match self.projection {
                IndexProjection::All => units(size, KB),
                IndexProjection::KeysOnly => 0,
            },
        }
    }

    /// The stored record, read past the meter: what DynamoDB weighs a write against.
    async fn stored(&self, pk: &str, sk: &str) -> Result<Option<Record>, StoreError> {
        self.inner.get(pk, sk).await
    }
}

#[async_trait]
impl Store for MeteredStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Record>, StoreError> {
        let found = self.inner.get(pk, sk).await?;
        let size = found.as_ref().map_or(0, |r| record_size(r, r.version));
        self.charge(|b| {
            b.gets += 1;
            b.read_halves += 2 * units(size, 4 * KB);
        });
        Ok(found)
    }

    async fn insert(&self, record: Record) -> Result<Insert, StoreError> {
        let size = record_size(&record, 1);
        let index = self.index_units(None, Some((&record, 1)));
        let outcome = self.inner.insert(record).await?;
        self.charge(|b| {
            b.puts += 1;
            match &outcome {
                Insert::Created => {
                    b.table_write_units += units(size, KB);
                    b.index_write_units += index;
                }
                // A failed condition is billed at the larger of the two items.
                Insert::Exists(existing) => {
                    let old = record_size(existing, existing.version);
                    b.table_write_units += units(size.max(old), KB);
                }
            }
        });
        Ok(outcome)
    }

    async fn insert_all(&self, records: Vec<Record>) -> Result<Option<usize>, StoreError> {
        let table: u32 = records
            .iter()
            .map(|r| 2 * units(record_size(r, 1), KB))
            .sum();
        let index: u32 = records
            .iter()
            .map(|r| self.index_units(None, Some((r, 1))))
            .sum();
        let taken = self.inner.insert_all(records).await?;
        self.charge(|b| {
            b.transactions += 1;
            b.table_write_units += table;
            if taken.is_none() {
                b.index_write_units += index;
            }
        });
        Ok(taken)
    }

    async fn update(&self, record: Record) -> Result<(), StoreError> {
        let old = self.stored(&record.pk, &record.sk).await?;
        let new_version = record.version + 1;
        let size = old
            .as_ref()
            .map_or(0, |o| record_size(o, o.version))
            .max(record_size(&record, new_version));
        let index = self.index_units(
            old.as_ref().map(|o| (o, o.version)),
            Some((&record, new_version)),
        );
        let result = self.inner.update(record).await;
        self.charge(|b| {
            b.puts += 1;
            b.table_write_units += units(size, KB);
            if result.is_ok() {
                b.index_write_units += index;
            }
        });
        result
    }

    async fn query(&self, query: &Query, options: &QueryOptions) -> Result<Page, StoreError> {
        let page = self.inner.query(query, options).await?;
        let sizes = page.records.iter().map(|r| record_size(r, r.version));
        let consistent = options.consistent && matches!(query, Query::Partition { .. });
        let (query_halves, fetch_halves) = match (query, self.projection) {
            (Query::Partition { .. }, _) | (Query::Index { .. }, IndexProjection::All) => {
                (units(sizes.sum(), 4 * KB), 0)
            }
            // The index answers keys; the items come by key, each rounded up on its own.
            (Query::Index { .. }, IndexProjection::KeysOnly) => {
                let keys: usize = page
                    .records
                    .iter()
                    .filter_map(|r| self.entry_size(r, r.version))
                    .sum();
                (
                    units(keys, 4 * KB),
                    sizes.map(|size| units(size, 4 * KB)).sum(),
                )
            }
        };
        self.charge(|b| {
            b.queries += 1;
            b.read_halves += query_halves * if consistent { 2 } else { 1 };
            if fetch_halves > 0 {
                b.gets += 1;
                b.read_halves += fetch_halves;
            }
        });
        Ok(page)
    }

    async fn index_entries(&self, pk: &str, options: &QueryOptions) -> Result<Page, StoreError> {
        let page = self.inner.index_entries(pk, options).await?;
        let mut size = 0;
        for entry in &page.records {
            size += match self.projection {
                IndexProjection::KeysOnly => self.entry_size(entry, 0),
                // The index answers whole items, as stored.
                IndexProjection::All => self
                    .stored(&entry.pk, &entry.sk)
                    .await?
                    .and_then(|r| self.entry_size(&r, r.version)),
            }
            .unwrap_or(0);
        }
        self.charge(|b| {
            b.queries += 1;
            b.read_halves += units(size, 4 * KB);
        });
        Ok(page)
    }

    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Record>, StoreError> {
        let found = self.inner.get_many(keys).await?;
        self.charge(|b| {
            // One BatchGetItem per 100 keys, each item rounded up on its own.
            b.gets += u32::try_from(keys.len().div_ceil(BATCH_GET_LIMIT)).unwrap_or(u32::MAX);
            b.read_halves += found
                .iter()
                .map(|r| units(record_size(r, r.version), 4 * KB))
                .sum::<u32>();
        });
        Ok(found)
    }

    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        let old = self.stored(pk, sk).await?;
        let size = old.as_ref().map_or(0, |o| record_size(o, o.version));
        let index = self.index_units(old.as_ref().map(|o| (o, o.version)), None);
        self.inner.delete(pk, sk).await?;
        self.charge(|b| {
            b.deletes += 1;
            b.table_write_units += units(size, KB);
            b.index_write_units += index;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use serde_json::json;

    fn metered(projection: IndexProjection) -> MeteredStore {
        MeteredStore::new(Arc::new(MemoryStore::new()), projection)
    }

    fn indexed(sk: &str, status: &str, body: usize) -> Record {
        Record::new("p", sk, json!({ "body": "x".repeat(body) })).indexed("i", status)
    }

    #[tokio::test]
    async fn a_small_insert_costs_one_unit_and_its_index_entry_one_more() {
        let store = metered(IndexProjection::All);
        store.insert(indexed("a", "new", 10)).await.unwrap();
        let bill = store.take();
        assert_eq!(
            (bill.puts, bill.table_write_units, bill.index_write_units),
            (1, 1, 1)
        );
        assert_eq!(store.take(), Bill::default());
    }

    #[tokio::test]
    async fn writes_are_billed_per_started_kilobyte_and_failed_conditions_too() {
        let store = metered(IndexProjection::All);
        store.insert(indexed("a", "new", 2500)).await.unwrap();
        assert_eq!(store.take().write_units(), 3 + 3);
        // Already there: the failed condition is billed, the index is untouched.
        store.insert(indexed("a", "new", 10)).await.unwrap();
        let bill = store.take();
        assert_eq!((bill.table_write_units, bill.index_write_units), (3, 0));
    }

    #[tokio::test]
    async fn an_index_key_change_deletes_and_rewrites_the_entry() {
        let store = metered(IndexProjection::KeysOnly);
        store.insert(indexed("a", "new", 10)).await.unwrap();
        store.take();
        let stored = store.stored("p", "a").await.unwrap().unwrap();
        store
            .update(Record {
                index: Some(crate::store::IndexKey {
                    pk: "i".into(),
                    sk: "done".into(),
                }),
                ..stored
            })
            .await
            .unwrap();
        assert_eq!(store.take().index_write_units, 2);
        // Same keys, other data: a keys-only index is left alone, an ALL index rewritten.
        let stored = store.stored("p", "a").await.unwrap().unwrap();
        store
            .update(Record {
                data: json!({"b": 1}),
                ..stored
            })
            .await
            .unwrap();
        assert_eq!(store.take().index_write_units, 0);
    }

    #[tokio::test]
    async fn reads_cost_half_a_unit_per_4_kb_eventually_and_one_consistently() {
        let store = metered(IndexProjection::All);
        store.insert(indexed("a", "new", 5000)).await.unwrap();
        store.take();
        store.get("p", "a").await.unwrap();
        store.get("p", "missing").await.unwrap();
        assert_eq!(store.take().read_units(), Decimal::new(30, 1));
        let partition = Query::Partition {
            pk: "p".into(),
            sk_prefix: String::new(),
        };
        store
            .query(&partition, &QueryOptions::default())
            .await
            .unwrap();
        assert_eq!(store.take().read_units(), Decimal::ONE);
        let consistent = QueryOptions {
            consistent: true,
            ..Default::default()
        };
        store.query(&partition, &consistent).await.unwrap();
        assert_eq!(store.take().read_units(), Decimal::TWO);
    }

    #[tokio::test]
    async fn a_spread_listing_pays_its_key_queries_then_one_batch_read_per_100_items() {
        for (projection, query_units) in [
            (IndexProjection::KeysOnly, Decimal::new(5, 1)),
            // Whole items in the index: about 509 KB of items, summed, in 4 KB blocks.
            (IndexProjection::All, Decimal::new(625, 1)),
        ] {
            let store = metered(projection);
            for n in 0..101 {
                store
                    .insert(indexed(&format!("{n:03}"), "new", 5000))
                    .await
                    .unwrap();
            }
            store.take();
            let options = QueryOptions {
                limit: 200,
                ..Default::default()
            };
            let entries = store.index_entries("i", &options).await.unwrap();
            let bill = store.take();
            assert_eq!((bill.queries, bill.gets), (1, 0));
            assert_eq!(bill.read_units(), query_units, "{projection:?}");
            let keys: Vec<_> = entries
                .records
                .iter()
                .map(|e| (e.pk.clone(), e.sk.clone()))
                .collect();
            assert_eq!(store.get_many(&keys).await.unwrap().len(), 101);
            let bill = store.take();
            assert_eq!(
                (bill.queries, bill.gets),
                (0, 2),
                "BatchGetItem takes 100 keys"
            );
            // Each 5 KB item is two 4 KB blocks, at half a unit each.
            assert_eq!(bill.read_units(), Decimal::from(101));
        }
    }

    #[tokio::test]
    async fn a_transaction_costs_twice_the_units_of_its_writes() {
        let store = metered(IndexProjection::KeysOnly);
        let taken = store
            .insert_all(vec![
                Record::new("p", "a", json!({})),
                indexed("b", "new", 10),
            ])
            .await
            .unwrap();
        assert_eq!(taken, None);
        let bill = store.take();
        assert_eq!(
            (bill.calls(), bill.table_write_units, bill.index_write_units),
            (1, 4, 1)
        );
    }
}
