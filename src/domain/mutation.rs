//! Every operator action is one intent-level mutation, and one pure `apply` decides it.
//! The local store, the CLI, the console and (later) the sync server all call `apply`, so the
//! rules cannot drift apart between them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::request::{
    Attachment, AttachmentState, Channel, ChannelRef, DeliveryState, Location, Priority,
};
use super::sla::{Calendar, Clock};
use super::status::{CloseReason, Status, TransitionError};

mod apply;
mod feedback;
mod incident;
mod merge;
mod reply;
pub use apply::{Ctx, Outcome, apply};
pub use merge::merged_into;

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
    /// After this long without the citizen's answer to a question, they are reminded once.
    pub waiting_reminder: Duration,
    /// After this long without an answer, the request closes politely as `no_answer`.
    pub waiting_close: Duration,
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
            waiting_reminder: Duration::hours(24),
            waiting_close: Duration::days(3),
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
    /// The citizen's phone, as given; `fields::check` keeps it normalised (`domain::phone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
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
    /// Creates a mass incident rather than a citizen's request: `text` is its title.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub incident: bool,
}

/// How an undelivered reply was dealt with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Settle {
    /// The operator called the citizen and told them: on record as a reply by phone, and it
    /// counts for the clock.
    Phoned { message_id: Uuid, body: String },
    /// No channel reaches the citizen: the center did what it could, and the first-response
    /// clock stops here.
    Unreachable,
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
        /// Photos and files the department sent with it through a channel (a photo report in
        /// its Telegram group), fetched like a citizen's; only the channels attach them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<Attachment>,
    },
    /// The department gives the request back as not theirs, with the reason: the operators'
    /// queue has it again (`in_work`, no department), the department clock stopped.
    Return {
        note_id: Uuid,
        reason: String,
    },
    Reply {
        message_id: Uuid,
        body: String,
    },
    /// A reply that asks the citizen something and waits: `waiting_citizen`, the resolution
    /// clock held, a reminder and a polite close if no answer comes (`Op::Remind`,
    /// `Op::CloseUnanswered`), resumed by the citizen's answer.
    Ask {
        message_id: Uuid,
        body: String,
    },
    /// The reminder about an open question (the gateway sends it once per question): an
    /// automatic message like the acknowledgement. Nothing when the question is no longer open.
    Remind {
        message_id: Uuid,
        body: String,
    },
    /// No answer came in time: the closing text goes and the request closes as `no_answer`.
    /// Nothing when the question is no longer open.
    CloseUnanswered {
        message_id: Uuid,
        body: String,
    },
    /// «Вопрос решён?» after a resolved close (`domain::feedback`): an automatic message, once
    /// per request. Nothing when the request is no longer closed as resolved or was asked.
    AskFeedback {
        message_id: Uuid,
        body: String,
    },
    /// The citizen's answer to «Вопрос решён?», in their words (`body`, a button's label for
    /// a tap): «нет» reopens the request. Nothing when no question waits for an answer.
    Feedback {
        helped: bool,
        message_id: Uuid,
        body: String,
        at: DateTime<Utc>,
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
        /// Who wrote it when not this request's own citizen: a follow-up that came through a
        /// request merged into this one («Name · 2026-000123»).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
    },
    /// The citizen edited a message: a new revision, the old one stays.
    CitizenEdit {
        message_id: Uuid,
        edit_of: Uuid,
        body: String,
        at: DateTime<Utc>,
    },
    /// An automatic message from the center (the acknowledgement): no clock stops for it.
    /// [`ACK_NUMBER`] in its body becomes the request's number where it is applied.
    Acknowledge {
        message_id: Uuid,
        body: String,
    },
    /// The channel's last word on an operator's reply (the gateway records it): delivered
    /// stops the first-response clock, failed or unknown puts the request in the undelivered
    /// queue. About any other message it changes nothing.
    Delivery {
        message_id: Uuid,
        state: DeliveryState,
    },
    /// An operator deals with a reply the citizen did not get (sending it again is a new
    /// `Reply`).
    SettleReply {
        how: Settle,
    },
    /// The rest of a department's photo report sent as an album: each photo is a message of
    /// its own, and the first one was the answer. Only the channels record it.
    DepartmentFiles {
        attachments: Vec<Attachment>,
    },
    /// The gateway fetched (or gave up on) a file the citizen sent.
    SetAttachment {
        source: String,
        state: AttachmentState,
        local_path: Option<String>,
    },
    /// The request becomes a member of an incident (moving from another one, if any).
    JoinIncident {
        incident_id: Uuid,
    },
    LeaveIncident,
    /// The candidate group this request was in is not one incident: keep it out of groups.
    Ungroup,
    /// An incident's new title.
    Retitle {
        title: String,
    },
    /// This request's thread joins request `into`'s (`domain::merge`): it closes as `merged`,
    /// its citizen's follow-ups are placed on `into`, and answers given there come back here
    /// (`Op::Relay`), so each citizen is answered on their own channel.
    Merge {
        into: Uuid,
    },
    /// An answer given on request `from`, which this one is merged into, carried to this
    /// request's citizen. Nothing when this request is no longer merged into `from`.
    Relay {
        from: Uuid,
        message_id: Uuid,
        body: String,
    },
    /// The citizen's phone, learnt after the request was made (they shared their contact).
    SetPhone {
        phone: String,
    },
    /// A citizen's follow-up `message_id` became request `into` (`domain::split`): recorded
    /// on the request it came in on, which goes on as it was.
    SplitOff {
        message_id: Uuid,
        into: Uuid,
    },
    /// The shift leads are told that `level`'s clock breached, or with `at_risk` that it is
    /// about to (the gateway sends `body` to their `chat` through the outbox): once per
    /// request, clock and stage, audited on the request.
    Escalate {
        level: super::request::ClockKind,
        chat: String,
        message_id: Uuid,
        body: String,
        /// A warning before the breach; absent (a breach) in mutations written before it.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        at_risk: bool,
    },
}

