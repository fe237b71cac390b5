//! Bot API updates → `Inbound`. Each update is parsed on its own from raw JSON, so one malformed
//! update is skipped (and reported) without failing the batch that carries it.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::request::{Attachment, AttachmentState, Location};
use crate::wire::intake::{Batch, Command, Inbound, InboundEvent, IncomingMessage, Malformed};

/// Longest citizen text we keep; the rest is cut with a marker (Telegram itself caps at 4096,
/// so anything longer is not from Telegram).
const MAX_TEXT: usize = 16 * 1024;

/// Parses the `result` array of getUpdates. `next_cursor` is one past the highest update_id
/// seen, malformed updates included, so they are confirmed and never re-fetched.
pub fn batch(body: &str) -> Result<Batch, String> {
    // Lone surrogates (`"\ud800"`) make serde_json reject the whole document; Telegram can send
    // them in user text, so they are replaced before parsing.
    let cleaned = replace_lone_surrogates(body);
    let doc: Value = serde_json::from_str(&cleaned)
        .map_err(|e| format!("getUpdates response is not JSON: {e}"))?;
    let results = doc
        .get("result")
        .and_then(Value::as_array)
        .ok_or_else(|| "getUpdates response has no `result` array".to_string())?;
    let mut out = Batch::default();
    let mut max_id: Option<i64> = None;
    for raw in results {
        let id = raw.get("update_id").and_then(Value::as_i64);
        if let Some(id) = id {
            max_id = Some(max_id.map_or(id, |m| m.max(id)));
        }
        match (id, update(raw)) {
            (Some(id), Ok(inbound)) => out.events.push(InboundEvent {
                external_id: id.to_string(),
                payload: truncate_payload(raw),
                inbound,
            }),
            (id, Err(reason)) => out.malformed.push(Malformed {
                external_id: id.map(|i| i.to_string()),
                reason,
            }),
            (None, Ok(_)) => out.malformed.push(Malformed {
                external_id: None,
                reason: "update without update_id".into(),
            }),
        }
    }
    // Saturating: an id at the top of the range (only a hostile server sends one) must not
    // wrap the cursor back and have every update fetched again forever.
    out.next_cursor = max_id.map(|m| m.saturating_add(1).to_string());
    Ok(out)
}

fn truncate_payload(v: &Value) -> String {
    let s = v.to_string();
    if s.len() <= 64 * 1024 {
        return s;
    }
    let mut end = 64 * 1024;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Replaces `\uD800`–`\uDFFF` escapes that are not part of a valid pair with `\uFFFD`.
pub fn replace_lone_surrogates(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains("\\u") && !s.contains("\\U") {
        return std::borrow::Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let hex = |at: usize| -> Option<u16> {
        if at + 6 <= b.len() && b[at] == b'\\' && (b[at + 1] == b'u') {
            u16::from_str_radix(std::str::from_utf8(&b[at + 2..at + 6]).ok()?, 16).ok()
        } else {
            None
        }
    };
    let mut last = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            // Count preceding backslashes: `\\u` is a literal backslash followed by `u`.
            if let Some(u) = hex(i) {
                let is_high = (0xD800..0xDC00).contains(&u);
                let is_low = (0xDC00..0xE000).contains(&u);
                if is_high && hex(i + 6).is_some_and(|l| (0xDC00..0xE000).contains(&l)) {
                    i += 12;
                    continue;
                }
                if is_high || is_low {
                    out.push_str(&s[last..i]);
                    out.push_str("\\uFFFD");
                    i += 6;
                    last = i;
                    continue;
                }
                i += 6;
                continue;
            }
            // Skip the escaped character (handles `\\`).
            i += 2;
            continue;
        }
        i += 1;
    }
    out.push_str(&s[last.min(s.len())..]);
    std::borrow::Cow::Owned(out)
}

