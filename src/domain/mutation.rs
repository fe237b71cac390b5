//! Every operator action is one intent-level mutation, and one pure `apply` decides it.
//! The local store, the CLI, the console and (later) the sync server all call `apply`, so the
//! rules cannot drift apart between them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::catalog::Catalog;
use super::request::{
    Attachment, AttachmentState, Channel, ChannelRef, DeliveryState, Direction, Event, Location,
    Message, Note, NoteKind, Priority, Request, RequestNumber,
};
use super::sla::{Calendar, Clock};
use super::status::{Action, CloseReason, Status, TransitionError};

/// Targets and the calendar the response clocks run on.
#[derive(Debug, Clone)]
pub struct ClockPolicy {
    pub calendar: Calendar,
    pub first_response: Duration,
    pub department_answer: Duration,
    pub resolution: Duration,
    pub at_risk_ratio: f64,
    /// First-response targets of some channels, over `first_response`; a topic's own wins.
    pub channel_first_response: std::collections::BTreeMap<Channel, Duration>,
    /// Hold the resolution clock while the request waits for its department.
    pub pause_resolution_while_waiting: bool,
}

impl Default for ClockPolicy {
    /// The shipped targets: first response 4 h, department 24 h, resolution 72 h, at risk at
    /// 75 %, round the clock in Moscow time (the config's defaults).
    fn default() -> Self {
        ClockPolicy {
            calendar: Calendar::always(chrono_tz::Europe::Moscow),
            first_response: Duration::hours(4),
            department_answer: Duration::hours(24),
            resolution: Duration::hours(72),
            at_risk_ratio: 0.75,
            channel_first_response: Default::default(),
            pause_resolution_while_waiting: true,
        }
    }
}

impl ClockPolicy {
    fn clock(&self, started: DateTime<Utc>, target: Duration) -> Clock {
        Clock::start(&self.calendar, started, target, self.at_risk_ratio)
    }
}

/// A request as it enters the system: from a channel, an import, or a phone call typed in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRequest {
    pub channel: Channel,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub channel_ref: ChannelRef,
    #[serde(default)]
    pub citizen: Option<String>,
    pub text: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    #[serde(default)]
    pub location: Option<Location>,
    pub received_at: DateTime<Utc>,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub priority: Priority,
    /// Imports from another system may bring their history.
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub close_reason: Option<CloseReason>,
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub first_response_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", content = "args", rename_all = "snake_case")]
pub enum Op {
    Create(Box<NewRequest>),
    Claim,
    Release,
    Assign {
        assignee: Option<String>,
    },
    /// The department follows the topic unless `department_follows` is false.
    SetTopic {
        topic: Option<String>,
        department_follows: bool,
    },
    SetDepartment {
        department: Option<String>,
    },
    SetPriority {
        priority: Priority,
    },
    Tag {
        tag: String,
    },
    Untag {
        tag: String,
    },
    Forward {
        department: Option<String>,
        note_id: Uuid,
        note: Option<String>,
    },
    DepartmentAnswer {
        note_id: Uuid,
        body: String,
    },
    Reply {
        message_id: Uuid,
        body: String,
    },
    AddNote {
        note_id: Uuid,
        body: String,
    },
    Close {
        reason: CloseReason,
    },
    Reopen,
    LinkDuplicate {
        parent_id: Uuid,
    },
    CitizenMessage {
        message_id: Uuid,
        body: String,
        at: DateTime<Utc>,
        #[serde(default)]
        attachments: Vec<Attachment>,
        #[serde(default)]
        location: Option<Location>,
    },
    /// The citizen edited a message: a new revision, the old one stays.
    CitizenEdit {
        message_id: Uuid,
        edit_of: Uuid,
        body: String,
        at: DateTime<Utc>,
    },
    /// An automatic message from the center (the acknowledgement): no clock stops for it.
    Acknowledge {
        message_id: Uuid,
        body: String,
    },
    /// The gateway fetched (or gave up on) a file the citizen sent.
    SetAttachment {
        source: String,
        state: AttachmentState,
        local_path: Option<String>,
    },
}

