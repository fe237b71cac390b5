//! Departments reached through the city's bot (#21 item 3): a request forwarded to a
//! department with a Telegram chat (`[departments.<id>] telegram_chat_id`) is posted there,
//! and the department's reply to that post — or a message naming the request's number — is
//! recorded as its answer. A message in that chat that names no request of theirs is never a
//! citizen's request: the bot says how to answer, and nothing is attached.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;
use uuid::Uuid;

use super::StoreError;
use super::db::{Env, Reindex, apply_with};
use super::ingest::{IngestReport, IngestRules, Source, derive};
use super::meta::{meta, set_meta};
use super::outbox;
use super::rows::{self, Cached, ms};
use crate::domain::mutation::{Mutation, Op};
use crate::domain::request::RequestNumber;
use crate::domain::{Channel, Request, Status};
use crate::templates::render;
use crate::wire::intake::IncomingMessage;

/// Where the sweep of forward notes has got to (a note's rowid).
const CURSOR: &str = "department_forward_cursor";
/// The most posts made in one sweep: a backlog goes out over a few sweeps.
const PER_SWEEP: i64 = 100;

/// The department whose chat `chat` is, if it is one.
pub(super) fn department_of<'a>(rules: &'a IngestRules, chat: &str) -> Option<&'a str> {
    rules
        .departments
        .iter()
        .find(|(_, c)| c.as_str() == chat)
        .map(|(d, _)| d.as_str())
}

/// A message in a department's chat: its answer to one of its requests, or nothing.
#[allow(clippy::too_many_arguments)]
pub(super) fn message(
    tx: &Connection,
    env: &Env,
    src: &Source,
    m: &IncomingMessage,
    department: &str,
    rules: &IngestRules,
    now: DateTime<Utc>,
    report: &mut IngestReport,
    later: &mut Reindex,
) -> Result<(&'static str, Option<i64>), StoreError> {
    let ch = src.channel.as_str();
    let replied: Option<i64> = match &m.reply_to {
        Some(r) => tx
            .row(
                "SELECT request_rid FROM channel_message WHERE channel = ?1 AND chat = ?2 AND external_id = ?3",
                params![ch, m.chat, r],
                |r| r.get(0),
            )
            .optional()?,
        None => None,
    };
    let found = match replied {
        Some(rid) => rows::load_by(tx, "rid", &rid.to_string())?,
        None => match named_number(&m.text) {
            Some(n) => rows::load_by(tx, "number", &n.to_string())?,
            None => None,
        },
    };
    let theirs = found.filter(|(_, r)| {
        r.department.as_deref() == Some(department) && r.status == Status::WaitingDepartment
    });
    let text = m.text.trim();
    let Some((rid, r)) = theirs.filter(|_| !text.is_empty()) else {
        report.ignored += 1;
        outbox::enqueue_raw(
            tx,
            src.channel,
            &m.chat,
            Some(&m.message),
            &rules.texts.department_not_found,
            ms(now),
        )?;
        return Ok(("department_unmatched", None));
    };
    let key = format!("{}:{}", m.chat, m.message);
    let actor = m.author.clone().unwrap_or_else(|| department.to_string());
    let op = Op::DepartmentAnswer {
        note_id: derive(src, &key, "department_answer", m.at),
        body: text.to_string(),
    };
    let mutation = Mutation {
        id: derive(src, &key, "mutation", m.at),
        ..Mutation::new(r.id, &actor, now, op)
    };
    apply_with(tx, env, &mutation, later)?;
    report.appended += 1;
    Ok(("department_answer", Some(rid)))
}

/// The first word of `text` that is a request number (`2026-000123`).
fn named_number(text: &str) -> Option<RequestNumber> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .find_map(|w| w.trim_matches('-').parse().ok())
}

