//! The embedded store: one SQLite file, so the local server and the operator CLI can share a
//! data folder at the same time (SQLite locks across processes), or an in-memory database for
//! unit tests.

use super::{Cursor, IndexKey, Insert, Page, Query, QueryOptions, Record, Store, StoreError};
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};

pub struct EmbeddedStore {
    conn: Arc<Mutex<Connection>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS records (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    ipk TEXT,
    isk TEXT,
    version INTEGER NOT NULL,
    expires_at INTEGER,
    data TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_index ON records (ipk, isk, pk, sk) WHERE ipk IS NOT NULL;
";

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl EmbeddedStore {
    /// Opens (or creates) `partnerhook.sqlite3` in `dir`, dropping records past their expiry.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(backend)?;
        let conn = Connection::open(dir.join("partnerhook.sqlite3")).map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        Self::init(conn)
    }

    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.execute_batch(SCHEMA).map_err(backend)?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        conn.execute(
            "DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at < ?1",
            params![now],
        )
        .map_err(backend)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs blocking SQLite work off the async executor.
    async fn with_conn<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| backend("embedded store lock poisoned"))?;
            work(&mut guard)
        })
        .await
        .map_err(backend)?
    }
}

const COLUMNS: &str = "pk, sk, ipk, isk, version, expires_at, data";

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Record, String)> {
    let ipk: Option<String> = row.get(2)?;
    let isk: Option<String> = row.get(3)?;
    let version: i64 = row.get(4)?;
    let record = Record {
        pk: row.get(0)?,
        sk: row.get(1)?,
        index: ipk.zip(isk).map(|(pk, sk)| IndexKey { pk, sk }),
        version: u64::try_from(version).unwrap_or_default(),
        expires_at: row.get(5)?,
        data: serde_json::Value::Null,
    };
    Ok((record, row.get(6)?))
}

fn decode((mut record, data): (Record, String)) -> Result<Record, StoreError> {
    record.data = serde_json::from_str(&data).map_err(|e| StoreError::Corrupt {
        pk: record.pk.clone(),
        sk: record.sk.clone(),
        reason: e.to_string(),
    })?;
    Ok(record)
}

fn get_row(conn: &Connection, pk: &str, sk: &str) -> Result<Option<Record>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM records WHERE pk = ?1 AND sk = ?2"),
        params![pk, sk],
        read_row,
    )
    .optional()
    .map_err(backend)?
    .map(decode)
    .transpose()
}

