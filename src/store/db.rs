//! The write path: every change goes through `domain::apply` inside one `BEGIN IMMEDIATE`
//! transaction, together with its audit events, search index and journal row.

use super::rows::Cached;
use chrono::{DateTime, Datelike, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use uuid::Uuid;

use super::rows::{self, ms};
use super::{StoreError, analyze, schema};
use crate::domain::mutation::{Ctx, Mutation, Op, Outcome};
use crate::domain::request::{Channel, Event, Message, Note};
use crate::domain::{Catalog, ClockPolicy, Rejection, Request, RequestNumber};

pub type Now = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Everything the store needs besides the file: the rules' inputs and the injected clock.
#[derive(Clone)]
pub struct Env {
    pub catalog: Catalog,
    pub policy: ClockPolicy,
    /// Keep mutations for a sync server (team mode). Standalone consoles have no one to send
    /// them to, so they skip the journal.
    pub journal: bool,
    pub now: Now,
}

pub fn open(path: &Path) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Open(format!("cannot create {}: {e}", dir.display())))?;
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Open(format!("cannot open {}: {e}", path.display())))?;
    configure(&conn)
        .map_err(|e| StoreError::Open(format!("{}: {}", path.display(), StoreError::from(e))))?;
    schema::migrate(&mut conn)?;
    super::bulk::truncate_big_wal(&conn, path);
    Ok(conn)
}

/// A read-only connection to a file `open` has already set up (the store's second connection,
/// `Store::read_call`): no migrations, no writes.
pub fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Open(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(128);
    rusqlite::vtab::array::load_module(&conn)?;
    Ok(conn)
}

/// How long a statement waits for another program's lock before reporting the file busy.
pub const BUSY_TIMEOUT: StdDuration = StdDuration::from_secs(5);

pub fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The ingest path alone uses about 30 distinct statements; the default cache holds 16.
    conn.set_prepared_statement_cache_capacity(128);
    // journal_mode answers with a row, so it is read rather than executed.
    let _: String = conn.row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // When a checkpoint lets SQLite start the WAL over, a file grown by a large write shrinks
    // back to this rather than staying its size on disk.
    conn.pragma_update(
        None,
        "journal_size_limit",
        super::bulk::BIG_WAL_BYTES as i64,
    )?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // rarray(): search hands its matches to the inbox query as one bound array.
    rusqlite::vtab::array::load_module(conn)?;
    // Touch the schema so a file that is not a database fails here, not mid-command.
    let _: i64 = conn.row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    Ok(())
}

/// The outcome of applying one mutation.
#[derive(Debug, Clone)]
pub struct Applied {
    pub request: Request,
    /// False when the same mutation (by id) had already been applied: nothing changed now.
    pub changed: bool,
    pub events: Vec<Event>,
}

pub fn apply(conn: &mut Connection, env: &Env, m: &Mutation) -> Result<Applied, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let applied = apply_in(&tx, env, m)?;
    tx.commit()?;
    Ok(applied)
}

/// Applies a batch all-or-nothing; a rejection names the batch position that caused it.
/// Creations whose (channel, external_id) is already stored are skipped, so re-running an
/// import is harmless. Returns the created requests' numbers and how many were skipped.
pub fn apply_batch(
    conn: &mut Connection,
    env: &Env,
    batch: &[Mutation],
) -> Result<(Vec<RequestNumber>, usize), (usize, StoreError)> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| (0, e.into()))?;
    let mut created = Vec::new();
    let mut skipped = 0;
    for (i, m) in batch.iter().enumerate() {
        match apply_one_of_batch(&tx, env, m).map_err(|e| (i, e))? {
            Some(number) => created.push(number),
            None => skipped += 1,
        }
    }
    tx.commit().map_err(|e| (batch.len(), e.into()))?;
    Ok((created, skipped))
}

/// One mutation of a batch or an import: the created request's number, or None when it was a
/// creation whose (channel, external_id) is already stored, so re-running an import is
/// harmless.
pub(crate) fn apply_one_of_batch(
    tx: &Connection,
    env: &Env,
    m: &Mutation,
) -> Result<Option<RequestNumber>, StoreError> {
    if let Op::Create(new) = &m.op
        && let Some(ext) = &new.external_id
    {
        let exists: Option<i64> = tx
            .row(
                "SELECT rid FROM request WHERE channel = ?1 AND external_id = ?2",
                params![new.channel.as_str(), ext],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Ok(None);
        }
    }
    Ok(Some(apply_in(tx, env, m)?.request.number))
}

