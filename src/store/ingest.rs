//! Storing what a channel poller received: every event of a batch, the requests and messages
//! it creates, the acknowledgements it queues, and the new cursor, in ONE transaction. Only
//! after it commits does the poller ask for more (which confirms the batch to Telegram), so a
//! crash at any point loses nothing and a re-delivered update is recognised by its id.

use super::rows::Cached;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::chain::Chain;
use super::db::{Env, Reindex, apply_with, reindex_all};
use super::rows::{self, ms};
use super::{StoreError, outbox};
use crate::domain::feedback;
use crate::domain::intake::{self, BotText, Candidates, Latest, Placement};
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::request::ChannelRef;
use crate::domain::{Channel, RequestNumber, Status};
use crate::templates::{BotTexts, render};
use crate::wire::intake::{Batch, Command, Inbound, IncomingMessage};

/// The rules' own word, named here too because `IngestRules` carries it.
pub use crate::domain::intake::ClosedPolicy;

#[derive(Debug, Clone)]
pub struct IngestRules {
    /// A message joins the chat's open request if the request was active this recently.
    pub join_window: Duration,
    pub closed_policy: ClosedPolicy,
    /// How long after closing a message reopens rather than starting a new request.
    pub reopen_window: Duration,
    pub texts: BotTexts,
    pub status_words: fn(crate::domain::Status) -> &'static str,
    /// A new request is acknowledged to the citizen with its number and due time; off for a
    /// platform that acknowledges on its own and takes no replies from us.
    pub acknowledge: bool,
    /// When set, the acknowledgement of a request that matches an open incident's members
    /// says the problem is known (`BotTexts::known_incident`).
    pub incidents: Option<crate::incidents::Rules>,
    /// A channel's own category (the platform's `service_code`) → a catalog topic
    /// (`[channels.platform.topics]`); a category that is a catalog topic's id is that topic.
    pub topics: std::collections::BTreeMap<String, String>,
    /// Departments reached in Telegram, department id → chat (`[departments.<id>]`): their
    /// chats' messages are answers (`department_chat`), never citizens' requests.
    pub departments: std::collections::BTreeMap<String, String>,
    /// Departments reached by mail, department id → address (lower-cased): the inbox's mail
    /// is only ever their answers (`department_chat::mail`).
    pub department_mail: std::collections::BTreeMap<String, String>,
}

impl IngestRules {
    /// The topic a channel's `category` means, if any the catalog has: a request is never
    /// refused for a category nobody mapped.
    fn topic_of(&self, category: &str, catalog: &crate::domain::Catalog) -> Option<String> {
        let topic = self
            .topics
            .get(category)
            .map(String::as_str)
            .unwrap_or(category);
        catalog.topic(topic).map(|_| topic.to_string())
    }

    fn intake(&self) -> intake::Rules {
        intake::Rules {
            join_window: self.join_window,
            closed_policy: self.closed_policy,
            reopen_window: self.reopen_window,
            acknowledge: self.acknowledge,
        }
    }

