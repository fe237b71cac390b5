//! Bots Long Poll updates (and the same objects from the backfill's history methods) →
//! `InboundEvent`. Each update is parsed on its own: a malformed one is reported and skipped.
//!
//! External ids name the citizen's message, not the long-poll event, so a message that arrives
//! both by long poll and by a backfill is stored once: `msg:{peer}:{id}`, `wall:{owner}_{post}`,
//! `wall:{owner}_{post}:c{comment}`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Target;
use crate::domain::request::{Attachment, AttachmentState, Location};
use crate::wire::intake::{Command, Inbound, InboundEvent, IncomingMessage, Malformed};

/// Longest citizen text kept (VK itself caps a message at 4096 characters).
const MAX_TEXT: usize = 16 * 1024;
/// Longest raw payload kept for audit.
const MAX_PAYLOAD: usize = 64 * 1024;

/// Parses a long poll's `updates`.
pub fn updates(updates: &[Value], group_id: i64) -> (Vec<InboundEvent>, Vec<Malformed>) {
    let mut events = vec![];
    let mut malformed = vec![];
    for u in updates {
        match update(u, group_id) {
            Ok(e) => events.push(e),
            Err(m) => malformed.push(m),
        }
    }
    (events, malformed)
}

fn update(u: &Value, group_id: i64) -> Result<InboundEvent, Malformed> {
    let kind = u.get("type").and_then(Value::as_str).unwrap_or("");
    let event_id = u
        .get("event_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    let bad = |reason: String| Malformed {
        external_id: event_id.as_ref().map(|e| format!("event:{e}")),
        reason: format!("{kind}: {reason}"),
    };
    let object = u.get("object").ok_or_else(|| bad("no object".into()))?;
    match kind {
        // v5.103+: `object.message`; older versions put the message itself in `object`.
        "message_new" => {
            let m = object.get("message").unwrap_or(object);
            message(m, u).map_err(bad)
        }
        "message_edit" => edit(object, u).map_err(bad),
        "wall_post_new" => post(object, group_id, u).map_err(bad),
        "wall_reply_new" => {
            let owner = object
                .get("post_owner_id")
                .or_else(|| object.get("owner_id"))
                .and_then(Value::as_i64)
                .ok_or_else(|| bad("comment without post_owner_id".into()))?;
            let post = object
                .get("post_id")
                .and_then(Value::as_i64)
                .ok_or_else(|| bad("comment without post_id".into()))?;
            comment(object, owner, post, group_id, u).map_err(bad)
        }
        "" => Err(bad("update without a type".into())),
        other => Ok(InboundEvent {
            external_id: match &event_id {
                Some(e) => format!("event:{e}"),
                None => format!("event:{other}:{:016x}", fnv(&u.to_string())),
            },
            payload: payload(u),
            inbound: Inbound::Ignored {
                reason: format!("{other} events are not handled"),
            },
        }),
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

fn payload(v: &Value) -> String {
    let mut s = v.to_string();
    if s.len() > MAX_PAYLOAD {
        let mut end = MAX_PAYLOAD;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

fn cap(mut t: String) -> String {
    if t.len() > MAX_TEXT {
        let mut end = MAX_TEXT;
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        t.truncate(end);
        t.push_str(" […]");
    }
    t
}

fn int(v: &Value, key: &str) -> Result<i64, String> {
    v.get(key)
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("no numeric `{key}`"))
}

fn date(v: &Value) -> Result<DateTime<Utc>, String> {
    DateTime::from_timestamp(int(v, "date")?, 0).ok_or_else(|| "date out of range".into())
}

fn text(v: &Value) -> Result<String, String> {
    match v.get("text") {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(cap(s.clone())),
        Some(_) => Err("`text` is not a string".into()),
    }
}

/// A dialog message's own id: `id` in a private dialog, `c{conversation_message_id}` in a chat
/// where communities see `id = 0`.
fn message_key(m: &Value) -> Result<String, String> {
    match m.get("id").and_then(Value::as_i64) {
        Some(id) if id > 0 => Ok(id.to_string()),
        _ => m
            .get("conversation_message_id")
            .and_then(Value::as_i64)
            .map(|c| format!("c{c}"))
            .ok_or_else(|| "message without id or conversation_message_id".into()),
    }
}

fn author(from_id: i64) -> String {
    if from_id < 0 {
        format!("vk.com/club{}", -from_id)
    } else {
        format!("vk.com/id{from_id}")
    }
}

/// A citizen's dialog message; `raw` is what is kept for audit. `None`-like results (our own
/// outgoing messages, seen in the backfill's history) come back as `Ignored`.
pub fn message(m: &Value, raw: &Value) -> Result<InboundEvent, String> {
    let peer = int(m, "peer_id")?;
    let key = message_key(m)?;
    let external_id = format!("msg:{peer}:{key}");
    if m.get("out").and_then(Value::as_i64) == Some(1) {
        return Ok(InboundEvent {
            external_id,
            payload: payload(raw),
            inbound: Inbound::Ignored {
                reason: "the community's own message".into(),
            },
        });
    }
    let at = date(m)?;
    let from = m.get("from_id").and_then(Value::as_i64).unwrap_or(peer);
    let mut body = text(m)?;
    let chat = peer.to_string();
    if let Some(command) = command(m, &body) {
        return Ok(InboundEvent {
            external_id,
            payload: payload(raw),
            inbound: Inbound::Command {
                chat,
                message: key,
                command,
                at,
            },
        });
    }
    let (attachments, location) = match m.get("payload").filter(|p| !p.is_null()) {
        // A tapped button: its label is the text, nothing else comes with it.
        Some(p) => match pressed(p, &body) {
            Some(words) => {
                body = words;
                (vec![], None)
            }
            None => {
                return Ok(InboundEvent {
                    external_id,
                    payload: payload(raw),
                    inbound: Inbound::Ignored {
                        reason: "a button that is not ours".into(),
                    },
                });
            }
        },
        None => (attachments(m)?, geo(m.get("geo"))),
    };
    let inbound = if body.trim().is_empty() && attachments.is_empty() && location.is_none() {
        Inbound::Ignored {
            reason: "message with nothing the center can use".into(),
        }
    } else {
        Inbound::Message(IncomingMessage {
            chat,
            message: key,
            author: Some(author(from)),
            text: body,
            attachments,
            location,
            reply_to: m.get("reply_message").and_then(|r| message_key(r).ok()),
            media_group: None,
            category: None,
            phone: None,
            at,
            subject: None,
        })
    };
    Ok(InboundEvent {
        external_id,
        payload: payload(raw),
        inbound,
    })
}

/// The `payload` of a text button whose data is `data` (at most 255 characters, VK's limit).
pub fn button_payload(data: &str) -> String {
    serde_json::json!({ "button": data }).to_string()
}

/// A tapped text button's answer: its label is the message's text and its `payload` says
/// which it was. «Да» / «Нет» under «Вопрос решён?» is the answer in the button's words; a
/// payload that does not read, or another keyboard's, is `None`: skipped, as the label is not
/// the citizen's words.
fn pressed(p: &Value, body: &str) -> Option<String> {
    let data = serde_json::from_str::<Value>(p.as_str()?).ok()?;
    crate::domain::feedback::pressed(data.get("button")?.as_str()?, Some(body))
}

/// VK's start button sends `{"command":"start"}` as the payload; `/status N` is typed.
fn command(m: &Value, body: &str) -> Option<Command> {
    let payload = m.get("payload").and_then(Value::as_str).unwrap_or("");
    if serde_json::from_str::<Value>(payload)
        .ok()
        .and_then(|p| p.get("command").and_then(Value::as_str).map(str::to_string))
        .as_deref()
        == Some("start")
    {
        return Some(Command::Start);
    }
    let mut words = body.trim().strip_prefix('/')?.split_whitespace();
    match words.next()?.to_lowercase().as_str() {
        "start" => Some(Command::Start),
        "status" | "статус" => Some(Command::Status(words.next().unwrap_or("").to_string())),
        _ => None,
    }
}

fn edit(m: &Value, raw: &Value) -> Result<InboundEvent, String> {
    let peer = int(m, "peer_id")?;
    let key = message_key(m)?;
    let at = m
        .get("update_time")
        .and_then(Value::as_i64)
        .and_then(|t| DateTime::from_timestamp(t, 0))
        .map_or_else(|| date(m), Ok)?;
    Ok(InboundEvent {
        external_id: format!("edit:{peer}:{key}:{}", at.timestamp()),
        payload: payload(raw),
        inbound: Inbound::Edit {
            chat: peer.to_string(),
            message: key,
            text: text(m)?,
            at,
        },
    })
}

/// A post on the community wall. Our own posts (and other communities') are not requests.
pub fn post(p: &Value, group_id: i64, raw: &Value) -> Result<InboundEvent, String> {
    let id = int(p, "id")?;
    let owner = int(p, "owner_id")?;
    let from = int(p, "from_id")?;
    let external_id = format!("wall:{owner}_{id}");
    if from < 0 || from == -group_id {
        return Ok(InboundEvent {
            external_id,
            payload: payload(raw),
            inbound: Inbound::Ignored {
                reason: "a post by a community".into(),
            },
        });
    }
    let body = text(p)?;
    let attachments = attachments(p)?;
    let location = geo(p.get("geo"));
    Ok(InboundEvent {
        external_id,
        payload: payload(raw),
        inbound: wall_message(
            Target::Wall {
                owner_id: owner,
                post_id: id,
                author: from,
            },
            format!("p{id}"),
            from,
            body,
            attachments,
            location,
            None,
            date(p)?,
        ),
    })
}

/// A comment under a post of the community wall; our own comments are our replies.
pub fn comment(
    c: &Value,
    owner: i64,
    post: i64,
    group_id: i64,
    raw: &Value,
) -> Result<InboundEvent, String> {
    let id = int(c, "id")?;
    let from = int(c, "from_id")?;
    let external_id = format!("wall:{owner}_{post}:c{id}");
    if from == -group_id {
        return Ok(InboundEvent {
            external_id,
            payload: payload(raw),
            inbound: Inbound::Ignored {
                reason: "the community's own comment".into(),
            },
        });
    }
    let body = text(c)?;
    let attachments = attachments(c)?;
    let reply_to = c
        .get("reply_to_comment")
        .and_then(Value::as_i64)
        .map(|r| r.to_string());
    Ok(InboundEvent {
        external_id,
        payload: payload(raw),
        inbound: wall_message(
            Target::Wall {
                owner_id: owner,
                post_id: post,
                author: from,
            },
            id.to_string(),
            from,
            body,
            attachments,
            None,
            reply_to,
            date(c)?,
        ),
    })
}

#[allow(clippy::too_many_arguments)]
fn wall_message(
    target: Target,
    key: String,
    from: i64,
    body: String,
    attachments: Vec<Attachment>,
    location: Option<Location>,
    reply_to: Option<String>,
    at: DateTime<Utc>,
) -> Inbound {
    if body.trim().is_empty() && attachments.is_empty() && location.is_none() {
        return Inbound::Ignored {
            reason: "wall item with nothing the center can use".into(),
        };
    }
    Inbound::Message(IncomingMessage {
        chat: target.chat(),
        message: key,
        author: Some(author(from)),
        text: body,
        attachments,
        location,
        reply_to,
        media_group: None,
        category: None,
        phone: None,
        at,
        subject: None,
    })
}

fn attachments(m: &Value) -> Result<Vec<Attachment>, String> {
    let Some(list) = m.get("attachments") else {
        return Ok(vec![]);
    };
    let list = list.as_array().ok_or("`attachments` is not a list")?;
    let mut out = vec![];
    for a in list {
        match a.get("type").and_then(Value::as_str) {
            Some("photo") => {
                if let Some(url) = a.get("photo").and_then(largest_photo) {
                    out.push(Attachment {
                        kind: "photo".into(),
                        name: None,
                        size: None,
                        source: Some(url),
                        local_path: None,
                        state: AttachmentState::Pending,
                    });
                }
            }
            Some("doc") => {
                let d = a.get("doc").unwrap_or(&Value::Null);
                if let Some(url) = d.get("url").and_then(Value::as_str) {
                    out.push(Attachment {
                        kind: "document".into(),
                        name: d.get("title").and_then(Value::as_str).map(str::to_string),
                        size: d.get("size").and_then(Value::as_u64),
                        source: Some(url.to_string()),
                        local_path: None,
                        state: AttachmentState::Pending,
                    });
                }
            }
            // Stickers, audio, links, polls: nothing the operator can act on.
            _ => {}
        }
    }
    Ok(out)
}

/// VK sends each photo in several sizes; the largest is the one worth keeping. Sizes without
/// dimensions (old albums) are ranked by their type letter.
fn largest_photo(p: &Value) -> Option<String> {
    const ORDER: &str = "smxopqryzw";
    let rank = |s: &Value| {
        let area = s.get("width").and_then(Value::as_u64).unwrap_or(0)
            * s.get("height").and_then(Value::as_u64).unwrap_or(0);
        let letter = s
            .get("type")
            .and_then(Value::as_str)
            .and_then(|t| ORDER.find(t))
            .unwrap_or(0);
        (area, letter)
    };
    p.get("sizes")?
        .as_array()?
        .iter()
        .filter(|s| s.get("url").and_then(Value::as_str).is_some())
        .max_by_key(|s| rank(s))?
        .get("url")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// `geo.coordinates` is `{latitude, longitude}`; older versions sent `"lat lon"` as text.
fn geo(g: Option<&Value>) -> Option<Location> {
    let g = g?;
    let c = g.get("coordinates")?;
    let (lat, lon) = match c {
        Value::String(s) => {
            let mut it = s.split_whitespace().map(|x| x.parse::<f64>().ok());
            (it.next()??, it.next()??)
        }
        _ => (c.get("latitude")?.as_f64()?, c.get("longitude")?.as_f64()?),
    };
    if lat.abs() > 90.0 || lon.abs() > 180.0 {
        return None;
    }
    let address = g
        .get("place")
        .map(|p| {
            [p.get("title"), p.get("city")]
                .iter()
                .filter_map(|x| x.and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .filter(|a| !a.is_empty());
    Some(Location {
        lat: Some(lat),
        lon: Some(lon),
        address,
    })
}