/// When a request's search document is rebuilt: at once, or once per request at the end of a
/// batch (ingest). Rebuilding mid-transaction makes FTS5 flush its pending data before every
/// later write, which cost more than all the rest of ingest.
pub(crate) enum Reindex<'a> {
    Now,
    Later(&'a mut std::collections::BTreeMap<i64, (Request, bool)>),
}

pub(crate) fn apply_in(tx: &Connection, env: &Env, m: &Mutation) -> Result<Applied, StoreError> {
    apply_with(tx, env, m, &mut Reindex::Now)
}

/// Rebuilds the documents collected by `Reindex::Later`.
pub(crate) fn reindex_all(
    tx: &Connection,
    pending: &std::collections::BTreeMap<i64, (Request, bool)>,
) -> Result<(), StoreError> {
    for (rid, (r, created)) in pending {
        reindex(tx, *rid, r, *created)?;
    }
    Ok(())
}

pub(crate) fn apply_with(
    tx: &Connection,
    env: &Env,
    m: &Mutation,
    later: &mut Reindex,
) -> Result<Applied, StoreError> {
    let applied = apply_one(tx, env, m, later)?;
    if applied.changed {
        relay_down(tx, env, m, later, 0)?;
    }
    Ok(applied)
}

/// An answer given on a request goes on to the citizens of the requests merged into it
/// (`domain::merge`), in the same transaction and as mutations of their own, so they sync and
/// the server's gateway sends them like any reply. A chain of merges is followed a few links
/// down; the depth bound only guards against a loop two offline merges could make.
pub(super) fn relay_down(
    tx: &Connection,
    env: &Env,
    m: &Mutation,
    later: &mut Reindex,
    depth: u8,
) -> Result<(), StoreError> {
    if depth >= 4 || crate::domain::merge::answer_of(&m.op).is_none() {
        return Ok(());
    }
    let now = (env.now)();
    for child in merged_children(tx, m.request_id)? {
        let Some(relayed) = crate::domain::merge::relay(m, child, now) else {
            continue;
        };
        if apply_one(tx, env, &relayed, later)?.changed {
            relay_down(tx, env, &relayed, later, depth + 1)?;
        }
    }
    Ok(())
}