    /// The bot's text in the center's words; times in the center's zone.
    fn say(&self, text: &BotText, env: &Env) -> String {
        match text {
            BotText::Acknowledge { due, public } => {
                let due = due
                    .with_timezone(&env.policy.calendar.tz())
                    .format("%d.%m.%Y %H:%M")
                    .to_string();
                // `apply` puts in the number of the copy it applies to (`Op::Acknowledge`).
                render(
                    if *public {
                        &self.texts.ack_public
                    } else {
                        &self.texts.ack
                    },
                    &[
                        ("number", crate::domain::mutation::ACK_NUMBER),
                        ("due", &due),
                    ],
                )
            }
            BotText::Start => self.texts.start.clone(),
            BotText::Status { number, status } => render(
                &self.texts.status,
                &[
                    ("number", &number.to_string()),
                    ("status", (self.status_words)(*status)),
                ],
            ),
            BotText::NotFound { asked } => {
                render(&self.texts.status_not_found, &[("number", asked)])
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestReport {
    pub created: Vec<RequestNumber>,
    pub appended: usize,
    pub edited: usize,
    pub commands: usize,
    pub duplicates: usize,
    pub ignored: usize,
    pub malformed: usize,
}

pub struct Source<'a> {
    pub channel: Channel,
    pub account: &'a str,
    pub lease: &'a str,
    pub epoch: i64,
}

pub fn ingest(
    conn: &mut Connection,
    env: &Env,
    src: &Source,
    batch: &Batch,
    rules: &IngestRules,
) -> Result<IngestReport, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Fencing: a gateway paused past its lease must not write what the new holder also stores.
    super::lease::check_fence(&tx, src.lease, src.epoch)?;
    let now = (env.now)();
    let mut report = IngestReport::default();
    let mut pending = std::collections::BTreeMap::new();
    let ch = src.channel.as_str();
    for bad in &batch.malformed {
        report.malformed += 1;
        if let Some(id) = &bad.external_id {
            tx.exec(
                "INSERT INTO inbound_event(channel, account, external_id, received_at, outcome, payload) VALUES (?1, ?2, ?3, ?4, 'malformed', ?5)
                 ON CONFLICT DO NOTHING",
                params![ch, src.account, id, ms(now), bad.reason],
            )?;
        }
    }
    for ev in &batch.events {
        let fresh = tx.exec(
            "INSERT INTO inbound_event(channel, account, external_id, received_at, outcome, payload) VALUES (?1, ?2, ?3, ?4, 'received', ?5)
             ON CONFLICT DO NOTHING",
            params![ch, src.account, ev.external_id, ms(now), ev.payload],
        )?;
        if fresh == 0 {
            report.duplicates += 1;
            continue;
        }
        let inbound = ev.inbound.bounded(now);
        let (outcome, rid) = match &inbound {
            Inbound::Message(m) => message(
                &tx,
                env,
                src,
                m,
                rules,
                now,
                &mut report,
                &mut Reindex::Later(&mut pending),
            )?,
            Inbound::Edit {
                chat,
                message,
                text,
                at,
            } => {
                match tx
                    .row(
                        "SELECT message_id, request_rid FROM channel_message WHERE channel = ?1 AND chat = ?2 AND external_id = ?3",
                        params![ch, chat, message],
                        |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?)),
                    )
                    .optional()?
                {
                    Some((Some(orig), rid)) => {
                        let req = request_id(&tx, rid)?;
                        // The update's own id: a citizen may edit one message twice within
                        // the second Telegram stamps edits with.
                        let key = format!("{chat}:{message}:edit:{}", ev.external_id);
                        let op = Op::CitizenEdit {
                            message_id: derive(src, &key, "message", *at),
                            edit_of: rows::parse("message id", &orig)?,
                            body: text.clone(),
                            at: *at,
                        };
                        let m = Mutation { id: derive(src, &key, "mutation", *at), ..Mutation::new(req, ch, now, op) };
                        apply_with(&tx, env, &m, &mut Reindex::Later(&mut pending))?;
                        report.edited += 1;
                        ("edited", Some(rid))
                    }
                    _ => {
                        report.ignored += 1;
                        ("edit_of_unknown", None)
                    }
                }
            }
            Inbound::Command {
                chat,
                message,
                command,
                ..
            } => {
                report.commands += 1;
                command_reply(&tx, env, src.channel, chat, message, command, rules, now)?;
                ("command", None)
            }
            Inbound::Ignored { .. } => {
                report.ignored += 1;
                ("ignored", None)
            }
        };
        tx.exec(
            "UPDATE inbound_event SET outcome = ?4, request_rid = ?5 WHERE channel = ?1 AND account = ?2 AND external_id = ?3",
            params![ch, src.account, ev.external_id, outcome, rid],
        )?;
    }
    reindex_all(&tx, &pending)?;
    if let Some(cursor) = &batch.next_cursor {
        advance_cursor(&tx, ch, src.account, cursor, ms(now))?;
    }
    tx.commit()?;
    Ok(report)
}

/// The cursor only moves forward: a stale batch (a paused poller) cannot rewind it.
fn advance_cursor(
    tx: &Connection,
    ch: &str,
    account: &str,
    cursor: &str,
    now: i64,
) -> Result<(), StoreError> {
    let current: Option<String> = tx
        .row(
            "SELECT cursor FROM channel_cursor WHERE channel = ?1 AND account = ?2",
            params![ch, account],
            |r| r.get(0),
        )
        .optional()?;
    let newer = match (
        current.as_deref().and_then(|c| c.parse::<i64>().ok()),
        cursor.parse::<i64>().ok(),
    ) {
        (Some(old), Some(new)) => new > old,
        _ => current.as_deref() != Some(cursor),
    };
    if newer {
        tx.exec(
            "INSERT INTO channel_cursor(channel, account, cursor, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(channel, account) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            params![ch, account, cursor, now],
        )?;
    }
    Ok(())
}

pub fn cursor(
    conn: &Connection,
    channel: Channel,
    account: &str,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .row(
            "SELECT cursor FROM channel_cursor WHERE channel = ?1 AND account = ?2",
            params![channel.as_str(), account],
            |r| r.get(0),
        )
        .optional()?)
}

fn request_id(tx: &Connection, rid: i64) -> Result<Uuid, StoreError> {
    let id: String = tx.row("SELECT id FROM request WHERE rid = ?1", [rid], |r| r.get(0))?;
    rows::parse("request id", &id)
}

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