impl NewRequest {
    /// A fresh request with nothing but its channel, text and receipt time.
    pub fn new(
        channel: Channel,
        text: impl Into<String>,
        received_at: DateTime<Utc>,
    ) -> NewRequest {
        NewRequest {
            channel,
            external_id: None,
            channel_ref: ChannelRef::default(),
            citizen: None,
            text: text.into(),
            attachments: vec![],
            location: None,
            received_at,
            topic: None,
            department: None,
            priority: Priority::Normal,
            status: None,
            close_reason: None,
            closed_at: None,
            first_response_at: None,
        }
    }
}

impl Op {
    pub fn name(&self) -> &'static str {
        match self {
            Op::Create(_) => "create",
            Op::Claim => "claim",
            Op::Release => "release",
            Op::Assign { .. } => "assign",
            Op::SetTopic { .. } => "set_topic",
            Op::SetDepartment { .. } => "set_department",
            Op::SetPriority { .. } => "set_priority",
            Op::Tag { .. } => "tag",
            Op::Untag { .. } => "untag",
            Op::Forward { .. } => "forward",
            Op::DepartmentAnswer { .. } => "department_answer",
            Op::Reply { .. } => "reply",
            Op::AddNote { .. } => "add_note",
            Op::Close { .. } => "close",
            Op::Reopen => "reopen",
            Op::LinkDuplicate { .. } => "link_duplicate",
            Op::CitizenMessage { .. } => "citizen_message",
            Op::CitizenEdit { .. } => "citizen_edit",
            Op::Acknowledge { .. } => "acknowledge",
            Op::SetAttachment { .. } => "set_attachment",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mutation {
    /// Idempotency key: the same mutation applied twice has effect once.
    pub id: Uuid,
    pub request_id: Uuid,
    pub actor: String,
    /// The writer's clock: audit only, never decides order.
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub op: Op,
}

impl Mutation {
    pub fn new(request_id: Uuid, actor: &str, at: DateTime<Utc>, op: Op) -> Mutation {
        Mutation {
            id: Uuid::now_v7(),
            request_id,
            actor: actor.to_string(),
            at,
            op,
        }
    }
}

/// Why a mutation was refused. `code` is stable (scripts and sync clients match on it).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    #[error("request not found")]
    NotFound,
    #[error("request already exists")]
    AlreadyExists,
    #[error(transparent)]
    InvalidTransition(#[from] TransitionError),
    #[error("unknown topic `{0}`")]
    UnknownTopic(String),
    #[error("unknown department `{0}`")]
    UnknownDepartment(String),
    #[error("already claimed by {0}")]
    AlreadyClaimed(String),
    #[error("assigned to {0}, not to you")]
    NotAssignee(String),
    #[error("no department to forward to: give one")]
    NoDepartment,
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("a request cannot be a duplicate of itself")]
    SelfLink,
    #[error("{0}")]
    Invalid(String),
}

impl Rejection {
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::NotFound => "not_found",
            Rejection::AlreadyExists => "already_exists",
            Rejection::InvalidTransition(_) => "invalid_transition",
            Rejection::UnknownTopic(_) => "unknown_topic",
            Rejection::UnknownDepartment(_) => "unknown_department",
            Rejection::AlreadyClaimed(_) => "already_claimed",
            Rejection::NotAssignee(_) => "not_assignee",
            Rejection::NoDepartment => "no_department",
            Rejection::Empty(_) => "empty",
            Rejection::SelfLink => "self_link",
            Rejection::Invalid(_) => "invalid",
        }
    }
}

pub struct Ctx<'a> {
    pub catalog: &'a Catalog,
    pub policy: &'a ClockPolicy,
    /// The deciding clock: the store's (later the server's), never the writer's.
    pub now: DateTime<Utc>,
    /// The number the store allocated, used only by `Create`.
    pub new_number: Option<RequestNumber>,
}