/// The requests whose threads were merged into `id` (through the parent index).
pub(crate) fn merged_children(tx: &Connection, id: Uuid) -> Result<Vec<Uuid>, StoreError> {
    let ids = tx
        .prepare_cached(
            "SELECT id FROM request WHERE parent_id = ?1 AND close_reason = 'merged' ORDER BY rid",
        )?
        .query_map([id.to_string()], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    ids.iter().map(|i| rows::parse("request id", i)).collect()
}

fn apply_one(
    tx: &Connection,
    env: &Env,
    m: &Mutation,
    later: &mut Reindex,
) -> Result<Applied, StoreError> {
    if already_applied(tx, env, m)? {
        let (_, request) = rows::load_by(tx, "id", &m.request_id.to_string())?
            .ok_or(StoreError::Rejected(Rejection::NotFound))?;
        return Ok(Applied {
            request,
            changed: false,
            events: vec![],
        });
    }
    let current = rows::load_by(tx, "id", &m.request_id.to_string())?.map(|(_, r)| r);
    let out = decide(tx, env, m, current.as_ref())?;
    let created = matches!(m.op, Op::Create(_)) && current.is_none();
    let rid = rows::write_request(tx, &out.request)?;
    record(tx, env, rid, m, &out, current.as_ref())?;
    let words = !out.messages.is_empty() || !out.notes.is_empty();
    index_later(later, tx, rid, &out.request, created, words)?;
    Ok(Applied {
        request: out.request,
        changed: true,
        events: out.events,
    })
}

/// Whether this mutation (by id) is already in the journal: applying it again changes nothing.
pub(super) fn already_applied(
    tx: &Connection,
    env: &Env,
    m: &Mutation,
) -> Result<bool, StoreError> {
    if !env.journal {
        return Ok(false);
    }
    let seen: Option<i64> = tx
        .row(
            "SELECT 1 FROM pending_mutation WHERE mutation_uuid = ?1",
            [m.id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    Ok(seen.is_some())
}

/// The rules' verdict on `m` over `current` (the request as it stands, written or not), with
/// the store's own checks first: a creation's number, what a link or merge points at.
pub(super) fn decide(
    tx: &Connection,
    env: &Env,
    m: &Mutation,
    current: Option<&Request>,
) -> Result<Outcome, StoreError> {
    let now = (env.now)();
    let mut new_number = None;
    match &m.op {
        Op::Create(new) if current.is_none() => {
            if let Some(ext) = &new.external_id {
                let dup: Option<String> = tx
                    .row(
                        "SELECT number FROM request WHERE channel = ?1 AND external_id = ?2",
                        params![new.channel.as_str(), ext],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(n) = dup {
                    return Err(StoreError::Rejected(Rejection::Invalid(format!(
                        "{} request `{ext}` is already stored as {n}",
                        new.channel
                    ))));
                }
            }
            let year = new
                .received_at
                .with_timezone(&env.policy.calendar.tz())
                .year();
            // In team mode the server numbers requests; until it answers, a request made
            // here carries a provisional number from a range the server never reaches.
            new_number = Some(if env.journal {
                provisional_number(tx, year)?
            } else {
                next_number(tx, year)?
            });
        }
        Op::LinkDuplicate { parent_id }
            if rows::load_by(tx, "id", &parent_id.to_string())?.is_none() =>
        {
            return Err(StoreError::Rejected(Rejection::Invalid(format!(
                "request {parent_id} to link to does not exist"
            ))));
        }
        Op::Merge { into } => {
            let target = rows::load_by(tx, "id", &into.to_string())?.map(|(_, r)| r);
            refuse_merge(tx, target.as_ref(), *into)?;
        }
        Op::JoinIncident { incident_id }
            if !rows::load_by(tx, "id", &incident_id.to_string())?
                .is_some_and(|(_, r)| r.is_incident) =>
        {
            return Err(StoreError::Rejected(Rejection::Invalid(format!(
                "incident {incident_id} does not exist"
            ))));
        }
        _ => {}
    }
    let ctx = Ctx {
        catalog: &env.catalog,
        policy: &env.policy,
        now,
        new_number,
    };
    crate::domain::apply(current, m, &ctx).map_err(StoreError::Rejected)
}

/// Everything `m` wrote besides the request's row (already written, as `rid`): its audit
/// events, messages (with their outbox rows), notes, the leads' escalation, and its journal
/// entry with the request as it was before it (`before`).
pub(super) fn record(
    tx: &Connection,
    env: &Env,
    rid: i64,
    m: &Mutation,
    out: &Outcome,
    before: Option<&Request>,
) -> Result<(), StoreError> {
    let mut ev = tx.prepare_cached(
        "INSERT INTO event(request_rid, mutation_id, at, actor, field, old, new) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for e in &out.events {
        ev.execute(params![
            rid,
            e.mutation_id.to_string(),
            ms(e.at),
            e.actor,
            e.field,
            e.old,
            e.new
        ])?;
    }
    for msg in &out.messages {
        insert_message(tx, rid, &out.request, msg)?;
    }
    for n in &out.notes {
        insert_note(tx, rid, n)?;
    }
    // The leads' chat is reached through the bot: only a Telegram gateway applies these, and
    // only the first time for this clock (`events`), so the leads are told once.
    if let Op::Escalate {
        chat,
        message_id,
        body,
        ..
    } = &m.op
        && !out.events.is_empty()
    {
        super::outbox::enqueue_to(
            tx,
            *message_id,
            None,
            Channel::Telegram,
            chat,
            body,
            ms((env.now)()),
        )?;
    }
    if env.journal {
        journal(tx, m, before)?;
    }
    Ok(())
}

/// The search document follows a request created or given words (messages, notes): rebuilt
/// now, or noted for the end of the batch.
pub(super) fn index_later(
    later: &mut Reindex,
    tx: &Connection,
    rid: i64,
    r: &Request,
    created: bool,
    words: bool,
) -> Result<(), StoreError> {
    if !created && !words {
        return Ok(());
    }
    match later {
        Reindex::Now => reindex(tx, rid, r, created),
        Reindex::Later(pending) => {
            let entry = pending.entry(rid).or_insert_with(|| (r.clone(), created));
            entry.0 = r.clone();
            entry.1 |= created;
            Ok(())
        }
    }
}

/// A merge into a request that is not there, or is itself a link to another: refused with
/// the number to merge into instead, so a chain is never made by hand.
fn refuse_merge(tx: &Connection, target: Option<&Request>, into: Uuid) -> Result<(), StoreError> {
    let Some(target) = target else {
        return Err(StoreError::Rejected(Rejection::Invalid(format!(
            "request {into} to merge into does not exist"
        ))));
    };
    if let Some(next) = crate::domain::mutation::merged_into(target) {
        let number: Option<String> = tx
            .row(
                "SELECT number FROM request WHERE id = ?1",
                [next.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        return Err(StoreError::Rejected(Rejection::Invalid(format!(
            "{} is itself merged into {}: merge into that one",
            target.number,
            number.unwrap_or_else(|| next.to_string())
        ))));
    }
    Ok(())
}

pub(crate) fn provisional_number(tx: &Connection, year: i32) -> Result<RequestNumber, StoreError> {
    let n = counter(tx, &format!("provisional_seq:{year}"))?;
    Ok(RequestNumber::new(
        year,
        RequestNumber::PROVISIONAL_FROM + n,
    ))
}

fn next_number(tx: &Connection, year: i32) -> Result<RequestNumber, StoreError> {
    counter(tx, &format!("number_seq:{year}")).map(|n| RequestNumber::new(year, n))
}

/// The next value of a counter kept in `meta`.
fn counter(tx: &Connection, key: &str) -> Result<u32, StoreError> {
    let last: u32 = match super::meta::meta(tx, key)? {
        Some(v) => rows::parse("number counter", &v)?,
        None => 0,
    };
    let next = last + 1;
    super::meta::set_meta(tx, key, &next.to_string())?;
    Ok(next)
}

fn insert_message(tx: &Connection, rid: i64, r: &Request, m: &Message) -> Result<(), StoreError> {
    let direction = rows::direction(m.direction);
    let inserted = tx
        .prepare_cached(
            "INSERT INTO message(id, request_rid, direction, author, body, at, delivery, edit_of)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(id) DO NOTHING",
        )?
        .execute(params![
            m.id.to_string(),
            rid,
            direction,
            m.author,
            m.body,
            ms(m.at),
            m.delivery.map(|d| d.as_str()),
            m.edit_of.map(|e| e.to_string())
        ])?;
    // The reply and its outbox rows commit together: nothing queued is lost, nothing is
    // queued twice (the outbox is keyed by message id and part). A request still under a
    // provisional number waits for the server's copy of its messages (`mirror`), which
    // carry the number the server gave.
    if inserted == 1
        && m.delivery == Some(crate::domain::request::DeliveryState::Queued)
        && !r.number.is_provisional()
    {
        super::outbox::enqueue(tx, rid, r, m)?;
    }
    Ok(())
}

pub(crate) fn insert_note(tx: &Connection, rid: i64, n: &Note) -> Result<(), StoreError> {
    let kind = serde_json::to_value(n.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "internal".into());
    tx.prepare_cached(
        "INSERT INTO note(id, request_rid, kind, author, body, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(id) DO NOTHING",
    )?
    .execute(params![
        n.id.to_string(),
        rid,
        kind,
        n.author,
        n.body,
        ms(n.at)
    ])?;
    Ok(())
}

/// Rebuilds the request's search document from everything written about it.
pub(crate) fn reindex(
    tx: &Connection,
    rid: i64,
    r: &Request,
    created: bool,
) -> Result<(), StoreError> {
    let mut parts: Vec<String> = vec![r.number.to_string(), r.text.clone()];
    parts.extend(r.citizen.clone());
    parts.extend(r.location.as_ref().and_then(|l| l.address.clone()));
    let mut st = tx.prepare_cached(
        // The bot's own automatic messages (the acknowledgement, authored by the channel) would
        // put the same words into every document.
        "SELECT body FROM message WHERE request_rid = ?1 AND NOT (direction = 'out' AND author = ?2)
         UNION ALL SELECT body FROM note WHERE request_rid = ?1",
    )?;
    for body in st.query_map(params![rid, r.channel.as_str()], |row| {
        row.get::<_, String>(0)
    })? {
        parts.push(body?);
    }
    let doc = analyze::document(parts.iter().map(String::as_str));
    if !created {
        tx.prepare_cached("DELETE FROM request_fts WHERE rowid = ?1")?
            .execute([rid])?;
    }
    tx.prepare_cached("INSERT INTO request_fts(rowid, words) VALUES (?1, ?2)")?
        .execute(params![rid, doc])?;
    Ok(())
}

/// Keeps the action for the server, with the request as it was before it (`before`): if the
/// server refuses the action and sends nothing to restore, this file goes back to that.
fn journal(tx: &Connection, m: &Mutation, before: Option<&Request>) -> Result<(), StoreError> {
    let args = serde_json::to_value(&m.op).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    // The server's version this action was taken on: its compare-and-set rules need it.
    let base: Option<i64> = tx
        .row(
            "SELECT server_version FROM request WHERE id = ?1",
            [m.request_id.to_string()],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let before = before
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.prepare_cached(
        "INSERT INTO pending_mutation(mutation_uuid, name, args, client_time, base_seq, before)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        m.id.to_string(),
        m.op.name(),
        serde_json::json!({"request_id": m.request_id, "actor": m.actor, "op": args}).to_string(),
        m.at.to_rfc3339(),
        base,
        before,
    ])?;
    Ok(())
}
