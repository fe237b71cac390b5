//! A department account's console file (#21 item 2): its queue runs on the department's
//! clock. In an operator's file a forwarded request runs on the operators' first-response
//! clock until the citizen has been answered; the department is judged by its own clock from
//! the moment of the forward, so in its file that clock orders the queue and raises the
//! at-risk and breach alerts. Marked once in the file (`meta`), when the server says whose
//! token it is.

use rusqlite::Connection;

use super::StoreError;
use super::meta::{meta, set_meta};
use crate::domain::request::{ClockKind, Request};
use crate::domain::sla::Clock;

const KEY: &str = "department_view";

/// The clock the queue and the alerts follow for `r` in this file. Only a request waiting
/// for a department asks the file (a primary-key read), so intake pays nothing.
pub(super) fn queue_clock<'a>(
    conn: &Connection,
    r: &'a Request,
) -> Result<Option<(ClockKind, &'a Clock)>, StoreError> {
    let active = r.active_clock();
    let theirs = crate::domain::department::queue_clock(r);
    if theirs.map(|c| c.0) != active.map(|c| c.0) && meta(conn, KEY)?.is_some() {
        return Ok(theirs);
    }
    Ok(active)
}

/// Marks the file a department's and re-keys the requests it holds that were forwarded. Returns how many were re-keyed (none the second time).
pub fn mark(conn: &mut Connection) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    if meta(&tx, KEY)?.is_some() {
        return Ok(0);
    }
    set_meta(&tx, KEY, "1")?;
    let rids: Vec<i64> = {
        let mut st = tx.prepare("SELECT rid FROM request WHERE dep_started IS NOT NULL")?;
        st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    for rid in &rids {
        if let Some((_, r)) = super::rows::load_by(&tx, "rid", &rid.to_string())? {
            super::rows::write_request(&tx, &r)?;
        }
    }
    tx.commit()?;
    Ok(rids.len())
}
