//! Intake channels. Each adapter turns its wire format into channel-neutral `Inbound` events and
//! sends outbound parts, reporting a `SendOutcome` that says whether a retry is safe. The
//! gateway (`gateway.rs`) runs the pollers and the sender against the store; adapters never
//! touch the store or the screen.

pub mod download;
pub mod gateway;
pub mod open311;
pub mod split;
pub mod tagged;
pub mod team;
pub mod telegram;
pub mod vk;

use chrono::{DateTime, Utc};
use std::time::Duration;

use crate::domain::request::{Attachment, Location};

/// A citizen's action, as far as the center cares.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    Message(IncomingMessage),
    /// The citizen edited an earlier message: history is kept, the operator sees "edited".
    Edit {
        chat: String,
        message: String,
        text: String,
        at: DateTime<Utc>,
    },
    Command {
        chat: String,
        message: String,
        command: Command,
        at: DateTime<Utc>,
    },
    /// Updates the center does not handle (poll answers, channel posts): stored, not acted on.
    Ignored {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct IncomingMessage {
    pub chat: String,
    pub message: String,
    pub author: Option<String>,
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub location: Option<Location>,
    /// The channel message this one replies to (a reply to our acknowledgement joins its request).
    pub reply_to: Option<String>,
    /// Telegram albums: several messages that belong to one request.
    pub media_group: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start,
    Status(String),
    Other(String),
}

/// One event with its channel id (deduplication key) and the raw payload kept for audit.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundEvent {
    pub external_id: String,
    pub payload: String,
    pub inbound: Inbound,
}

/// An update that could not be understood: logged and skipped, never a reason to stop polling.
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed {
    pub external_id: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    pub events: Vec<InboundEvent>,
    pub malformed: Vec<Malformed>,
    /// Where the next poll starts; stored with the events in one transaction.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PollError {
    /// Try again after a pause (network, 5xx, 429).
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Another poller or a webhook holds the account: stop and alarm.
    Conflict(String),
    /// The token is wrong or revoked: stop and alarm.
    Unauthorized(String),
}

/// One part of an outbound message, as the sender hands it to the adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundPart {
    /// Our id of this part (`message_id:part_no`), the same on every retry: channels with an
    /// idempotency key (VK's `random_id`) derive it from this.
    pub key: String,
    pub chat: String,
    pub reply_to: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    Sent {
        external_id: String,
    },
    /// Nothing reached the channel (connect error, 429, 5xx before processing): safe to retry.
    RetryLater {
        reason: String,
        after: Option<Duration>,
    },
    /// The channel refused for good; `unreachable` when the citizen blocked the bot.
    Failed {
        reason: String,
        unreachable: bool,
    },
    /// The request may have been delivered (read timeout after sending): never resent
    /// automatically, an operator decides.
    Unknown {
        reason: String,
    },
}

/// A channel account the gateway runs: one poller and one sender each.
pub trait Channel: Send + Sync + 'static {
    /// `telegram`, `vk`, ...: matches `domain::Channel` names.
    fn channel(&self) -> crate::domain::Channel;
    /// The account within the channel (a bot id): leases and cursors are per account.
    fn account(&self) -> String;
    /// The longest text one outbound part may carry, measured by `text_units`.
    fn max_part_units(&self) -> usize;
    fn text_units(&self, s: &str) -> usize;
    fn poll(&self, cursor: Option<String>)
    -> impl Future<Output = Result<Batch, PollError>> + Send;
    fn send(&self, part: &OutboundPart) -> impl Future<Output = SendOutcome> + Send;
    /// True when a repeated send of one part is recognised by the channel (VK's `random_id`):
    /// a part interrupted mid-send is then retried instead of being marked `unknown`.
    fn idempotent_sends(&self) -> bool {
        false
    }
    /// Fetches a file the citizen sent; None when the channel has no files.
    fn fetch_file(&self, source: &str, max_bytes: u64) -> impl Future<Output = FileOutcome> + Send;
}

#[derive(Debug, Clone, PartialEq)]
pub enum FileOutcome {
    Stored {
        bytes: Vec<u8>,
        name: Option<String>,
    },
    TooLarge {
        size: Option<u64>,
    },
    RetryLater(String),
    Failed(String),
}
