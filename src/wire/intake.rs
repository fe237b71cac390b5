//! What a channel poller hands the store: a citizen's messages, edits and commands in words no
//! channel owns. Adapters write these and `store::ingest` reads them, so they sit below both
//! instead of the store importing `channels`.

use chrono::{DateTime, Utc};

use crate::domain::request::{Attachment, Location};

/// A bot command is a domain word (the intake rules answer it); named here too so an adapter
/// takes all the intake vocabulary from one place.
pub use crate::domain::intake::Command;

/// A citizen's action, as far as the center cares.
// Nearly every event is a message, held for one batch: boxing it would cost an allocation
// each to save bytes on the rare edit or command.
#[allow(clippy::large_enum_variant)]
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
    /// The channel's own category of the request (the platform's `service_code`), which
    /// `[channels.platform.topics]` maps to a topic.
    pub category: Option<String>,
    /// The citizen's own phone when they shared their contact (E.164, `domain::phone`).
    pub phone: Option<String>,
    /// A mail's subject (`channels::mail`): a department's reply names its request there.
    pub subject: Option<String>,
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

impl Inbound {
    /// The event within the domain's bounds (`domain::fields`): a channel's word is cut or
    /// clamped, never refused, so no message a citizen sends can stop the gateway's intake.
    pub fn bounded(&self, now: DateTime<Utc>) -> Inbound {
        use crate::domain::fields::{
            MAX_ATTACHMENTS, MAX_REF, clamp_at, clamp_location, clip_name, clip_text,
        };
        // `chat:message` is the request's external id: each half gets half the room.
        let id = |s: &str| {
            let mut s: String = s.chars().filter(|c| *c != '\0').collect();
            if s.chars().count() > MAX_REF / 2 - 1 {
                s = s.chars().take(MAX_REF / 2 - 1).collect();
            }
            s
        };
        match self {
            Inbound::Message(m) => Inbound::Message(IncomingMessage {
                chat: id(&m.chat),
                message: id(&m.message),
                author: m.author.as_deref().map(clip_name),
                text: clip_text(&m.text),
                attachments: m
                    .attachments
                    .iter()
                    .take(MAX_ATTACHMENTS)
                    .map(|a| Attachment {
                        kind: clip_name(&a.kind),
                        name: a.name.as_deref().map(clip_name),
                        source: a.source.as_deref().map(&id),
                        ..a.clone()
                    })
                    .collect(),
                location: clamp_location(m.location.clone()),
                reply_to: m.reply_to.as_deref().map(id),
                category: m.category.as_deref().map(clip_name),
                subject: m.subject.as_deref().map(clip_name),
                // A number that is none is dropped here: the message is never refused for it.
                phone: m
                    .phone
                    .as_deref()
                    .and_then(|p| crate::domain::phone::normalise(p).ok()),
                at: clamp_at(m.at, now),
                ..m.clone()
            }),
            Inbound::Edit {
                chat,
                message,
                text,
                at,
            } => Inbound::Edit {
                chat: id(chat),
                message: id(message),
                text: clip_text(text),
                at: clamp_at(*at, now),
            },
            Inbound::Command {
                chat,
                message,
                command,
                at,
            } => Inbound::Command {
                chat: id(chat),
                message: id(message),
                command: command.clone(),
                at: clamp_at(*at, now),
            },
            Inbound::Ignored { reason } => Inbound::Ignored {
                reason: reason.clone(),
            },
        }
    }
}