/// Posts each request forwarded since the last sweep to its department's chat, if it has one
/// and still has the request; how many it posted. The post is named by the forward, so a
/// second sweep or replica posts it once; started for the first time, it begins at the
/// newest forward, so turning it on does not post every request ever forwarded.
pub fn sweep_forwards(
    conn: &mut Connection,
    env: &Env,
    chats: &BTreeMap<String, String>,
    texts: &crate::templates::BotTexts,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    let newest: i64 = tx.row("SELECT coalesce(max(rowid), 0) FROM note", [], |r| r.get(0))?;
    let Some(cursor) = meta(&tx, CURSOR)? else {
        set_meta(&tx, CURSOR, &newest.to_string())?;
        tx.commit()?;
        return Ok(0);
    };
    let cursor: i64 = rows::parse("forward cursor", &cursor)?;
    let forwards: Vec<(i64, String, String, i64)> = {
        let mut st = tx.prepare_cached(
            "SELECT rowid, id, body, request_rid FROM note WHERE kind = 'forward' AND rowid > ?1
             ORDER BY rowid LIMIT ?2",
        )?;
        st.query_map(params![cursor, PER_SWEEP], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?
    };
    let mut posted = 0;
    let mut last = cursor;
    for (rowid, note_id, note, rid) in forwards {
        last = rowid;
        let Some((_, r)) = rows::load_by(&tx, "rid", &rid.to_string())? else {
            continue;
        };
        let Some(chat) = r.department.as_deref().and_then(|d| chats.get(d)) else {
            continue;
        };
        if r.status != Status::WaitingDepartment {
            continue;
        }
        let Ok(note_id) = note_id.parse::<Uuid>() else {
            continue;
        };
        let body = post(&r, &note, env, texts);
        let message_id = crate::domain::ids::named(&[b"mcu-department-post:", note_id.as_bytes()]);
        outbox::enqueue_to(
            &tx,
            message_id,
            Some(rid),
            Channel::Telegram,
            chat,
            &body,
            ms(now),
        )?;
        posted += 1;
    }
    if last != cursor {
        set_meta(&tx, CURSOR, &last.to_string())?;
    }
    posted += remind(&tx, env, chats, texts, now)?;
    tx.commit()?;
    Ok(posted)
}

/// Tells a department's group, once per level, that its answer on a request turned due soon
/// (at risk) and that it is late: named by the request, the level and when its clock
/// started, so sweeps and replicas tell it once, and a new forward starts afresh.
fn remind(
    tx: &Connection,
    env: &Env,
    chats: &BTreeMap<String, String>,
    texts: &crate::templates::BotTexts,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    use crate::domain::sla::ClockState;
    let waiting = {
        let sql = format!(
            "SELECT {} FROM request WHERE status = 'waiting_department' ORDER BY due_key LIMIT 1000",
            rows::REQUEST_COLUMNS
        );
        let mut st = tx.prepare_cached(&sql)?;
        st.query_map([], rows::RawRequest::from_row)?
            .collect::<Result<Vec<_>, _>>()?
    };
    let tz = env.policy.calendar.tz();
    let mut told = 0;
    for raw in waiting {
        let rid = raw.rid;
        let Ok(r) = raw.into_request(vec![]) else {
            continue;
        };
        let (Some(chat), Some(c)) = (
            r.department.as_deref().and_then(|d| chats.get(d)),
            r.department_clock.as_ref(),
        ) else {
            continue;
        };
        if c.stopped.is_some() || c.paused.is_some() {
            continue;
        }
        let (level, template) = match c.state(now) {
            ClockState::AtRisk => ("at_risk", &texts.department_at_risk),
            ClockState::Breached => ("breached", &texts.department_breached),
            ClockState::Ok => continue,
        };
        let message_id = crate::domain::ids::named(&[
            b"mcu-department-reminder:",
            r.id.as_bytes(),
            level.as_bytes(),
            &c.started.timestamp_millis().to_be_bytes(),
        ]);
        let due = c.due.with_timezone(&tz).format("%d.%m %H:%M").to_string();
        let body = render(
            template,
            &[("number", &r.number.to_string()), ("due", &due)],
        );
        let fresh: i64 = tx.row(
            "SELECT count(*) FROM outbox WHERE message_id = ?1",
            [message_id.to_string()],
            |r| r.get(0),
        )?;
        if fresh == 0 {
            outbox::enqueue_to(
                tx,
                message_id,
                Some(rid),
                Channel::Telegram,
                chat,
                &body,
                ms(now),
            )?;
            told += 1;
        }
    }
    Ok(told)
}

/// What the department reads: the number, what and where, the operator's note and when its
/// answer is due. The citizen's name and contacts are not the department's to see.
fn post(r: &Request, note: &str, env: &Env, texts: &crate::templates::BotTexts) -> String {
    let tz = env.policy.calendar.tz();
    let due = r
        .department_clock
        .as_ref()
        .map(|c| c.due.with_timezone(&tz).format("%d.%m %H:%M").to_string())
        .unwrap_or_else(|| "—".into());
    let department = r
        .department
        .as_deref()
        .map(|d| env.catalog.department(d).map_or(d, |d| d.name.as_str()))
        .unwrap_or("—");
    let address = r
        .location
        .as_ref()
        .and_then(|l| l.address.clone())
        .unwrap_or_else(|| "—".into());
    let note = if note.trim().is_empty() {
        "—"
    } else {
        note.trim()
    };
    render(
        &texts.department_forward,
        &[
            ("number", &r.number.to_string()),
            ("department", department),
            ("due", &due),
            ("text", &crate::sanitize::line(&r.text)),
            ("address", &address),
            ("note", note),
        ],
    )
}
