//! The server's changes written over the local rows: a page parsed apart from the writes
//! (off the store's thread), then applied with the actions the server has not taken yet
//! applied again on top (rebase).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::Request;
use crate::domain::mutation::Ctx;
use crate::domain::request::{Event, Message, Note};
use crate::store::StoreError;
use crate::store::db::Env;
use crate::store::meta::{COOKIE, SENDS, meta, set_meta};
use crate::store::rows::{self, Cached, ms};
use crate::wire::sync::{Entity, PatchOp};

/// One page of the server's changes in the console's own types. Parsed apart from writing,
/// so the parsing runs off the store's thread (which is what a long catch-up waits on).
#[derive(Debug, Default)]
pub struct Pulled {
    pub requests: Vec<(Request, Option<i64>)>,
    /// Messages, notes and events in the server's order.
    pub rows: Vec<Row>,
    /// Documents that don't read as their entity: kept aside (`store::quarantine`), never a
    /// reason to stop pulling.
    pub quarantined: Vec<crate::store::quarantine::Quarantined>,
    /// Requests the server no longer shows this console (a department's request that was
    /// returned or went to another department): forgotten here.
    pub withdrawn: Vec<Uuid>,
}

#[derive(Debug)]
pub enum Row {
    Message(Message),
    Note(Note),
    /// The server's id of the audit line, with it.
    Event(String, Event),
}

impl Row {
    fn request_id(&self) -> Uuid {
        match self {
            Row::Message(m) => m.request_id,
            Row::Note(n) => n.request_id,
            Row::Event(_, e) => e.request_id,
        }
    }
}

#[derive(Deserialize)]
struct PulledRequest {
    request: Request,
    version: Option<i64>,
}

/// A document that doesn't read as its entity (one stored before a bound existed, or by a
/// newer program) is set aside with why, and the page goes on: one document must never stop
/// every console's pull. Its rows then find no request here and are skipped with it.
pub fn parse_patch(patch: &[PatchOp]) -> Result<Pulled, StoreError> {
    let mut page = Pulled::default();
    for op in patch {
        let (entity, id, value) = match op {
            PatchOp::Put { entity, id, value } => (entity, id, value),
            // Only a request is ever withdrawn (messages and notes are append-only); an id
            // that is not one is nothing this console has.
            PatchOp::Del {
                entity: Entity::Request,
                id,
            } => {
                if let Ok(id) = id.parse() {
                    page.withdrawn.push(id);
                }
                continue;
            }
            PatchOp::Del { .. } => continue,
        };
        let read = match entity {
            Entity::Request => value.parse::<PulledRequest>().map(|r| {
                page.requests.push((r.request, r.version));
            }),
            Entity::Message => value.parse().map(|m| page.rows.push(Row::Message(m))),
            Entity::Note => value.parse().map(|n| page.rows.push(Row::Note(n))),
            Entity::Event => value
                .parse()
                .map(|e| page.rows.push(Row::Event(id.clone(), e))),
        };
        if let Err(e) = read {
            tracing::warn!(entity = entity.as_str(), %id, error = %e, "a pulled document set aside");
            page.quarantined
                .push(crate::store::quarantine::Quarantined {
                    kind: entity.as_str().to_string(),
                    id: id.clone(),
                    reason: e.to_string(),
                    doc: value.text().to_string(),
                });
        }
    }
    Ok(page)
}