/// What an applied mutation changes: the request as it is now, and rows to append.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub request: Request,
    pub events: Vec<Event>,
    pub messages: Vec<Message>,
    pub notes: Vec<Note>,
}

pub fn apply(current: Option<&Request>, m: &Mutation, ctx: &Ctx) -> Result<Outcome, Rejection> {
    let req = match (&m.op, current) {
        (Op::Create(new), None) => return create(m, new, ctx),
        (Op::Create(_), Some(_)) => return Err(Rejection::AlreadyExists),
        (_, None) => return Err(Rejection::NotFound),
        (_, Some(r)) => r.clone(),
    };
    let untouched_since = req.updated_at;
    let mut out = Outcome {
        request: req,
        events: vec![],
        messages: vec![],
        notes: vec![],
    };
    let now = ctx.now;
    // Events and notes are stamped with `updated_at`; restored below when nothing changed.
    out.request.updated_at = now;
    match &m.op {
        Op::Create(_) => return Err(Rejection::AlreadyExists),
        Op::Claim => {
            transition(&mut out, m, Action::Claim)?;
            match out.request.assignee.clone() {
                Some(a) if a == m.actor => {}
                Some(a) => return Err(Rejection::AlreadyClaimed(a)),
                None => set_assignee(&mut out, m, Some(m.actor.clone())),
            }
        }
        Op::Release => match out.request.assignee.clone() {
            Some(a) if a == m.actor => set_assignee(&mut out, m, None),
            Some(a) => return Err(Rejection::NotAssignee(a)),
            None => {}
        },
        Op::Assign { assignee } => {
            transition(&mut out, m, Action::Change)?;
            let assignee = assignee.as_ref().map(|a| a.trim().to_string());
            if assignee.as_deref() == Some("") {
                return Err(Rejection::Empty("assignee"));
            }
            if assignee.is_some() {
                transition(&mut out, m, Action::Claim)?;
            }
            set_assignee(&mut out, m, assignee);
        }
        Op::SetTopic {
            topic,
            department_follows,
        } => {
            if let Some(t) = topic
                && ctx.catalog.topic(t).is_none()
            {
                return Err(Rejection::UnknownTopic(t.clone()));
            }
            let old = out.request.topic.clone();
            if old != *topic {
                out.request.topic = topic.clone();
                record(&mut out, m, "topic", old, topic.clone());
            }
            if *department_follows
                && let Some(dep) = topic
                    .as_deref()
                    .and_then(|t| ctx.catalog.default_department(t))
            {
                set_department(&mut out, m, Some(dep.to_string()));
            }
        }
        Op::SetDepartment { department } => {
            check_department(ctx, department.as_deref())?;
            set_department(&mut out, m, department.clone());
        }
        Op::SetPriority { priority } => {
            let old = out.request.priority;
            if old != *priority {
                out.request.priority = *priority;
                record(
                    &mut out,
                    m,
                    "priority",
                    Some(old.to_string()),
                    Some(priority.to_string()),
                );
            }
        }
        Op::Tag { tag } => {
            let tag = normalize_tag(tag)?;
            if out.request.tags.insert(tag.clone()) {
                record(&mut out, m, "tag", None, Some(tag));
            }
        }
        Op::Untag { tag } => {
            let tag = normalize_tag(tag)?;
            if out.request.tags.remove(&tag) {
                record(&mut out, m, "tag", Some(tag), None);
            }
        }
        Op::Forward {
            department,
            note_id,
            note,
        } => {
            check_department(ctx, department.as_deref())?;
            let dep = department
                .clone()
                .or_else(|| out.request.department.clone())
                .ok_or(Rejection::NoDepartment)?;
            take_over(&mut out, m)?;
            transition(&mut out, m, Action::Forward)?;
            set_department(&mut out, m, Some(dep.clone()));
            let target = ctx
                .catalog
                .answer_target(&dep)
                .unwrap_or(ctx.policy.department_answer);
            out.request.department_clock = Some(ctx.policy.clock(now, target));
            let body = note.as_deref().map(str::trim).unwrap_or("").to_string();
            add_note(&mut out, m, *note_id, NoteKind::Forward, body);
        }
        Op::DepartmentAnswer { note_id, body } => {
            let body = non_empty(body, "answer")?;
            transition(&mut out, m, Action::DepartmentAnswer)?;
            if let Some(c) = out.request.department_clock.as_mut() {
                c.stop(now);
            }
            add_note(&mut out, m, *note_id, NoteKind::DepartmentAnswer, body);
        }
        Op::Reply { message_id, body } => {
            let body = non_empty(body, "reply")?;
            take_over(&mut out, m)?;
            transition(&mut out, m, Action::Reply)?;
            if out.request.first_response.stopped.is_none() {
                out.request.first_response.stop(now);
                record(
                    &mut out,
                    m,
                    "first_response_at",
                    None,
                    Some(now.to_rfc3339()),
                );
            }
            let delivery = if out.request.channel.delivers() {
                DeliveryState::Queued
            } else {
                DeliveryState::Recorded
            };
            out.messages.push(Message {
                id: *message_id,
                request_id: out.request.id,
                direction: Direction::Out,
                author: m.actor.clone(),
                body,
                at: now,
                delivery: Some(delivery),
                edit_of: None,
            });
        }
        Op::AddNote { note_id, body } => {
            let body = non_empty(body, "note")?;
            add_note(&mut out, m, *note_id, NoteKind::Internal, body);
        }
        Op::Close { reason } => close(&mut out, m, *reason)?,
        Op::Reopen => {
            transition(&mut out, m, Action::Reopen)?;
            reopen_clocks(&mut out, m, ctx);
        }
        Op::LinkDuplicate { parent_id } => {
            if *parent_id == out.request.id {
                return Err(Rejection::SelfLink);
            }
            let old = out.request.parent_id.map(|p| p.to_string());
            out.request.parent_id = Some(*parent_id);
            record(&mut out, m, "parent", old, Some(parent_id.to_string()));
            if out.request.status.is_open() {
                close(&mut out, m, CloseReason::Duplicate)?;
            }
        }
        Op::CitizenMessage {
            message_id,
            body,
            at,
            attachments,
            location,
        } => {
            let was_closed = !out.request.status.is_open();
            transition(&mut out, m, Action::CitizenWrote)?;
            if was_closed {
                reopen_clocks(&mut out, m, ctx);
            }
            for a in attachments {
                out.request.attachments.push(a.clone());
                record(&mut out, m, "attachment", None, Some(a.kind.clone()));
            }
            if out
                .request
                .location
                .as_ref()
                .is_none_or(|l| l.lat.is_none())
                && let Some(l) = location
            {
                let mut l = l.clone();
                if l.address.is_none() {
                    l.address = out
                        .request
                        .location
                        .as_ref()
                        .and_then(|old| old.address.clone());
                }
                record(
                    &mut out,
                    m,
                    "location",
                    None,
                    Some(format!("{:?}, {:?}", l.lat, l.lon)),
                );
                out.request.location = Some(l);
            }
            out.messages
                .push(citizen_message(&out.request, *message_id, body, *at, None));
        }
        Op::CitizenEdit {
            message_id,
            edit_of,
            body,
            at,
        } => {
            record(&mut out, m, "edited", None, Some(edit_of.to_string()));
            out.messages.push(citizen_message(
                &out.request,
                *message_id,
                body,
                *at,
                Some(*edit_of),
            ));
        }
        Op::Acknowledge { message_id, body } => {
            let body = non_empty(body, "acknowledgement")?;
            out.messages.push(Message {
                id: *message_id,
                request_id: out.request.id,
                direction: Direction::Out,
                author: m.actor.clone(),
                body,
                at: now,
                delivery: Some(DeliveryState::Queued),
                edit_of: None,
            });
        }
        Op::SetAttachment {
            source,
            state,
            local_path,
        } => {
            let Some(a) = out
                .request
                .attachments
                .iter_mut()
                .find(|a| a.source.as_deref() == Some(source.as_str()))
            else {
                return Err(Rejection::Invalid(format!("no attachment `{source}`")));
            };
            if a.state != *state || a.local_path != *local_path {
                let old = format!("{:?}", a.state);
                a.state = *state;
                a.local_path = local_path.clone();
                record(
                    &mut out,
                    m,
                    "attachment_state",
                    Some(old),
                    Some(format!("{state:?}")),
                );
            }
        }
    }
    // The center's resolution clock waits while the department has the request (its own
    // clock runs then): the center is not late for the time a third party takes.
    if ctx.policy.pause_resolution_while_waiting && out.request.status == Status::WaitingDepartment
    {
        out.request.resolution.pause(now);
    } else {
        out.request.resolution.resume(&ctx.policy.calendar, now);
    }
    if out.events.is_empty() && out.messages.is_empty() && out.notes.is_empty() {
        out.request.updated_at = untouched_since;
    }
    Ok(out)
}

