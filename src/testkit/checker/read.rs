//! The two sides the checker compares, read into the same shapes: the server's scope as a
//! pull from nothing would bring it, and a console file as its tables hold it.
//!
//! A console's notes, messages, events and journal are read here straight from its tables, not
//! through the store's readers: the checker judges what the store wrote, so it keeps its own
//! reading of it. Only a request's many columns go through `store::rows::load_by`, the same
//! for both sides (the server's requests are normalized through a scratch console file).

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::collections::BTreeMap;
use std::path::Path;
use uuid::Uuid;

use crate::domain::Request;
use crate::domain::request::{Direction, Event, Message, Note};
use crate::server::engine::{ServerError, ServerTx};
use crate::wire::sync::{Cookie, Entity, MutationResult};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NoteRow {
    pub request: Uuid,
    /// Milliseconds, as the console keeps times.
    pub at: i64,
    pub kind: String,
    pub author: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MessageRow {
    pub request: Uuid,
    pub at: i64,
    pub direction: String,
    pub author: String,
    pub body: String,
    pub delivery: Option<String>,
    pub edit_of: Option<Uuid>,
}

/// One line of a request's audit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventRow {
    pub request: Uuid,
    pub mutation: Uuid,
    pub at: i64,
    pub actor: String,
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// What a console shows, or what the server would make it show.
#[derive(Debug, Default)]
pub struct Mirror {
    /// Each request with the server version it carries.
    pub requests: BTreeMap<Uuid, (Request, Option<i64>)>,
    pub notes: BTreeMap<Uuid, NoteRow>,
    pub messages: BTreeMap<Uuid, MessageRow>,
    /// Sorted, so two mirrors compare as multisets.
    pub events: Vec<EventRow>,
}

pub struct ServerState {
    pub head: i64,
    pub epoch: Uuid,
    pub mirror: Mirror,
    /// The server's events of each request in the order they were logged (I4).
    pub history: BTreeMap<Uuid, Vec<EventRow>>,
    /// Every change-log entry of a note or audit event beyond its first (I2); a message is
    /// logged again when its delivery state moves.
    pub logged_twice: Vec<String>,
    pub processed: BTreeMap<Uuid, MutationResult>,
    pub violations: Vec<String>,
}

pub struct JournalRow {
    pub local_id: i64,
    pub uuid: Uuid,
    pub name: String,
    pub acked: bool,
}

pub struct ConsoleState {
    pub name: String,
    pub journal: Vec<JournalRow>,
    /// The refusals kept for the operator, by action, with their codes.
    pub rejections: BTreeMap<Uuid, String>,
    pub cookie: Option<Cookie>,
    pub mirror: Mirror,
    pub integrity: Vec<String>,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> ServerError {
    ServerError::Corrupt(format!("{what}: {e}"))
}

fn direction(d: Direction) -> String {
    match d {
        Direction::In => "in".into(),
        Direction::Out => "out".into(),
    }
}

fn note_row(n: &Note) -> NoteRow {
    NoteRow {
        request: n.request_id,
        at: n.at.timestamp_millis(),
        kind: serde_json::to_value(n.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        author: n.author.clone(),
        body: n.body.clone(),
    }
}

fn message_row(m: &Message) -> MessageRow {
    MessageRow {
        request: m.request_id,
        at: m.at.timestamp_millis(),
        direction: direction(m.direction),
        author: m.author.clone(),
        body: m.body.clone(),
        delivery: m.delivery.map(|d| d.as_str().to_string()),
        edit_of: m.edit_of,
    }
}

fn event_row(e: &Event) -> EventRow {
    EventRow {
        request: e.request_id,
        mutation: e.mutation_id,
        at: e.at.timestamp_millis(),
        actor: e.actor.clone(),
        field: e.field.clone(),
        old: e.old.clone(),
        new: e.new.clone(),
    }
}

/// A request as a console file would hold it after a pull: written into a scratch database
/// with the console's own schema and read back (times to the millisecond, as the file has
/// them), so the comparison is about content, not about representation.
pub struct Normalizer(Connection);

impl Normalizer {
    pub fn new() -> Result<Normalizer, ServerError> {
        let mut c = Connection::open_in_memory().map_err(|e| corrupt("scratch database", e))?;
        crate::store::schema::migrate(&mut c).map_err(|e| corrupt("scratch schema", e))?;
        Ok(Normalizer(c))
    }

    pub fn request(&self, r: &Request) -> Result<Request, ServerError> {
        crate::store::rows::write_request(&self.0, r).map_err(|e| corrupt("scratch write", e))?;
        crate::store::rows::load_by(&self.0, "id", &r.id.to_string())
            .map_err(|e| corrupt("scratch read", e))?
            .map(|(_, r)| r)
            .ok_or_else(|| corrupt("scratch read", "the request just written is missing"))
    }
}

/// The scope as a pull from nothing brings it, read in one snapshot, with the processed
/// record of each of `uuids` and the store's invariant queries.
pub fn server(
    tx: &mut dyn ServerTx,
    scope: &str,
    uuids: &[Uuid],
) -> Result<ServerState, ServerError> {
    let (head, epoch) = tx.scope(scope)?;
    let log = tx.changes_since(scope, 0, i64::MAX as usize)?;
    let norm = Normalizer::new()?;
    let mut mirror = Mirror::default();
    let mut history: BTreeMap<Uuid, Vec<EventRow>> = BTreeMap::new();
    let mut logged_twice = vec![];
    let mut seen = std::collections::BTreeSet::new();
    for (seq, entity, id) in &log {
        let first = seen.insert((*entity, id.clone()));
        if !first && matches!(entity, Entity::Note | Entity::Event) {
            logged_twice.push(format!("{} {id} again at seq {seq}", entity.as_str()));
        }
        if !first {
            continue;
        }
        let Some(value) = tx.get(*entity, id)? else {
            // The invariant queries name it.
            continue;
        };
        match entity {
            Entity::Request => {
                let r: Request = serde_json::from_value(value["request"].clone())
                    .map_err(|e| corrupt("request", e))?;
                let version = value["version"].as_i64();
                mirror.requests.insert(r.id, (norm.request(&r)?, version));
            }
            Entity::Note => {
                let n: Note = serde_json::from_value(value).map_err(|e| corrupt("note", e))?;
                mirror.notes.insert(n.id, note_row(&n));
            }
            Entity::Message => {
                let m: Message =
                    serde_json::from_value(value).map_err(|e| corrupt("message", e))?;
                mirror.messages.insert(m.id, message_row(&m));
            }
            Entity::Event => {
                let e: Event = serde_json::from_value(value).map_err(|e| corrupt("event", e))?;
                let row = event_row(&e);
                history.entry(row.request).or_default().push(row.clone());
                mirror.events.push(row);
            }
        }
    }
    mirror.events.sort();
    let mut processed = BTreeMap::new();
    for u in uuids {
        if let Some(r) = tx.processed(*u)? {
            processed.insert(*u, r);
        }
    }
    Ok(ServerState {
        head,
        epoch,
        mirror,
        history,
        logged_twice,
        processed,
        violations: tx.invariant_violations()?,
    })
}

fn sql(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

/// A console file as its tables hold it. Opened without creating anything, and only read.
pub fn console(path: &Path) -> Result<ConsoleState, String> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sql(&format!("open {}", path.display()), e))?;
    c.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|e| sql("busy_timeout", e))?;
    let integrity: Vec<String> = all(&c, "integrity_check", "PRAGMA integrity_check", |r| {
        r.get(0)
    })?;
    let integrity = integrity.into_iter().filter(|l| l != "ok").collect();

    let journal = all(
        &c,
        "journal",
        "SELECT mutation_id, mutation_uuid, name, acked_at IS NOT NULL FROM pending_mutation
         ORDER BY mutation_id",
        |r| Ok((r.get(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?)),
    )?
    .into_iter()
    .map(|(local_id, u, name, acked)| {
        Ok(JournalRow {
            local_id,
            uuid: uuid(&u)?,
            name,
            acked,
        })
    })
    .collect::<Result<_, String>>()?;

    let rejections = all(
        &c,
        "rejections",
        "SELECT mutation_uuid, code FROM sync_rejection",
        |r| Ok((r.get::<_, String>(0)?, r.get(1)?)),
    )?
    .into_iter()
    .map(|(u, code)| Ok((uuid(&u)?, code)))
    .collect::<Result<_, String>>()?;
    let cookie: Option<String> = c
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [crate::sync::client::COOKIE],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| sql("cookie", e))?;
    let cookie = cookie
        .map(|s| serde_json::from_str(&s).map_err(|e| sql("cookie", e)))
        .transpose()?;

    let mut mirror = Mirror::default();
    let versions = all(
        &c,
        "requests",
        "SELECT id, server_version FROM request",
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?)),
    )?;
    for (id, version) in versions {
        let (_, r) = crate::store::rows::load_by(&c, "id", &id)
            .map_err(|e| sql("request", e))?
            .ok_or_else(|| format!("request {id} vanished while read"))?;
        mirror.requests.insert(r.id, (r, version));
    }
    let notes = all(
        &c,
        "notes",
        "SELECT n.id, r.id, n.kind, n.author, n.body, n.at
         FROM note n JOIN request r ON r.rid = n.request_rid",
        |r| {
            let ids = (r.get::<_, String>(0)?, r.get::<_, String>(1)?);
            Ok((ids, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        },
    )?;
    for ((id, request), kind, author, body, at) in notes {
        mirror.notes.insert(
            uuid(&id)?,
            NoteRow {
                request: uuid(&request)?,
                at,
                kind,
                author,
                body,
            },
        );
    }
    let messages = all(
        &c,
        "messages",
        "SELECT m.id, r.id, m.direction, m.author, m.body, m.delivery, m.edit_of, m.at
         FROM message m JOIN request r ON r.rid = m.request_rid",
        |r| {
            let ids = (r.get::<_, String>(0)?, r.get::<_, String>(1)?);
            let edit_of = r.get::<_, Option<String>>(6)?;
            Ok((
                ids,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                edit_of,
                r.get(7)?,
            ))
        },
    )?;
    for ((id, request), direction, author, body, delivery, edit_of, at) in messages {
        mirror.messages.insert(
            uuid(&id)?,
            MessageRow {
                request: uuid(&request)?,
                at,
                direction,
                author,
                body,
                delivery,
                edit_of: edit_of.as_deref().map(uuid).transpose()?,
            },
        );
    }
    let events = all(
        &c,
        "events",
        "SELECT r.id, e.mutation_id, e.actor, e.field, e.old, e.new, e.at
         FROM event e JOIN request r ON r.rid = e.request_rid",
        |r| {
            let ids = (r.get::<_, String>(0)?, r.get::<_, String>(1)?);
            Ok((ids, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        },
    )?;
    for ((request, mutation), actor, field, old, new, at) in events {
        mirror.events.push(EventRow {
            request: uuid(&request)?,
            mutation: uuid(&mutation)?,
            at,
            actor,
            field,
            old,
            new,
        });
    }
    mirror.events.sort();
    Ok(ConsoleState {
        name,
        journal,
        rejections,
        cookie,
        mirror,
        integrity,
    })
}

fn uuid(s: &str) -> Result<Uuid, String> {
    s.parse().map_err(|e| format!("id `{s}`: {e}"))
}

/// Every row of `q`, each made by `row`; an error names `what` was being read.
fn all<T>(
    c: &Connection,
    what: &str,
    q: &str,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, String> {
    let mut st = c.prepare(q).map_err(|e| sql(what, e))?;
    let rows = st.query_map([], row).map_err(|e| sql(what, e))?;
    rows.collect::<Result<_, _>>().map_err(|e| sql(what, e))
}
