//! The Telegram Bot API adapter: getUpdates long polling, sendMessage (sendPhoto or
//! sendDocument for a part with a file), getFile and downloads.
//! Hand-written on reqwest: three methods, and updates must be parsed one by one so a malformed
//! update cannot fail a whole batch (a typed client would reject the batch).
//! The token is part of every URL, so errors are stripped of URLs before anyone sees them.

pub mod parse;

use serde_json::{Value, json};
use std::time::Duration;

use super::{Adapter, FileOutcome, OutboundPart, PollError, SendOutcome};
use crate::domain::files::Resend;
use crate::wire::intake::Batch;
use crate::wire::split::utf16_units;

#[derive(Clone)]
pub struct Telegram {
    http: reqwest::Client,
    api_url: String,
    token: String,
    poll_timeout: Duration,
    send_timeout: Duration,
}

impl std::fmt::Debug for Telegram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telegram")
            .field("api_url", &self.api_url)
            .field("account", &self.account())
            .finish()
    }
}

/// Telegram's limit for one message, in UTF-16 code units.
pub const MAX_MESSAGE: usize = 4096;

impl Telegram {
    pub fn new(
        api_url: &str,
        token: &str,
        poll_timeout: Duration,
        send_timeout: Duration,
    ) -> Result<Telegram, String> {
        if token.trim().is_empty() || !token.contains(':') {
            return Err("the Telegram token must look like 123456:ABC… (from @BotFather)".into());
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {}", e.without_url()))?;
        Ok(Telegram {
            http,
            api_url: api_url.trim_end_matches('/').to_string(),
            token: token.trim().to_string(),
            poll_timeout,
            send_timeout,
        })
    }

    fn method(&self, name: &str) -> String {
        format!("{}/bot{}/{name}", self.api_url, self.token)
    }

    /// Never shows the token: reqwest errors carry the URL, which carries the token.
    fn scrub(&self, text: &str) -> String {
        text.replace(&self.token, "<token>")
    }
}

/// The parts of a Bot API error body that decide what to do.
struct ApiError {
    code: u16,
    description: String,
    retry_after: Option<Duration>,
}

fn api_error(status: u16, body: &str) -> ApiError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    ApiError {
        code: v
            .get("error_code")
            .and_then(Value::as_u64)
            .map(|c| c as u16)
            .unwrap_or(status),
        description: v
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("HTTP {status}")),
        retry_after: v
            .get("parameters")
            .and_then(|p| p.get("retry_after"))
            .and_then(Value::as_u64)
            .map(Duration::from_secs),
    }
}

impl Telegram {
    /// Stops the spinner on the buttons the citizens pressed (`answerCallbackQuery`). Best
    /// effort: the answer is in the batch whatever Telegram says to this.
    async fn answer_callbacks(&self, batch: &crate::wire::intake::Batch) {
        for e in &batch.events {
            if let crate::wire::intake::Inbound::Message(m) = &e.inbound
                && let Some(id) = m.message.strip_prefix(parse::CALLBACK_PREFIX)
            {
                let _ = self
                    .http
                    .post(self.method("answerCallbackQuery"))
                    .json(&json!({ "callback_query_id": id }))
                    .timeout(self.send_timeout)
                    .send()
                    .await;
            }
        }
    }
}

impl Adapter for Telegram {
    fn channel(&self) -> crate::domain::Channel {
        crate::domain::Channel::Telegram
    }

    fn account(&self) -> String {
        self.token.split(':').next().unwrap_or("bot").to_string()
    }

    fn max_part_units(&self) -> usize {
        MAX_MESSAGE
    }

    fn text_units(&self, s: &str) -> usize {
        utf16_units(s)
    }