fn create(m: &Mutation, new: &NewRequest, ctx: &Ctx) -> Result<Outcome, Rejection> {
    let text = new.text.trim();
    if text.is_empty() && new.attachments.is_empty() {
        return Err(Rejection::Empty("text"));
    }
    if let Some(t) = &new.topic
        && ctx.catalog.topic(t).is_none()
    {
        return Err(Rejection::UnknownTopic(t.clone()));
    }
    check_department(ctx, new.department.as_deref())?;
    let number = ctx
        .new_number
        .clone()
        .ok_or_else(|| Rejection::Invalid("no request number allocated".into()))?;
    let department = new.department.clone().or_else(|| {
        new.topic
            .as_deref()
            .and_then(|t| ctx.catalog.default_department(t))
            .map(str::to_string)
    });
    let received = new.received_at;
    let target = ctx
        .catalog
        .response_target(new.topic.as_deref())
        .or_else(|| ctx.policy.channel_first_response.get(&new.channel).copied())
        .unwrap_or(ctx.policy.first_response);
    let mut first_response = ctx.policy.clock(received, target);
    if let Some(at) = new.first_response_at {
        first_response.stop(at);
    }
    let mut resolution = ctx.policy.clock(received, ctx.policy.resolution);
    let status = new.status.unwrap_or(Status::New);
    let (close_reason, closed_at) = if status == Status::Closed {
        let at = new.closed_at.unwrap_or(received);
        resolution.stop(at);
        (
            Some(new.close_reason.unwrap_or(CloseReason::Resolved)),
            Some(at),
        )
    } else {
        if new.close_reason.is_some() || new.closed_at.is_some() {
            return Err(Rejection::Invalid(
                "close_reason and closed_at need status `closed`".into(),
            ));
        }
        (None, None)
    };
    let request = Request {
        id: m.request_id,
        number,
        channel: new.channel,
        external_id: new.external_id.clone(),
        channel_ref: new.channel_ref.clone(),
        citizen: new.citizen.clone(),
        text: text.to_string(),
        attachments: new.attachments.clone(),
        location: new.location.clone(),
        received_at: received,
        status,
        topic: new.topic.clone(),
        department,
        assignee: None,
        priority: new.priority,
        tags: Default::default(),
        parent_id: None,
        close_reason,
        closed_at,
        first_response,
        department_clock: None,
        resolution,
        updated_at: ctx.now,
    };
    let mut out = Outcome {
        request,
        events: vec![],
        messages: vec![],
        notes: vec![],
    };
    let number = out.request.number.to_string();
    record(&mut out, m, "created", None, Some(number));
    Ok(out)
}