fn map_message(
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

/// The requests a new citizen message might belong to, for the intake rules to choose from.
fn candidates(
    tx: &Connection,
    ch: &str,
    m: &IncomingMessage,
) -> Result<Candidates<i64>, StoreError> {
    let mapped = |external: &str| -> Result<Option<i64>, StoreError> {
        Ok(tx
            .row(
                "SELECT request_rid FROM channel_message WHERE channel = ?1 AND chat = ?2 AND external_id = ?3",
                params![ch, m.chat, external],
                |r| r.get(0),
            )
            .optional()?)
    };
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
#[allow(clippy::too_many_arguments)]
fn message(
    tx: &Connection,
    env: &Env,
    src: &Source,
    m: &IncomingMessage,
    rules: &IngestRules,
    now: DateTime<Utc>,
    report: &mut IngestReport,
    later: &mut Reindex,
) -> Result<(&'static str, Option<i64>), StoreError> {
    let channel = src.channel;
    if channel == Channel::Telegram
        && let Some(department) = super::department_chat::department_of(rules, &m.chat)
    {
        let department = department.to_string();
        return super::department_chat::message(
            tx,
            env,
            src,
            m,
            &department,
            rules,
            now,
            report,
            later,
        );
    }
    if channel == Channel::Email {
        return super::department_chat::mail(tx, env, src, m, rules, now, report, later);
    }
    let ch = channel.as_str();
    let key = format!("{}:{}", m.chat, m.message);
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
        let key = format!("{}:{}", m.chat, m.message);
        let message_id = derive(src, &key, "message", m.at);
        let op = Op::Feedback {
            helped,
            message_id,
            body: m.text.clone(),
            at: m.at,
        };
        apply_with(
            tx,
            env,
            &Mutation {
                id: derive(src, &key, "mutation", m.at),
                ..Mutation::new(r.id, ch, now, op)
            },
            later,
        )?;
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
            append(tx, env, src, m, rid, now, later)?;
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
    let request_id = derive(src, &key, "request", m.at);
    // Created, triaged and acknowledged in memory, the row written once (`chain`); only a
    // request that may belong to an open incident is written first, for the neighbours'
    // search to find it in the place index before the acknowledgement names the incident.
    let mut chain = Chain::load(tx, request_id)?;
    let create = Mutation {
        id: derive(src, &key, "create", m.at),
        ..Mutation::new(request_id, ch, now, Op::Create(Box::new(new)))
    };
    let created = chain.push(tx, env, create)?.clone();
    let decided = super::triage::auto_apply(
        &created,
        &env.catalog,
        |what| derive(src, &key, what, m.at),
        now,
    );
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
            id: derive(src, &key, "acknowledge", m.at),
            ..Mutation::new(
                request_id,
                ch,
                now,
                Op::Acknowledge {
                    message_id: derive(src, &key, "ack", m.at),
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
fn append(
    tx: &Connection,
    env: &Env,
    src: &Source,
    m: &IncomingMessage,
    rid: i64,
    now: DateTime<Utc>,
    later: &mut Reindex,
) -> Result<(), StoreError> {
    let ch = src.channel.as_str();
    let key = format!("{}:{}", m.chat, m.message);
    let message_id = derive(src, &key, "message", m.at);
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
    apply_with(
        tx,
        env,
        &Mutation {
            id: derive(src, &key, "mutation", m.at),
            ..Mutation::new(target, ch, now, op)
        },
        later,
    )?;
    // The citizen shared their own contact: their request takes the number.
    if let Some(phone) = &m.phone {
        let request = link.as_ref().map_or(target, |l| l.id);
        let op = Op::SetPhone {
            phone: phone.clone(),
        };
        apply_with(
            tx,
            env,
            &Mutation {
                id: derive(src, &key, "phone", m.at),
                ..Mutation::new(request, ch, now, op)
            },
            later,
        )?;
    }
    map_message(tx, ch, &m.chat, &m.message, Some(message_id), rid)?;
    queue_files(tx, ch, m, rid, ms(now))?;
    if let Some(g) = &m.media_group {
        map_message(tx, ch, &m.chat, &format!("album:{g}"), None, rid)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn command_reply(
    tx: &Connection,
    env: &Env,
    channel: Channel,
    chat: &str,
    message: &str,
    command: &Command,
    rules: &IngestRules,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let found = match command.asked_number() {
        Some(num) => rows::load_by(tx, "number", &num.to_string())?.map(|(_, r)| r),
        None => None,
    };
    let Some(text) = intake::answer(command, found.as_ref(), channel, chat) else {
        return Ok(());
    };
    let body = rules.say(&text, env);
    outbox::enqueue_raw(tx, channel, chat, Some(message), &body, ms(now))
}

/// Ids for what one channel update causes, the same whoever stores it: when a gateway that
/// lost its lease stored an update and the new holder stores it again, the server sees one
/// action (deduplicated by mutation id) with one request and one message id. Time-ordered
/// like v7, from `at`, so they sort as the rest of the store's ids.
pub(super) fn derive(src: &Source, key: &str, what: &str, at: DateTime<Utc>) -> Uuid {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(format!(
        "{}\u{0}{}\u{0}{key}\u{0}{what}",
        src.channel.as_str(),
        src.account
    ));
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash[..16]);
    let ms = at.timestamp_millis().max(0) as u64;
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    b[6] = (b[6] & 0x0F) | 0x70;
    b[8] = (b[8] & 0x3F) | 0x80;
    Uuid::from_bytes(b)
}
