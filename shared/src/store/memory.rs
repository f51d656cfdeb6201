//! The in-memory store: a sorted map behind a lock, deterministic and instant. It backs the
//! deterministic simulation (which wraps it with faults) and fast tests; it passes the same
//! conformance suite as the other adapters.

use super::dynamodb::check_size;
use super::{Cursor, IndexKey, Insert, Page, Query, QueryOptions, Record, Store, StoreError};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryStore {
    records: Mutex<BTreeMap<(String, String), Record>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(
        &self,
        work: impl FnOnce(&mut BTreeMap<(String, String), Record>) -> T,
    ) -> Result<T, StoreError> {
        let mut records = self
            .records
            .lock()
            .map_err(|_| StoreError::Backend("memory store lock poisoned".into()))?;
        Ok(work(&mut records))
    }
}

/// Where a record sorts in an index listing: index sort key, then its own keys.
fn index_position(record: &Record) -> Option<(String, String, String)> {
    let IndexKey { sk, .. } = record.index.as_ref()?;
    Some((sk.clone(), record.pk.clone(), record.sk.clone()))
}

fn cursor_position(cursor: &Cursor) -> Option<(String, String, String)> {
    let index = cursor.index.as_ref()?;
    Some((index.sk.clone(), cursor.pk.clone(), cursor.sk.clone()))
}

#[async_trait]
impl Store for MemoryStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Record>, StoreError> {
        self.with(|records| records.get(&(pk.to_string(), sk.to_string())).cloned())
    }

    async fn insert(&self, mut record: Record) -> Result<Insert, StoreError> {
        check_size(&record, 1)?;
        self.with(|records| {
            let key = (record.pk.clone(), record.sk.clone());
            match records.get(&key) {
                Some(existing) => Insert::Exists(existing.clone()),
                None => {
                    record.version = 1;
                    records.insert(key, record);
                    Insert::Created
                }
            }
        })
    }

    async fn insert_all(&self, records: Vec<Record>) -> Result<Option<usize>, StoreError> {
        for record in &records {
            check_size(record, 1)?;
        }
        self.with(|stored| {
            let taken = records
                .iter()
                .position(|r| stored.contains_key(&(r.pk.clone(), r.sk.clone())));
            if taken.is_none() {
                for mut record in records {
                    record.version = 1;
                    stored.insert((record.pk.clone(), record.sk.clone()), record);
                }
            }
            taken
        })
    }

    async fn update(&self, mut record: Record) -> Result<(), StoreError> {
        check_size(&record, record.version + 1)?;
        self.with(|records| {
            let key = (record.pk.clone(), record.sk.clone());
            match records.get(&key) {
                Some(existing) if existing.version == record.version => {
                    record.version += 1;
                    records.insert(key, record);
                    Ok(())
                }
                _ => Err(StoreError::VersionConflict {
                    pk: record.pk,
                    sk: record.sk,
                }),
            }
        })?
    }

    async fn query(&self, query: &Query, options: &QueryOptions) -> Result<Page, StoreError> {
        let mut found: Vec<Record> = self.with(|records| match query {
            Query::Partition { pk, sk_prefix } => records
                .range((pk.clone(), sk_prefix.clone())..)
                .take_while(|((p, s), _)| p == pk && s.starts_with(sk_prefix.as_str()))
                .map(|(_, r)| r.clone())
                .collect(),
            Query::Index { pk } => {
                let mut listed: Vec<Record> = records
                    .values()
                    .filter(|r| r.index.as_ref().is_some_and(|i| &i.pk == pk))
                    .cloned()
                    .collect();
                listed.sort_by_key(index_position);
                listed
            }
        })?;
        if options.newest_first {
            found.reverse();
        }
        if let Some(cursor) = &options.cursor {
            let past = |r: &Record| match query {
                Query::Partition { .. } if options.newest_first => r.sk < cursor.sk,
                Query::Partition { .. } => r.sk > cursor.sk,
                Query::Index { .. } if options.newest_first => {
                    index_position(r) < cursor_position(cursor)
                }
                Query::Index { .. } => index_position(r) > cursor_position(cursor),
            };
            found.retain(past);
        }
        let more = found.len() > options.limit;
        found.truncate(options.limit);
        let next = if more {
            found.last().map(Cursor::after)
        } else {
            None
        };
        Ok(Page {
            records: found,
            next,
        })
    }

    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.with(|records| {
            records.remove(&(pk.to_string(), sk.to_string()));
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_store_passes_the_conformance_suite() {
        super::super::conformance::run_all(&MemoryStore::new(), "m1").await;
    }
}
