//! A citizen's request and what hangs off it: messages, notes and the audit trail.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

use super::sla::{Clock, ClockState};
use super::status::{CloseReason, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Telegram,
    Vk,
    Pos,
    Open311,
    Phone,
    Email,
    Manual,
}

impl Channel {
    /// The longest text one outbound message may carry, in the channel's own units
    /// (Telegram counts UTF-16 code units).
    pub fn max_message_units(self) -> usize {
        match self {
            Channel::Telegram => 4096,
            Channel::Vk => 9000,
            _ => 20_000,
        }
    }

    pub const ALL: [Channel; 7] = [
        Channel::Telegram,
        Channel::Vk,
        Channel::Pos,
        Channel::Open311,
        Channel::Phone,
        Channel::Email,
        Channel::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Telegram => "telegram",
            Channel::Vk => "vk",
            Channel::Pos => "pos",
            Channel::Open311 => "open311",
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Manual => "manual",
        }
    }

    /// Whether the gateway sends replies itself; on the others the reply is recorded: the
    /// operator answers by hand (a phone call back), or, for a request a city portal filed
    /// through our Open311 endpoint, the portal reads it there (`status_notes`).
    pub fn delivers(self) -> bool {
        matches!(self, Channel::Telegram | Channel::Vk | Channel::Pos)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| {
            format!("unknown channel `{s}` (expected telegram, vk, pos, open311, phone, email, manual)")
        })
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Priority {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown priority `{s}` (expected low, normal, high, urgent)"))
    }
}

/// A human request number, `YYYY-NNNNNN`: unique and never reused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RequestNumber {
    pub year: i32,
    pub seq: u32,
}

impl RequestNumber {
    /// Where a team console's own numbers start, in a range the server never reaches (a city
    /// registers ~365,000 requests a year at most): they hold until the server numbers the
    /// request, and are never told to a citizen or printed as final.
    pub const PROVISIONAL_FROM: u32 = 900_000;

    pub fn new(year: i32, seq: u32) -> RequestNumber {
        RequestNumber { year, seq }
    }

    pub fn is_provisional(&self) -> bool {
        self.seq > Self::PROVISIONAL_FROM
    }
}

impl fmt::Display for RequestNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:06}", self.year, self.seq)
    }
}

impl FromStr for RequestNumber {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a request number (expected like 2026-000123)");
        let (y, n) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year = y.parse::<i32>().map_err(|_| bad())?;
        let seq = n.parse::<u32>().map_err(|_| bad())?;
        if seq == 0 {
            return Err(bad());
        }
        Ok(RequestNumber { year, seq })
    }
}

