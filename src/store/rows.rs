//! Mapping domain values to rows and back. Values read back that fail to parse are reported as
//! a corrupt row instead of panicking: the file may have been edited by hand.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::str::FromStr;
use uuid::Uuid;

use super::StoreError;
use crate::domain::request::{ChannelRef, ClockKind, Direction, Location, PendingReply};
use crate::domain::sla::Clock;
use crate::domain::{Request, RequestNumber};

/// Statements through the connection's statement cache: the write path runs the same few
/// dozen statements thousands of times, and compiling each anew was a third of its time.
pub trait Cached {
    fn exec<P: rusqlite::Params>(&self, sql: &str, p: P) -> rusqlite::Result<usize>;
    fn row<T, P: rusqlite::Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        p: P,
        f: F,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec<P: rusqlite::Params>(&self, sql: &str, p: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(p)
    }

    fn row<T, P: rusqlite::Params, F: FnOnce(&Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        p: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(p, f)
    }
}

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn time(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Corrupt(format!("time {ms} out of range")))
}

fn opt_time(ms: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    ms.map(time).transpose()
}

pub fn parse<T: FromStr>(what: &str, s: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>()
        .map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// An enum kept as its serde name (`"failed"`).
pub fn parse_json_enum<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|e| StoreError::Corrupt(format!("`{s}`: {e}")))
}

/// How a message's direction is spelled in its row; anything but `in` reads back as `out`.
pub fn direction(d: Direction) -> &'static str {
    match d {
        Direction::In => "in",
        Direction::Out => "out",
    }
}

pub fn parse_direction(s: &str) -> Direction {
    if s == "in" {
        Direction::In
    } else {
        Direction::Out
    }
}

/// Sort keys from here up belong to requests with no running clock (closed): after every open
/// one, newest received first. Real due times (ms since 1970) stay far below it.
pub const NO_DUE: i64 = 1 << 60;

fn closed_key(received_ms: i64) -> i64 {
    NO_DUE + (1i64 << 50) - received_ms
}

pub const REQUEST_COLUMNS: &str = "rid, id, number, channel, external_id, chat_ref, message_ref, citizen, text, \
    attachments, lat, lon, address, received_at, status, topic, department, assignee, priority, parent_id, \
    close_reason, closed_at, fr_started, fr_target, fr_due, fr_risk, fr_stopped, dep_started, dep_target, \
    dep_due, dep_risk, dep_stopped, res_started, res_target, res_due, res_risk, res_stopped, updated_at, res_paused, \
    reply_id, reply_state, reply_at, is_incident, incident_id, ungrouped, phone, waiting_since, waiting_reminded, escalated, \
    feedback_asked, feedback_helped, feedback_at";

/// How many columns `REQUEST_COLUMNS` names: a query may select more after them.
pub const REQUEST_COLUMN_COUNT: usize = 52;

/// The raw row, read without interpretation so parsing errors become `StoreError`s.
pub struct RawRequest {
    pub rid: i64,
    id: String,
    number: String,
    channel: String,
    external_id: Option<String>,
    chat_ref: Option<String>,
    message_ref: Option<String>,
    citizen: Option<String>,
    text: String,
    attachments: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    address: Option<String>,
    received_at: i64,
    status: String,
    topic: Option<String>,
    department: Option<String>,
    assignee: Option<String>,
    priority: String,
    parent_id: Option<String>,
    close_reason: Option<String>,
    closed_at: Option<i64>,
    clocks: [Option<i64>; 15],
    updated_at: i64,
    /// Only the resolution clock is ever held (while the department has the request).
    res_paused: Option<i64>,
    /// `Request::reply`: the reply on its way or undelivered.
    reply: (Option<String>, Option<String>, Option<i64>),
    is_incident: bool,
    incident_id: Option<String>,
    ungrouped: bool,
    phone: Option<String>,
    waiting_since: Option<i64>,
    waiting_reminded: Option<i64>,
    escalated: i64,
    feedback: (Option<i64>, Option<bool>, Option<i64>),
}