/// Where an acknowledgement names the request's number: filled in by `apply`, so the text a
/// citizen gets carries the number the server gave, never a console's provisional one.
pub const ACK_NUMBER: &str = "{number}";

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
            phone: None,
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
            incident: false,
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
            Op::Return { .. } => "return",
            Op::Reply { .. } => "reply",
            Op::Ask { .. } => "ask",
            Op::Remind { .. } => "remind",
            Op::CloseUnanswered { .. } => "close_unanswered",
            Op::AskFeedback { .. } => "ask_feedback",
            Op::Feedback { .. } => "feedback",
            Op::AddNote { .. } => "add_note",
            Op::Close { .. } => "close",
            Op::Reopen => "reopen",
            Op::LinkDuplicate { .. } => "link_duplicate",
            Op::CitizenMessage { .. } => "citizen_message",
            Op::CitizenEdit { .. } => "citizen_edit",
            Op::Acknowledge { .. } => "acknowledge",
            Op::Delivery { .. } => "delivery",
            Op::SettleReply { .. } => "settle_reply",
            Op::SetAttachment { .. } => "set_attachment",
            Op::DepartmentFiles { .. } => "department_files",
            Op::JoinIncident { .. } => "join_incident",
            Op::LeaveIncident => "leave_incident",
            Op::Ungroup => "ungroup",
            Op::Retitle { .. } => "retitle",
            Op::Escalate { .. } => "escalate",
            Op::SplitOff { .. } => "split_off",
            Op::SetPhone { .. } => "set_phone",
            Op::Merge { .. } => "merge",
            Op::Relay { .. } => "relay",
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
    #[error("the request has no undelivered reply")]
    NoUndeliveredReply,
    #[error("{0}")]
    Invalid(String),
    /// Longer than `fields` allows (in characters).
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} out of range: {why}")]
    OutOfRange {
        field: &'static str,
        why: &'static str,
    },
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
            Rejection::NoUndeliveredReply => "no_undelivered_reply",
            Rejection::Invalid(_) => "invalid",
            Rejection::TooLong { .. } => "too_long",
            Rejection::OutOfRange { .. } => "out_of_range",
        }
    }
}
