//! Files citizens sent: jobs for the gateway to fetch them, and the result recorded on the
//! request through `apply` like any other change.

use super::rows::Cached;
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::db::{Env, apply_in};
use super::{StoreError, rows};
use crate::domain::mutation::{Mutation, Op};
use crate::domain::request::AttachmentState;

#[derive(Debug, Clone, PartialEq)]
pub struct FileJob {
    pub source: String,
    pub request_rid: i64,
    pub attempts: i64,
}

pub fn due(
    conn: &Connection,
    channel: &str,
    now: i64,
    limit: usize,
) -> Result<Vec<FileJob>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT source, request_rid, attempts FROM file_job WHERE channel = ?1 AND next_attempt_at <= ?2
         ORDER BY next_attempt_at LIMIT ?3",
    )?;
    let rows = st.query_map(params![channel, now, limit as i64], |r| {
        Ok(FileJob {
            source: r.get(0)?,
            request_rid: r.get(1)?,
            attempts: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn postpone(
    conn: &Connection,
    channel: &str,
    job: &FileJob,
    at: i64,
) -> Result<(), StoreError> {
    conn.exec(
        "UPDATE file_job SET attempts = attempts + 1, next_attempt_at = ?3 WHERE channel = ?1 AND source = ?2",
        params![channel, job.source, at],
    )?;
    Ok(())
}

/// Records the outcome on the request and drops the job, in one transaction.
pub fn settle(
    conn: &mut Connection,
    env: &Env,
    channel: &str,
    job: &FileJob,
    state: AttachmentState,
    local_path: Option<String>,
) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let id: String = tx.row(
        "SELECT id FROM request WHERE rid = ?1",
        [job.request_rid],
        |r| r.get(0),
    )?;
    let op = Op::SetAttachment {
        source: job.source.clone(),
        state,
        local_path,
    };
    let m = Mutation::new(
        rows::parse::<Uuid>("request id", &id)?,
        channel,
        (env.now)(),
        op,
    );
    match apply_in(&tx, env, &m) {
        // The attachment may be gone (an edit replaced it): the job is simply done.
        Ok(_) | Err(StoreError::Rejected(_)) => {}
        Err(e) => return Err(e),
    }
    tx.exec(
        "DELETE FROM file_job WHERE channel = ?1 AND source = ?2",
        params![channel, job.source],
    )?;
    tx.commit()?;
    Ok(())
}
