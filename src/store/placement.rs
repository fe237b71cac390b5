//! A citizen's message placed (`domain::intake` decides where): the answer to «Вопрос решён?»,
//! a message joining or reopening their request, or a new request created, triaged and
//! acknowledged with its row written once. Messages in a department's chat or mailbox go to
//! `department_chat` instead. Runs inside `ingest`'s transaction.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::StoreError;
use super::chain::Chain;
use super::db::Reindex;
use super::ingest::{IngestReport, Intake, request_id};
use super::rows::{self, Cached, ms};
use crate::domain::feedback;
use crate::domain::intake::{self, Candidates, Latest, Placement};
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::request::ChannelRef;
use crate::domain::{Channel, Status};
use crate::templates::render;
use crate::wire::intake::IncomingMessage;

pub(super) fn queue_files(
    tx: &Connection,
    ch: &str,
    m: &IncomingMessage,
    rid: i64,
    now: i64,
) -> Result<(), StoreError> {
    for a in &m.attachments {
        if let Some(src) = &a.source {
            tx.exec(
                "INSERT INTO file_job(channel, source, request_rid, next_attempt_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![ch, src, rid, now],
            )?;
        }
    }
    Ok(())
}

/// Records that a chat's message (or `album:<id>`) belongs to a request, so that replies to it
/// and the album's further photos find it.
pub(super) fn map_message(
    tx: &Connection,
    ch: &str,
    chat: &str,
    external: &str,
    message_id: Option<Uuid>,
    rid: i64,
) -> Result<(), StoreError> {
    tx.exec(
        "INSERT INTO channel_message(channel, chat, external_id, message_id, request_rid) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT DO NOTHING",
        params![ch, chat, external, message_id.map(|m| m.to_string()), rid],
    )?;
    Ok(())
}

/// The request a chat's message (or `album:<id>`) was mapped to, if any.
pub(super) fn mapped(
    tx: &Connection,
    ch: &str,
    chat: &str,
    external: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(tx
        .row(
            "SELECT request_rid FROM channel_message WHERE channel = ?1 AND chat = ?2 AND external_id = ?3",
            params![ch, chat, external],
            |r| r.get(0),
        )
        .optional()?)
}