fn record(out: &mut Outcome, m: &Mutation, field: &str, old: Option<String>, new: Option<String>) {
    out.events.push(Event {
        request_id: out.request.id,
        mutation_id: m.id,
        at: out.request.updated_at,
        actor: m.actor.clone(),
        field: field.to_string(),
        old,
        new,
    });
}

fn transition(out: &mut Outcome, m: &Mutation, action: Action) -> Result<(), Rejection> {
    let from = out.request.status;
    let to = from.after(action)?;
    if to != from {
        out.request.status = to;
        record(
            out,
            m,
            "status",
            Some(from.to_string()),
            Some(to.to_string()),
        );
    }
    Ok(())
}

/// Replying or forwarding an unclaimed request claims it, so two operators never answer one
/// citizen; someone else's request is refused.
fn take_over(out: &mut Outcome, m: &Mutation) -> Result<(), Rejection> {
    match out.request.assignee.clone() {
        Some(a) if a != m.actor => Err(Rejection::NotAssignee(a)),
        Some(_) => Ok(()),
        None if out.request.status.is_open() => {
            set_assignee(out, m, Some(m.actor.clone()));
            Ok(())
        }
        None => Ok(()),
    }
}

fn set_assignee(out: &mut Outcome, m: &Mutation, assignee: Option<String>) {
    let old = out.request.assignee.clone();
    if old != assignee {
        out.request.assignee = assignee.clone();
        record(out, m, "assignee", old, assignee);
    }
}

