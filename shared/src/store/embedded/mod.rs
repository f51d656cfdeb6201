//! The embedded store: one SQLite file, so the local server and the operator CLI can share a
//! data folder at the same time (SQLite locks across processes), or an in-memory database for
//! unit tests. Its durability is described in [`connections`].
//!
//! Statements run on the calling task under a mutex held for that statement alone (never across
//! an await): each takes microseconds, since no commit waits for a sync, which is less than
//! handing it to another thread costs. Only another process writing the same file (the
//! operator CLI) can make one wait longer, up to the busy timeout.

mod connections;
mod sql;

use super::dynamodb::check_size;
use super::{Insert, Page, Query, QueryOptions, Record, Store, StoreError};
use async_trait::async_trait;
use connections::{open_store, Checkpointer};
use rusqlite::Connection;
use sql::backend;
use std::path::Path;
use std::sync::Mutex;

pub struct EmbeddedStore {
    conn: Mutex<Connection>,
    /// None in memory, where there is no log.
    _checkpointer: Option<Checkpointer>,
}

impl EmbeddedStore {
    /// Opens (or creates) `partnerhook.sqlite3` in `dir`, dropping records past their expiry.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(backend)?;
        let path = dir.join("partnerhook.sqlite3");
        let conn = open_store(&path)?;
        Self::init(conn, Some(Checkpointer::start(&path)?))
    }

    pub fn in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory().map_err(backend)?;
        conn.execute_batch(sql::SCHEMA).map_err(backend)?;
        Self::init(conn, None)
    }

    fn init(conn: Connection, checkpointer: Option<Checkpointer>) -> Result<Self, StoreError> {
        sql::delete_expired(&conn, time::OffsetDateTime::now_utc().unix_timestamp())?;
        Ok(Self {
            conn: Mutex::new(conn),
            _checkpointer: checkpointer,
        })
    }

    /// Runs `work` on the connection; a read sees every write that returned before it began.
    fn with<T>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| backend("embedded store lock poisoned"))?;
        work(&mut conn)
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Record>, StoreError> {
        self.with(|conn| sql::get(conn, pk, sk))
    }

    async fn insert(&self, record: Record) -> Result<Insert, StoreError> {
        check_size(&record, 1)?;
        self.with(|conn| {
            let tx = conn.transaction().map_err(backend)?;
            if sql::insert(&tx, &record)? {
                tx.commit().map_err(backend)?;
                return Ok(Insert::Created);
            }
            let existing = sql::get(&tx, &record.pk, &record.sk)?
                .ok_or_else(|| backend("record vanished during insert"))?;
            Ok(Insert::Exists(existing))
        })
    }

    async fn insert_all(&self, records: Vec<Record>) -> Result<Option<usize>, StoreError> {
        for record in &records {
            check_size(record, 1)?;
        }
        self.with(|conn| {
            let tx = conn.transaction().map_err(backend)?;
            for (i, record) in records.iter().enumerate() {
                if !sql::insert(&tx, record)? {
                    // Dropping the transaction rolls back the records written before this one.
                    return Ok(Some(i));
                }
            }
            tx.commit().map_err(backend)?;
            Ok(None)
        })
    }

    async fn update(&self, record: Record) -> Result<(), StoreError> {
        check_size(&record, record.version + 1)?;
        if self.with(|conn| sql::update(conn, &record))? {
            Ok(())
        } else {
            Err(StoreError::VersionConflict {
                pk: record.pk,
                sk: record.sk,
            })
        }
    }

    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.with(|conn| sql::delete(conn, pk, sk))
    }

    async fn query(&self, query: &Query, options: &QueryOptions) -> Result<Page, StoreError> {
        self.with(|conn| sql::query(conn, query, options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn embedded_store_passes_the_conformance_suite() {
        super::super::conformance::run_all(&EmbeddedStore::in_memory().unwrap(), "t1").await;
    }

    fn fresh_folder() -> std::path::PathBuf {
        std::env::temp_dir().join(format!("ph-embedded-{}", uuid::Uuid::now_v7()))
    }

    #[tokio::test]
    async fn on_disk_store_passes_the_conformance_suite() {
        // On disk, the write-ahead log is in play and the checkpointer runs beside the tests.
        let dir = fresh_folder();
        super::super::conformance::run_all(&EmbeddedStore::open(&dir).unwrap(), "t1").await;
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn a_folder_is_written_ahead_and_synced_at_checkpoints() {
        let dir = fresh_folder();
        let store = EmbeddedStore::open(&dir).unwrap();
        let (mode, sync) = store
            .with(|conn| {
                let mode: String = conn
                    .pragma_query_value(None, "journal_mode", |r| r.get(0))
                    .map_err(backend)?;
                let sync: i64 = conn
                    .pragma_query_value(None, "synchronous", |r| r.get(0))
                    .map_err(backend)?;
                Ok((mode, sync))
            })
            .unwrap();
        // synchronous=1 is NORMAL: the log is synced at checkpoints, not at each commit.
        assert_eq!((mode.as_str(), sync), ("wal", 1));
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn a_commit_is_in_the_files_before_the_store_closes() {
        // What a process crash leaves: the files as written so far, the store never closed.
        let dir = fresh_folder();
        let store = EmbeddedStore::open(&dir).unwrap();
        store
            .insert(Record::new("p", "s", serde_json::json!({"a": 1})))
            .await
            .unwrap();
        let copy = fresh_folder();
        std::fs::create_dir_all(&copy).unwrap();
        for file in ["partnerhook.sqlite3", "partnerhook.sqlite3-wal"] {
            std::fs::copy(dir.join(file), copy.join(file)).unwrap();
        }
        let recovered = EmbeddedStore::open(&copy).unwrap();
        let got = recovered.get("p", "s").await.unwrap().unwrap();
        assert_eq!(got.data, serde_json::json!({"a": 1}));
        drop((store, recovered));
        std::fs::remove_dir_all(dir).ok();
        std::fs::remove_dir_all(copy).ok();
    }

    #[tokio::test]
    async fn data_survives_reopening_the_folder() {
        let dir = fresh_folder();
        let store = EmbeddedStore::open(&dir).unwrap();
        store
            .insert(Record::new("p", "s", serde_json::json!({"a": 1})))
            .await
            .unwrap();
        drop(store);
        let reopened = EmbeddedStore::open(&dir).unwrap();
        let got = reopened.get("p", "s").await.unwrap().unwrap();
        assert_eq!(got.data, serde_json::json!({"a": 1}));
        std::fs::remove_dir_all(dir).ok();
    }
}
