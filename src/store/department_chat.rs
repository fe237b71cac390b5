//! Departments reached through the city's bot or by e-mail (#21 items 3–4): a request
//! forwarded to a department with a Telegram chat (`[departments.<id>] telegram_chat_id`) is
//! posted there, and to one with an address (`email`) mailed there, subject naming its
//! number; the department's reply to that post or mail — or a message naming the request's
//! number — is recorded as its answer. A message there that names no request of theirs is
//! never a citizen's request: the department is told how to answer, and nothing is attached.
//! Mail from any other address is attached to nothing and never answered.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use std::collections::BTreeMap;
use uuid::Uuid;

use super::StoreError;
use super::db::{Env, Reindex};
use super::ingest::{IngestReport, IngestRules, Intake};
use super::meta::{meta, set_meta};
use super::rows::{self, Cached, ms};
use super::{outbox, placement};
use crate::domain::files::Resend;
use crate::domain::mutation::Op;
use crate::domain::request::RequestNumber;
use crate::domain::{Channel, Request, Status};
use crate::templates::render;
use crate::wire::intake::IncomingMessage;

/// Where the sweep of forward notes has got to (a note's rowid), for the chats and for mail.
const CURSOR: &str = "department_forward_cursor";
const MAIL_CURSOR: &str = "department_mail_cursor";
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
pub(super) fn message(
    cx: &Intake,
    department: &str,
    report: &mut IngestReport,
    later: &mut Reindex,
) -> Result<(&'static str, Option<i64>), StoreError> {
    let Intake {
        tx,
        env,
        src,
        rules,
        now,
        m,
    } = *cx;
    let ch = src.channel.as_str();
    let replied: Option<i64> = match &m.reply_to {
        Some(r) => placement::mapped(tx, ch, &m.chat, r)?,
        None => None,
    };
    let found = match replied {
        Some(rid) => rows::load_by(tx, "rid", &rid.to_string())?,
        None => match m
            .subject
            .as_deref()
            .and_then(named_number)
            .or_else(|| named_number(&m.text))
        {
            Some(n) => rows::load_by(tx, "number", &n.to_string())?,
            None => None,
        },
    };
    // The next photos of an album whose first message was the answer.
    if let (Some(g), false) = (&m.media_group, m.attachments.is_empty())
        && let Some(rid) = placement::mapped(tx, ch, &m.chat, &format!("album:{g}"))?
        && let Some((rid, r)) = rows::load_by(tx, "rid", &rid.to_string())?
    {
        let op = Op::DepartmentFiles {
            attachments: m.attachments.clone(),
        };
        let actor = answerer(env, src.channel, m, department);
        cx.apply("mutation", r.id, &actor, op, later)?;
        super::placement::queue_files(tx, ch, m, rid, ms(now))?;
        report.appended += 1;
        return Ok(("department_files", Some(rid)));
    }
    let theirs = found.filter(|(_, r)| {
        r.department.as_deref() == Some(department) && r.status == Status::WaitingDepartment
    });
    let text = m.text.trim();
    // A photo report may come without a word: the photos are the answer.
    let Some((rid, r)) = theirs.filter(|_| !text.is_empty() || !m.attachments.is_empty()) else {
        report.ignored += 1;
        if src.channel == Channel::Email {
            not_found_by_mail(cx)?;
        } else {
            outbox::enqueue_raw(
                tx,
                src.channel,
                &m.chat,
                Some(&m.message),
                &rules.texts.department_not_found,
                ms(now),
            )?;
        }
        return Ok(("department_unmatched", None));
    };
    let actor = answerer(env, src.channel, m, department);
    // The operator reads on the card that files came with the answer, and finds them among
    // the request's attachments once fetched.
    let body = match m.attachments.len() {
        0 => text.to_string(),
        n => {
            let files = render(
                &rules.texts.department_attachments,
                &[("count", &n.to_string())],
            );
            [text, files.as_str()]
                .iter()
                .filter(|t| !t.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    let op = Op::DepartmentAnswer {
        note_id: cx.id("department_answer"),
        body,
        attachments: m.attachments.clone(),
    };
    cx.apply("mutation", r.id, &actor, op, later)?;
    placement::queue_files(tx, src.channel.as_str(), m, rid, ms(now))?;
    if let Some(g) = &m.media_group {
        placement::map_message(tx, ch, &m.chat, &format!("album:{g}"), None, rid)?;
    }
    report.appended += 1;
    Ok(("department_answer", Some(rid)))
}

/// Who answered: a mail's sender name is whoever typed it, so the answer is the department's,
/// by name; in a chat, the member who wrote.
fn answerer(env: &Env, channel: Channel, m: &IncomingMessage, department: &str) -> String {
    match (channel, &m.author) {
        (Channel::Email, _) | (_, None) => env
            .catalog
            .department(department)
            .map_or(department, |d| d.name.as_str())
            .to_string(),
        (_, Some(author)) => author.clone(),
    }
}

/// A mail from an address no department has: never an answer, and never answered (it may be
/// spam, and a reply to spam is spam).
pub(super) fn mail(
    cx: &Intake,
    report: &mut IngestReport,
    later: &mut Reindex,
) -> Result<(&'static str, Option<i64>), StoreError> {
    let department = cx
        .rules
        .department_mail
        .iter()
        .find(|(_, a)| a.as_str() == cx.m.chat)
        .map(|(d, _)| d.clone());
    let Some(department) = department else {
        report.ignored += 1;
        return Ok(("department_stranger", None));
    };
    message(cx, &department, report, later)
}

/// Tells a department's mailbox how to answer, at most once an hour per address: a mailbox
/// that answers every mail with one naming no request (a robot without `Auto-Submitted`)
/// would otherwise trade mail with us for ever.
fn not_found_by_mail(cx: &Intake) -> Result<(), StoreError> {
    let Intake {
        tx, rules, now, m, ..
    } = *cx;
    let hour = now.timestamp() / 3600;
    let message_id = crate::domain::ids::named(&[
        b"mcu-department-mail-not-found:",
        m.chat.as_bytes(),
        &hour.to_be_bytes(),
    ]);
    let told: i64 = tx.row(
        "SELECT count(*) FROM outbox WHERE message_id = ?1",
        [message_id.to_string()],
        |r| r.get(0),
    )?;
    if told > 0 {
        return Ok(());
    }
    let subject = match m.subject.as_deref().map(str::trim) {
        Some(s) if s.to_lowercase().starts_with("re:") => s.to_string(),
        Some(s) if !s.is_empty() => format!("Re: {s}"),
        _ => "Re:".to_string(),
    };
    let body = crate::wire::mail::compose(
        &crate::sanitize::line(&subject),
        &rules.texts.department_mail_not_found,
    );
    let to = outbox::Named {
        message_id,
        rid: None,
        channel: Channel::Email,
        reply_to: Some(&m.message),
    };
    outbox::enqueue_named(tx, &to, &m.chat, &body, ms(now))
}

/// The first word of `text` that is a request number (`2026-000123`).
fn named_number(text: &str) -> Option<RequestNumber> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .find_map(|w| w.trim_matches('-').parse().ok())
}

/// How departments are reached on one channel: their chats (Telegram) or addresses (mail),
/// department id → chat. Each channel keeps its own cursor and names its messages apart, so a
/// department with both a chat and an address is told on both, once each.
struct Reach<'a> {
    channel: Channel,
    to: &'a BTreeMap<String, String>,
}

impl Reach<'_> {
    fn cursor(&self) -> &'static str {
        match self.channel {
            Channel::Email => MAIL_CURSOR,
            _ => CURSOR,
        }
    }

    /// The namespace of the outbox ids this channel's posts and reminders are named in.
    fn kind(&self, what: &str) -> String {
        match self.channel {
            Channel::Email => format!("mcu-department-mail-{what}:"),
            _ => format!("mcu-department-{what}:"),
        }
    }

    /// A mail carries a subject naming the request (`wire::mail`); a chat message is the body.
    fn wrap(&self, r: &Request, body: String, texts: &crate::templates::BotTexts) -> String {
        if self.channel != Channel::Email {
            return body;
        }
        let subject = render(
            &texts.department_mail_subject,
            &[
                ("number", &r.number.to_string()),
                ("title", &title(&r.text)),
            ],
        );
        crate::wire::mail::compose(&subject, &body)
    }
}

