//! The outbox: replies waiting for the gateway, one row per part the channel accepts.
//!
//! A part is claimed (`sending`) and committed before the channel is called; the result is
//! committed right after. A part found `sending` by a later holder may or may not have been
//! delivered, so it becomes `unknown` and is never resent automatically (Telegram has no
//! idempotency key; docs/sync-protocol.md, scenario 19).

use super::rows::Cached;
use rusqlite::{Connection, TransactionBehavior, params};
use std::collections::HashSet;
use uuid::Uuid;

use super::StoreError;
use super::db::Env;
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
    // «Вопрос решён?» goes with its one-tap answers (a channel without buttons ignores them).
    let buttons = crate::domain::feedback::is_question(r, m.id)
        .then(|| serde_json::to_string(&crate::domain::feedback::BUTTONS).ok())
        .flatten();
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
        buttons.as_deref(),
    )
}

/// A message to someone other than the request's citizen (the shift leads' chat), under the
/// message id its mutation named: a repeat of the same message adds no parts.
pub fn enqueue_to(
    tx: &Connection,
    message_id: Uuid,
    rid: Option<i64>,
    channel: crate::domain::Channel,
    chat: &str,
    body: &str,
    now: i64,
) -> Result<(), StoreError> {
    let to = Named {
        message_id,
        rid,
        channel,
        reply_to: None,
    };
    enqueue_named(tx, &to, chat, body, now)
}

/// Where a message named by its caller goes and what it answers.
pub struct Named<'a> {
    pub message_id: Uuid,
    pub rid: Option<i64>,
    pub channel: crate::domain::Channel,
    pub reply_to: Option<&'a str>,
}

/// A message under the id the caller named (a repeat adds no parts), to `chat`.
pub fn enqueue_named(
    tx: &Connection,
    to: &Named,
    chat: &str,
    body: &str,
    now: i64,
) -> Result<(), StoreError> {
    insert_parts(
        tx,
        &to.message_id.to_string(),
        to.rid,
        to.channel.as_str(),
        chat,
        to.reply_to,
        body,
        to.channel.max_message_units(),
        now,
        None,
    )
}

/// A photo or document with a caption, as one part under the id its caller named (a repeat
/// adds nothing), sent by the channel's handle for it (a Telegram file_id or a URL).
pub fn enqueue_file(
    tx: &Connection,
    to: &Named,
    chat: &str,
    file: &crate::domain::files::Resend,
    caption: &str,
    now: i64,
) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO outbox(message_id, part_no, parts, request_rid, channel, chat, reply_to, body, state,
            next_attempt_at, created_at, updated_at, files)
         VALUES (?1, 0, 1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?7, ?7, ?8)
         ON CONFLICT(message_id, part_no) DO NOTHING",
        params![
            to.message_id.to_string(),
            to.rid,
            to.channel.as_str(),
            chat,
            to.reply_to,
            caption,
            now,
            file.line()
        ],
    )?;
    Ok(())
}

