//! The journal of actions this console took and the server has not yet: what a push sends,
//! what it acknowledges, and the server's refusals, each undone on the request with the
//! actions still waiting applied again on top.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::Request;
use crate::domain::mutation::{Mutation, Op};
use crate::store::StoreError;
use crate::store::db::Env;
use crate::store::rows::{self, Cached, ms};

/// One journaled action, as the console recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct Journaled {
    /// The journal's own row number; the wire id is this minus the client's id base.
    pub local_id: i64,
    pub base_seq: Option<i64>,
    pub mutation: Mutation,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// Actions the server has not confirmed, oldest first.
pub fn unacked(conn: &Connection, limit: usize) -> Result<Vec<Journaled>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT mutation_id, mutation_uuid, args, client_time, base_seq FROM pending_mutation
         WHERE acked_at IS NULL ORDER BY mutation_id LIMIT ?1",
    )?;
    let rows = st.query_map([limit as i64], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<i64>>(4)?,
        ))
    })?;
    let mut out = vec![];
    for row in rows {
        let (local_id, uuid, args, at, base_seq) = row?;
        let args: Value = serde_json::from_str(&args).map_err(|e| corrupt("journal", e))?;
        let op: Op =
            serde_json::from_value(args["op"].clone()).map_err(|e| corrupt("journal op", e))?;
        out.push(Journaled {
            local_id,
            base_seq,
            mutation: Mutation {
                id: uuid.parse().map_err(|e| corrupt("journal uuid", e))?,
                request_id: serde_json::from_value(args["request_id"].clone())
                    .map_err(|e| corrupt("journal request", e))?,
                actor: args["actor"].as_str().unwrap_or_default().to_string(),
                at: chrono::DateTime::parse_from_rfc3339(&at)
                    .map_err(|e| corrupt("journal time", e))?
                    .with_timezone(&chrono::Utc),
                op,
            },
        });
    }
    Ok(out)
}

/// The journal's last row number, 0 when it is empty.
pub fn last_local_id(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT coalesce(max(mutation_id), 0) FROM pending_mutation",
        [],
        |r| r.get(0),
    )?)
}

pub fn pending_count(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.row(
        "SELECT count(*) FROM pending_mutation WHERE acked_at IS NULL",
        [],
        |r| r.get(0),
    )?)
}

/// The server has the action (applied or refused). The console's own audit lines for it stood
/// in for the server's until now: they go, and the server's (if it wrote any) come with the
/// pull, or have come already and replaced them.
pub fn ack(conn: &Connection, local_id: i64, at: i64) -> Result<(), StoreError> {
    conn.exec(
        "UPDATE pending_mutation SET acked_at = ?2, before = NULL WHERE mutation_id = ?1 AND acked_at IS NULL",
        params![local_id, at.to_string()],
    )?;
    conn.exec(
        "DELETE FROM event WHERE server_id IS NULL AND mutation_id =
           (SELECT mutation_uuid FROM pending_mutation WHERE mutation_id = ?1)",
        [local_id],
    )?;
    Ok(())
}

/// A refused action's message or note was only ever on this console: it goes, with the
/// reply's queued parts. (Its request comes back from the server with the next pull.)
pub fn forget(conn: &Connection, op: &Op) -> Result<(), StoreError> {
    match op {
        Op::AddNote { note_id, .. }
        | Op::DepartmentAnswer { note_id, .. }
        | Op::Forward { note_id, .. } => {
            conn.exec("DELETE FROM note WHERE id = ?1", [note_id.to_string()])?;
        }
        Op::Reply { message_id, .. } => {
            conn.exec(
                "DELETE FROM outbox WHERE message_id = ?1",
                [message_id.to_string()],
            )?;
            conn.exec(
                "DELETE FROM message WHERE id = ?1",
                [message_id.to_string()],
            )?;
        }
        _ => {}
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rejected {
    pub mutation_uuid: Uuid,
    pub request_id: Uuid,
    pub number: Option<String>,
    pub code: String,
    pub message: String,
    pub current: Option<Value>,
    /// A refused reply's text, kept so the operator can send it again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<String>,
    /// Who made the value that stands now, and when, as the server says (none from an older
    /// server, or a refusal about no request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<DateTime<Utc>>,
}

pub fn reject(conn: &Connection, r: &Rejected, at: i64) -> Result<(), StoreError> {
    conn.exec(
        "INSERT INTO sync_rejection(mutation_uuid, request_id, code, message, current, at, draft,
           changed_by, changed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
        params![
            r.mutation_uuid.to_string(),
            r.request_id.to_string(),
            r.code,
            r.message,
            r.current.as_ref().map(Value::to_string),
            at,
            r.draft,
            r.changed_by,
            r.changed_at.map(ms),
        ],
    )?;
    Ok(())
}

/// A refused action comes off this file: the request goes back to the server's state (the
/// refusal's `current`, or, without one, the request as it was before the action) with the
/// actions still waiting applied again on top. Call before the action is acknowledged: its
/// journal row holds the state to go back to.
pub fn undo(conn: &Connection, env: &Env, r: &Rejected) -> Result<(), StoreError> {
    let (local_id, before): (i64, Option<String>) = match conn
        .row(
            "SELECT mutation_id, before FROM pending_mutation WHERE mutation_uuid = ?1",
            [r.mutation_uuid.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?
    {
        Some(found) => found,
        None => return Ok(()),
    };
    let (base, taken) = match (&r.current, before) {
        // The server's state already holds every action it took: all waiting ones go on top.
        (Some(cur), _) => (serde_json::from_value::<Request>(cur.clone()).ok(), 0),
        // The state before this action holds the waiting ones before it: only later ones.
        (None, Some(b)) => (serde_json::from_str::<Request>(&b).ok(), local_id),
        (None, None) => (None, 0),
    };
    let Some(base) = base else {
        return Ok(());
    };
    let Some((rid, _)) = rows::load_by(conn, "id", &base.id.to_string())? else {
        return Ok(());
    };
    rows::write_request(conn, &base)?;
    let mut later = std::collections::HashMap::from([(rid, base.clone())]);
    let touched = std::collections::BTreeSet::from([base.id]);
    super::pulled::rebase_except(conn, env, &touched, &mut later, taken, Some(local_id))?;
    let now = later.remove(&rid).unwrap_or(base);
    crate::store::db::reindex(conn, rid, &now, false)
}

/// Refusals the operator has not been shown yet; marks them shown.
pub fn take_rejections(conn: &Connection) -> Result<Vec<Rejected>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT s.mutation_uuid, s.request_id, r.number, s.code, s.message, s.current, s.draft,
           s.changed_by, s.changed_at
         FROM sync_rejection s LEFT JOIN request r ON r.id = s.request_id
         WHERE s.seen = 0 ORDER BY s.at",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, Option<i64>>(8)?,
        ))
    })?;
    let mut out = vec![];
    for row in rows {
        let (uuid, rid, number, code, message, current, draft, changed_by, changed_at) = row?;
        out.push(Rejected {
            mutation_uuid: uuid.parse().map_err(|e| corrupt("rejection", e))?,
            request_id: rid.parse().map_err(|e| corrupt("rejection", e))?,
            number,
            code,
            message,
            current: current.and_then(|c| serde_json::from_str(&c).ok()),
            draft,
            changed_by,
            // A time out of range is a detail lost, not a refusal lost.
            changed_at: changed_at.and_then(|t| rows::time(t).ok()),
        });
    }
    conn.exec("UPDATE sync_rejection SET seen = 1 WHERE seen = 0", [])?;
    Ok(out)
}