impl RawRequest {
    pub fn from_row(r: &Row) -> rusqlite::Result<RawRequest> {
        let mut clocks = [None; 15];
        for (i, c) in clocks.iter_mut().enumerate() {
            *c = r.get(22 + i)?;
        }
        Ok(RawRequest {
            rid: r.get(0)?,
            id: r.get(1)?,
            number: r.get(2)?,
            channel: r.get(3)?,
            external_id: r.get(4)?,
            chat_ref: r.get(5)?,
            message_ref: r.get(6)?,
            citizen: r.get(7)?,
            text: r.get(8)?,
            attachments: r.get(9)?,
            lat: r.get(10)?,
            lon: r.get(11)?,
            address: r.get(12)?,
            received_at: r.get(13)?,
            status: r.get(14)?,
            topic: r.get(15)?,
            department: r.get(16)?,
            assignee: r.get(17)?,
            priority: r.get(18)?,
            parent_id: r.get(19)?,
            close_reason: r.get(20)?,
            closed_at: r.get(21)?,
            clocks,
            updated_at: r.get(37)?,
            res_paused: r.get(38)?,
            reply: (r.get(39)?, r.get(40)?, r.get(41)?),
            is_incident: r.get(42)?,
            incident_id: r.get(43)?,
            ungrouped: r.get(44)?,
            phone: r.get(45)?,
            waiting_since: r.get(46)?,
            waiting_reminded: r.get(47)?,
            escalated: r.get(48)?,
            feedback: (r.get(49)?, r.get(50)?, r.get(51)?),
        })
    }

    pub fn into_request(self, tags: Vec<String>) -> Result<Request, StoreError> {
        let c = self.clocks;
        let clock = |i: usize| -> Result<Option<Clock>, StoreError> {
            match (c[i], c[i + 1], c[i + 2], c[i + 3]) {
                (Some(started), Some(target), Some(due), Some(risk)) => Ok(Some(Clock {
                    started: time(started)?,
                    target: Duration::milliseconds(target),
                    due: time(due)?,
                    at_risk_at: time(risk)?,
                    stopped: opt_time(c[i + 4])?,
                    paused: None,
                })),
                _ => Ok(None),
            }
        };
        let missing = || StoreError::Corrupt("request row without its clocks".into());
        let location = if self.lat.is_some() || self.lon.is_some() || self.address.is_some() {
            Some(Location {
                lat: self.lat,
                lon: self.lon,
                address: self.address,
            })
        } else {
            None
        };
        Ok(Request {
            id: parse("request id", &self.id)?,
            number: parse::<RequestNumber>("request number", &self.number)?,
            channel: parse("channel", &self.channel)?,
            external_id: self.external_id,
            channel_ref: ChannelRef {
                chat: self.chat_ref,
                message: self.message_ref,
            },
            citizen: self.citizen,
            text: self.text,
            attachments: match self.attachments {
                Some(a) => serde_json::from_str(&a)
                    .map_err(|e| StoreError::Corrupt(format!("attachments: {e}")))?,
                None => vec![],
            },
            location,
            received_at: time(self.received_at)?,
            status: parse("status", &self.status)?,
            topic: self.topic,
            department: self.department,
            assignee: self.assignee,
            priority: parse("priority", &self.priority)?,
            tags: tags.into_iter().collect(),
            parent_id: self
                .parent_id
                .as_deref()
                .map(|p| parse::<Uuid>("parent id", p))
                .transpose()?,
            close_reason: self
                .close_reason
                .as_deref()
                .map(|r| parse("close reason", r))
                .transpose()?,
            closed_at: opt_time(self.closed_at)?,
            first_response: clock(0)?.ok_or_else(missing)?,
            department_clock: clock(5)?,
            resolution: {
                let mut res = clock(10)?.ok_or_else(missing)?;
                res.paused = opt_time(self.res_paused)?;
                res
            },
            updated_at: time(self.updated_at)?,
            reply: match self.reply {
                (Some(id), Some(state), Some(at)) => Some(PendingReply {
                    message_id: parse("reply id", &id)?,
                    state: parse_json_enum(&state)?,
                    at: time(at)?,
                }),
                _ => None,
            },
            is_incident: self.is_incident,
            incident_id: self
                .incident_id
                .as_deref()
                .map(|p| parse::<Uuid>("incident id", p))
                .transpose()?,
            ungrouped: self.ungrouped,
            phone: self.phone,
            waiting: match opt_time(self.waiting_since)? {
                Some(since) => Some(crate::domain::request::Waiting {
                    since,
                    reminded_at: opt_time(self.waiting_reminded)?,
                }),
                None => None,
            },
            escalated: told_kinds(self.escalated, 0),
            warned: told_kinds(self.escalated, WARNED_SHIFT),
            feedback: match self.feedback {
                (Some(asked), helped, at) => Some(crate::domain::request::Feedback {
                    asked_at: time(asked)?,
                    helped,
                    answered_at: opt_time(at)?,
                }),
                _ => None,
            },
        })
    }
}

