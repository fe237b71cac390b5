//! Documents set aside: what the server sent that doesn't read as its entity, and rows of this
//! file that no longer read (written before a bound existed). Kept whole with why and when,
//! out of every list and count, so one bad document stops nothing; `mcu repair` lists them and
//! moves unreadable rows here.

use rusqlite::{Connection, params};
use serde::Serialize;

use super::StoreError;
use super::rows::{self, Cached};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quarantined {
    /// `request`, `message`, `note`, `event`.
    pub kind: String,
    pub id: String,
    pub reason: String,
    /// The document as it came (or the row as it was), for people to look at.
    pub doc: String,
}

pub fn keep(tx: &Connection, q: &Quarantined) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO quarantine(kind, id, reason, doc, at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(kind, id) DO UPDATE SET reason = excluded.reason, doc = excluded.doc, at = excluded.at",
        params![q.kind, q.id, q.reason, q.doc, chrono::Utc::now().timestamp_millis()],
    )?;
    Ok(())
}

/// Everything set aside, newest first, with when (ms since the epoch).
pub fn list(conn: &Connection) -> Result<Vec<(Quarantined, i64)>, StoreError> {
    let mut st =
        conn.prepare_cached("SELECT kind, id, reason, doc, at FROM quarantine ORDER BY at DESC")?;
    let rows = st.query_map([], |r| {
        Ok((
            Quarantined {
                kind: r.get(0)?,
                id: r.get(1)?,
                reason: r.get(2)?,
                doc: r.get(3)?,
            },
            r.get(4)?,
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Moves every request row that no longer reads into the quarantine, with its thread, in one
/// transaction; the lists and counts then work again. Returns what it moved.
pub fn repair(conn: &mut Connection) -> Result<Vec<Quarantined>, StoreError> {
    let tx = conn.transaction()?;
    let rids: Vec<(i64, String)> = {
        let mut st = tx.prepare("SELECT rid, id FROM request")?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    let mut moved = vec![];
    for (rid, id) in rids {
        let reason = match rows::load_by(&tx, "rid", &rid.to_string()) {
            Ok(_) => continue,
            Err(e) => e.to_string(),
        };
        let doc: String = tx.row(
            "SELECT json_object('number', number, 'channel', channel, 'text', text,
                    'received_at', received_at, 'status', status, 'citizen', citizen)
             FROM request WHERE rid = ?1",
            [rid],
            |r| r.get(0),
        )?;
        let q = Quarantined {
            kind: "request".into(),
            id,
            reason,
            doc,
        };
        keep(&tx, &q)?;
        // The thread goes with it; a sent part's record stays so nothing is sent twice.
        super::forget::request(&tx, rid)?;
        moved.push(q);
    }
    tx.commit()?;
    Ok(moved)
}
