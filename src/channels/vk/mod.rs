//! The VK community adapter: Bots Long Poll in, `messages.send` and `wall.createComment` out.
//! Hand-written on reqwest, as Telegram's is: a handful of methods, and every update parsed on
//! its own so one malformed event cannot fail a batch.
//!
//! VK answers HTTP 200 with `{"error":{...}}` for refusals, so the status code says little;
//! `api::Failure` classifies the body. Sends are idempotent: `random_id` (messages) and `guid`
//! (wall comments) are derived from our part id, so any retry, even after a crash mid-send, is
//! dropped by VK if the first one arrived (docs/channels.md, "Delivery, by channel").

mod api;
pub mod backfill;
mod longpoll;
mod names;
pub mod parse;

use chrono::Utc;
use std::sync::Mutex;
use std::time::Duration;

use super::{Adapter, FileOutcome, OutboundPart, PollError, SendOutcome};
use crate::wire::intake::Batch;
use crate::wire::split::utf16_units;
use api::Failure;

/// The API version sent on every call: the shapes parsed here are this version's.
pub const API_VERSION: &str = "5.199";

/// VK's limit for one message, in characters; the outbox splits by UTF-16 units, which is never
/// fewer, so every part fits.
pub const MAX_MESSAGE: usize = 9000;

pub struct Vk {
    http: reqwest::Client,
    api_url: String,
    token: String,
    group_id: i64,
    wait: Duration,
    send_timeout: Duration,
    /// How far back a backfill looks when the adapter does not know when it last heard from VK.
    backfill: chrono::Duration,
    /// The long-poll server and key; they expire (`failed: 2`) and are fetched again.
    session: Mutex<Option<longpoll::Session>>,
    /// When the last long poll answered: a backfill only needs to look back to about then.
    last_ok: Mutex<Option<chrono::DateTime<Utc>>>,
    /// The `ts` to continue from once a backfill owed after `failed` 1/3 has succeeded.
    backfill_owed: Mutex<Option<String>>,
    /// Citizens' names by VK id (`names`).
    names: Mutex<std::collections::HashMap<i64, String>>,
}

impl std::fmt::Debug for Vk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vk")
            .field("api_url", &self.api_url)
            .field("group_id", &self.group_id)
            .finish()
    }
}

/// What the adapter needs from the config.
#[derive(Debug, Clone)]
pub struct VkSettings {
    pub api_url: String,
    pub token: String,
    pub group_id: i64,
    pub wait: Duration,
    pub send_timeout: Duration,
    pub backfill: chrono::Duration,
}

impl Vk {
    pub fn new(s: VkSettings) -> Result<Vk, String> {
        if s.token.trim().is_empty() {
            return Err("no VK community token (community settings → API access)".into());
        }
        if s.group_id <= 0 {
            return Err(format!(
                "the VK group_id must be the community's positive id, got {}",
                s.group_id
            ));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {}", e.without_url()))?;
        Ok(Vk {
            http,
            api_url: s.api_url.trim_end_matches('/').to_string(),
            token: s.token.trim().to_string(),
            group_id: s.group_id,
            // VK allows up to 90 s; proxies often cut at 30.
            wait: s
                .wait
                .clamp(Duration::from_secs(1), Duration::from_secs(90)),
            send_timeout: s.send_timeout,
            backfill: s.backfill,
            session: Mutex::new(None),
            last_ok: Mutex::new(None),
            backfill_owed: Mutex::new(None),
            names: names::memory(),
        })
    }

    pub fn group_id(&self) -> i64 {
        self.group_id
    }

    /// Never shows the token: it travels in the form body, but errors may echo parameters.
    fn scrub(&self, text: &str) -> String {
        text.replace(&self.token, "<token>")
    }
}

/// `random_id` for `messages.send` (and `guid` for `wall.createComment`): a hash of our part id,
/// the same on every retry. 31 bits: VK's documentation has given the range as int64 (2019) and
/// as int32 (now), and a value below 2^31 is accepted under either reading, while one above
/// would make every reply fail if int32 is right. VK drops a repeated id for the same dialog;
/// two different replies to one citizen colliding in 2^31 is out of practical reach.
pub fn random_id(key: &str) -> i64 {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(format!("mcu-vk-random-id\u{0}{key}"));
    let mut b = [0u8; 4];
    b.copy_from_slice(&hash[..4]);
    // 0 would switch VK's check off.
    i64::from(u32::from_be_bytes(b) >> 1).max(1)
}

/// Where a reply goes: a private dialog or a thread under a wall post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Peer(i64),
    Wall {
        owner_id: i64,
        post_id: i64,
        author: i64,
    },
}

impl Target {
    /// `123` for a dialog, `wall-5_28:77` for citizen 77's thread under post 28 of owner -5: one
    /// citizen's comments under one post make one request, whoever else comments there.
    pub fn parse(chat: &str) -> Option<Target> {
        if let Some(rest) = chat.strip_prefix("wall") {
            let (post, author) = rest.split_once(':')?;
            let (owner, post) = post.split_once('_')?;
            return Some(Target::Wall {
                owner_id: owner.parse().ok()?,
                post_id: post.parse().ok()?,
                author: author.parse().ok()?,
            });
        }
        chat.parse().ok().map(Target::Peer)
    }

    pub fn chat(&self) -> String {
        match self {
            Target::Peer(p) => p.to_string(),
            Target::Wall {
                owner_id,
                post_id,
                author,
            } => format!("wall{owner_id}_{post_id}:{author}"),
        }
    }
}

impl Adapter for Vk {
    fn channel(&self) -> crate::domain::Channel {
        crate::domain::Channel::Vk
    }