/// The request's text cut for a subject line: its first 60 characters, at a word's end.
fn title(text: &str) -> String {
    const MAX: usize = 60;
    let line = crate::sanitize::line(text);
    let line = line.trim();
    if line.chars().count() <= MAX {
        return line.to_string();
    }
    let cut: String = line.chars().take(MAX).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > MAX / 2 => &cut[..i],
        _ => &cut[..],
    };
    format!("{}…", cut.trim_end_matches([' ', ',', '.', ';', ':']))
}

/// Sends each request forwarded since the last sweep to its department on `channel` (its
/// Telegram chat, or its address by mail: department id → chat in `to`), if it has one and
/// still has the request, and the reminders due; how many. A post is named by the forward, so
/// a second sweep or replica sends it once; started for the first time, it begins at the
/// newest forward, so turning it on does not send every request ever forwarded.
pub fn sweep(
    conn: &mut Connection,
    env: &Env,
    channel: Channel,
    to: &BTreeMap<String, String>,
    texts: &crate::templates::BotTexts,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let reach = &Reach { channel, to };
    let tx = conn.transaction()?;
    let newest: i64 = tx.row("SELECT coalesce(max(rowid), 0) FROM note", [], |r| r.get(0))?;
    let Some(cursor) = meta(&tx, reach.cursor())? else {
        set_meta(&tx, reach.cursor(), &newest.to_string())?;
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
        let Some(chat) = r.department.as_deref().and_then(|d| reach.to.get(d)) else {
            continue;
        };
        if r.status != Status::WaitingDepartment {
            continue;
        }
        let Ok(note_id) = note_id.parse::<Uuid>() else {
            continue;
        };
        let template = match reach.channel {
            Channel::Email => &texts.department_mail_forward,
            _ => &texts.department_forward,
        };
        let lines = reach.channel == Channel::Email;
        let body = reach.wrap(&r, post(&r, &note, env, template, lines), texts);
        let message_id =
            crate::domain::ids::named(&[reach.kind("post").as_bytes(), note_id.as_bytes()]);
        outbox::enqueue_to(
            &tx,
            message_id,
            Some(rid),
            reach.channel,
            chat,
            &body,
            ms(now),
        )?;
        if reach.channel == Channel::Email {
            outbox::attach_files(&tx, message_id, &stored_files(&r))?;
        }
        if reach.channel == Channel::Telegram {
            let number = r.number.to_string();
            let photo_caption = render(&texts.department_photo, &[("number", &number)]);
            let file_caption = render(&texts.department_file, &[("number", &number)]);
            for (n, file) in resends(&r).enumerate() {
                let caption = match file {
                    Resend::Photo(_) => &photo_caption,
                    Resend::Document(_) => &file_caption,
                };
                let to = outbox::Named {
                    message_id: crate::domain::ids::named(&[
                        reach.kind("photo").as_bytes(),
                        note_id.as_bytes(),
                        &n.to_be_bytes(),
                    ]),
                    rid: Some(rid),
                    channel: reach.channel,
                    reply_to: None,
                };
                outbox::enqueue_file(&tx, &to, chat, &file, caption, ms(now))?;
            }
        }
        posted += 1;
    }
    if last != cursor {
        set_meta(&tx, reach.cursor(), &last.to_string())?;
    }
    posted += remind(&tx, env, reach, texts, now)?;
    tx.commit()?;
    Ok(posted)
}

