//! Intake channels. Each adapter turns its wire format into channel-neutral `Inbound` events
//! (`wire::intake`, the words the store reads too) and sends outbound parts, reporting a
//! `SendOutcome` that says whether a retry is safe. The gateway (`gateway.rs`) runs the pollers
//! and the sender against the store; adapters never touch the store or the screen.

pub mod download;
pub mod gateway;
pub mod health;
pub mod mail;
pub mod open311;
pub mod tagged;
pub mod team;
pub mod telegram;
pub mod vk;

use std::time::Duration;

use crate::wire::intake::Batch;

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
    /// One-tap answers, (label, data): a Telegram inline keyboard, a VK dialog's inline
    /// keyboard of text buttons; a VK wall thread and the platform send the text alone.
    pub buttons: Vec<(String, String)>,
    /// Files that go with the text: in Telegram a photo with `text` as its caption (its
    /// file_id or URL), by mail the attachments (paths in the gateway's `files_dir`). Only
    /// a department's post carries any; VK and the platform send the text alone.
    pub files: Vec<String>,
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
pub trait Adapter: Send + Sync + 'static {
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
