//! Storing what a channel poller received: every event of a batch, the requests and messages
//! it creates, the acknowledgements it queues, and the new cursor, in ONE transaction. Only
//! after it commits does the poller ask for more (which confirms the batch to Telegram), so a
//! crash at any point loses nothing and a re-delivered update is recognised by its id.
//! Where a citizen's message goes is `placement`'s; a department's, `department_chat`'s.

use super::rows::Cached;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::db::{Env, Reindex, apply_with, reindex_all};
use super::placement::message;
use super::rows::{self, ms};
use super::{StoreError, outbox};
use crate::domain::intake::{self, BotText};
use crate::domain::mutation::{Mutation, Op};
use crate::domain::{Channel, RequestNumber};
use crate::templates::{BotTexts, render};
use crate::wire::intake::{Batch, Command, Inbound};

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
    pub(super) fn topic_of(
        &self,
        category: &str,
        catalog: &crate::domain::Catalog,
    ) -> Option<String> {
        let topic = self
            .topics
            .get(category)
            .map(String::as_str)
            .unwrap_or(category);
        catalog.topic(topic).map(|_| topic.to_string())
    }

    pub(super) fn intake(&self) -> intake::Rules {
        intake::Rules {
            join_window: self.join_window,
            closed_policy: self.closed_policy,
            reopen_window: self.reopen_window,
            acknowledge: self.acknowledge,
        }
    }

    /// The bot's text in the center's words; times in the center's zone.
    pub(super) fn say(&self, text: &BotText, env: &Env) -> String {
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

/// One message of a batch being placed, inside the batch's transaction: what every step of
/// placing it reads (`placement`, `department_chat`).
#[derive(Clone, Copy)]
pub(super) struct Intake<'a> {
    pub tx: &'a Connection,
    pub env: &'a Env,
    pub src: &'a Source<'a>,
    pub rules: &'a IngestRules,
    pub now: DateTime<Utc>,
    pub m: &'a crate::wire::intake::IncomingMessage,
}

impl Intake<'_> {
    /// The id this message names for `what` (its request, its thread's message, a
    /// mutation): the same on every replay of the message ([`derive`]).
    pub fn id(&self, what: &str) -> Uuid {
        let key = format!("{}:{}", self.m.chat, self.m.message);
        derive(self.src, &key, what, self.m.at)
    }

    /// `op` on request `target` by `actor`, under the mutation id this message names for
    /// `what`.
    pub fn apply(
        &self,
        what: &str,
        target: Uuid,
        actor: &str,
        op: Op,
        later: &mut Reindex,
    ) -> Result<(), StoreError> {
        let mutation = Mutation {
            id: self.id(what),
            ..Mutation::new(target, actor, self.now, op)
        };
        apply_with(self.tx, self.env, &mutation, later).map(|_| ())
    }
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
            Inbound::Message(m) => {
                let cx = Intake {
                    tx: &tx,
                    env,
                    src,
                    rules,
                    now,
                    m,
                };
                message(&cx, &mut report, &mut Reindex::Later(&mut pending))?
            }
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

pub(super) fn request_id(tx: &Connection, rid: i64) -> Result<Uuid, StoreError> {
    let id: String = tx.row("SELECT id FROM request WHERE rid = ?1", [rid], |r| r.get(0))?;
    rows::parse("request id", &id)
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
