//! Typed access to records behind the storage port: read, insert, update, change with retries
//! on concurrent writes, delete and list, for any [`Entity`]. The repository also holds the
//! clock, so every change is stamped with the same time source.

use crate::domain::time::{Clock, Millis};
use crate::repo::codec::{decode, encode, Entity, Keyed, Versioned};
use crate::repo::{keys, spread};
use crate::store::{Cursor, Insert, Query, QueryOptions, Record, Store, StoreError};
use futures::future::join_all;
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// What a conditional insert of an entity found.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted<T> {
    Created,
    Exists(Versioned<T>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Concurrent writers a read-change-write outlasts before it gives up.
const MODIFY_ATTEMPTS: usize = 8;

#[derive(Clone)]
pub struct Repo {
    pub(crate) store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Repo {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    pub async fn get_at<T: DeserializeOwned>(
        &self,
        (pk, sk): (String, String),
    ) -> Result<Option<Versioned<T>>, StoreError> {
        self.store.get(&pk, &sk).await?.map(decode).transpose()
    }

    /// An entity by its id, with the version it was read at.
    pub async fn get<T: Keyed>(
        &self,
        program: &str,
        id: &str,
    ) -> Result<Option<Versioned<T>>, StoreError> {
        self.get_at(T::location_of(program, id)).await
    }

    /// An entity by its id.
    pub async fn find<T: Keyed>(&self, program: &str, id: &str) -> Result<Option<T>, StoreError> {
        Ok(self.get::<T>(program, id).await?.map(|v| v.value))
    }

    pub async fn insert<T: Entity>(
        &self,
        program: &str,
        entity: &T,
    ) -> Result<Inserted<T>, StoreError> {
        match self.store.insert(encode(program, entity)?).await? {
            Insert::Created => Ok(Inserted::Created),
            Insert::Exists(record) => Ok(Inserted::Exists(decode(record)?)),
        }
    }

    pub async fn update<T: Entity>(
        &self,
        program: &str,
        entity: &Versioned<T>,
    ) -> Result<(), StoreError> {
        let mut record = encode(program, &entity.value)?;
        record.version = entity.version;
        self.store.update(record).await
    }

    pub async fn delete<T: Keyed>(&self, program: &str, id: &str) -> Result<(), StoreError> {
        let (pk, sk) = T::location_of(program, id);
        self.store.delete(&pk, &sk).await
    }

    /// Reads an entity, lets `change` edit it, and writes it back (stamped) when `change` says
    /// so, reading again after a concurrent write. `None` when there is no such entity.
    pub async fn modify<T: Keyed, E: From<StoreError>>(
        &self,
        program: &str,
        id: &str,
        change: impl FnMut(&mut T) -> Result<bool, E>,
    ) -> Result<Option<T>, E> {
        match self.get::<T>(program, id).await? {
            Some(current) => self.modify_from(program, current, change).await,
            None => Ok(None),
        }
    }

    /// [`Repo::modify`] starting from a record already read.
    pub async fn modify_from<T: Entity, E: From<StoreError>>(
        &self,
        program: &str,
        mut current: Versioned<T>,
        mut change: impl FnMut(&mut T) -> Result<bool, E>,
    ) -> Result<Option<T>, E> {
        for _ in 0..MODIFY_ATTEMPTS {
            if !change(&mut current.value)? {
                return Ok(Some(current.value));
            }
            current.value.touch(self.now());
            match self.update(program, &current).await {
                Ok(()) => return Ok(Some(current.value)),
                Err(StoreError::VersionConflict { .. }) => {
                    match self.get_at(current.value.location(program)).await? {
                        Some(latest) => current = latest,
                        None => return Ok(None),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        let (pk, sk) = current.value.location(program);
        Err(StoreError::VersionConflict { pk, sk }.into())
    }

    /// One page of an index listing (`keys` names the listings). A busy listing's entries are
    /// spread over several index partitions: each is asked for a page at once, and the pages
    /// merge (`spread`); only the items shown are then read.
    pub async fn list<T: DeserializeOwned>(
        &self,
        listing: String,
        limit: usize,
        cursor: Option<&str>,
        newest_first: bool,
    ) -> Result<Listing<T>, StoreError> {
        let partitions = keys::listing_partitions(&listing);
        // A cursor from elsewhere would make DynamoDB refuse the query (a 500); it is the
        // caller's mistake.
        let cursor = match cursor {
            None => None,
            Some(text) => match Cursor::decode(text) {
                Some(c) if c.index.as_ref().is_some_and(|i| partitions.contains(&i.pk)) => Some(c),
                _ => return Err(StoreError::InvalidCursor),
            },
        };
        let pages = join_all(partitions.iter().map(|partition| {
            let options = QueryOptions {
                limit,
                newest_first,
                cursor: cursor.as_ref().map(|c| spread::cursor_in(c, partition)),
                consistent: false,
            };
            async move { self.store.index_entries(partition, &options).await }
        }))
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
        let page = spread::merge(pages, limit, newest_first);
        let items = self
            .listed(&page.records)
            .await?
            .into_iter()
            .map(|r| decode(r).map(|v| v.value))
            .collect::<Result<_, _>>()?;
        Ok(Listing {
            items,
            next_cursor: page.next.map(|c| c.encode()),
        })
    }

    /// The items of index entries that are still listed there (`spread::still_listed`).
    async fn listed(&self, entries: &[Record]) -> Result<Vec<Record>, StoreError> {
        let found = self.store.get_many(&spread::keys_of(entries)).await?;
        Ok(spread::still_listed(entries, found))
    }

    /// Every record a query finds, page after page (for small partitions).
    pub async fn all<T: DeserializeOwned>(&self, query: Query) -> Result<Vec<T>, StoreError> {
        self.all_records(query)
            .await?
            .into_iter()
            .map(|record| decode(record).map(|v| v.value))
            .collect()
    }

    /// [`Repo::all`] undecoded, for a partition that holds records of several kinds. A busy
    /// listing's index partitions are read one after another.
    pub async fn all_records(&self, query: Query) -> Result<Vec<Record>, StoreError> {
        let Query::Index { pk } = query else {
            return self.pages(query).await;
        };
        let mut records = Vec::new();
        for partition in keys::listing_partitions(&pk) {
            records.extend(self.pages(Query::Index { pk: partition }).await?);
        }
        Ok(records)
    }

    /// Every record one query finds, page after page.
    async fn pages(&self, query: Query) -> Result<Vec<Record>, StoreError> {
        let mut records = Vec::new();
        let mut cursor = None;
        loop {
            let options = QueryOptions {
                limit: 100,
                newest_first: false,
                cursor,
                // Partition reads feed decisions; index reads cannot be consistent.
                consistent: matches!(query, Query::Partition { .. }),
            };
            let page = self.store.query(&query, &options).await?;
            records.extend(page.records);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(records),
            }
        }
    }
}