fn set_department(out: &mut Outcome, m: &Mutation, department: Option<String>) {
    let old = out.request.department.clone();
    if old != department {
        out.request.department = department.clone();
        record(out, m, "department", old, department);
    }
}

fn check_department(ctx: &Ctx, department: Option<&str>) -> Result<(), Rejection> {
    match department {
        Some(d) if ctx.catalog.department(d).is_none() => {
            Err(Rejection::UnknownDepartment(d.to_string()))
        }
        _ => Ok(()),
    }
}

fn close(out: &mut Outcome, m: &Mutation, reason: CloseReason) -> Result<(), Rejection> {
    transition(out, m, Action::Close)?;
    out.request.close_reason = Some(reason);
    out.request.closed_at = Some(m_now(out));
    let at = m_now(out);
    out.request.resolution.stop(at);
    if let Some(c) = out.request.department_clock.as_mut() {
        c.stop(at);
    }
    record(out, m, "close_reason", None, Some(reason.to_string()));
    Ok(())
}

fn reopen_clocks(out: &mut Outcome, m: &Mutation, ctx: &Ctx) {
    let old = out.request.close_reason.take().map(|r| r.to_string());
    out.request.closed_at = None;
    out.request.resolution = ctx.policy.clock(ctx.now, ctx.policy.resolution);
    record(out, m, "close_reason", old, None);
}

/// `apply` sets `updated_at` to the deciding clock before any change is recorded.
fn m_now(out: &Outcome) -> DateTime<Utc> {
    out.request.updated_at
}

fn add_note(out: &mut Outcome, m: &Mutation, id: Uuid, kind: NoteKind, body: String) {
    out.notes.push(Note {
        id,
        request_id: out.request.id,
        kind,
        author: m.actor.clone(),
        body,
        at: m_now(out),
    });
}

fn citizen_message(
    r: &Request,
    id: Uuid,
    body: &str,
    at: DateTime<Utc>,
    edit_of: Option<Uuid>,
) -> Message {
    Message {
        id,
        request_id: r.id,
        direction: Direction::In,
        author: r.citizen.clone().unwrap_or_default(),
        body: body.to_string(),
        at,
        delivery: None,
        edit_of,
    }
}

fn non_empty(body: &str, what: &'static str) -> Result<String, Rejection> {
    let body = body.trim();
    if body.is_empty() {
        Err(Rejection::Empty(what))
    } else {
        Ok(body.to_string())
    }
}

fn normalize_tag(tag: &str) -> Result<String, Rejection> {
    let t = tag.trim().to_lowercase();
    if t.is_empty() {
        return Err(Rejection::Empty("tag"));
    }
    if t.chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ',')
    {
        return Err(Rejection::Invalid(format!(
            "tag `{}` must be one word without commas",
            tag.trim()
        )));
    }
    Ok(t)
}