fn clock_cols(c: Option<&Clock>) -> [Option<i64>; 5] {
    match c {
        Some(c) => [
            Some(ms(c.started)),
            Some(c.target.num_milliseconds()),
            Some(ms(c.due)),
            Some(ms(c.at_risk_at)),
            c.stopped.map(ms),
        ],
        None => [None; 5],
    }
}

/// Inserts or updates the request row and its tags; returns its rid.
pub fn write_request(conn: &Connection, r: &Request) -> Result<i64, StoreError> {
    let (due_key, risk_key) = match super::department_view::queue_clock(conn, r)? {
        // A held clock neither warns nor breaches until it runs again.
        Some((_, c)) if c.paused.is_some() => (NO_DUE - 1, NO_DUE - 1),
        Some((_, c)) => (ms(c.due), ms(c.at_risk_at)),
        None => (closed_key(ms(r.received_at)), i64::MAX),
    };
    let fr = clock_cols(Some(&r.first_response));
    let dep = clock_cols(r.department_clock.as_ref());
    let res = clock_cols(Some(&r.resolution));
    let attachments = if r.attachments.is_empty() {
        None
    } else {
        Some(
            serde_json::to_string(&r.attachments)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        )
    };
    let loc = r.location.as_ref();
    let place = super::places::columns(r);
    let rid: i64 = conn.row(
        "INSERT INTO request(id, number, channel, external_id, chat_ref, message_ref, citizen, text, attachments,
            lat, lon, address, received_at, status, topic, department, assignee, priority, parent_id,
            close_reason, closed_at, fr_started, fr_target, fr_due, fr_risk, fr_stopped,
            dep_started, dep_target, dep_due, dep_risk, dep_stopped,
            res_started, res_target, res_due, res_risk, res_stopped, due_key, risk_key, updated_at, res_paused,
            reply_id, reply_state, reply_at, is_incident, incident_id, ungrouped, place_key, cell_x, cell_y, phone,
            waiting_since, waiting_reminded, escalated, feedback_asked, feedback_helped, feedback_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
            ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40,
            ?41, ?42, ?43, ?44, ?45, ?46, ?47, ?48, ?49, ?50, ?51, ?52, ?53, ?54, ?55, ?56)
         ON CONFLICT(id) DO UPDATE SET
            status = excluded.status, topic = excluded.topic, department = excluded.department,
            assignee = excluded.assignee, priority = excluded.priority, parent_id = excluded.parent_id,
            close_reason = excluded.close_reason, closed_at = excluded.closed_at,
            attachments = excluded.attachments, address = excluded.address, lat = excluded.lat, lon = excluded.lon,
            fr_started = excluded.fr_started, fr_target = excluded.fr_target, fr_due = excluded.fr_due,
            fr_risk = excluded.fr_risk, fr_stopped = excluded.fr_stopped,
            dep_started = excluded.dep_started, dep_target = excluded.dep_target, dep_due = excluded.dep_due,
            dep_risk = excluded.dep_risk, dep_stopped = excluded.dep_stopped,
            res_started = excluded.res_started, res_target = excluded.res_target, res_due = excluded.res_due,
            res_risk = excluded.res_risk, res_stopped = excluded.res_stopped, res_paused = excluded.res_paused,
            due_key = excluded.due_key, risk_key = excluded.risk_key, updated_at = excluded.updated_at,
            reply_id = excluded.reply_id, reply_state = excluded.reply_state, reply_at = excluded.reply_at,
            is_incident = excluded.is_incident, incident_id = excluded.incident_id,
            ungrouped = excluded.ungrouped, text = excluded.text, place_key = excluded.place_key,
            cell_x = excluded.cell_x, cell_y = excluded.cell_y, phone = excluded.phone,
            waiting_since = excluded.waiting_since, waiting_reminded = excluded.waiting_reminded,
            escalated = excluded.escalated, feedback_asked = excluded.feedback_asked,
            feedback_helped = excluded.feedback_helped, feedback_at = excluded.feedback_at,
            version = version + 1
         RETURNING rid",
        params![
            r.id.to_string(),
            r.number.to_string(),
            r.channel.as_str(),
            r.external_id,
            r.channel_ref.chat,
            r.channel_ref.message,
            r.citizen,
            r.text,
            attachments,
            loc.and_then(|l| l.lat),
            loc.and_then(|l| l.lon),
            loc.and_then(|l| l.address.clone()),
            ms(r.received_at),
            r.status.as_str(),
            r.topic,
            r.department,
            r.assignee,
            r.priority.as_str(),
            r.parent_id.map(|p| p.to_string()),
            r.close_reason.map(|c| c.as_str()),
            r.closed_at.map(ms),
            fr[0], fr[1], fr[2], fr[3], fr[4],
            dep[0], dep[1], dep[2], dep[3], dep[4],
            res[0], res[1], res[2], res[3], res[4],
            due_key,
            risk_key,
            ms(r.updated_at),
            r.resolution.paused.map(ms),
            r.reply.as_ref().map(|p| p.message_id.to_string()),
            r.reply.as_ref().map(|p| p.state.as_str()),
            r.reply.as_ref().map(|p| ms(p.at)),
            r.is_incident,
            r.incident_id.map(|p| p.to_string()),
            r.ungrouped,
            place.0,
            place.1.map(|c| c.0),
            place.1.map(|c| c.1),
            r.phone,
            r.waiting.map(|w| ms(w.since)),
            r.waiting.and_then(|w| w.reminded_at).map(ms),
            told_bits(&r.escalated, 0) | told_bits(&r.warned, WARNED_SHIFT),
            r.feedback.map(|f| ms(f.asked_at)),
            r.feedback.and_then(|f| f.helped),
            r.feedback.and_then(|f| f.answered_at).map(ms),
        ],
        |row| row.get(0),
    )?;
    conn.exec("DELETE FROM request_tag WHERE request_rid = ?1", [rid])?;
    let mut ins =
        conn.prepare_cached("INSERT INTO request_tag(request_rid, tag) VALUES (?1, ?2)")?;
    for t in &r.tags {
        ins.execute(params![rid, t])?;
    }
    // Every request row passes here (an action, intake, a pull, a reset): its suggestion
    // follows it.
    super::triage::refresh(conn, rid, r)?;
    Ok(rid)
}