/// Writes one page of the server's changes over the local rows and moves the cookie past
/// it, in one transaction; then applies the actions still waiting for the server to the
/// requests it touched. Journal rows up to `taken` are already in the server's state (its
/// answer to their push may have been lost): applying them again would stamp the console's
/// own times over the server's, for good if the server never changes the request again.
pub fn apply_patch(
    conn: &mut Connection,
    env: &Env,
    pulled: &Pulled,
    step: &Step,
) -> Result<(), StoreError> {
    let (cookie, taken) = (step.cookie.as_str(), step.taken);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if step.reset {
        let handed_back = crate::store::reset::begin(&tx, taken)?;
        tracing::warn!(
            handed_back,
            "the server's history was restored to an earlier point: pulling everything again"
        );
    }
    let resetting = step.reset || crate::store::reset::active(&tx)?;
    if resetting {
        crate::store::reset::record(&tx, pulled)?;
    }
    let mut page = Page {
        resetting,
        ..Page::default()
    };
    for q in &pulled.quarantined {
        crate::store::quarantine::keep(&tx, q)?;
    }
    // The server's gateway works a file like a console's; it alone sends what others wrote.
    let sends = meta(&tx, SENDS)?.is_some();
    // Requests before their rows, whatever the page's order: the rows are filed under them.
    for (request, version) in &pulled.requests {
        put_request(&tx, &mut page, request, *version)?;
    }
    for row in &pulled.rows {
        let Some(rid) = page.rid(&tx, row.request_id())? else {
            continue;
        };
        match row {
            Row::Message(m) => {
                if sends
                    && m.direction == crate::domain::request::Direction::Out
                    && m.delivery == Some(crate::domain::request::DeliveryState::Queued)
                {
                    // Parts already queued here (the gateway's own acknowledgement) stay as
                    // they are: the outbox ignores a repeat of a message's parts.
                    if let Some((_, request)) = rows::load_by(&tx, "rid", &rid.to_string())? {
                        crate::store::outbox::enqueue(&tx, rid, &request, m)?;
                    }
                }
                let direction = rows::direction(m.direction);
                // Not `db::insert_message`: the delivery state changes on the server (sent,
                // unknown) and must be kept current, and the server's gateway sends, not ours.
                // A reply this console wrote takes the server's time and author, and an
                // acknowledgement the server's number (`Op::Acknowledge`).
                tx.exec(
                    "INSERT INTO message(id, request_rid, direction, author, body, at, delivery, edit_of)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT(id) DO UPDATE SET delivery = excluded.delivery,
                       author = excluded.author, at = excluded.at, body = excluded.body",
                    params![
                        m.id.to_string(),
                        rid,
                        direction,
                        m.author,
                        m.body,
                        ms(m.at),
                        m.delivery.map(|d| d.as_str()),
                        m.edit_of.map(|e| e.to_string())
                    ],
                )?;
                page.reindex.insert(rid);
            }
            Row::Note(n) => {
                crate::store::db::insert_note(&tx, rid, n)?;
                // A note this console wrote takes the server's time and author.
                tx.exec(
                    "UPDATE note SET author = ?2, at = ?3 WHERE id = ?1",
                    params![n.id.to_string(), n.author, ms(n.at)],
                )?;
                page.reindex.insert(rid);
            }
            Row::Event(id, e) => {
                // The console's own line for the same action and field stands in for this
                // one: the server's takes its place in the audit, or is added. A request new
                // in this page has no lines of ours.
                if resetting {
                    // An older line the restored server gave this id to: the server's new
                    // line takes it (the line itself, if re-sent, is written again below).
                    tx.exec("DELETE FROM event WHERE server_id = ?1", [id])?;
                }
                let replaced = if page.created.contains(&rid) {
                    0
                } else {
                    tx.exec(
                        "UPDATE event SET at = ?4, actor = ?5, old = ?6, new = ?7, server_id = ?8
                         WHERE seq = (SELECT seq FROM event WHERE request_rid = ?1 AND mutation_id = ?2
                           AND field = ?3 AND server_id IS NULL ORDER BY seq LIMIT 1)",
                        params![
                            rid,
                            e.mutation_id.to_string(),
                            e.field,
                            ms(e.at),
                            e.actor,
                            e.old,
                            e.new,
                            id
                        ],
                    )?
                };
                // A line already here under this id is the same line, or (after the server was
                // restored to an earlier point, when ids are given out again) an older one
                // the server no longer has: the server's is the one to keep.
                if replaced == 0 {
                    tx.exec(
                        "INSERT INTO event(request_rid, mutation_id, at, actor, field, old, new, server_id)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                         ON CONFLICT(server_id) DO UPDATE SET request_rid = excluded.request_rid,
                           mutation_id = excluded.mutation_id, at = excluded.at,
                           actor = excluded.actor, field = excluded.field, old = excluded.old,
                           new = excluded.new",
                        params![
                            rid,
                            e.mutation_id.to_string(),
                            ms(e.at),
                            e.actor,
                            e.field,
                            e.old,
                            e.new,
                            id
                        ],
                    )?;
                }
            }
        }
    }
    rebase(&tx, env, &page.touched, &mut page.later, taken)?;
    for rid in &page.reindex {
        let created = page.created.contains(rid);
        match page.later.get(rid) {
            Some(r) => crate::store::db::reindex(&tx, *rid, r, created)?,
            None => {
                // Rows for a request whose own change came in an earlier page.
                let Some((_, r)) = rows::load_by(&tx, "rid", &rid.to_string())? else {
                    continue;
                };
                crate::store::db::reindex(&tx, *rid, &r, created)?;
            }
        }
    }
    for id in &pulled.withdrawn {
        if let Some(rid) = page.rid(&tx, *id)? {
            crate::store::forget::request(&tx, rid)?;
        }
    }
    // With the page, not after it: two syncs of one file (the console's loop and `mcu sync`)
    // could otherwise leave an older page over a newer one under the newer one's cookie, and
    // what lies between would never be pulled again.
    set_meta(&tx, COOKIE, cookie)?;
    if resetting && step.last {
        let dropped = crate::store::reset::sweep(&tx)?;
        tracing::warn!(dropped, "reset pull complete");
    }
    tx.commit()?;
    Ok(())
}

