//! A store that fails on cue, as a Lambda dies between two writes: the `n`th update (counted
//! from when it is armed) fails before it takes effect.

use async_trait::async_trait;
use partnerhook::store::{Insert, Page, Query, QueryOptions, Record, Store, StoreError};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

pub struct FlakyStore {
    inner: Arc<dyn Store>,
    /// Updates left before the one that fails; negative when disarmed.
    updates_left: AtomicI64,
    /// Fail updates of records whose sort key starts with this.
    sk_prefix: std::sync::Mutex<String>,
}

impl FlakyStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            updates_left: AtomicI64::new(-1),
            sk_prefix: std::sync::Mutex::new(String::new()),
        }
    }

    /// The `n`th update (1 for the next one) of a record whose sort key starts with `sk_prefix`
    /// fails.
    pub fn fail_update(&self, n: i64, sk_prefix: &str) {
        *self.sk_prefix.lock().unwrap() = sk_prefix.to_string();
        self.updates_left.store(n, Ordering::SeqCst);
    }
}

#[async_trait]
impl Store for FlakyStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Record>, StoreError> {
        self.inner.get(pk, sk).await
    }
    async fn insert(&self, record: Record) -> Result<Insert, StoreError> {
        self.inner.insert(record).await
    }
    async fn insert_all(&self, records: Vec<Record>) -> Result<Option<usize>, StoreError> {
        self.inner.insert_all(records).await
    }
    async fn update(&self, record: Record) -> Result<(), StoreError> {
        let watched = record
            .sk
            .starts_with(self.sk_prefix.lock().unwrap().as_str());
        if watched && self.updates_left.fetch_sub(1, Ordering::SeqCst) == 1 {
            return Err(StoreError::Unavailable("the Lambda died here".into()));
        }
        self.inner.update(record).await
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
