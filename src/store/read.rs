//! Reads: one request with its thread, and keyset-paginated inbox pages.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, ToSql, params_from_iter};
use std::rc::Rc;

use serde::Serialize;

use super::rows::{self, Cached, NO_DUE, RawRequest, ms, time};
use super::{StoreError, analyze};
use crate::domain::request::{DeliveryState, Event, Message, Note, NoteKind};
use crate::domain::sla::ClockState;
use crate::domain::{Channel, Rejection, Request, Status};

/// Finds a request by number (`2026-000123`), by the number's tail (`123`) when that is
/// unambiguous, or by id.
pub fn resolve(conn: &Connection, key: &str) -> Result<(i64, Request), StoreError> {
    let key = key.trim();
    let not_found = || StoreError::UnknownRequest(key.to_string());
    if key.contains('-') && key.len() == 36 {
        return rows::load_by(conn, "id", key)?.ok_or_else(not_found);
    }
    if key.contains('-') {
        let n: crate::domain::RequestNumber = key.parse().map_err(StoreError::BadInput)?;
        return rows::load_by(conn, "number", &n.to_string())?.ok_or_else(not_found);
    }
    let seq: u32 = key.parse().map_err(|_| {
        StoreError::BadInput(format!(
            "`{key}` is not a request number (expected like 2026-000123)"
        ))
    })?;
    let mut st = conn
        .prepare("SELECT number FROM request WHERE number LIKE ?1 ORDER BY number DESC LIMIT 3")?;
    let found: Vec<String> = st
        .query_map([format!("%-{seq:06}")], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    match found.as_slice() {
        [] => Err(not_found()),
        [one] => rows::load_by(conn, "number", one)?.ok_or_else(not_found),
        many => Err(StoreError::BadInput(format!(
            "`{key}` is ambiguous: {}; give the full number",
            many.join(", ")
        ))),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    #[serde(skip)]
    pub request: Request,
    pub messages: Vec<Message>,
    pub notes: Vec<Note>,
    pub events: Vec<Event>,
    /// The number of the request this one duplicates, for people to read instead of its id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_number: Option<String>,
    /// Triage's suggestion while the request is open and has no topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<crate::triage::Suggestion>,
    /// The number of the citizen's own earlier open request this one repeats
    /// (`store::incidents::same_case_as`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_case_as: Option<String>,
    /// The incident this request is a member of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentRef>,
    /// An incident's members, earliest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberRef>,
    /// The same members whole: what one answer to all is written for.
    #[serde(skip)]
    pub member_requests: Vec<Request>,
    /// The citizen's other requests (same chat, or same phone), newest first
    /// (`store::citizen`).
    pub citizen_requests: Vec<super::citizen::CitizenRequest>,
    /// The numbers of the requests linked to this one as its duplicates, earliest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<String>,
    /// The requests whose threads were merged into this one (`domain::merge`), earliest
    /// first; their messages are in `messages`, each under its own `request_id`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<MemberRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentRef {
    pub id: uuid::Uuid,
    pub number: String,
    pub title: String,
}

/// One member of an incident as its card lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberRef {
    pub id: uuid::Uuid,
    pub number: String,
    pub channel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citizen: Option<String>,
    pub status: String,
    /// The last reply's delivery (`queued`, `sent`, `failed`, …) while it matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
}

impl MemberRef {
    pub fn of(r: &Request) -> MemberRef {
        MemberRef {
            id: r.id,
            number: r.number.to_string(),
            channel: r.channel.as_str().to_string(),
            citizen: r.citizen.clone(),
            status: r.status.as_str().to_string(),
            reply: r.reply.as_ref().map(|p| p.state.as_str().to_string()),
        }
    }
}

impl Detail {
    /// The number of the merged request a message of this thread belongs to (None for the
    /// request's own): the card and `mcu show` put it beside the author.
    pub fn via(&self, m: &Message) -> Option<&str> {
        if m.request_id == self.request.id {
            return None;
        }
        self.merged
            .iter()
            .find(|r| r.id == m.request_id)
            .map(|r| r.number.as_str())
    }

    /// The department's return while it stands (open, no department, and no forward since):
    /// the department it came back from and the note with who and why.
    pub fn returned(&self) -> Option<(Option<&str>, &Note)> {
        if !self.request.status.is_open() || self.request.department.is_some() {
            return None;
        }
        let last = self
            .notes
            .iter()
            .filter(|n| matches!(n.kind, NoteKind::Forward | NoteKind::Returned))
            .max_by_key(|n| n.at)
            .filter(|n| n.kind == NoteKind::Returned)?;
        let from = self
            .events
            .iter()
            .rev()
            .find(|e| e.field == "returned")
            .and_then(|e| e.old.as_deref());
        Some((from, last))
    }

    /// A message's author as the thread shows it: with the merged request it came through.
    pub fn author_of(&self, m: &Message) -> String {
        match self.via(m) {
            Some(n) => format!("{} · {n}", m.author),
            None => m.author.clone(),
        }
    }

    /// The reply the citizen did not get, from the thread: what `mcu resend` and the console's
    /// `R` send again.
    pub fn undelivered_reply(&self) -> Option<&Message> {
        let pending = self
            .request
            .reply
            .as_ref()
            .filter(|_| self.request.undelivered())?;
        self.messages.iter().find(|m| m.id == pending.message_id)
    }
}

/// The messages of one request's thread, in order.
fn messages_of(
    conn: &Connection,
    rid: i64,
    request_id: uuid::Uuid,
) -> Result<Vec<Message>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT id, direction, author, body, at, delivery, edit_of FROM message WHERE request_rid = ?1 ORDER BY at, rowid",
    )?;
    let mut messages = vec![];
    let raw = st.query_map([rid], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    for row in raw {
        let (id, dir, author, body, at, delivery, edit_of) = row?;
        messages.push(Message {
            id: rows::parse("message id", &id)?,
            request_id,
            direction: rows::parse_direction(&dir),
            author,
            body,
            at: time(at)?,
            delivery: delivery
                .map(|d| rows::parse_json_enum::<DeliveryState>(&d))
                .transpose()?,
            edit_of: edit_of.map(|e| rows::parse("message id", &e)).transpose()?,
        });
    }
    Ok(messages)
}

