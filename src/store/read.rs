//! Reads: finding a request by its number, and keyset-paginated inbox pages; one request with
//! its thread is `detail`'s.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ToSql, params_from_iter};
use std::rc::Rc;

use serde::Serialize;

use super::rows::{self, Cached, NO_DUE, RawRequest, ms};
use super::{StoreError, analyze};
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

pub use super::detail::{Detail, IncidentRef, MemberRef, detail};

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