/// Where one page of the server's changes stands in the pull.
#[derive(Debug, Clone)]
pub struct Step {
    /// The cookie after this page (JSON).
    pub cookie: String,
    /// Journal rows up to this one are in the server's state.
    pub taken: i64,
    /// The server's history is not the one this console followed (store/reset.rs).
    pub reset: bool,
    /// Nothing more to pull after this page.
    pub last: bool,
}

/// What one page has done so far.
#[derive(Default)]
struct Page {
    /// Local row ids of the requests seen in this page, by server id.
    rids: std::collections::HashMap<Uuid, i64>,
    /// Requests this page brought for the first time.
    created: std::collections::HashSet<i64>,
    /// Requests whose search words may have changed (number, address, messages, notes).
    reindex: std::collections::BTreeSet<i64>,
    touched: std::collections::BTreeSet<Uuid>,
    /// The requests as written, by row id: what the search document is built from.
    later: std::collections::HashMap<i64, Request>,
    /// Part of a reset pull (store/reset.rs).
    resetting: bool,
}

impl Page {
    fn rid(&mut self, tx: &Connection, id: Uuid) -> Result<Option<i64>, StoreError> {
        if let Some(rid) = self.rids.get(&id) {
            return Ok(Some(*rid));
        }
        let rid: Option<i64> = tx
            .row(
                "SELECT rid FROM request WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(rid) = rid {
            self.rids.insert(id, rid);
        }
        Ok(rid)
    }
}

/// The words a request's search document takes from the request row itself.
type Words = (String, String, Option<String>, Option<String>);

fn words(r: &Request) -> Words {
    (
        r.number.to_string(),
        r.text.clone(),
        r.citizen.clone(),
        r.location.as_ref().and_then(|l| l.address.clone()),
    )
}

fn put_request(
    tx: &Connection,
    page: &mut Page,
    request: &Request,
    version: Option<i64>,
) -> Result<(), StoreError> {
    let before: Option<Words> = tx
        .row(
            "SELECT number, text, citizen, address FROM request WHERE id = ?1",
            [request.id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    // Only after the server was restored to an earlier point: it gives out again numbers a
    // request here still holds (one it no longer has, to go at the end of the reset pull, or
    // one a waiting action is sending back). That one takes a provisional number meanwhile.
    let clash: Option<i64> = if !page.resetting {
        None
    } else {
        tx.row(
            "SELECT rid FROM request WHERE number = ?1 AND id != ?2",
            params![request.number.to_string(), request.id.to_string()],
            |r| r.get(0),
        )
        .optional()?
    };
    if let Some(other) = clash {
        let n = crate::store::db::provisional_number(tx, request.number.year)?;
        tx.exec(
            "UPDATE request SET number = ?2 WHERE rid = ?1",
            params![other, n.to_string()],
        )?;
        page.reindex.insert(other);
    }
    let rid = rows::write_request(tx, request)?;
    // The server numbers requests: a provisional number made here gives way.
    tx.exec(
        "UPDATE request SET server_version = ?2, number = ?3 WHERE rid = ?1",
        params![rid, version, request.number.to_string()],
    )?;
    match before {
        None => {
            page.created.insert(rid);
            page.reindex.insert(rid);
        }
        Some(old) if old != words(request) => {
            page.reindex.insert(rid);
        }
        Some(_) => {}
    }
    page.rids.insert(request.id, rid);
    page.touched.insert(request.id);
    page.later.insert(rid, request.clone());
    Ok(())
}

/// The server's state is the base; actions it has not taken yet are applied again on top,
/// so the operator keeps seeing what they did until the server answers.
fn rebase(
    tx: &Connection,
    env: &Env,
    touched: &std::collections::BTreeSet<Uuid>,
    later: &mut std::collections::HashMap<i64, Request>,
    taken: i64,
) -> Result<(), StoreError> {
    rebase_except(tx, env, touched, later, taken, None)
}

/// `rebase`, leaving out the journal row `skip` (an action being undone).
pub(super) fn rebase_except(
    tx: &Connection,
    env: &Env,
    touched: &std::collections::BTreeSet<Uuid>,
    later: &mut std::collections::HashMap<i64, Request>,
    taken: i64,
    skip: Option<i64>,
) -> Result<(), StoreError> {
    if touched.is_empty() {
        return Ok(());
    }
    for j in super::journal::unacked(tx, usize::MAX >> 1)? {
        if !touched.contains(&j.mutation.request_id)
            || j.local_id <= taken
            || Some(j.local_id) == skip
        {
            continue;
        }
        let Some((rid, current)) = rows::load_by(tx, "id", &j.mutation.request_id.to_string())?
        else {
            continue;
        };
        let ctx = Ctx {
            catalog: &env.catalog,
            policy: &env.policy,
            now: (env.now)(),
            new_number: None,
        };
        // A refusal here is the server's to give; the local view just stays as the server has it.
        if let Ok(out) = crate::domain::apply(Some(&current), &j.mutation, &ctx) {
            rows::write_request(tx, &out.request)?;
            later.insert(rid, out.request);
        }
    }
    Ok(())
}