pub fn detail(conn: &Connection, key: &str) -> Result<Detail, StoreError> {
    let (rid, request) = resolve(conn, key)?;
    let mut messages = messages_of(conn, rid, request.id)?;
    // A merged request's thread is part of this one (`domain::merge`): one conversation,
    // each message under the request it came through.
    let merged_requests = super::merge::merged_requests(conn, request.id)?;
    for (mrid, mr) in &merged_requests {
        messages.extend(messages_of(conn, *mrid, mr.id)?);
    }
    if !merged_requests.is_empty() {
        messages.sort_by_key(|m| m.at);
    }
    let merged = merged_requests
        .iter()
        .map(|(_, r)| MemberRef::of(r))
        .collect();
    let mut st = conn.prepare_cached(
        "SELECT id, kind, author, body, at FROM note WHERE request_rid = ?1 ORDER BY at, rowid",
    )?;
    let mut notes = vec![];
    let raw = st.query_map([rid], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    for row in raw {
        let (id, kind, author, body, at) = row?;
        notes.push(Note {
            id: rows::parse("note id", &id)?,
            request_id: request.id,
            kind: rows::parse_json_enum::<NoteKind>(&kind)?,
            author,
            body,
            at: time(at)?,
        });
    }
    let mut st =
        conn.prepare_cached("SELECT mutation_id, at, actor, field, old, new FROM event WHERE request_rid = ?1 ORDER BY seq")?;
    let mut events = vec![];
    let raw = st.query_map([rid], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })?;
    for row in raw {
        let (mid, at, actor, field, old, new) = row?;
        events.push(Event {
            request_id: request.id,
            mutation_id: rows::parse("mutation id", &mid)?,
            at: time(at)?,
            actor,
            field,
            old,
            new,
        });
    }
    let parent_number = match request.parent_id {
        Some(p) => conn
            .row(
                "SELECT number FROM request WHERE id = ?1",
                [p.to_string()],
                |r| r.get(0),
            )
            .optional()?,
        None => None,
    };
    // A citizen writing again about their own open request: one case (#18).
    let same_case_as = if request.status.is_open() {
        super::incidents::same_case_as(conn, rid, &crate::incidents::Rules::default())?
    } else {
        None
    };
    let incident = match request.incident_id {
        Some(i) => conn
            .row(
                "SELECT number, text FROM request WHERE id = ?1",
                [i.to_string()],
                |r| {
                    Ok(IncidentRef {
                        id: i,
                        number: r.get(0)?,
                        title: r.get(1)?,
                    })
                },
            )
            .optional()?,
        None => None,
    };
    let member_requests = if request.is_incident {
        let sql = format!(
            "SELECT {} FROM request WHERE incident_id = ?1 ORDER BY received_at, rid",
            rows::REQUEST_COLUMNS
        );
        let mut st = conn.prepare_cached(&sql)?;
        let raws = st
            .query_map([request.id.to_string()], RawRequest::from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(raws.len());
        for raw in raws {
            let tags = rows::tags(conn, raw.rid)?;
            out.push(raw.into_request(tags)?);
        }
        out
    } else {
        vec![]
    };
    let members = member_requests.iter().map(MemberRef::of).collect();
    let citizen_requests = super::citizen::other_requests(conn, rid, &request)?;
    let duplicates = conn
        .prepare_cached("SELECT number FROM request WHERE parent_id = ?1 AND close_reason IS NOT 'merged' ORDER BY rid LIMIT 200")?
        .query_map([request.id.to_string()], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(Detail {
        merged,
        duplicates,
        citizen_requests,
        request,
        messages,
        notes,
        events,
        parent_number,
        suggestion: super::triage::get(conn, rid)?,
        same_case_as,
        incident,
        members,
        member_requests,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Sort {
    /// Least time left on the active clock first; closed requests last.
    #[default]
    TimeLeft,
    /// Newest first.
    Received,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    Unassigned,
    Is(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub statuses: Vec<Status>,
    pub open_only: bool,
    pub topic: Option<String>,
    pub department: Option<String>,
    pub channel: Option<Channel>,
    pub assignee: Option<Assignee>,
    pub clock: Option<ClockState>,
    pub tag: Option<String>,
    pub text: Option<String>,
    pub received_from: Option<DateTime<Utc>>,
    pub received_to: Option<DateTime<Utc>>,
    /// At risk or already breached: what a shift lead watches.
    pub urgent: bool,
    pub closed_from: Option<DateTime<Utc>>,
    /// One request by its number (`2026-000123`).
    pub number: Option<String>,
    /// Only requests whose latest reply the citizen did not get (`Request::undelivered`).
    pub undelivered: bool,
    /// Only requests triage suggests this topic for (open, no topic yet).
    pub suggested: Option<String>,
    /// The members of an open incident are its one row (the console's lists); a search or a
    /// number still finds them.
    pub fold_incidents: bool,
}

/// Where the previous page ended: the sort key and rid of its last row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cursor {
    pub key: i64,
    pub rid: i64,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub rows: Vec<Request>,
    pub next: Option<Cursor>,
    /// Triage's suggestions for the rows that have one (open, no topic), by request id.
    pub suggested: std::collections::HashMap<uuid::Uuid, crate::triage::Suggestion>,
    /// How many members each incident row has, by the incident's id.
    pub members: std::collections::HashMap<uuid::Uuid, usize>,
}

pub fn inbox(
    conn: &Connection,
    filter: &Filter,
    sort: Sort,
    after: Option<Cursor>,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Page, StoreError> {
    let mut conds: Vec<String> = vec![];
    let mut args: Vec<Box<dyn ToSql>> = vec![];
    let arg = |v: Box<dyn ToSql>, args: &mut Vec<Box<dyn ToSql>>| {
        args.push(v);
        format!("?{}", args.len())
    };
    if !filter.statuses.is_empty() {
        let list: Vec<String> = filter
            .statuses
            .iter()
            .map(|s| arg(Box::new(s.as_str()), &mut args))
            .collect();
        conds.push(format!("r.status IN ({})", list.join(", ")));
    }
    if filter.open_only {
        conds.push("r.status != 'closed'".into());
    }
    if let Some(n) = &filter.number {
        let p = arg(Box::new(n.clone()), &mut args);
        conds.push(format!("r.number = {p}"));
    }
    if let Some(t) = &filter.suggested {
        let p = arg(Box::new(t.clone()), &mut args);
        conds.push(format!(
            "r.rid IN (SELECT request_rid FROM triage_suggestion WHERE topic = {p})"
        ));
    }
    for (col, val) in [("topic", &filter.topic), ("department", &filter.department)] {
        if let Some(v) = val {
            let p = arg(Box::new(v.clone()), &mut args);
            conds.push(format!("r.{col} = {p}"));
        }
    }
    if let Some(c) = filter.channel {
        let p = arg(Box::new(c.as_str()), &mut args);
        conds.push(format!("r.channel = {p}"));
    }
    match &filter.assignee {
        Some(Assignee::Unassigned) => conds.push("r.assignee IS NULL".into()),
        Some(Assignee::Is(a)) => {
            let p = arg(Box::new(a.clone()), &mut args);
            conds.push(format!("r.assignee = {p}"));
        }
        None => {}
    }
    let now_ms = ms(now);
    match filter.clock {
        Some(ClockState::Breached) => {
            let p = arg(Box::new(now_ms), &mut args);
            conds.push(format!("r.due_key <= {p}"));
        }
        Some(ClockState::AtRisk) => {
            let p = arg(Box::new(now_ms), &mut args);
            conds.push(format!("r.risk_key <= {p} AND r.due_key > {p}"));
        }
        Some(ClockState::Ok) => {
            let p = arg(Box::new(now_ms), &mut args);
            conds.push(format!("r.risk_key > {p} AND r.due_key < {NO_DUE}"));
        }
        None => {}
    }
    if let Some(t) = &filter.tag {
        let p = arg(Box::new(t.trim().to_lowercase()), &mut args);
        conds.push(format!(
            "r.rid IN (SELECT request_rid FROM request_tag WHERE tag = {p})"
        ));
    }
    if filter.undelivered {
        conds.push("r.reply_state IN ('failed', 'unknown')".into());
    }
    if filter.fold_incidents && filter.text.is_none() && filter.number.is_none() {
        // A member of an incident since closed (a citizen wrote again) stands on its own.
        conds.push(
            "(r.incident_id IS NULL OR NOT EXISTS (SELECT 1 FROM request i
               WHERE i.id = r.incident_id AND i.status != 'closed'))"
                .into(),
        );
    }
    if filter.urgent {
        let p = arg(Box::new(ms(now)), &mut args);
        conds.push(format!("r.risk_key <= {p}"));
    }
    if let Some(from) = filter.closed_from {
        let p = arg(Box::new(ms(from)), &mut args);
        conds.push(format!("r.closed_at >= {p}"));
    }
    if let Some(from) = filter.received_from {
        let p = arg(Box::new(ms(from)), &mut args);
        conds.push(format!("r.received_at >= {p}"));
    }
    if let Some(to) = filter.received_to {
        let p = arg(Box::new(ms(to)), &mut args);
        conds.push(format!("r.received_at < {p}"));
    }
    // Search runs first and hands the rows to read over as an array (`store::search`).
    let mut table_hint = "";
    // A phone number in any form finds the citizen's requests by the number, not its digits.
    let phone = filter
        .text
        .as_deref()
        .and_then(crate::domain::phone::searched);
    if let Some(phone) = phone {
        let p = arg(Box::new(phone), &mut args);
        conds.push(format!("r.phone = {p}"));
    } else if let Some(text) = &filter.text {
        let Some(expr) = analyze::match_expression(text) else {
            // Nothing searchable (only stop words or punctuation): nothing matches.
            return Ok(Page {
                rows: vec![],
                next: None,
                suggested: Default::default(),
                members: Default::default(),
            });
        };
        let walk = super::search::Walk {
            conds: &conds,
            args: &args,
            sort,
            after,
            want: limit.clamp(1, 10_000) + 1,
        };
        let ids = super::search::rids(conn, &expr, &walk)?;
        if ids.is_empty() {
            return Ok(Page {
                rows: vec![],
                next: None,
                suggested: Default::default(),
                members: Default::default(),
            });
        }
        // At most a few thousand rows, each found by its rid.
        table_hint = "NOT INDEXED";
        let p = arg(Box::new(Rc::new(ids)), &mut args);
        conds.push(format!("r.rid IN rarray({p})"));
    }
    let (key_col, order, cmp) = match sort {
        Sort::TimeLeft => ("r.due_key", "r.due_key ASC, r.rid ASC", ">"),
        Sort::Received => ("r.received_at", "r.received_at DESC, r.rid DESC", "<"),
    };
    if let Some(c) = after {
        let k = arg(Box::new(c.key), &mut args);
        let r = arg(Box::new(c.rid), &mut args);
        conds.push(format!("({key_col}, r.rid) {cmp} ({k}, {r})"));
    }
    let limit = limit.clamp(1, 10_000);
    let lim = arg(Box::new(limit as i64 + 1), &mut args);
    let where_ = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    let cols = rows::REQUEST_COLUMNS
        .split(", ")
        .map(|c| format!("r.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {cols}, {key_col} FROM request r {table_hint} {where_} ORDER BY {order} LIMIT {lim}"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let mut raws = vec![];
    let mut q = st.query(params_from_iter(args.iter().map(|b| b.as_ref())))?;
    while let Some(row) = q.next()? {
        // Just after the request's own columns.
        let key: i64 = row.get(rows::REQUEST_COLUMN_COUNT)?;
        raws.push((RawRequest::from_row(row)?, key));
    }
    let more = raws.len() > limit;
    raws.truncate(limit);
    let next = if more {
        raws.last().map(|(raw, key)| Cursor {
            key: *key,
            rid: raw.rid,
        })
    } else {
        None
    };
    let mut out = Vec::with_capacity(raws.len());
    let mut suggested = std::collections::HashMap::new();
    let mut members = std::collections::HashMap::new();
    for (raw, _) in raws {
        let tags = rows::tags(conn, raw.rid)?;
        let rid = raw.rid;
        let r = raw.into_request(tags)?;
        if r.topic.is_none()
            && let Some(s) = super::triage::get(conn, rid)?
        {
            suggested.insert(r.id, s);
        }
        if r.is_incident {
            let n: i64 = conn.row(
                "SELECT count(*) FROM request WHERE incident_id = ?1",
                [r.id.to_string()],
                |row| row.get(0),
            )?;
            members.insert(r.id, n as usize);
        }
        out.push(r);
    }
    Ok(Page {
        rows: out,
        next,
        suggested,
        members,
    })
}

/// Requests received in `[from, to)`, oldest first, without their tags (reports don't show
/// them; the row alone makes the request).
pub fn received(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Request>, StoreError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {} FROM request WHERE received_at >= ?1 AND received_at < ?2
         ORDER BY received_at, rid",
        rows::REQUEST_COLUMNS
    ))?;
    let raws = st
        .query_map([ms(from), ms(to)], RawRequest::from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    raws.into_iter().map(|r| r.into_request(vec![])).collect()
}

/// Counts for a filter, for status lines and reports.
pub fn count(conn: &Connection, status: Option<Status>) -> Result<i64, StoreError> {
    Ok(match status {
        Some(s) => conn.query_row(
            "SELECT count(*) FROM request WHERE status = ?1",
            [s.as_str()],
            |r| r.get(0),
        )?,
        None => conn.query_row("SELECT count(*) FROM request", [], |r| r.get(0))?,
    })
}

impl From<Rejection> for StoreError {
    fn from(r: Rejection) -> Self {
        StoreError::Rejected(r)
    }
}