fn update(u: &Value) -> Result<Inbound, String> {
    if let Some(m) = u.get("message") {
        return message(m);
    }
    if let Some(q) = u.get("callback_query") {
        return callback(q);
    }
    if let Some(m) = u.get("edited_message") {
        let (chat, message_id, at) = envelope(m)?;
        let text = text_of(m).unwrap_or_default();
        return Ok(Inbound::Edit {
            chat,
            message: message_id,
            text,
            at: edit_date(m).unwrap_or(at),
        });
    }
    let kind = u
        .as_object()
        .and_then(|o| o.keys().find(|k| *k != "update_id").cloned())
        .unwrap_or_else(|| "empty".into());
    Ok(Inbound::Ignored {
        reason: format!("{kind} updates are not handled"),
    })
}

/// A pressed button's message id: `cb:` and the callback query's id (answered with it).
pub const CALLBACK_PREFIX: &str = "cb:";

/// A pressed «Да» / «Нет» under «Вопрос решён?»: the citizen's answer in the button's words,
/// in the chat of the message it sat under. Other data is ignored; a query without a chat
/// or an id is malformed (skipped, the poller goes on).
fn callback(q: &Value) -> Result<Inbound, String> {
    let id = q
        .get("id")
        .and_then(Value::as_str)
        .ok_or("callback_query without an id")?;
    let data = q.get("data").and_then(Value::as_str).unwrap_or("");
    // The label the citizen tapped, from the keyboard of the message it sat under.
    let shown = q
        .get("message")
        .and_then(|m| m.get("reply_markup"))
        .and_then(|k| k.get("inline_keyboard"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .find(|b| b.get("callback_data").and_then(Value::as_str) == Some(data))
        .and_then(|b| b.get("text"))
        .and_then(Value::as_str);
    let Some(label) = crate::domain::feedback::pressed(data, shown) else {
        return Ok(Inbound::Ignored {
            reason: "a button that is not ours".into(),
        });
    };
    let chat = q
        .get("message")
        .and_then(|m| m.get("chat"))
        .and_then(|c| c.get("id"))
        .and_then(Value::as_i64)
        .ok_or("callback_query without message.chat.id")?;
    Ok(Inbound::Message(IncomingMessage {
        chat: chat.to_string(),
        message: format!("{CALLBACK_PREFIX}{id}"),
        author: q.get("from").map(person),
        text: label,
        attachments: vec![],
        location: None,
        reply_to: None,
        media_group: None,
        category: None,
        phone: None,
        at: Utc::now(),
        subject: None,
    }))
}

fn envelope(m: &Value) -> Result<(String, String, DateTime<Utc>), String> {
    let chat = m
        .get("chat")
        .and_then(|c| c.get("id"))
        .and_then(Value::as_i64)
        .ok_or("message without chat.id")?;
    let id = m
        .get("message_id")
        .and_then(Value::as_i64)
        .ok_or("message without a numeric message_id")?;
    let date = m
        .get("date")
        .and_then(Value::as_i64)
        .ok_or("message without date")?;
    let at = DateTime::from_timestamp(date, 0).ok_or("message date out of range")?;
    Ok((chat.to_string(), id.to_string(), at))
}

fn edit_date(m: &Value) -> Option<DateTime<Utc>> {
    m.get("edit_date")
        .and_then(Value::as_i64)
        .and_then(|d| DateTime::from_timestamp(d, 0))
}

fn text_of(m: &Value) -> Option<String> {
    let t = match (m.get("text"), m.get("caption")) {
        (Some(Value::String(t)), _) => t.clone(),
        (Some(_), _) => return None,
        (None, Some(Value::String(c))) => c.clone(),
        _ => String::new(),
    };
    Some(cap(t))
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

fn message(m: &Value) -> Result<Inbound, String> {
    let (chat, message_id, at) = envelope(m)?;
    let text = text_of(m).ok_or("message text is not a string")?;
    if let Some(cmd) = text.strip_prefix('/') {
        let mut words = cmd.split_whitespace();
        let name = words
            .next()
            .unwrap_or("")
            .split('@')
            .next()
            .unwrap_or("")
            .to_lowercase();
        let command = match name.as_str() {
            "start" => Command::Start,
            "status" | "статус" => Command::Status(words.next().unwrap_or("").to_string()),
            other => Command::Other(other.to_string()),
        };
        // Unknown slash words are ordinary text ("/ нет света" is a citizen, not a command).
        if !matches!(command, Command::Other(_)) {
            return Ok(Inbound::Command {
                chat,
                message: message_id,
                command,
                at,
            });
        }
    }
    let mut attachments = vec![];
    if let Some(sizes) = m.get("photo").and_then(Value::as_array) {
        // Telegram sends one photo in several sizes; the largest is the one worth keeping.
        let best = sizes.iter().max_by_key(|p| {
            p.get("file_size").and_then(Value::as_u64).unwrap_or(0)
                + p.get("width").and_then(Value::as_u64).unwrap_or(0)
                    * p.get("height").and_then(Value::as_u64).unwrap_or(0)
        });
        if let Some(p) = best {
            attachments.push(file_attachment("photo", p, None)?);
        }
    }
    for kind in ["document", "video", "voice", "audio"] {
        if let Some(d) = m.get(kind) {
            let name = d
                .get("file_name")
                .and_then(Value::as_str)
                .map(str::to_string);
            attachments.push(file_attachment(kind, d, name)?);
        }
    }
    let mut text = text;
    // The citizen's own number (the contact's user is the sender): the request takes it, and
    // their other requests are found by it. Anyone else's contact stays in the text only.
    let own_phone = m.get("contact").and_then(|c| {
        let sender = m
            .get("from")
            .and_then(|f| f.get("id"))
            .and_then(Value::as_i64)?;
        (c.get("user_id").and_then(Value::as_i64) == Some(sender))
            .then(|| c.get("phone_number").and_then(Value::as_str))
            .flatten()
            .map(str::to_string)
    });
    if let Some(c) = m.get("contact") {
        let phone = c.get("phone_number").and_then(Value::as_str).unwrap_or("");
        let name = [c.get("first_name"), c.get("last_name")]
            .iter()
            .filter_map(|v| v.and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        text = format!("{text}\nКонтакт: {name} {phone}")
            .trim()
            .to_string();
    }
    let location = location(m);
    if text.trim().is_empty() && attachments.is_empty() && location.is_none() {
        return Ok(Inbound::Ignored {
            reason: "message with nothing the center can use".into(),
        });
    }
    let author = m.get("from").map(person);
    Ok(Inbound::Message(IncomingMessage {
        chat,
        message: message_id,
        author,
        text,
        attachments,
        location,
        reply_to: m
            .get("reply_to_message")
            .and_then(|r| r.get("message_id"))
            .and_then(Value::as_i64)
            .map(|i| i.to_string()),
        media_group: m
            .get("media_group_id")
            .and_then(Value::as_str)
            .map(str::to_string),
        category: None,
        phone: own_phone,
        at,
        subject: None,
    }))
}

fn file_attachment(kind: &str, v: &Value, name: Option<String>) -> Result<Attachment, String> {
    let file_id = v
        .get("file_id")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{kind} without file_id"))?;
    Ok(Attachment {
        kind: kind.to_string(),
        name,
        size: v.get("file_size").and_then(Value::as_u64),
        source: Some(file_id.to_string()),
        local_path: None,
        state: AttachmentState::Pending,
    })
}

fn location(m: &Value) -> Option<Location> {
    let (loc, address) = match (m.get("venue"), m.get("location")) {
        (Some(v), _) => (
            v.get("location")?,
            [v.get("title"), v.get("address")]
                .iter()
                .filter_map(|x| x.and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (None, Some(l)) => (l, String::new()),
        (None, None) => return None,
    };
    let lat = loc
        .get("latitude")
        .and_then(Value::as_f64)
        .filter(|v| v.abs() <= 90.0)?;
    let lon = loc
        .get("longitude")
        .and_then(Value::as_f64)
        .filter(|v| v.abs() <= 180.0)?;
    Some(Location {
        lat: Some(lat),
        lon: Some(lon),
        address: (!address.is_empty()).then_some(address),
    })
}

fn person(from: &Value) -> String {
    let name = [from.get("first_name"), from.get("last_name")]
        .iter()
        .filter_map(|v| v.and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    match from.get("username").and_then(Value::as_str) {
        Some(u) if name.is_empty() => format!("@{u}"),
        Some(u) => format!("{name} (@{u})"),
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(update: &str) -> Result<Inbound, String> {
        let b = batch(&format!("{{\"ok\":true,\"result\":[{update}]}}")).unwrap();
        match (b.events.into_iter().next(), b.malformed.into_iter().next()) {
            (Some(e), _) => Ok(e.inbound),
            (None, Some(m)) => Err(m.reason),
            _ => Err("nothing".into()),
        }
    }

    const CHAT: &str = r#""chat":{"id":408258968,"type":"private","first_name":"Ольга"},"from":{"id":408258968,"is_bot":false,"first_name":"Ольга","last_name":"Котова","username":"olga_krd"},"date":1581448857"#;

    #[test]
    fn text_message() {
        let Inbound::Message(m) = one(&format!(
            r#"{{"update_id":7,"message":{{"message_id":154,{CHAT},"text":"Яма на Северной"}}}}"#
        ))
        .unwrap() else {
            panic!("a message")
        };
        assert_eq!(
            (m.chat.as_str(), m.message.as_str(), m.text.as_str()),
            ("408258968", "154", "Яма на Северной")
        );
        assert_eq!(m.author.as_deref(), Some("Ольга Котова (@olga_krd)"));
    }

    #[test]
    fn photo_keeps_the_largest_size_and_caption() {
        let u = format!(
            r#"{{"update_id":8,"message":{{"message_id":155,{CHAT},"caption":"Вот","media_group_id":"77","photo":[{{"file_id":"small","file_unique_id":"a","width":90,"height":60,"file_size":900}},{{"file_id":"big","file_unique_id":"b","width":1280,"height":960,"file_size":90000}}]}}}}"#
        );
        let Inbound::Message(m) = one(&u).unwrap() else {
            panic!()
        };
        assert_eq!(m.attachments[0].source.as_deref(), Some("big"));
        assert_eq!(m.text, "Вот");
        assert_eq!(m.media_group.as_deref(), Some("77"));
    }

    #[test]
    fn location_venue_and_contact() {
        let Inbound::Message(m) =
            one(&format!(r#"{{"update_id":9,"message":{{"message_id":156,{CHAT},"location":{{"latitude":45.03,"longitude":38.97}}}}}}"#)).unwrap()
        else {
            panic!()
        };
        assert_eq!(m.location.unwrap().lat, Some(45.03));
        let Inbound::Message(m) = one(&format!(
            r#"{{"update_id":10,"message":{{"message_id":157,{CHAT},"venue":{{"location":{{"latitude":45.0,"longitude":39.0}},"title":"Остановка","address":"ул. Красная, 1"}}}}}}"#
        ))
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            m.location.unwrap().address.as_deref(),
            Some("Остановка, ул. Красная, 1")
        );
        let Inbound::Message(m) = one(&format!(
            r#"{{"update_id":11,"message":{{"message_id":158,{CHAT},"contact":{{"phone_number":"+79000000000","first_name":"Иван"}}}}}}"#
        ))
        .unwrap() else {
            panic!()
        };
        assert!(m.text.contains("+79000000000"));
        // Someone else's contact is text only; the citizen's own gives the request its phone.
        assert_eq!(m.phone, None);
        let Inbound::Message(m) = one(&format!(
            r#"{{"update_id":12,"message":{{"message_id":159,{CHAT},"contact":{{"phone_number":"79181112233","first_name":"Ольга","user_id":408258968}}}}}}"#
        ))
        .unwrap() else {
            panic!()
        };
        assert_eq!(m.phone.as_deref(), Some("79181112233"));
    }

    #[test]
    fn commands_and_edits() {
        let c = one(&format!(r#"{{"update_id":12,"message":{{"message_id":159,{CHAT},"text":"/status 2026-000017"}}}}"#)).unwrap();
        assert!(
            matches!(c, Inbound::Command { command: Command::Status(ref n), .. } if n == "2026-000017")
        );
        let c = one(&format!(
            r#"{{"update_id":13,"message":{{"message_id":160,{CHAT},"text":"/start"}}}}"#
        ))
        .unwrap();
        assert!(matches!(
            c,
            Inbound::Command {
                command: Command::Start,
                ..
            }
        ));
        let e = one(&format!(r#"{{"update_id":14,"edited_message":{{"message_id":154,{CHAT},"edit_date":1581449000,"text":"Яма на Северной, 12"}}}}"#)).unwrap();
        assert!(
            matches!(e, Inbound::Edit { ref message, ref text, .. } if message == "154" && text.ends_with("12"))
        );
    }

    #[test]
    fn a_pressed_feedback_button_is_the_answer_in_its_words() {
        let q = one(&format!(
            r#"{{"update_id":40,"callback_query":{{"id":"77","data":"fb:no","message":{{"message_id":9,{CHAT}}}}}}}"#
        ))
        .unwrap();
        let Inbound::Message(m) = q else {
            panic!("{q:?}")
        };
        assert_eq!(
            (m.chat.as_str(), m.message.as_str()),
            ("408258968", "cb:77")
        );
        assert_eq!(m.text, "Нет");
        // Where the center speaks English the thread shows the «No» the citizen tapped.
        let en = one(&format!(
            r#"{{"update_id":44,"callback_query":{{"id":"80","data":"fb:no","message":{{"message_id":9,{CHAT},"reply_markup":{{"inline_keyboard":[[{{"text":"Yes","callback_data":"fb:yes"}},{{"text":"No","callback_data":"fb:no"}}]]}}}}}}}}"#
        ))
        .unwrap();
        let Inbound::Message(en) = en else {
            panic!("{en:?}")
        };
        assert_eq!(en.text, "No");
        let other = one(&format!(
            r#"{{"update_id":41,"callback_query":{{"id":"78","data":"menu:1","message":{{"message_id":9,{CHAT}}}}}}}"#
        ))
        .unwrap();
        assert!(matches!(other, Inbound::Ignored { .. }), "{other:?}");
        assert!(one(r#"{"update_id":42,"callback_query":{"id":"79","data":"fb:yes"}}"#).is_err());
        assert!(one(r#"{"update_id":43,"callback_query":{"data":"fb:yes"}}"#).is_err());
    }

    #[test]
    fn malformed_updates_are_reported_and_the_cursor_passes_them() {
        let body = r#"{"ok":true,"result":[
            {"update_id":20,"message":{"message_id":1,"date":1581448857,"text":"no chat"}},
            {"update_id":21,"message":{"message_id":"x","chat":{"id":1},"date":1581448857,"text":"id string"}},
            {"update_id":22,"message":{"message_id":2,"chat":{"id":1},"date":1581448857,"text":5}},
            {"update_id":23,"message":{"message_id":3,"chat":{"id":1},"date":1581448857,"text":"bad \ud800 surrogate"}},
            {"update_id":24,"poll_answer":{"poll_id":"p"}}
        ]}"#;
        let b = batch(body).unwrap();
        assert_eq!(b.malformed.len(), 3, "{:?}", b.malformed);
        assert_eq!(b.next_cursor.as_deref(), Some("25"));
        let texts: Vec<_> = b
            .events
            .iter()
            .filter_map(|e| match &e.inbound {
                Inbound::Message(m) => Some(m.text.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, vec!["bad \u{FFFD} surrogate".to_string()]);
        assert!(
            b.events
                .iter()
                .any(|e| matches!(e.inbound, Inbound::Ignored { .. }))
        );
    }

    #[test]
    fn huge_text_is_capped() {
        let big = "я".repeat(600_000);
        let Inbound::Message(m) = one(&format!(
            r#"{{"update_id":30,"message":{{"message_id":1,{CHAT},"text":"{big}"}}}}"#
        ))
        .unwrap() else {
            panic!()
        };
        assert!(m.text.len() <= MAX_TEXT + 10);
    }

    #[test]
    fn surrogate_pairs_survive_and_escaped_backslashes_are_left_alone() {
        assert_eq!(
            replace_lone_surrogates(r#""\ud83d\ude00""#),
            r#""\ud83d\ude00""#
        );
        assert_eq!(replace_lone_surrogates(r#""\\ud800""#), r#""\\ud800""#);
        assert_eq!(replace_lone_surrogates(r#""a\udc00b""#), r#""a\uFFFDb""#);
    }
}
