//! For the store's tests: one Telegram message taken in through the store's intake, as the
//! gateway takes it, under a lease the test holds.

use chrono::{DateTime, Duration, Utc};

use super::Store;
use super::ingest::{ClosedPolicy, IngestRules};
use crate::domain::Channel;
use crate::wire::intake::{Batch, Inbound, InboundEvent, IncomingMessage};

pub const LEASE: &str = "gateway:telegram:bot";

/// The lease intake needs, held for good.
pub async fn lease(store: &Store) -> i64 {
    store
        .acquire_lease(LEASE, "test", std::time::Duration::from_secs(1_000_000))
        .await
        .unwrap()
        .unwrap()
}

/// Message `message` of `chat` saying `text` at `at` (no acknowledgement, a 24-hour join
/// window): the number of the request it made, None when it joined an open one.
pub async fn message(
    store: &Store,
    epoch: i64,
    (chat, message): (&str, &str),
    at: DateTime<Utc>,
    text: &str,
) -> Option<String> {
    taken(store, epoch, (chat, message), at, text, false).await
}

/// As `message`, with the acknowledgement sent, saying when the problem is a known incident.
pub async fn message_acknowledged(
    store: &Store,
    epoch: i64,
    (chat, message): (&str, &str),
    at: DateTime<Utc>,
    text: &str,
) -> Option<String> {
    taken(store, epoch, (chat, message), at, text, true).await
}

async fn taken(
    store: &Store,
    epoch: i64,
    (chat, message): (&str, &str),
    at: DateTime<Utc>,
    text: &str,
    acknowledge: bool,
) -> Option<String> {
    let batch = Batch {
        events: vec![InboundEvent {
            external_id: format!("{chat}-{message}"),
            payload: "{}".into(),
            inbound: Inbound::Message(IncomingMessage {
                chat: chat.into(),
                message: message.into(),
                author: Some("Иван".into()),
                text: text.into(),
                attachments: vec![],
                location: None,
                reply_to: None,
                media_group: None,
                category: None,
                phone: None,
                at,
                subject: None,
            }),
        }],
        ..Batch::default()
    };
    let rules = IngestRules {
        join_window: Duration::hours(24),
        closed_policy: ClosedPolicy::New,
        reopen_window: Duration::days(7),
        texts: crate::templates::BotTexts::shipped("ru"),
        status_words: |s| s.as_str(),
        acknowledge,
        incidents: acknowledge.then(crate::incidents::Rules::default),
        topics: Default::default(),
        departments: Default::default(),
        department_mail: Default::default(),
    };
    let report = store
        .ingest(Channel::Telegram, "bot", LEASE, epoch, batch, rules)
        .await
        .unwrap();
    report.created.first().map(|n| n.to_string())
}
