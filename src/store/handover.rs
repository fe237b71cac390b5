//! What a shift hands to the next: every open request, and the notes written on open requests
//! during the shift that ends.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::StoreError;
use super::read::{Filter, Sort, inbox};
use super::rows::{ms, time};
use crate::domain::Request;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ShiftNote {
    pub number: String,
    pub kind: String,
    pub author: String,
    pub at: DateTime<Utc>,
    pub body: String,
}

/// Open requests by time left, and the notes on open requests since `since`, oldest first.
pub fn handover(
    conn: &Connection,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(Vec<Request>, Vec<ShiftNote>), StoreError> {
    let filter = Filter {
        open_only: true,
        ..Default::default()
    };
    let mut open = vec![];
    let mut after = None;
    loop {
        let page = inbox(conn, &filter, Sort::TimeLeft, after, 1000, now)?;
        open.extend(page.rows);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut st = conn.prepare_cached(
        "SELECT r.number, n.kind, n.author, n.at, n.body FROM note n
           JOIN request r ON r.rid = n.request_rid
         WHERE n.at >= ?1 AND r.status != 'closed' ORDER BY n.at, n.rowid",
    )?;
    let rows = st.query_map([ms(since)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut notes = vec![];
    for row in rows {
        let (number, kind, author, at, body) = row?;
        notes.push(ShiftNote {
            number,
            kind,
            author,
            at: time(at)?,
            body,
        });
    }
    Ok((open, notes))
}
