//! A server restored to an earlier point (docs/sync-protocol.md §8): its pull says `reset` and
//! sends its whole state again. The console then
//! - hands back the actions the server has lost — journal rows it had confirmed past the
//!   last one the restored server knows — so the next push sends them again (the server
//!   recognises any it does have by their uuid);
//! - notes every request, message, note and audit line the pull brings (across pages and
//!   restarts: the marker and the list are in the file), and when the pull is complete drops
//!   what the server no longer has, except what actions still waiting here created.
//!
//! Without this, actions confirmed just before the restore were gone from the server for good,
//! and consoles went on showing requests and replies the server no longer had.

use rusqlite::{Connection, params};
use std::collections::BTreeSet;

use super::StoreError;
use super::meta::{meta, set_meta};
use super::mirror::{Pulled, Row, unacked};
use super::rows::{self, Cached};
use crate::domain::mutation::Op;

/// Set while a reset pull is under way.
pub const RESETTING: &str = "sync_resetting";
/// How many reset pulls this file has begun: a round that moves it met a restored server.
pub const RESETS: &str = "sync_resets";

pub fn resets(conn: &Connection) -> Result<i64, StoreError> {
    Ok(meta(conn, RESETS)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// The first page of a reset: what the server lost goes back to the journal, and the list of
/// what the server has starts empty.
pub fn begin(tx: &Connection, taken: i64) -> Result<usize, StoreError> {
    let handed_back = tx.exec(
        "UPDATE pending_mutation SET acked_at = NULL WHERE acked_at IS NOT NULL AND mutation_id > ?1",
        [taken],
    )?;
    tx.exec("DELETE FROM reset_seen", [])?;
    set_meta(tx, RESETTING, "1")?;
    set_meta(tx, RESETS, &(resets(tx)? + 1).to_string())?;
    Ok(handed_back)
}

pub fn active(tx: &Connection) -> Result<bool, StoreError> {
    Ok(meta(tx, RESETTING)?.is_some())
}

/// What one page of the reset pull brought.
pub fn record(tx: &Connection, pulled: &Pulled) -> Result<(), StoreError> {
    let mut st = tx.prepare_cached(
        "INSERT INTO reset_seen(kind, id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    for (r, _) in &pulled.requests {
        st.execute(params!["request", r.id.to_string()])?;
    }
    for row in &pulled.rows {
        match row {
            Row::Message(m) => st.execute(params!["message", m.id.to_string()])?,
            Row::Note(n) => st.execute(params!["note", n.id.to_string()])?,
            Row::Event(id, _) => st.execute(params!["event", id])?,
        };
    }
    Ok(())
}

/// The pull is complete: what the server has not sent is not the server's any more. Returns
/// how many requests went.
pub fn sweep(tx: &Connection) -> Result<usize, StoreError> {
    // What actions still waiting here made: the next push gives it to the server.
    let mut keep_requests = BTreeSet::new();
    let mut keep_rows = BTreeSet::new();
    for j in unacked(tx, usize::MAX >> 1)? {
        match &j.mutation.op {
            Op::Create(_) => {
                keep_requests.insert(j.mutation.request_id.to_string());
            }
            Op::AddNote { note_id, .. }
            | Op::DepartmentAnswer { note_id, .. }
            | Op::Forward { note_id, .. } => {
                keep_rows.insert(note_id.to_string());
            }
            Op::Reply { message_id, .. } => {
                keep_rows.insert(message_id.to_string());
            }
            _ => {}
        }
    }
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS reset_keep(id TEXT PRIMARY KEY) WITHOUT ROWID;
         DELETE FROM reset_keep;
         CREATE TEMP TABLE IF NOT EXISTS reset_drop(rid INTEGER PRIMARY KEY);
         DELETE FROM reset_drop;",
    )?;
    {
        let mut st = tx.prepare_cached("INSERT OR IGNORE INTO temp.reset_keep(id) VALUES (?1)")?;
        for id in keep_requests.iter().chain(&keep_rows) {
            st.execute([id])?;
        }
    }
    let dropped = tx.exec(
        "INSERT INTO temp.reset_drop(rid) SELECT rid FROM request r
          WHERE NOT EXISTS (SELECT 1 FROM reset_seen s WHERE s.kind = 'request' AND s.id = r.id)
            AND NOT EXISTS (SELECT 1 FROM temp.reset_keep k WHERE k.id = r.id)",
        [],
    )?;
    // The requests kept whose thread loses lines: their search words are made again.
    let mut touched: BTreeSet<i64> = BTreeSet::new();
    {
        let mut st = tx.prepare_cached(
            "SELECT request_rid FROM message m WHERE NOT EXISTS
               (SELECT 1 FROM reset_seen s WHERE s.kind = 'message' AND s.id = m.id)
               AND NOT EXISTS (SELECT 1 FROM temp.reset_keep k WHERE k.id = m.id)
             UNION SELECT request_rid FROM note n WHERE NOT EXISTS
               (SELECT 1 FROM reset_seen s WHERE s.kind = 'note' AND s.id = n.id)
               AND NOT EXISTS (SELECT 1 FROM temp.reset_keep k WHERE k.id = n.id)",
        )?;
        for rid in st.query_map([], |r| r.get::<_, i64>(0))? {
            touched.insert(rid?);
        }
    }
    tx.execute_batch(
        "DELETE FROM request_fts WHERE rowid IN (SELECT rid FROM temp.reset_drop);
         DELETE FROM request_tag WHERE request_rid IN (SELECT rid FROM temp.reset_drop);
         DELETE FROM channel_message WHERE request_rid IN (SELECT rid FROM temp.reset_drop);
         DELETE FROM file_job WHERE request_rid IN (SELECT rid FROM temp.reset_drop);
         -- A sent part's record stays: should the reply come back, it is not sent twice.
         UPDATE outbox SET request_rid = NULL WHERE request_rid IN (SELECT rid FROM temp.reset_drop);
         UPDATE inbound_event SET request_rid = NULL WHERE request_rid IN (SELECT rid FROM temp.reset_drop);
         DELETE FROM message WHERE request_rid IN (SELECT rid FROM temp.reset_drop)
           OR (NOT EXISTS (SELECT 1 FROM reset_seen s WHERE s.kind = 'message' AND s.id = message.id)
               AND NOT EXISTS (SELECT 1 FROM temp.reset_keep k WHERE k.id = message.id));
         DELETE FROM note WHERE request_rid IN (SELECT rid FROM temp.reset_drop)
           OR (NOT EXISTS (SELECT 1 FROM reset_seen s WHERE s.kind = 'note' AND s.id = note.id)
               AND NOT EXISTS (SELECT 1 FROM temp.reset_keep k WHERE k.id = note.id));
         -- The server's audit lines it no longer has; this console's own lines for actions
         -- still waiting (no server id) stay with them.
         DELETE FROM event WHERE request_rid IN (SELECT rid FROM temp.reset_drop)
           OR (server_id IS NOT NULL AND NOT EXISTS
               (SELECT 1 FROM reset_seen s WHERE s.kind = 'event' AND s.id = event.server_id));
         DELETE FROM request WHERE rid IN (SELECT rid FROM temp.reset_drop);
         DELETE FROM temp.reset_drop;
         DELETE FROM temp.reset_keep;
         DELETE FROM reset_seen;",
    )?;
    for rid in touched {
        if let Some((_, r)) = rows::load_by(tx, "rid", &rid.to_string())? {
            super::db::reindex(tx, rid, &r, false)?;
        }
    }
    tx.exec("DELETE FROM meta WHERE key = ?1", [RESETTING])?;
    Ok(dropped)
}