/// The most photos posted (or files mailed) after a forward: an album's worth.
const MAX_PHOTOS: usize = 10;

/// The request's photos and documents Telegram can send by their handle: a file_id the bot
/// received (its own ids only: a citizen's or a department's file in this bot's chats), or a
/// photo's web address (VK's, the platform's; Telegram takes documents by address only as
/// PDF, ZIP or GIF, which a VK document's address does not say). Not a mailed file, which
/// exists only in the gateway's Maildir; not a voice message or a video.
fn resends(r: &Request) -> impl Iterator<Item = Resend> + '_ {
    let file_id = move |s: &str| {
        r.channel == Channel::Telegram
            && !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    r.attachments
        .iter()
        .filter_map(move |a| {
            let s = a.source.as_deref()?;
            match a.kind.as_str() {
                "photo" if s.starts_with("https://") || s.starts_with("http://") || file_id(s) => {
                    Some(Resend::Photo(s.to_string()))
                }
                "document" if file_id(s) => Some(Resend::Document(s.to_string())),
                _ => None,
            }
        })
        .take(MAX_PHOTOS)
}

/// The request's files the gateway has fetched, for a forward mail's attachments: what the
/// citizen sent (and a department, on a request forwarded again).
fn stored_files(r: &Request) -> Vec<String> {
    r.attachments
        .iter()
        .filter(|a| a.state == crate::domain::request::AttachmentState::Stored)
        .filter_map(|a| a.local_path.clone())
        .take(MAX_PHOTOS)
        .collect()
}

/// Tells a department, once per level, that its answer on a request turned due soon (at
/// risk) and that it is late: named by the request, the level and when its clock started,
/// so sweeps and replicas tell it once, and a new forward starts afresh.
fn remind(
    tx: &Connection,
    env: &Env,
    reach: &Reach,
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
            r.department.as_deref().and_then(|d| reach.to.get(d)),
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
            reach.kind("reminder").as_bytes(),
            r.id.as_bytes(),
            level.as_bytes(),
            &c.started.timestamp_millis().to_be_bytes(),
        ]);
        let due = c.due.with_timezone(&tz).format("%d.%m %H:%M").to_string();
        let body = render(
            template,
            &[("number", &r.number.to_string()), ("due", &due)],
        );
        let body = reach.wrap(&r, body, texts);
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
                reach.channel,
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
fn post(r: &Request, note: &str, env: &Env, template: &str, lines: bool) -> String {
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
        template,
        &[
            ("number", &r.number.to_string()),
            ("department", department),
            ("due", &due),
            (
                "text",
                &if lines {
                    crate::sanitize::text(&r.text)
                } else {
                    crate::sanitize::line(&r.text)
                },
            ),
            ("address", &address),
            ("note", note),
        ],
    )
}
