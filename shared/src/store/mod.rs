//! The storage port: a single-table record store with conditional writes.
//!
//! Every record has a partition key `pk` and sort key `sk`, an optional secondary index key
//! (`index`) for listings, a version for optimistic updates, an optional expiry, and a JSON
//! document. Three adapters implement it: [`dynamodb::DynamoStore`], the embedded
//! [`embedded::EmbeddedStore`] (SQLite) and [`memory::MemoryStore`]; [`conformance`] holds the
//! suite all must pass.

pub mod conformance;
pub mod dynamodb;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod memory;
pub mod metered;

use async_trait::async_trait;
use base64::Engine;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexKey {
    pub pk: String,
    pub sk: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub pk: String,
    pub sk: String,
    pub index: Option<IndexKey>,
    /// 0 for a record not yet stored; the store bumps it on each update.
    pub version: u64,
    /// Epoch seconds after which the store may delete the record (DynamoDB TTL).
    pub expires_at: Option<i64>,
    pub data: serde_json::Value,
}

impl Record {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>, data: serde_json::Value) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
            index: None,
            version: 0,
            expires_at: None,
            data,
        }
    }

    pub fn indexed(mut self, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        self.index = Some(IndexKey {
            pk: pk.into(),
            sk: sk.into(),
        });
        self
    }

    pub fn expiring_at(mut self, epoch_seconds: i64) -> Self {
        self.expires_at = Some(epoch_seconds);
        self
    }

    /// The record as its keys-only index entry shows it: keys, no data.
    pub fn entry(&self) -> Self {
        Self {
            index: self.index.clone(),
            ..Self::new(self.pk.clone(), self.sk.clone(), serde_json::Value::Null)
        }
    }
}

/// What a conditional insert found.
#[derive(Debug, Clone, PartialEq)]
pub enum Insert {
    Created,
    /// A record with the same keys was already there; here it is, untouched.
    Exists(Record),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Records of one partition whose sort key starts with a prefix, in sort-key order.
    Partition { pk: String, sk_prefix: String },
    /// Records whose index key is `pk`, in index sort-key order.
    Index { pk: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueryOptions {
    pub limit: usize,
    pub newest_first: bool,
    pub cursor: Option<Cursor>,
    /// Partition queries only: see every write that finished before the query began. Index
    /// queries are always eventually consistent (DynamoDB's global indexes cannot be read
    /// consistently), so no decision may be taken from one.
    pub consistent: bool,
}

impl Default for QueryOptions {
    fn default() -> Self {
        Self {
            limit: 100,
            newest_first: false,
            cursor: None,
            consistent: false,
        }
    }
}

/// Where a listing stopped: the keys of the last record returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub pk: String,
    pub sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexKey>,
}

impl Cursor {
    pub fn after(record: &Record) -> Self {
        Self {
            pk: record.pk.clone(),
            sk: record.sk.clone(),
            index: record.index.clone(),
        }
    }

    /// An opaque token for API clients.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(token: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub records: Vec<Record>,
    /// Present when more records may follow.
    pub next: Option<Cursor>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An update's expected version no longer matches: someone else wrote first.
    #[error("the record {pk}/{sk} changed since it was read")]
    VersionConflict { pk: String, sk: String },
    #[error("storage backend failed: {0}")]
    Backend(String),
    /// A listing's cursor that this listing did not hand out (garbled, or another listing's).
    #[error("the cursor does not belong to this listing")]
    InvalidCursor,
    /// Throttled, timed out or briefly down: the same call may succeed when tried again.
    #[error("storage backend unavailable for now: {0}")]
    Unavailable(String),
    /// The record's item would pass DynamoDB's 400 KB limit (by its size rules); nothing was
    /// written, and the same write will always fail.
    #[error("the record {pk}/{sk} would take {size} bytes, over the item limit")]
    ItemTooLarge { pk: String, sk: String, size: usize },
    #[error("stored record {pk}/{sk} is unreadable: {reason}")]
    Corrupt {
        pk: String,
        sk: String,
        reason: String,
    },
}

#[async_trait]
pub trait Store: Send + Sync {
    /// A strongly consistent read.
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Record>, StoreError>;

    /// Writes the record only if no record has its keys.
    async fn insert(&self, record: Record) -> Result<Insert, StoreError>;

    /// Writes all records or none: only if none of their keys exist. Returns the index of a
    /// record whose keys were taken when nothing was written.
    async fn insert_all(&self, records: Vec<Record>) -> Result<Option<usize>, StoreError>;

    /// Replaces a record if its stored version still equals `record.version`; the stored
    /// version becomes `record.version + 1`.
    async fn update(&self, record: Record) -> Result<(), StoreError>;

    async fn query(&self, query: &Query, options: &QueryOptions) -> Result<Page, StoreError>;

    /// The entries of one index partition as [`Record::entry`] shows them (keys alone), for a
    /// listing that merges several partitions before it reads the items it keeps.
    async fn index_entries(&self, pk: &str, options: &QueryOptions) -> Result<Page, StoreError> {
        let query = Query::Index { pk: pk.to_owned() };
        let page = self.query(&query, options).await?;
        Ok(Page {
            records: page.records.iter().map(Record::entry).collect(),
            next: page.next,
        })
    }

    /// The records with these keys, in their order, leaving out those not there. Eventually
    /// consistent: for showing a listing, never for a decision.
    async fn get_many(&self, keys: &[(String, String)]) -> Result<Vec<Record>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        for (pk, sk) in keys {
            found.extend(self.get(pk, sk).await?);
        }
        Ok(found)
    }

    /// Removes a record if it is there; removing a missing record is not an error.
    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError>;
}
