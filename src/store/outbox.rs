//! The outbox: replies waiting for the gateway, one row per part the channel accepts, and the
//! lease that lets exactly one gateway work a channel account.
//!
//! A part is claimed (`sending`) and committed before the channel is called; the result is
//! committed right after. A part found `sending` by a later holder may or may not have been
//! delivered, so it becomes `unknown` and is never resent automatically (Telegram has no
//! idempotency key; docs/sync-protocol.md, scenario 19).

use super::rows::Cached;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::HashSet;
use std::time::Duration;
use uuid::Uuid;

use super::StoreError;
use super::rows::ms;
use crate::domain::Request;
use crate::domain::request::Message;
use crate::wire::split::{split, utf16_units};

pub fn enqueue(tx: &Connection, rid: i64, r: &Request, m: &Message) -> Result<(), StoreError> {
    let Some(chat) = r.channel_ref.chat.as_deref() else {
        // Nowhere to send it (an imported request without a chat): say so at once.
        tx.exec(
            "UPDATE message SET delivery = 'failed' WHERE id = ?1",
            [m.id.to_string()],
        )?;
        return Ok(());
    };
    insert_parts(
        tx,
        &m.id.to_string(),
        Some(rid),
        r.channel.as_str(),
        chat,
        r.channel_ref.message.as_deref(),
        &m.body,
        r.channel.max_message_units(),
        ms(m.at),
    )
}

/// A message that belongs to no request (the /start greeting, a /status answer).
pub fn enqueue_raw(
    tx: &Connection,
    channel: crate::domain::Channel,
    chat: &str,
    reply_to: Option<&str>,
    body: &str,
    now: i64,
) -> Result<(), StoreError> {
    insert_parts(
        tx,
        &Uuid::now_v7().to_string(),
        None,
        channel.as_str(),
        chat,
        reply_to,
        body,
        channel.max_message_units(),
        now,
    )
}

#[allow(clippy::too_many_arguments)]
fn insert_parts(
    tx: &Connection,
    message_id: &str,
    rid: Option<i64>,
    channel: &str,
    chat: &str,
    reply_to: Option<&str>,
    body: &str,
    max_units: usize,
    now: i64,
) -> Result<(), StoreError> {
    let parts = split(body, max_units, utf16_units);
    let mut ins = tx.prepare_cached(
        "INSERT INTO outbox(message_id, part_no, parts, request_rid, channel, chat, reply_to, body, state,
            next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?9, ?9)
         ON CONFLICT(message_id, part_no) DO NOTHING",
    )?;
    for (i, part) in parts.iter().enumerate() {
        // Only the first part replies to the citizen's message; the rest follow it.
        let reply = if i == 0 { reply_to } else { None };
        ins.execute(params![
            message_id,
            i as i64,
            parts.len() as i64,
            rid,
            channel,
            chat,
            reply,
            part,
            now
        ])?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub id: i64,
    pub message_id: String,
    pub part_no: i64,
    pub request_rid: Option<i64>,
    pub chat: String,
    pub reply_to: Option<String>,
    pub body: String,
    pub attempts: i64,
    /// How many parts the message was split into: the last one's send delivers it.
    pub parts: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    Sent { external_id: String },
    Retry { at: i64, reason: String },
    Failed { reason: String, unreachable: bool },
    Unknown { reason: String },
}

/// The holder no longer holds the lease: another gateway took over while this one was paused.
#[derive(Debug, thiserror::Error)]
#[error("lease `{0}` is held by another gateway")]
pub struct Fenced(pub String);

fn check_fence(tx: &Connection, lease: &str, epoch: i64) -> Result<(), StoreError> {
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

/// Claims the oldest due part whose chat has nothing earlier in flight and is not cooling down.
pub fn claim(
    conn: &mut Connection,
    channel: &str,
    lease: &str,
    epoch: i64,
    now: i64,
    cooling: &HashSet<String>,
) -> Result<Option<Part>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    check_fence(&tx, lease, epoch)?;
    let picked = {
        let mut st = tx.prepare_cached(
            "SELECT o.id, o.message_id, o.part_no, o.request_rid, o.chat, o.reply_to, o.body, o.attempts, o.parts
             FROM outbox o INDEXED BY outbox_pending
             WHERE o.channel = ?1 AND o.state = 'pending' AND o.next_attempt_at <= ?2
               AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.channel = o.channel AND e.chat = o.chat
                               AND e.id < o.id AND e.state IN ('pending', 'sending'))
             ORDER BY o.id LIMIT 64",
        )?;
        let rows = st.query_map(params![channel, now], |r| {
            Ok(Part {
                id: r.get(0)?,
                message_id: r.get(1)?,
                part_no: r.get(2)?,
                request_rid: r.get(3)?,
                chat: r.get(4)?,
                reply_to: r.get(5)?,
                body: r.get(6)?,
                attempts: r.get(7)?,
                parts: r.get(8)?,
            })
        })?;
        let mut picked = None;
        for p in rows {
            let p = p?;
            if !cooling.contains(&p.chat) {
                picked = Some(p);
                break;
            }
        }
        picked
    };
    if let Some(p) = &picked {
        tx.exec(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, holder_epoch = ?2, updated_at = ?3 WHERE id = ?1",
            params![p.id, epoch, now],
        )?;
        set_delivery(&tx, &p.message_id)?;
    }
    tx.commit()?;
    Ok(picked)
}