    async fn poll(&self, cursor: Option<String>) -> Result<Batch, PollError> {
        let mut body = json!({
            "timeout": self.poll_timeout.as_secs(),
            "allowed_updates": ["message", "edited_message", "callback_query"],
        });
        if let Some(c) = cursor.as_deref().and_then(|c| c.parse::<i64>().ok()) {
            body["offset"] = c.into();
        }
        let resp = self
            .http
            .post(self.method("getUpdates"))
            .json(&body)
            .timeout(self.poll_timeout + Duration::from_secs(15))
            .send()
            .await
            .map_err(|e| PollError::Transient {
                reason: self.scrub(&e.without_url().to_string()),
                retry_after: None,
            })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| PollError::Transient {
            reason: self.scrub(&e.without_url().to_string()),
            retry_after: None,
        })?;
        if status == 200 {
            let batch = parse::batch(&text).map_err(|reason| PollError::Transient {
                reason,
                retry_after: None,
            })?;
            self.answer_callbacks(&batch).await;
            return Ok(batch);
        }
        let e = api_error(status, &text);
        let reason = self.scrub(&e.description);
        Err(match e.code {
            409 => PollError::Conflict(reason),
            401 | 404 => PollError::Unauthorized(reason),
            _ => PollError::Transient {
                reason,
                retry_after: e.retry_after,
            },
        })
    }

    async fn send(&self, part: &OutboundPart) -> SendOutcome {
        let chat: Value = match part.chat.parse::<i64>() {
            Ok(id) => id.into(),
            Err(_) => part.chat.clone().into(),
        };
        // A file goes by its handle (the file_id the citizen's message carried, or a URL),
        // with the text as its caption; a document's id only through sendDocument.
        let (method, mut body) = match part.files.first().map(|f| Resend::read(f)) {
            Some(Resend::Photo(photo)) => (
                "sendPhoto",
                json!({ "chat_id": chat, "photo": photo, "caption": part.text }),
            ),
            Some(Resend::Document(document)) => (
                "sendDocument",
                json!({ "chat_id": chat, "document": document, "caption": part.text }),
            ),
            None => ("sendMessage", json!({ "chat_id": chat, "text": part.text })),
        };
        if let Some(id) = part.reply_to.as_deref().and_then(|r| r.parse::<i64>().ok()) {
            // A deleted original must not turn the reply into a permanent failure.
            body["reply_parameters"] =
                json!({ "message_id": id, "allow_sending_without_reply": true });
        }
        if !part.buttons.is_empty() {
            let row: Vec<Value> = part
                .buttons
                .iter()
                .map(|(text, data)| json!({ "text": text, "callback_data": data }))
                .collect();
            body["reply_markup"] = json!({ "inline_keyboard": [row] });
        }
        let resp = match self
            .http
            .post(self.method(method))
            .json(&body)
            .timeout(self.send_timeout)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) if e.is_connect() => {
                return SendOutcome::RetryLater {
                    reason: self.scrub(&e.without_url().to_string()),
                    after: None,
                };
            }
            // The request may have reached Telegram; sendMessage has no idempotency key.
            Err(e) => {
                return SendOutcome::Unknown {
                    reason: self.scrub(&e.without_url().to_string()),
                };
            }
        };
        let status = resp.status().as_u16();
        let text = match resp.text().await {
            Ok(t) => t,
            Err(e) if status == 200 => {
                return SendOutcome::Unknown {
                    reason: self.scrub(&e.without_url().to_string()),
                };
            }
            Err(_) => String::new(),
        };
        if status == 200 {
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            return match v
                .get("result")
                .and_then(|r| r.get("message_id"))
                .and_then(Value::as_i64)
            {
                Some(id) => SendOutcome::Sent {
                    external_id: id.to_string(),
                },
                None => SendOutcome::Unknown {
                    reason: format!("{method} answered without a message_id"),
                },
            };
        }
        let e = api_error(status, &text);
        let reason = self.scrub(&e.description);
        match e.code {
            429 => SendOutcome::RetryLater {
                reason,
                after: e.retry_after.or(Some(Duration::from_secs(1))),
            },
            500..=599 => SendOutcome::RetryLater {
                reason,
                after: None,
            },
            // A wrong token is fixed by an admin; the reply must wait, not fail.
            401 | 404 => SendOutcome::RetryLater {
                reason,
                after: Some(Duration::from_secs(60)),
            },
            403 => SendOutcome::Failed {
                reason,
                unreachable: true,
            },
            _ => SendOutcome::Failed {
                reason,
                unreachable: false,
            },
        }
    }

    async fn fetch_file(&self, source: &str, max_bytes: u64) -> FileOutcome {
        // A file link lives about an hour; an expired one is refreshed by asking again.
        for _attempt in 0..2 {
            let resp = match self
                .http
                .post(self.method("getFile"))
                .json(&json!({ "file_id": source }))
                .timeout(self.send_timeout)
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => return FileOutcome::RetryLater(self.scrub(&e.without_url().to_string())),
            };
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            if status != 200 {
                let e = api_error(status, &text);
                if e.description.contains("too big") {
                    return FileOutcome::TooLarge { size: None };
                }
                return match e.code {
                    400 => FileOutcome::Failed(self.scrub(&e.description)),
                    _ => FileOutcome::RetryLater(self.scrub(&e.description)),
                };
            }
            let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let result = v.get("result").cloned().unwrap_or(Value::Null);
            let size = result.get("file_size").and_then(Value::as_u64);
            if size.is_some_and(|s| s > max_bytes) {
                return FileOutcome::TooLarge { size };
            }
            let Some(path) = result.get("file_path").and_then(Value::as_str) else {
                return FileOutcome::Failed("getFile answered without file_path".into());
            };
            let url = format!("{}/file/bot{}/{}", self.api_url, self.token, path);
            let resp = match self
                .http
                .get(url)
                .timeout(Duration::from_secs(120))
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => return FileOutcome::RetryLater(self.scrub(&e.without_url().to_string())),
            };
            match resp.status().as_u16() {
                200 => {}
                404 => continue,
                s => return FileOutcome::RetryLater(format!("download answered HTTP {s}")),
            }
            if resp.content_length().is_some_and(|l| l > max_bytes) {
                return FileOutcome::TooLarge {
                    size: resp.content_length(),
                };
            }
            return match resp.bytes().await {
                Ok(b) if b.len() as u64 > max_bytes => FileOutcome::TooLarge {
                    size: Some(b.len() as u64),
                },
                Ok(b) => FileOutcome::Stored {
                    bytes: b.to_vec(),
                    name: path.rsplit('/').next().map(str::to_string),
                },
                Err(e) => FileOutcome::RetryLater(self.scrub(&e.without_url().to_string())),
            };
        }
        FileOutcome::RetryLater("the file link expired twice".into())
    }
}