impl TryFrom<String> for RequestNumber {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<RequestNumber> for String {
    fn from(n: RequestNumber) -> String {
        n.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: Option<String>,
}

impl Location {
    pub fn map_link(&self) -> Option<String> {
        match (self.lat, self.lon) {
            (Some(lat), Some(lon)) => Some(format!(
                "https://www.openstreetmap.org/?mlat={lat:.6}&mlon={lon:.6}#map=18/{lat:.6}/{lon:.6}"
            )),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentState {
    Pending,
    Stored,
    TooLarge,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub kind: String,
    pub name: Option<String>,
    pub size: Option<u64>,
    /// The channel's handle for the file (a Telegram file_id, a URL).
    pub source: Option<String>,
    pub local_path: Option<String>,
    pub state: AttachmentState,
}

/// Where replies go: the channel's chat and the message to reply to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChannelRef {
    pub chat: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    FirstResponse,
    Department,
    Resolution,
}

impl ClockKind {
    pub const ALL: [ClockKind; 3] = [
        ClockKind::FirstResponse,
        ClockKind::Department,
        ClockKind::Resolution,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::FirstResponse => "first_response",
            ClockKind::Department => "department",
            ClockKind::Resolution => "resolution",
        }
    }

    /// The one definition of which clock runs on a request: none once closed; the citizen's
    /// first-response clock until the citizen has got an answer, whatever else happened
    /// (a request forwarded unanswered still owes its 4 hours); then the department's clock
    /// while the request waits for its department; then the resolution clock. The store
    /// answers from its columns with the same function.
    pub fn running(status: Status, answered: bool, department_running: bool) -> Option<ClockKind> {
        if !status.is_open() {
            None
        } else if !answered {
            Some(ClockKind::FirstResponse)
        } else if status == Status::WaitingDepartment && department_running {
            Some(ClockKind::Department)
        } else {
            Some(ClockKind::Resolution)
        }
    }
}

/// Serialized whole in sync patches and the server's documents; fields only ever get added
/// with `#[serde(default)]`, so an older console reads a newer server's request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: Uuid,
    pub number: RequestNumber,
    pub channel: Channel,
    /// The channel's own id for the request (deduplicates imports and inbound events).
    pub external_id: Option<String>,
    pub channel_ref: ChannelRef,
    pub citizen: Option<String>,
    /// The citizen's phone in E.164 (`domain::phone`): their other requests are found by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub location: Option<Location>,
    pub received_at: DateTime<Utc>,
    pub status: Status,
    pub topic: Option<String>,
    pub department: Option<String>,
    pub assignee: Option<String>,
    pub priority: Priority,
    pub tags: BTreeSet<String>,
    pub parent_id: Option<Uuid>,
    pub close_reason: Option<CloseReason>,
    pub closed_at: Option<DateTime<Utc>>,
    pub first_response: Clock,
    pub department_clock: Option<Clock>,
    pub resolution: Clock,
    pub updated_at: DateTime<Utc>,
    /// The latest operator reply while its fate matters ([`PendingReply`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<PendingReply>,
    /// A mass incident is kept as a request of its own kind, so it has a number, clocks,
    /// audit and sync like any other; its title is `text` (docs/incidents.md).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_incident: bool,
    /// The incident this request is a member of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<Uuid>,
    /// An operator dismissed the candidate group this request was in: it is left out of
    /// groups from then on, so the same group does not come back.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ungrouped: bool,
    /// The open question to the citizen while the request is `waiting_citizen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Waiting>,
    /// The clocks whose breach the shift leads were told of (`Op::Escalate`): once each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalated: Vec<ClockKind>,
    /// The clocks whose turning at risk the shift leads were warned of (`Op::Escalate` with
    /// `at_risk`, `[escalation] at_risk`): once each, before the breach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warned: Vec<ClockKind>,
    /// «Вопрос решён?» after a resolved close (`domain::feedback`): asked, and the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<Feedback>,
}

/// The citizen was asked whether closing the request as resolved helped (`Op::AskFeedback`),
/// and what they said (`Op::Feedback`): once per request, the first answer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub asked_at: DateTime<Utc>,
    /// `Some(true)`: «да», it helped; `Some(false)`: «нет», and the request reopened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helped: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<Utc>>,
}

/// An operator asked the citizen something (`Op::Ask`) and the request waits for the answer:
/// since when, and when the reminder went, so it goes once per question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub since: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_at: Option<DateTime<Utc>>,
}

/// An operator's reply on its way to the citizen. A reply counts for the first-response clock
/// when the channel has it (delivered, or accepted by a channel that can't say more): until
/// then it is kept here. Delivered, it goes. Failed or unknown, it stays, and the request is in
/// the undelivered queue until an operator sends it again, notes a phone call or marks the
/// citizen unreachable (`Op::SettleReply`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReply {
    pub message_id: Uuid,
    pub state: DeliveryState,
    /// When it took this state: sent, or when the channel said how it went.
    pub at: DateTime<Utc>,
}

impl Request {
    /// The department's answer is in and the citizen has not been answered since: the
    /// operator's inbox says «ответ деп.» so it is sent on (`::ans` pulls it in).
    pub fn department_answer_waiting(&self) -> bool {
        self.status == super::status::Status::InWork
            && self.department.is_some()
            && self
                .department_clock
                .as_ref()
                .is_some_and(|c| c.stopped.is_some())
    }

    pub fn first_response_at(&self) -> Option<DateTime<Utc>> {
        self.first_response.stopped
    }

    /// The clock that matters now: what the inbox sorts by and colours, what alerts,
    /// `--breached`, the dashboard's queue and the handover judge by ([`ClockKind::running`]).
    pub fn active_clock(&self) -> Option<(ClockKind, &Clock)> {
        let dep_running = self
            .department_clock
            .as_ref()
            .is_some_and(|c| c.stopped.is_none());
        Some(
            match ClockKind::running(
                self.status,
                self.first_response.stopped.is_some(),
                dep_running,
            )? {
                ClockKind::FirstResponse => (ClockKind::FirstResponse, &self.first_response),
                ClockKind::Department => (ClockKind::Department, self.department_clock.as_ref()?),
                ClockKind::Resolution => (ClockKind::Resolution, &self.resolution),
            },
        )
    }

