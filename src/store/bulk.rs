//! Large local writes: an import streamed into one transaction, and the checkpoint after it.
//!
//! An import of a million lines used to be read, parsed and turned into mutations whole before
//! the store saw the first one (2.1 GB resident). Here the store's thread takes chunks from a
//! bounded channel as the reader makes them, inside ONE transaction that commits only when the
//! reader says the input ended cleanly: a bad line, a refused request or a crash leaves
//! nothing. A write that big leaves a WAL of about the same size; SQLite rebuilds its index of
//! it whenever the file is next opened by a first connection, which cost every later command
//! ~0.7 s, so big writes end with a checkpoint that truncates it (and `db::open` truncates one
//! left behind by anything else).

use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;
use std::sync::mpsc::Receiver;

use super::StoreError;
use super::db::{self, Env};
use crate::domain::mutation::Mutation;

/// A WAL larger than this is checkpointed and truncated rather than left for the next open.
pub const BIG_WAL_BYTES: u64 = 64 * 1024 * 1024;

/// What the reader of an import sends the store's thread.
pub enum Chunk {
    /// Mutations in input order, each with its line number for the refusal.
    Rows(Vec<(usize, Mutation)>),
    /// Every line was read and passed: commit.
    End,
}

/// How an import went: requests created, and creations already stored (skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub created: usize,
    pub skipped: usize,
}

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum ImportFailed {
    /// The store refused the request of this line (or failed while writing it).
    Line(usize, StoreError),
    /// The reader stopped before `Chunk::End` (it found a bad line, or failed); its own error
    /// says why.
    Abandoned,
    /// The store failed outside any one line (begin, commit).
    Store(StoreError),
}

/// Applies the chunks from `rx` in one transaction, committed only on `Chunk::End`; then
/// checkpoints the WAL the import wrote.
pub fn import(
    conn: &mut Connection,
    env: &Env,
    rx: Receiver<Chunk>,
) -> Result<Imported, ImportFailed> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| ImportFailed::Store(e.into()))?;
    let mut done = Imported {
        created: 0,
        skipped: 0,
    };
    loop {
        match rx.recv() {
            Ok(Chunk::Rows(rows)) => {
                for (line, m) in &rows {
                    match db::apply_one_of_batch(&tx, env, m) {
                        Ok(Some(_)) => done.created += 1,
                        Ok(None) => done.skipped += 1,
                        Err(e) => return Err(ImportFailed::Line(*line, e)),
                    }
                }
            }
            Ok(Chunk::End) => break,
            // Dropping `tx` rolls back.
            Err(_) => return Err(ImportFailed::Abandoned),
        }
    }
    tx.commit().map_err(|e| ImportFailed::Store(e.into()))?;
    truncate_wal(conn);
    Ok(done)
}

/// Copies the WAL into the database and truncates it, if no reader is in the way. Never waits:
/// a console reading the file at that moment keeps it, and the next big write or open tries
/// again. Best effort, as SQLite's own checkpoints are: nothing is lost either way.
pub fn truncate_wal(conn: &Connection) {
    let _ = conn.busy_timeout(std::time::Duration::ZERO);
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    let _ = conn.busy_timeout(db::BUSY_TIMEOUT);
}

/// Truncates the WAL of the file at `path` when a big one was left behind (by an import before
/// this checkpointed, a crash, a large sync): the next command should not pay for it again.
pub fn truncate_big_wal(conn: &Connection, path: &Path) {
    let wal = format!("{}-wal", path.display());
    if std::fs::metadata(wal).is_ok_and(|m| m.len() > BIG_WAL_BYTES) {
        truncate_wal(conn);
    }
}
