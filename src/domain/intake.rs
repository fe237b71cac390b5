//! The citizen's side of the rules: which request a message joins, when a closed request
//! reopens, and what the bot answers by itself. Pure like `apply`, so these rules read and
//! test without a database: the store looks up the candidates, asks here, and carries the
//! decision out (`store::ingest`).

use chrono::{DateTime, Duration, Utc};

use super::request::{Channel, Request, RequestNumber};
use super::status::Status;

/// A bot command a citizen sent (`/start`, `/status 12-345`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start,
    Status(String),
    Other(String),
}

impl Command {
    /// The request a status question names, for the store to look up; `None` when the
    /// command names none or the number is not one.
    pub fn asked_number(&self) -> Option<RequestNumber> {
        match self {
            Command::Status(n) => n.parse().ok(),
            _ => None,
        }
    }
}

/// What to do with a citizen's message when the chat already has a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedPolicy {
    /// Reopen the closed request (within `reopen_window`).
    Reopen,
    /// Always open a new request.
    New,
}

/// The center's settings the placement of a message depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// A message joins the chat's open request if the request was active this recently.
    pub join_window: Duration,
    pub closed_policy: ClosedPolicy,
    /// How long after closing a message reopens rather than starting a new request.
    pub reopen_window: Duration,
    /// A new request is acknowledged to the citizen; off for a platform that acknowledges on
    /// its own.
    pub acknowledge: bool,
}

/// The chat's most recent request, as the rules need to see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Latest<K> {
    pub key: K,
    pub status: Status,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// The requests a new message might belong to, as the store found them. `K` is whatever the
/// store knows a request by; the rules only hand it back.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidates<K> {
    /// The request of the channel message this one replies to (our acknowledgement, say).
    pub replied_to: Option<K>,
    /// The request an earlier message of the same album went to.
    pub album: Option<K>,
    pub latest: Option<Latest<K>>,
}

/// The citizen's message, as far as placing it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    pub text: &'a str,
    pub has_attachments: bool,
}

/// Where a citizen's message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement<K> {
    /// Appended to this request (a closed one named by a reply is reopened by `apply`).
    Join(K),
    /// Appended to the chat's recently closed request, which reopens.
    Reopen(K),
    /// Starts a request with this text; `acknowledge`: the bot sends its number and due time.
    New { text: String, acknowledge: bool },
}

/// The text of a request a bare location starts: the operator asks what is there.
pub const LOCATION_ONLY: &str = "(геопозиция без описания)";

/// Decides where a citizen's message goes. An explicit reply wins, then the album, then the
/// chat's latest request if it is open and recently active, or closed recently enough to
/// reopen under the center's policy.
pub fn place<K>(
    msg: Message,
    found: Candidates<K>,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Placement<K> {
    if let Some(k) = found.replied_to.or(found.album) {
        return Placement::Join(k);
    }
    if let Some(last) = found.latest {
        // Whole milliseconds, as the store keeps time: a message exactly at the window's
        // edge lands the same way whichever side computes it.
        let since = |t: DateTime<Utc>| now.timestamp_millis() - t.timestamp_millis();
        if last.status != Status::Closed {
            if since(last.updated_at) <= rules.join_window.num_milliseconds() {
                return Placement::Join(last.key);
            }
        } else if rules.closed_policy == ClosedPolicy::Reopen
            && last
                .closed_at
                .is_some_and(|c| since(c) <= rules.reopen_window.num_milliseconds())
        {
            return Placement::Reopen(last.key);
        }
    }
    let text = if msg.text.trim().is_empty() && !msg.has_attachments {
        LOCATION_ONLY.to_string()
    } else {
        msg.text.to_string()
    };
    Placement::New {
        text,
        acknowledge: rules.acknowledge,
    }
}

/// A text the bot sends by itself, with what fills its template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BotText {
    /// A new request's acknowledgement: when the first answer is due. Its number is put in
    /// where the acknowledgement is applied (`mutation::ACK_NUMBER`): in a team, the server's.
    /// `public`: the citizen reads it where nobody can reply to the bot or ask `/status`
    /// (`Request::public_thread`).
    Acknowledge {
        due: DateTime<Utc>,
        public: bool,
    },
    Start,
    Status {
        number: RequestNumber,
        status: Status,
    },
    /// No request of this citizen has the number they asked about (as they typed it).
    NotFound {
        asked: String,
    },
}

/// The acknowledgement of a request just created.
pub fn acknowledgement(created: &Request) -> BotText {
    BotText::Acknowledge {
        due: created.first_response.due,
        public: created.public_thread(),
    }
}

/// The bot's answer to a command from `chat` on `channel`; `found` is the request the store
/// found for `Command::asked_number`. `None`: the bot says nothing.
pub fn answer(
    command: &Command,
    found: Option<&Request>,
    channel: Channel,
    chat: &str,
) -> Option<BotText> {
    match command {
        Command::Start => Some(BotText::Start),
        Command::Status(asked) => Some(
            // Only the citizen who wrote it may ask about a request.
            match found
                .filter(|r| r.channel == channel && r.channel_ref.chat.as_deref() == Some(chat))
            {
                Some(r) => BotText::Status {
                    number: r.number.clone(),
                    status: r.status,
                },
                None => BotText::NotFound {
                    asked: asked.trim().to_string(),
                },
            },
        ),
        Command::Other(_) => None,
    }
}
