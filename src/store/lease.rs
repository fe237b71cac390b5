//! The lease that lets exactly one gateway work a channel account, and the fence every
//! gateway write checks: kept apart from the outbox because ingest is fenced by it too.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::time::Duration;

use super::StoreError;
use super::rows::Cached;

/// The holder no longer holds the lease: another gateway took over while this one was paused.
#[derive(Debug, thiserror::Error)]
#[error("lease `{0}` is held by another gateway")]
pub struct Fenced(pub String);

/// Fails with `Fenced` unless `epoch` is still the lease's: a paused old holder writes nothing.
pub(super) fn check_fence(tx: &Connection, lease: &str, epoch: i64) -> Result<(), StoreError> {
    let current: Option<i64> = tx
        .row("SELECT epoch FROM lease WHERE name = ?1", [lease], |r| {
            r.get(0)
        })
        .optional()?;
    if current == Some(epoch) {
        Ok(())
    } else {
        Err(StoreError::Fenced(lease.to_string()))
    }
}

/// Who holds a lease: this host and process, so a dead holder on this machine is recognised at
/// once instead of after the lease runs out (a `kill -9`ed gateway restarts immediately).
pub fn holder_id() -> String {
    format!("{}:{}", hostname(), std::process::id())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn holder_is_dead(holder: &str) -> bool {
    let Some((host, pid)) = holder.rsplit_once(':') else {
        return false;
    };
    if host != hostname() {
        return false;
    }
    match pid.parse::<u32>() {
        Ok(pid) if pid != std::process::id() => {
            let proc = std::path::Path::new("/proc");
            proc.exists() && !proc.join(pid.to_string()).exists()
        }
        _ => false,
    }
}

/// Takes the lease if it is free, expired, ours, or its holder died; returns the new epoch
/// (the fencing token), or who holds it.
pub fn acquire(
    conn: &mut Connection,
    name: &str,
    holder: &str,
    now: i64,
    ttl: Duration,
) -> Result<Result<i64, String>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let cur: Option<(String, i64, i64)> = tx
        .row(
            "SELECT holder, epoch, expires_at FROM lease WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let expires = now + ttl.as_millis() as i64;
    let epoch = match cur {
        None => 1,
        Some((h, e, _)) if h == holder => e,
        Some((h, e, exp)) if exp < now || holder_is_dead(&h) => e + 1,
        Some((h, _, _)) => return Ok(Err(h)),
    };
    tx.exec(
        "INSERT INTO lease(name, holder, epoch, expires_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, epoch = excluded.epoch, expires_at = excluded.expires_at",
        params![name, holder, epoch, expires],
    )?;
    tx.commit()?;
    Ok(Ok(epoch))
}

/// False when the lease was lost (expired and taken): the holder must stop at once.
pub fn renew(
    conn: &Connection,
    name: &str,
    holder: &str,
    epoch: i64,
    now: i64,
    ttl: Duration,
) -> Result<bool, StoreError> {
    let n = conn.exec(
        "UPDATE lease SET expires_at = ?4 WHERE name = ?1 AND holder = ?2 AND epoch = ?3",
        params![name, holder, epoch, now + ttl.as_millis() as i64],
    )?;
    Ok(n == 1)
}

pub fn release(conn: &Connection, name: &str, holder: &str, epoch: i64) -> Result<(), StoreError> {
    conn.exec(
        "UPDATE lease SET expires_at = 0 WHERE name = ?1 AND holder = ?2 AND epoch = ?3",
        params![name, holder, epoch],
    )?;
    Ok(())
}
