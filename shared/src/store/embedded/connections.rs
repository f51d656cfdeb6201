//! The embedded store's connections to its file: the one that reads and writes, and a thread
//! that checkpoints the write-ahead log beside it.
//!
//! Durability: the database is in WAL mode with `synchronous=NORMAL`. A commit appends its
//! pages to the `-wal` file with `write()` and returns without `fsync`; the log is synced
//! before each checkpoint copies it into the database file, and the database file after.
//! - A process crash (panic, kill -9, out of memory) loses nothing that was committed: the
//!   appended pages are in the operating system's cache and the next open replays the log.
//! - A power cut or an OS crash never corrupts the file, but rolls back the transactions
//!   committed since the last checkpoint began: about the last [`CHECKPOINT_EVERY`] of writes
//!   (plus the length of a checkpoint), which may include webhooks already answered 200,
//!   whose senders will not retry them.

use super::sql::{backend, SCHEMA};
use crate::store::StoreError;
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::time::Duration;

/// How often the log is checkpointed (and so synced to disk) while anything was written.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Statements each connection keeps compiled (the store uses nine).
const STATEMENT_CACHE: usize = 32;

/// How long a statement waits on another process's lock (the operator CLI writing the same
/// folder) before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(backend)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(backend)?;
    Ok(conn)
}

/// The store's connection, with the schema in place. It never checkpoints itself, so no
/// commit waits for a sync; [`Checkpointer`] does it alongside.
///
/// Reads go through it too: a second connection would drop its page cache whenever this one
/// commits and read every page again (measured slower, see the serve bench in the CLI).
pub fn open_store(path: &Path) -> Result<Connection, StoreError> {
    let conn = open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(backend)?;
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(backend)?;
    // After a checkpoint lets the log start over, keep at most this much of its file.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
        .map_err(backend)?;
    // Its own writes never invalidate its cache, so a warm 64 MiB serves most reads.
    conn.pragma_update(None, "cache_size", -64 * 1024)
        .map_err(backend)?;
    conn.execute_batch(SCHEMA).map_err(backend)?;
    Ok(conn)
}

/// Checkpoints the log every [`CHECKPOINT_EVERY`] on its own connection and thread, without
/// blocking the writer; it stops when dropped.
pub struct Checkpointer {
    _stop: Sender<()>,
}

impl Checkpointer {
    pub fn start(path: &Path) -> Result<Self, StoreError> {
        let conn = open(path)?;
        let (stop, stopped) = channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                    // PASSIVE copies what no reader still needs and never waits on a lock.
                    let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    if let Err(e) = done {
                        tracing::warn!(error = %e, "embedded store checkpoint failed");
                    }
                }
            })
            .map_err(backend)?;
        Ok(Self { _stop: stop })
    }
}
