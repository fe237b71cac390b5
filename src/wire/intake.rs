//! What a channel poller hands the store: a citizen's messages, edits and commands in words no
//! channel owns. Adapters write these and `store::ingest` reads them, so they sit below both
//! instead of the store importing `channels`.

use chrono::{DateTime, Utc};

use crate::domain::request::{Attachment, Location};

/// A bot command is a domain word (the intake rules answer it); named here too so an adapter
/// takes all the intake vocabulary from one place.
pub use crate::domain::intake::Command;

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
