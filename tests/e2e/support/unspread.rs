//! A store that, while told to, writes the busy listings' index entries under the listing's own
//! name alone, as the code did before the listings were spread: entries from before an upgrade.

use async_trait::async_trait;
use partnerhook::repo::keys;
use partnerhook::store::{Insert, Page, Query, QueryOptions, Record, Store, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub struct Unspread {
    inner: Arc<dyn Store>,
    before: AtomicBool,
}

impl Unspread {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            before: AtomicBool::new(false),
        }
    }

    /// Writes from now on as before the spreading (`true`) or as today.
    pub fn write_as_before(&self, before: bool) {
        self.before.store(before, Ordering::SeqCst);
    }

    fn as_written(&self, mut record: Record) -> Record {
        if !self.before.load(Ordering::SeqCst) {
            return record;
        }
        if let Some(index) = record.index.as_mut() {
            if let Some((listing, _)) = index.pk.rsplit_once('#') {
                if keys::listing_partitions(listing).contains(&index.pk) {
                    index.pk = listing.to_owned();
                }
            }
        }
        record
    }
}

#[async_trait]
impl Store for Unspread {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Record>, StoreError> {
        self.inner.get(pk, sk).await
    }
    async fn insert(&self, record: Record) -> Result<Insert, StoreError> {
        self.inner.insert(self.as_written(record)).await
    }
    async fn insert_all(&self, records: Vec<Record>) -> Result<Option<usize>, StoreError> {
        let records = records.into_iter().map(|r| self.as_written(r)).collect();
        self.inner.insert_all(records).await
    }
    async fn update(&self, record: Record) -> Result<(), StoreError> {
        self.inner.update(self.as_written(record)).await
    }
    async fn query(&self, query: &Query, options: &QueryOptions) -> Result<Page, StoreError> {
        self.inner.query(query, options).await
    }
    async fn index_entries(&self, pk: &str, options: &QueryOptions) -> Result<Page, StoreError> {
        self.inner.index_entries(pk, options).await
    }
    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Record>, StoreError> {
        self.inner.get_many(keys).await
    }
    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.inner.delete(pk, sk).await
    }
}