/// Files that go with the first part of a message already queued (a forward mail's
/// attachments: paths in the gateway's `files_dir`).
pub fn attach_files(tx: &Connection, message_id: Uuid, files: &[String]) -> Result<(), StoreError> {
    if files.is_empty() {
        return Ok(());
    }
    tx.exec(
        "UPDATE outbox SET files = ?2 WHERE message_id = ?1 AND part_no = 0 AND state = 'pending'",
        params![message_id.to_string(), files.join("\n")],
    )?;
    Ok(())
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
        None,
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
    buttons: Option<&str>,
) -> Result<(), StoreError> {
    let parts = split(body, max_units, utf16_units);
    let mut ins = tx.prepare_cached(
        "INSERT INTO outbox(message_id, part_no, parts, request_rid, channel, chat, reply_to, body, state,
            next_attempt_at, created_at, updated_at, buttons)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?9, ?9, ?10)
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
            now,
            // Under the last part, the one the citizen reads last.
            buttons.filter(|_| i + 1 == parts.len())
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
    /// One-tap answers under this part, (label, data); empty for most.
    pub buttons: Vec<(String, String)>,
    /// Files sent with this part: a photo or document with `body` as its caption
    /// (`enqueue_file`, a `Resend` line), a mail's attachments (`attach_files`: paths).
    pub files: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    Sent { external_id: String },
    Retry { at: i64, reason: String },
    Failed { reason: String, unreachable: bool },
    Unknown { reason: String },
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
    super::lease::check_fence(&tx, lease, epoch)?;
    let picked = {
        let mut st = tx.prepare_cached(
            "SELECT o.id, o.message_id, o.part_no, o.request_rid, o.chat, o.reply_to, o.body, o.attempts, o.parts, o.buttons, o.files
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
                // Buttons that do not read are left off; the text still goes.
                buttons: r
                    .get::<_, Option<String>>(9)?
                    .and_then(|b| serde_json::from_str(&b).ok())
                    .unwrap_or_default(),
                files: r
                    .get::<_, Option<String>>(10)?
                    .map(|f| f.lines().map(str::to_string).collect())
                    .unwrap_or_default(),
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
#[allow(clippy::too_many_arguments)]
pub fn finish(
    conn: &mut Connection,
    env: &Env,
    channel: &str,
    lease: &str,
    epoch: i64,
    part: &Part,
    result: &Finish,
    now: i64,
) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    super::lease::check_fence(&tx, lease, epoch)?;
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
        if let Finish::Sent { external_id } = result {
            remember_post(&tx, channel, part, external_id)?;
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
        let state = set_delivery(&tx, &part.message_id)?;
        super::delivery::settled(&tx, env, channel, part.request_rid, &part.message_id, state)?;
    }
    tx.commit()?;
    Ok(())
}

/// Our message's id in the chat, so that a reply to it joins its request: a citizen's, or a
/// department's answer to the post in its group. The gateway records it as soon as the channel
/// returns it, before the part's outcome: in team mode the outcome is recorded only after the
/// server has heard of it, which takes minutes while the server is away, and a department
/// answering the post meanwhile must not be told it named no request. It is a fact of the chat
/// whatever becomes of the part, so it is not fenced.
pub fn remember_post(
    conn: &Connection,
    channel: &str,
    part: &Part,
    external_id: &str,
) -> Result<(), StoreError> {
    if let (Some(rid), false) = (part.request_rid, external_id.is_empty()) {
        conn.exec(
            "INSERT INTO channel_message(channel, chat, external_id, message_id, request_rid) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO NOTHING",
            params![channel, part.chat, external_id, part.message_id, rid],
        )?;
    }
    Ok(())
}

/// Parts left `sending` by an earlier holder: they may have reached the citizen. Where the
/// channel recognises a repeated send (`retry`: VK's `random_id`) they go back to `pending` and
/// are sent again, which delivers each exactly once; elsewhere they become `unknown`.
pub fn sweep(
    conn: &mut Connection,
    env: &Env,
    channel: &str,
    epoch: i64,
    now: i64,
    retry: bool,
) -> Result<usize, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let ids: Vec<(String, Option<i64>)> = tx
        .prepare("SELECT DISTINCT message_id, request_rid FROM outbox WHERE channel = ?1 AND state = 'sending' AND (holder_epoch IS NULL OR holder_epoch < ?2)")?
        .query_map(params![channel, epoch], |r| Ok((r.get(0)?, r.get(1)?)))?
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
    for (id, rid) in ids {
        let state = set_delivery(&tx, &id)?;
        super::delivery::settled(&tx, env, channel, rid, &id, state)?;
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

/// The message's delivery state follows its parts; the state it took.
fn set_delivery(tx: &Connection, message_id: &str) -> Result<&'static str, StoreError> {
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
    Ok(state)
}