pub fn tags(conn: &Connection, rid: i64) -> Result<Vec<String>, StoreError> {
    let mut st =
        conn.prepare_cached("SELECT tag FROM request_tag WHERE request_rid = ?1 ORDER BY tag")?;
    let rows = st
        .query_map([rid], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(rows)
}

pub fn load_by(
    conn: &Connection,
    column: &str,
    value: &str,
) -> Result<Option<(i64, Request)>, StoreError> {
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM request WHERE {column} = ?1");
    let raw = conn.row(&sql, [value], RawRequest::from_row).optional()?;
    match raw {
        Some(raw) => {
            let rid = raw.rid;
            let tags = tags(conn, rid)?;
            Ok(Some((rid, raw.into_request(tags)?)))
        }
        None => Ok(None),
    }
}

/// The `escalated` column holds what the shift leads were told, one bit per clock: breaches in
/// the low bits, warnings (`Request::warned`) above them, so warnings needed no migration.
const WARNED_SHIFT: usize = ClockKind::ALL.len();

fn told_kinds(bits: i64, shift: usize) -> Vec<ClockKind> {
    ClockKind::ALL
        .into_iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << (i + shift)) != 0)
        .map(|(_, k)| k)
        .collect()
}

fn told_bits(kinds: &[ClockKind], shift: usize) -> i64 {
    ClockKind::ALL
        .iter()
        .enumerate()
        .filter(|(_, k)| kinds.contains(k))
        .fold(0, |bits, (i, _)| bits | (1 << (i + shift)))
}

#[cfg(test)]
mod column_count {
    #[test]
    fn the_count_matches_the_list() {
        assert_eq!(
            super::REQUEST_COLUMNS.split(',').count(),
            super::REQUEST_COLUMN_COUNT
        );
    }
}