/// Inserts unless the keys exist; returns whether it wrote.
fn insert_row(conn: &Connection, record: &Record) -> Result<bool, StoreError> {
    let changed = conn
        .execute(
            &format!(
                "INSERT INTO records ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)
                 ON CONFLICT (pk, sk) DO NOTHING"
            ),
            params![
                record.pk,
                record.sk,
                record.index.as_ref().map(|i| &i.pk),
                record.index.as_ref().map(|i| &i.sk),
                record.expires_at,
                record.data.to_string(),
            ],
        )
        .map_err(backend)?;
    Ok(changed == 1)
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Record>, StoreError> {
        let (pk, sk) = (pk.to_string(), sk.to_string());
        self.with_conn(move |conn| get_row(conn, &pk, &sk)).await
    }

    async fn insert(&self, record: Record) -> Result<Insert, StoreError> {
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            if insert_row(&tx, &record)? {
                tx.commit().map_err(backend)?;
                return Ok(Insert::Created);
            }
            let existing = get_row(&tx, &record.pk, &record.sk)?
                .ok_or_else(|| backend("record vanished during insert"))?;
            Ok(Insert::Exists(existing))
        })
        .await
    }

    async fn insert_all(&self, records: Vec<Record>) -> Result<Option<usize>, StoreError> {
        self.with_conn(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            for (i, record) in records.iter().enumerate() {
                if !insert_row(&tx, record)? {
                    // Dropping the transaction rolls back the records written before this one.
                    return Ok(Some(i));
                }
            }
            tx.commit().map_err(backend)?;
            Ok(None)
        })
        .await
    }

    async fn update(&self, record: Record) -> Result<(), StoreError> {
        self.with_conn(move |conn| {
            let expected = i64::try_from(record.version).map_err(backend)?;
            let changed = conn
                .execute(
                    "UPDATE records SET ipk = ?3, isk = ?4, version = version + 1,
                         expires_at = ?5, data = ?6
                     WHERE pk = ?1 AND sk = ?2 AND version = ?7",
                    params![
                        record.pk,
                        record.sk,
                        record.index.as_ref().map(|i| &i.pk),
                        record.index.as_ref().map(|i| &i.sk),
                        record.expires_at,
                        record.data.to_string(),
                        expected,
                    ],
                )
                .map_err(backend)?;
            if changed == 1 {
                Ok(())
            } else {
                Err(StoreError::VersionConflict {
                    pk: record.pk,
                    sk: record.sk,
                })
            }
        })
        .await
    }

    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        let (pk, sk) = (pk.to_string(), sk.to_string());
        self.with_conn(move |conn| {
            conn.execute(
                "DELETE FROM records WHERE pk = ?1 AND sk = ?2",
                params![pk, sk],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn query(&self, query: &Query, options: &QueryOptions) -> Result<Page, StoreError> {
        let (query, options) = (query.clone(), options.clone());
        self.with_conn(move |conn| {
            let order = if options.newest_first { "DESC" } else { "ASC" };
            let cmp = if options.newest_first { "<" } else { ">" };
            let limit = i64::try_from(options.limit + 1).unwrap_or(i64::MAX);
            let rows: Vec<(Record, String)> = match &query {
                Query::Partition { pk, sk_prefix } => {
                    let after = options.cursor.as_ref().map(|c| c.sk.clone());
                    let mut stmt = conn
                        .prepare(&format!(
                            "SELECT {COLUMNS} FROM records
                             WHERE pk = ?1 AND substr(sk, 1, length(?2)) = ?2
                               AND (?3 IS NULL OR sk {cmp} ?3)
                             ORDER BY sk {order} LIMIT ?4"
                        ))
                        .map_err(backend)?;
                    let rows = stmt
                        .query_map(params![pk, sk_prefix, after, limit], read_row)
                        .map_err(backend)?
                        .collect::<Result<_, _>>()
                        .map_err(backend)?;
                    rows
                }
                Query::Index { pk } => {
                    let after = options.cursor.as_ref().and_then(|c| {
                        c.index
                            .as_ref()
                            .map(|i| (i.sk.clone(), c.pk.clone(), c.sk.clone()))
                    });
                    let (isk, apk, ask) = match after {
                        Some((isk, apk, ask)) => (Some(isk), Some(apk), Some(ask)),
                        None => (None, None, None),
                    };
                    let mut stmt = conn
                        .prepare(&format!(
                            "SELECT {COLUMNS} FROM records
                             WHERE ipk = ?1 AND (?2 IS NULL OR (isk, pk, sk) {cmp} (?2, ?3, ?4))
                             ORDER BY isk {order}, pk {order}, sk {order} LIMIT ?5"
                        ))
                        .map_err(backend)?;
                    let rows = stmt
                        .query_map(params![pk, isk, apk, ask, limit], read_row)
                        .map_err(backend)?
                        .collect::<Result<_, _>>()
                        .map_err(backend)?;
                    rows
                }
            };
            let mut records = rows
                .into_iter()
                .map(decode)
                .collect::<Result<Vec<_>, _>>()?;
            let more = records.len() > options.limit;
            records.truncate(options.limit);
            let next = if more {
                records.last().map(Cursor::after)
            } else {
                None
            };
            Ok(Page { records, next })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn embedded_store_passes_the_conformance_suite() {
        super::super::conformance::run_all(&EmbeddedStore::in_memory().unwrap(), "t1").await;
    }

    #[tokio::test]
    async fn data_survives_reopening_the_folder() {
        let dir = std::env::temp_dir().join(format!("ph-embedded-{}", uuid::Uuid::now_v7()));
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
