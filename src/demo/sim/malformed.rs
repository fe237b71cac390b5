//! Updates a client must survive without wedging its poller: wrong types, a missing chat, a
//! megabyte of text, and a lone UTF-16 surrogate that strict JSON parsers reject. They are served
//! byte for byte inside an otherwise valid getUpdates reply.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::state::World;
use super::traffic::Traffic;

/// The size of the oversized text: far past any sane message, small enough to serve quickly.
const HUGE_TEXT_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MalformedKind {
    /// `message` without `chat`.
    MissingChat,
    /// `text` is a JSON number.
    TextNumber,
    /// `message_id` is a JSON string.
    MessageIdString,
    /// A valid message whose text is 1 MiB.
    HugeText,
    /// `text` contains the escape `\ud800`, a lone surrogate (not valid Unicode).
    LoneSurrogate,
}

impl MalformedKind {
    pub const ALL: [MalformedKind; 5] = [
        MalformedKind::MissingChat,
        MalformedKind::TextNumber,
        MalformedKind::MessageIdString,
        MalformedKind::HugeText,
        MalformedKind::LoneSurrogate,
    ];
}

impl Traffic {
    /// Queues one malformed update from a fresh citizen (so a reply to it is possible).
    pub fn malformed(&mut self, w: &mut World, kind: MalformedKind) -> i64 {
        let s = self.g.next_request();
        let i = self.new_citizen(w, &s.citizen, s.topic);
        let chat_id = self.chat_id(i);
        let mut m = w.citizen_message(chat_id);
        let message_id = m.get("message_id").and_then(Value::as_i64);
        let (summary_chat, body) = match kind {
            MalformedKind::MissingChat => {
                m.remove("chat");
                m.insert("text".into(), json!(s.text));
                (None, json!({ "message": m }).to_string())
            }
            MalformedKind::TextNumber => {
                m.insert("text".into(), json!(2_026_000_123));
                (Some(chat_id), json!({ "message": m }).to_string())
            }
            MalformedKind::MessageIdString => {
                let id = message_id.unwrap_or_default().to_string();
                m.insert("message_id".into(), json!(id));
                m.insert("text".into(), json!(s.text));
                (Some(chat_id), json!({ "message": m }).to_string())
            }
            MalformedKind::HugeText => {
                let mut text = String::with_capacity(HUGE_TEXT_BYTES + s.text.len() + 1);
                while text.len() < HUGE_TEXT_BYTES {
                    text.push_str(&s.text);
                    text.push(' ');
                }
                m.insert("text".into(), json!(text));
                (Some(chat_id), json!({ "message": m }).to_string())
            }
            MalformedKind::LoneSurrogate => {
                // serde_json never writes a lone surrogate, so the text field is spliced in by hand.
                let object = Value::Object(m).to_string();
                let open = object.strip_suffix('}').unwrap_or(&object);
                let text = r#""text":"Во дворе яма \ud800 уже неделю""#;
                (Some(chat_id), format!("{{\"message\":{open},{text}}}}}"))
            }
        };
        w.push_update("message", &body, summary_chat, message_id, true)
    }
}
