//! The embedded store's statements over one connection. Each SQL text is fixed, so SQLite
//! compiles it once per connection and the statement cache hands it back afterwards.

use crate::store::{Cursor, IndexKey, Page, Query, QueryOptions, Record, StoreError};
use rusqlite::{params, Connection, OptionalExtension};

pub const SCHEMA: &str = "
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

/// `SELECT` of every column, followed by the rest of the statement.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT pk, sk, ipk, isk, version, expires_at, data FROM records ",
            $rest
        )
    };
}

pub fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

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

pub fn get(conn: &Connection, pk: &str, sk: &str) -> Result<Option<Record>, StoreError> {
    conn.prepare_cached(select!("WHERE pk = ?1 AND sk = ?2"))
        .map_err(backend)?
        .query_row(params![pk, sk], read_row)
        .optional()
        .map_err(backend)?
        .map(decode)
        .transpose()
}

/// Inserts unless the keys exist; returns whether it wrote.
pub fn insert(conn: &Connection, record: &Record) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(
            "INSERT INTO records (pk, sk, ipk, isk, version, expires_at, data)
             VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6) ON CONFLICT (pk, sk) DO NOTHING",
        )
        .map_err(backend)?
        .execute(params![
            record.pk,
            record.sk,
            record.index.as_ref().map(|i| &i.pk),
            record.index.as_ref().map(|i| &i.sk),
            record.expires_at,
            record.data.to_string(),
        ])
        .map_err(backend)?;
    Ok(changed == 1)
}

/// Replaces the record if its stored version is `record.version`; returns whether it did.
pub fn update(conn: &Connection, record: &Record) -> Result<bool, StoreError> {
    let expected = i64::try_from(record.version).map_err(backend)?;
    let changed = conn
        .prepare_cached(
            "UPDATE records SET ipk = ?3, isk = ?4, version = version + 1,
                 expires_at = ?5, data = ?6
             WHERE pk = ?1 AND sk = ?2 AND version = ?7",
        )
        .map_err(backend)?
        .execute(params![
            record.pk,
            record.sk,
            record.index.as_ref().map(|i| &i.pk),
            record.index.as_ref().map(|i| &i.sk),
            record.expires_at,
            record.data.to_string(),
            expected,
        ])
        .map_err(backend)?;
    Ok(changed == 1)
}

pub fn delete(conn: &Connection, pk: &str, sk: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM records WHERE pk = ?1 AND sk = ?2")
        .map_err(backend)?
        .execute(params![pk, sk])
        .map_err(backend)?;
    Ok(())
}

pub fn delete_expired(conn: &Connection, now: i64) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at < ?1",
        params![now],
    )
    .map_err(backend)?;
    Ok(())
}

fn partition_rows(
    conn: &Connection,
    pk: &str,
    sk_prefix: &str,
    options: &QueryOptions,
    limit: i64,
) -> rusqlite::Result<Vec<(Record, String)>> {
    let after = options.cursor.as_ref().map(|c| c.sk.as_str());
    let sql = if options.newest_first {
        select!(
            "WHERE pk = ?1 AND substr(sk, 1, length(?2)) = ?2 AND (?3 IS NULL OR sk < ?3)
             ORDER BY sk DESC LIMIT ?4"
        )
    } else {
        select!(
            "WHERE pk = ?1 AND substr(sk, 1, length(?2)) = ?2 AND (?3 IS NULL OR sk > ?3)
             ORDER BY sk ASC LIMIT ?4"
        )
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![pk, sk_prefix, after, limit], read_row)?;
    rows.collect()
}

fn index_rows(
    conn: &Connection,
    pk: &str,
    options: &QueryOptions,
    limit: i64,
) -> rusqlite::Result<Vec<(Record, String)>> {
    let after = options.cursor.as_ref().and_then(|c| {
        c.index
            .as_ref()
            .map(|i| (i.sk.as_str(), c.pk.as_str(), c.sk.as_str()))
    });
    let (isk, apk, ask) = match after {
        Some((isk, apk, ask)) => (Some(isk), Some(apk), Some(ask)),
        None => (None, None, None),
    };
    let sql = if options.newest_first {
        select!(
            "WHERE ipk = ?1 AND (?2 IS NULL OR (isk, pk, sk) < (?2, ?3, ?4))
             ORDER BY isk DESC, pk DESC, sk DESC LIMIT ?5"
        )
    } else {
        select!(
            "WHERE ipk = ?1 AND (?2 IS NULL OR (isk, pk, sk) > (?2, ?3, ?4))
             ORDER BY isk ASC, pk ASC, sk ASC LIMIT ?5"
        )
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![pk, isk, apk, ask, limit], read_row)?;
    rows.collect()
}

pub fn query(conn: &Connection, query: &Query, options: &QueryOptions) -> Result<Page, StoreError> {
    let limit = i64::try_from(options.limit + 1).unwrap_or(i64::MAX);
    let rows = match query {
        Query::Partition { pk, sk_prefix } => partition_rows(conn, pk, sk_prefix, options, limit),
        Query::Index { pk } => index_rows(conn, pk, options, limit),
    }
    .map_err(backend)?;
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
}