    fn account(&self) -> String {
        self.group_id.to_string()
    }

    fn max_part_units(&self) -> usize {
        MAX_MESSAGE
    }

    fn text_units(&self, s: &str) -> usize {
        utf16_units(s)
    }

    fn idempotent_sends(&self) -> bool {
        true
    }

    async fn poll(&self, cursor: Option<String>) -> Result<Batch, PollError> {
        let mut batch = longpoll::poll(self, cursor).await?;
        self.name_authors(&mut batch.events).await;
        Ok(batch)
    }

    async fn send(&self, part: &OutboundPart) -> SendOutcome {
        let Some(target) = Target::parse(&part.chat) else {
            return SendOutcome::Failed {
                reason: format!("not a VK chat: {}", part.chat),
                unreachable: false,
            };
        };
        let id = random_id(&part.key);
        let (method, params, wall) = match target {
            Target::Peer(peer) => {
                let mut p = vec![
                    ("peer_id", peer.to_string()),
                    ("message", part.text.clone()),
                    ("random_id", id.to_string()),
                ];
                if let Some(r) = part
                    .reply_to
                    .as_deref()
                    .filter(|r| r.parse::<i64>().is_ok())
                {
                    p.push(("reply_to", r.to_string()));
                }
                if !part.buttons.is_empty() {
                    p.push(("keyboard", keyboard(&part.buttons)));
                }
                ("messages.send", p, false)
            }
            Target::Wall {
                owner_id, post_id, ..
            } => {
                let mut p = vec![
                    ("owner_id", owner_id.to_string()),
                    ("post_id", post_id.to_string()),
                    ("from_group", self.group_id.to_string()),
                    ("message", part.text.clone()),
                    ("guid", id.to_string()),
                ];
                if let Some(r) = part
                    .reply_to
                    .as_deref()
                    .filter(|r| r.parse::<i64>().is_ok())
                {
                    p.push(("reply_to_comment", r.to_string()));
                }
                ("wall.createComment", p, true)
            }
        };
        match self.call(method, &params, self.send_timeout).await {
            Ok(v) => {
                let external = if wall {
                    v.get("comment_id").and_then(serde_json::Value::as_i64)
                } else {
                    // `peer_id` answers the message id; `peer_ids` would answer a list.
                    v.as_i64().or_else(|| {
                        v.as_array()?
                            .first()?
                            .get("message_id")
                            .and_then(serde_json::Value::as_i64)
                    })
                };
                match external {
                    Some(id) => SendOutcome::Sent {
                        external_id: id.to_string(),
                    },
                    // Delivered or not, a retry with the same random_id is harmless.
                    None => SendOutcome::RetryLater {
                        reason: format!("{method} answered without an id"),
                        after: None,
                    },
                }
            }
            Err(f) => send_outcome(f),
        }
    }

    async fn fetch_file(&self, source: &str, max_bytes: u64) -> FileOutcome {
        // VK attachments are plain URLs on its CDN, valid for a long time.
        super::download::by_url(&self.http, source, max_bytes, "the file is gone from VK").await
    }
}

/// An inline keyboard of text buttons, one row. Text buttons rather than callback ones: a tap
/// is then an ordinary `message_new` in the dialog, with the label as its text and our data in
/// its `payload`, so it is kept in the dialog's history and a backfill after a lost long poll
/// finds it (a callback's `message_event` is in no history), it needs no
/// `messages.sendMessageEventAnswer` nor the community's callback events switched on, and a
/// client without inline keyboards still reads the question and can type the answer.
pub fn keyboard(buttons: &[(String, String)]) -> String {
    let row: Vec<serde_json::Value> = buttons
        .iter()
        .map(|(label, data)| {
            let color = match crate::domain::feedback::button(data)
                .and_then(crate::domain::feedback::reading)
            {
                Some(true) => "positive",
                Some(false) => "negative",
                None => "secondary",
            };
            serde_json::json!({
                "action": {"type": "text", "label": label, "payload": parse::button_payload(data)},
                "color": color,
            })
        })
        .collect();
    serde_json::json!({ "inline": true, "buttons": [row] }).to_string()
}

/// What a failed send means. Every send carries its `random_id`/`guid`, so anything that may or
/// may not have reached VK is simply retried: VK drops the repeat.
fn send_outcome(f: Failure) -> SendOutcome {
    match f {
        Failure::Transport(reason) | Failure::Garbled(reason) => SendOutcome::RetryLater {
            reason,
            after: None,
        },
        Failure::Api { code, message } => {
            let reason = format!("VK error {code}: {message}");
            match code {
                // Too many requests per second.
                6 => SendOutcome::RetryLater {
                    reason,
                    after: Some(Duration::from_secs(1)),
                },
                // Flood control: too many messages to one citizen; wait properly.
                9 => SendOutcome::RetryLater {
                    reason,
                    after: Some(Duration::from_secs(60)),
                },
                // Unknown and internal errors.
                1 | 10 => SendOutcome::RetryLater {
                    reason,
                    after: None,
                },
                // A wrong or revoked token is fixed by an admin (the poller raises the alarm);
                // the reply must wait, not fail.
                5 | 27 | 28 => SendOutcome::RetryLater {
                    reason,
                    after: Some(Duration::from_secs(60)),
                },
                // The citizen blocked the community, never allowed messages, or hides them.
                900..=902 => SendOutcome::Failed {
                    reason,
                    unreachable: true,
                },
                // Access denied, comments closed, the post deleted, and the rest: permanent.
                _ => SendOutcome::Failed {
                    reason,
                    unreachable: false,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests;
