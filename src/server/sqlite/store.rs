//! The SQLite store's file: opened with WAL and full sync, brought to the schema by its
//! migrations, and its transactions (`BEGIN IMMEDIATE` to write, a deferred snapshot to read)
//! handed to the rules as a `ServerTx`.

use rusqlite::{Connection, TransactionBehavior};
use rusqlite_migration::{M, Migrations};
use std::path::Path;

use super::{Tx, err};
use crate::server::engine::{ServerError, ServerTx, Transactional};

const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("../schema_sqlite.sql")),
    M::up(include_str!("../schema_sqlite_2.sql")),
    M::up(include_str!("../schema_sqlite_3.sql")),
    M::up(include_str!("../schema_sqlite_4.sql")),
    M::up(include_str!("../schema_sqlite_5.sql")),
];

/// The schema version this program brings a store to (a store newer than it is refused).
pub const STORE_VERSION: usize = MIGRATIONS.len();

pub fn open(path: &Path) -> Result<Connection, ServerError> {
    let mut conn = Connection::open(path).map_err(err)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(err)?;
    let _: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(err)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(err)?;
    Migrations::from_slice(MIGRATIONS)
        .to_latest(&mut conn)
        .map_err(err)?;
    Ok(conn)
}

/// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed only when it returns Ok.
pub fn in_tx<R>(
    conn: &mut Connection,
    f: impl FnOnce(&mut dyn ServerTx) -> Result<R, ServerError>,
) -> Result<R, ServerError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(err)?;
    let r = f(&mut Tx(&tx))?;
    tx.commit().map_err(err)?;
    Ok(r)
}

/// A read snapshot: a deferred transaction sees one state of the WAL for its whole life.
pub fn in_snapshot<R>(
    conn: &mut Connection,
    f: impl FnOnce(&mut dyn ServerTx) -> Result<R, ServerError>,
) -> Result<R, ServerError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Deferred)
        .map_err(err)?;
    let r = f(&mut Tx(&tx))?;
    tx.commit().map_err(err)?;
    Ok(r)
}

/// The server's SQLite store: one connection behind a mutex (one writer is what SQLite wants;
/// a city's handful of consoles never queue long).
pub struct SqliteStore {
    conn: std::sync::Mutex<Connection>,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, ServerError> {
        Ok(SqliteStore {
            conn: std::sync::Mutex::new(open(path)?),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half transaction behind (rusqlite rolls
        // back on drop), so the connection is still good.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Transactional for SqliteStore {
    fn in_tx<R>(
        &self,
        f: impl FnOnce(&mut dyn ServerTx) -> Result<R, ServerError>,
    ) -> Result<R, ServerError> {
        in_tx(&mut self.conn(), f)
    }

    fn in_snapshot<R>(
        &self,
        f: impl FnOnce(&mut dyn ServerTx) -> Result<R, ServerError>,
    ) -> Result<R, ServerError> {
        in_snapshot(&mut self.conn(), f)
    }
}
