//! Alarms: what the gateway could not fix by retrying, kept until an operator has seen them,
//! so a stopped poller is noticed on every console and not only in a log.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::rows::Cached;

pub fn raise_alarm(
    conn: &Connection,
    source: &str,
    kind: &str,
    text: &str,
    now: i64,
) -> Result<(), StoreError> {
    // One open alarm per source and kind: a poller retrying must not flood the list.
    let open: Option<i64> = conn
        .row(
            "SELECT id FROM alarm WHERE source = ?1 AND kind = ?2 AND cleared_at IS NULL",
            params![source, kind],
            |r| r.get(0),
        )
        .optional()?;
    if open.is_none() {
        conn.exec(
            "INSERT INTO alarm(at, source, kind, text) VALUES (?1, ?2, ?3, ?4)",
            params![now, source, kind, text],
        )?;
    }
    Ok(())
}

/// Every open alarm, from any source: an operator has seen them.
pub fn clear_all_alarms(conn: &Connection, now: i64) -> Result<(), StoreError> {
    conn.exec(
        "UPDATE alarm SET cleared_at = ?1 WHERE cleared_at IS NULL",
        params![now],
    )?;
    Ok(())
}

pub fn clear_alarms(conn: &Connection, source: &str, now: i64) -> Result<(), StoreError> {
    conn.exec(
        "UPDATE alarm SET cleared_at = ?2 WHERE source = ?1 AND cleared_at IS NULL",
        params![source, now],
    )?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alarm {
    pub at: chrono::DateTime<chrono::Utc>,
    pub source: String,
    pub kind: String,
    pub text: String,
}

pub fn open_alarms(conn: &Connection) -> Result<Vec<Alarm>, StoreError> {
    let mut st = conn
        .prepare("SELECT at, source, kind, text FROM alarm WHERE cleared_at IS NULL ORDER BY id")?;
    let rows = st.query_map([], |r| {
        Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    let mut out = vec![];
    for row in rows {
        let (at, source, kind, text) = row?;
        out.push(Alarm {
            at: super::rows::time(at)?,
            source,
            kind,
            text,
        });
    }
    Ok(out)
}