/// The requests a new citizen message might belong to, for the intake rules to choose from.
fn candidates(
    tx: &Connection,
    ch: &str,
    m: &IncomingMessage,
) -> Result<Candidates<i64>, StoreError> {
    let mapped = |external: &str| mapped(tx, ch, &m.chat, external);
    let replied_to = match &m.reply_to {
        Some(r) => mapped(r)?,
        None => None,
    };
    let album = match &m.media_group {
        Some(g) => mapped(&format!("album:{g}"))?,
        None => None,
    };
    let last: Option<(i64, String, i64, Option<i64>)> = tx
        .row(
            "SELECT rid, status, updated_at, closed_at FROM request WHERE channel = ?1 AND chat_ref = ?2 ORDER BY rid DESC LIMIT 1",
            params![ch, m.chat],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let latest = match last {
        Some((rid, status, updated, closed_at)) => Some(Latest {
            key: rid,
            status: rows::parse("request status", &status)?,
            updated_at: rows::time(updated)?,
            closed_at: closed_at.map(rows::time).transpose()?,
        }),
        None => None,
    };
    Ok(Candidates {
        replied_to,
        album,
        latest,
    })
}

// One citizen message's whole effect; the arguments are the transaction's shared context.
pub(super) fn message(
    cx: &Intake,
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
    let channel = src.channel;
    if channel == Channel::Telegram
        && let Some(department) = super::department_chat::department_of(rules, &m.chat)
    {
        let department = department.to_string();
        return super::department_chat::message(cx, &department, report, later);
    }
    if channel == Channel::Email {
        return super::department_chat::mail(cx, report, later);
    }
    let ch = channel.as_str();
    // A citizen who writes again has unblocked the bot.
    tx.exec(
        "DELETE FROM unreachable WHERE channel = ?1 AND chat = ?2",
        params![ch, m.chat],
    )?;
    let facts = intake::Message {
        text: &m.text,
        has_attachments: !m.attachments.is_empty(),
    };
    let found = candidates(tx, ch, m)?;
    // «да» / «нет» to «Вопрос решён?» on the chat's latest request is the answer, whatever
    // the reopen policy; anything else is placed as any message.
    if let Some(last) = found.latest.as_ref().filter(|l| l.status == Status::Closed)
        && let Some(helped) = feedback::reading(&m.text).filter(|_| m.attachments.is_empty())
        && let Some((rid, r)) = rows::load_by(tx, "rid", &last.key.to_string())?
        && feedback::awaits_answer(&r)
    {
        let message_id = cx.id("message");
        let op = Op::Feedback {
            helped,
            message_id,
            body: m.text.clone(),
            at: m.at,
        };
        cx.apply("mutation", r.id, ch, op, later)?;
        map_message(tx, ch, &m.chat, &m.message, Some(message_id), rid)?;
        report.appended += 1;
        return Ok(("appended", Some(rid)));
    }
    // A merged request's chat writes on in the thread it was merged into (`domain::merge`).
    let mut found = found;
    if let Some(last) = found.latest.as_mut()
        && let Some((rid, r)) = super::merge::follow(tx, last.key)?
    {
        *last = Latest {
            key: rid,
            status: r.status,
            updated_at: r.updated_at,
            closed_at: r.closed_at,
        };
    }
    let (text, acknowledge) = match intake::place(facts, found, &rules.intake(), now) {
        Placement::Join(rid) | Placement::Reopen(rid) => {
            let rid = super::merge::follow(tx, rid)?.map_or(rid, |(to, _)| to);
            append(cx, rid, later)?;
            report.appended += 1;
            return Ok(("appended", Some(rid)));
        }
        Placement::New { text, acknowledge } => (text, acknowledge),
    };
    let new = NewRequest {
        external_id: Some(format!("{}:{}", m.chat, m.message)),
        channel_ref: ChannelRef {
            chat: Some(m.chat.clone()),
            message: Some(m.message.clone()),
        },
        citizen: m.author.clone(),
        phone: m.phone.clone(),
        attachments: m.attachments.clone(),
        location: m.location.clone(),
        topic: m
            .category
            .as_deref()
            .and_then(|c| rules.topic_of(c, &env.catalog)),
        ..NewRequest::new(channel, text, m.at.min(now))
    };
    let request_id = cx.id("request");
    // Created, triaged and acknowledged in memory, the row written once (`chain`); only a
    // request that may belong to an open incident is written first, for the neighbours'
    // search to find it in the place index before the acknowledgement names the incident.
    let mut chain = Chain::load(tx, request_id)?;
    let create = Mutation {
        id: cx.id("create"),
        ..Mutation::new(request_id, ch, now, Op::Create(Box::new(new)))
    };
    let created = chain.push(tx, env, create)?.clone();
    let decided = super::triage::auto_apply(&created, &env.catalog, |what| cx.id(what), now);
    for d in decided {
        chain.push(tx, env, d)?;
    }
    let r = chain.request().cloned().unwrap_or(created);
    let incident = match &rules.incidents {
        Some(ir) if acknowledge && super::places::any_open_incident(tx)? => Some(ir),
        _ => None,
    };
    let (rid, mut chain) = match incident {
        Some(_) => {
            let (rid, applied) = chain.write(tx, env, later)?;
            (rid, Chain::loaded(rid, applied.request))
        }
        None => (0, chain),
    };
    let ack = if acknowledge {
        let mut body = rules.say(&intake::acknowledgement(&r), env);
        if let Some(ir) = incident
            && let Some(incident) = super::places::known_incident(tx, rid, ir, now)?
        {
            body.push('\n');
            body.push_str(&render(
                &rules.texts.known_incident,
                &[("incident", &incident)],
            ));
        }
        Some(Mutation {
            id: cx.id("acknowledge"),
            ..Mutation::new(
                request_id,
                ch,
                now,
                Op::Acknowledge {
                    message_id: cx.id("ack"),
                    body,
                },
            )
        })
    } else {
        None
    };
    if let Some(ack) = ack {
        chain.push(tx, env, ack)?;
    }
    let (rid, _) = chain.write(tx, env, later)?;
    // The first message's text is the request's own: an edit of it revises the request.
    map_message(tx, ch, &m.chat, &m.message, Some(request_id), rid)?;
    queue_files(tx, ch, m, rid, ms(now))?;
    if let Some(g) = &m.media_group {
        map_message(tx, ch, &m.chat, &format!("album:{g}"), None, rid)?;
    }
    report.created.push(r.number.clone());
    Ok(("created", Some(rid)))
}

/// A citizen's message added to a request the rules chose.
fn append(cx: &Intake, rid: i64, later: &mut Reindex) -> Result<(), StoreError> {
    let Intake {
        tx, src, now, m, ..
    } = *cx;
    let ch = src.channel.as_str();
    let message_id = cx.id("message");
    let target = request_id(tx, rid)?;
    // Another chat's message on this request came through a request merged into it: the
    // thread says whose it is, and their own request keeps their contact.
    let link = match rows::load_by(tx, "rid", &rid.to_string())? {
        Some((_, r))
            if r.channel != src.channel || r.channel_ref.chat.as_deref() != Some(&m.chat) =>
        {
            super::merge::link_of(tx, target, ch, &m.chat)?
        }
        _ => None,
    };
    let op = Op::CitizenMessage {
        message_id,
        body: m.text.clone(),
        at: m.at,
        attachments: m.attachments.clone(),
        location: m.location.clone(),
        from: link.as_ref().map(crate::domain::merge::follow_up_author),
    };
    cx.apply("mutation", target, ch, op, later)?;
    // The citizen shared their own contact: their request takes the number.
    if let Some(phone) = &m.phone {
        let request = link.as_ref().map_or(target, |l| l.id);
        let op = Op::SetPhone {
            phone: phone.clone(),
        };
        cx.apply("phone", request, ch, op, later)?;
    }
    map_message(tx, ch, &m.chat, &m.message, Some(message_id), rid)?;
    queue_files(tx, ch, m, rid, ms(now))?;
    if let Some(g) = &m.media_group {
        map_message(tx, ch, &m.chat, &format!("album:{g}"), None, rid)?;
    }
    Ok(())
}