    /// A reply the citizen did not get (failed, or the channel can't tell) waits for an
    /// operator: the undelivered queue, the row's mark, the alert.
    pub fn undelivered(&self) -> bool {
        self.reply
            .as_ref()
            .is_some_and(|p| matches!(p.state, DeliveryState::Failed | DeliveryState::Unknown))
    }

    /// Where the citizen reads our messages in public or without a bot to talk to (a VK wall
    /// comment thread, the feedback platform's page): no "reply to this message", no `/status`.
    pub fn public_thread(&self) -> bool {
        self.channel == Channel::Pos
            || (self.channel == Channel::Vk
                && self
                    .channel_ref
                    .chat
                    .as_deref()
                    .is_some_and(|c| c.starts_with("wall")))
    }

    /// The citizen's name as a greeting uses it: the person's own name, never an account
    /// handle (`zhenya_kuban (@zhenya_kuban)` has none; `Ольга (@olga_k)` is Ольга) or a
    /// profile link (`vk.com/id…`). `None` when there is no name to use.
    pub fn citizen_name(&self) -> Option<String> {
        let raw = self.citizen.as_deref()?.trim();
        let (name, handle) = match raw.rsplit_once(" (@") {
            Some((n, h)) => (n.trim(), Some(h.trim_end_matches(')'))),
            None => (raw, None),
        };
        let bare = name.trim_start_matches('@');
        if name.is_empty()
            || name.starts_with('@')
            || handle.is_some_and(|h| h.eq_ignore_ascii_case(bare))
            || name.contains("vk.com/")
            || name.starts_with("id") && name[2..].bytes().all(|b| b.is_ascii_digit())
            || name
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'+' || b == b' ' || b == b'-')
        {
            return None;
        }
        Some(name.to_string())
    }

    pub fn clock_state(&self, now: DateTime<Utc>) -> Option<ClockState> {
        self.active_clock().map(|(_, c)| c.state(now))
    }

    pub fn year(&self) -> i32 {
        self.received_at.year()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    In,
    Out,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for the gateway.
    Queued,
    Sending,
    Sent,
    /// The channel may or may not have it; an operator decides (Telegram has no idempotency).
    Unknown,
    Failed,
    /// The channel has no gateway (a phone call back): the reply is only on record.
    Recorded,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Unknown => "unknown",
            DeliveryState::Failed => "failed",
            DeliveryState::Recorded => "recorded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: Uuid,
    pub request_id: Uuid,
    pub direction: Direction,
    pub author: String,
    pub body: String,
    pub at: DateTime<Utc>,
    pub delivery: Option<DeliveryState>,
    /// Set on a citizen's edit: the message it revises (the request's id when the citizen
    /// edited the message that opened the request).
    #[serde(default)]
    pub edit_of: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    Internal,
    Forward,
    DepartmentAnswer,
    /// The department gave the request back as not theirs, and why (`Op::Return`).
    Returned,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: Uuid,
    pub request_id: Uuid,
    pub kind: NoteKind,
    pub author: String,
    pub body: String,
    pub at: DateTime<Utc>,
}

/// One line of the append-only audit trail: who changed what, when, from what to what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub request_id: Uuid,
    pub mutation_id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_formats_and_parses() {
        let n = RequestNumber::new(2026, 123);
        assert_eq!(n.to_string(), "2026-000123");
        assert_eq!("2026-000123".parse::<RequestNumber>(), Ok(n));
        assert_eq!(
            "2026-1234567".parse::<RequestNumber>().map(|n| n.seq),
            Ok(1_234_567)
        );
        for bad in [
            "",
            "2026",
            "26-000001",
            "2026-",
            "2026-00x1",
            "2026-000000",
            "abcd-000001",
        ] {
            assert!(bad.parse::<RequestNumber>().is_err(), "{bad}");
        }
    }

    #[test]
    fn channel_and_priority_names_round_trip() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(c));
        }
        for p in Priority::ALL {
            assert_eq!(p.as_str().parse::<Priority>(), Ok(p));
        }
        assert!("fax".parse::<Channel>().unwrap_err().contains("fax"));
    }

    #[test]
    fn map_link_needs_both_coordinates() {
        let l = Location {
            lat: Some(45.035),
            lon: Some(38.975),
            address: None,
        };
        assert!(l.map_link().unwrap().contains("mlat=45.035000"));
        let l = Location {
            lat: Some(45.0),
            lon: None,
            address: Some("ул. Красная, 1".into()),
        };
        assert_eq!(l.map_link(), None);
    }
}