/// Records what the channel said. Fenced: a paused old holder cannot overwrite the new one's rows.
pub fn finish(
    conn: &mut Connection,
    channel: &str,
    lease: &str,
    epoch: i64,
    part: &Part,
    result: &Finish,
    now: i64,
) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    check_fence(&tx, lease, epoch)?;
    let (state, external, error, next) = match result {
        Finish::Sent { external_id } => ("sent", Some(external_id.as_str()), None, now),
        Finish::Retry { at, reason } => ("pending", None, Some(reason.as_str()), *at),
        Finish::Failed { reason, .. } => ("failed", None, Some(reason.as_str()), now),
        Finish::Unknown { reason } => ("unknown", None, Some(reason.as_str()), now),
    };
    let changed = tx.exec(
        "UPDATE outbox SET state = ?2, external_id = ?3, error = ?4, next_attempt_at = ?5, updated_at = ?6
         WHERE id = ?1 AND holder_epoch = ?7 AND state = 'sending'",
        params![part.id, state, external, error, next, now, epoch],
    )?;
    if changed == 1 {
        if let (Finish::Sent { external_id }, Some(rid)) = (result, part.request_rid) {
            // Our message's id in the chat: a citizen replying to it joins this request.
            tx.exec(
                "INSERT INTO channel_message(channel, chat, external_id, message_id, request_rid) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT DO NOTHING",
                params![channel, part.chat, external_id, part.message_id, rid],
            )?;
        }
        if let Finish::Failed {
            reason,
            unreachable: true,
        } = result
        {
            tx.exec(
                "INSERT INTO unreachable(channel, chat, at, reason) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(channel, chat) DO UPDATE SET at = excluded.at, reason = excluded.reason",
                params![channel, part.chat, now, reason],
            )?;
        }
        set_delivery(&tx, &part.message_id)?;
    }
    tx.commit()?;
    Ok(())
}

/// Parts left `sending` by an earlier holder: they may have reached the citizen. Where the
/// channel recognises a repeated send (`retry`: VK's `random_id`) they go back to `pending` and
/// are sent again, which delivers each exactly once; elsewhere they become `unknown`.
pub fn sweep(
    conn: &mut Connection,
    channel: &str,
    epoch: i64,
    now: i64,
    retry: bool,
) -> Result<usize, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let ids: Vec<String> = tx
        .prepare("SELECT DISTINCT message_id FROM outbox WHERE channel = ?1 AND state = 'sending' AND (holder_epoch IS NULL OR holder_epoch < ?2)")?
        .query_map(params![channel, epoch], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let n = if retry {
        tx.exec(
            "UPDATE outbox SET state = 'pending', error = 'the gateway stopped while sending: sent again, the channel drops repeats', next_attempt_at = ?3, updated_at = ?3
             WHERE channel = ?1 AND state = 'sending' AND (holder_epoch IS NULL OR holder_epoch < ?2)",
            params![channel, epoch, now],
        )?
    } else {
        tx.exec(
            "UPDATE outbox SET state = 'unknown', error = 'the gateway stopped while sending: may or may not have been delivered', updated_at = ?3
             WHERE channel = ?1 AND state = 'sending' AND (holder_epoch IS NULL OR holder_epoch < ?2)",
            params![channel, epoch, now],
        )?
    };
    for id in ids {
        set_delivery(&tx, &id)?;
    }
    tx.commit()?;
    Ok(n)
}

/// When the next part becomes due, for the sender's sleep.
pub fn next_due(conn: &Connection, channel: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn.row(
        "SELECT min(next_attempt_at) FROM outbox WHERE channel = ?1 AND state = 'pending'",
        [channel],
        |r| r.get::<_, Option<i64>>(0),
    )?)
}

/// The message's delivery state follows its parts.
fn set_delivery(tx: &Connection, message_id: &str) -> Result<(), StoreError> {
    let states: Vec<String> = tx
        .prepare_cached("SELECT state FROM outbox WHERE message_id = ?1")?
        .query_map([message_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let any = |s: &str| states.iter().any(|x| x == s);
    let state = if any("failed") {
        "failed"
    } else if any("unknown") {
        "unknown"
    } else if !states.is_empty() && states.iter().all(|s| s == "sent") {
        "sent"
    } else if any("sending") || any("sent") {
        "sending"
    } else {
        "queued"
    };
    tx.prepare_cached("UPDATE message SET delivery = ?2 WHERE id = ?1")?
        .execute(params![message_id, state])?;
    Ok(())
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
