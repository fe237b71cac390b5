//! The feedback platform as a channel, through Open311 GeoReport v2: requests are taken from
//! another system's endpoint (a regional platform) by polling `GET requests.json` for what
//! changed since the last look, and our replies go back as service request updates
//! (`POST servicerequestupdates.json`, the FixMyStreet extension) where that system takes
//! them. Where it does not, a reply is refused with the reason, so the operator answers in
//! the platform's own cabinet rather than believing the citizen was told.

pub mod parse;

use chrono::{DateTime, Duration as Span, SecondsFormat, Utc};
use serde_json::Value;
use std::sync::Mutex;
use std::time::Duration;

use super::{Adapter, FileOutcome, OutboundPart, PollError, SendOutcome};
use crate::wire::intake::Batch;

/// How our replies reach the other system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Publish {
    /// It takes none: operators answer in its own cabinet.
    None,
    /// `POST servicerequestupdates.json` (FixMyStreet's Open311 extension).
    Updates,
}

pub struct Open311Client {
    http: reqwest::Client,
    url: String,
    api_key: String,
    jurisdiction: String,
    publish: Publish,
    every: Duration,
    /// On the first look, how far back to take requests.
    backfill: Span,
    /// The last page was a short one: wait `every` before the next look.
    caught_up: Mutex<bool>,
    now: fn() -> DateTime<Utc>,
}

impl std::fmt::Debug for Open311Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Open311Client")
            .field("url", &self.url)
            .field("publish", &self.publish)
            .finish()
    }
}

/// Servers answer at most this many per page (the spec's default cap). Large, so the overlap
/// below can never fill a page by itself.
const PAGE: usize = 1000;
/// How far before the cursor each look starts.
const OVERLAP: Span = Span::seconds(5);

pub struct Options {
    pub url: String,
    pub api_key: String,
    pub jurisdiction: String,
    pub publish: Publish,
    pub every: Duration,
    pub backfill: Span,
}

impl Open311Client {
    pub fn new(o: Options) -> Result<Open311Client, String> {
        let url = o.url.trim().trim_end_matches('/').to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "the Open311 endpoint must be an http(s) URL, got `{url}`"
            ));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {}", e.without_url()))?;
        Ok(Open311Client {
            http,
            url,
            api_key: o.api_key,
            jurisdiction: o.jurisdiction,
            publish: o.publish,
            every: o.every,
            backfill: o.backfill,
            caught_up: Mutex::new(false),
            now: Utc::now,
        })
    }

    /// Whether replies go back to the platform (else it acknowledges and answers on its own).
    pub fn publishes(&self) -> bool {
        self.publish == Publish::Updates
    }

    /// The API key never reaches an error text or a log.
    fn scrub(&self, text: &str) -> String {
        if self.api_key.is_empty() {
            return text.to_string();
        }
        text.replace(&self.api_key, "<api_key>")
    }

    fn common(&self) -> Vec<(&'static str, String)> {
        let mut q = vec![];
        if !self.jurisdiction.is_empty() {
            q.push(("jurisdiction_id", self.jurisdiction.clone()));
        }
        if !self.api_key.is_empty() {
            q.push(("api_key", self.api_key.clone()));
        }
        q
    }
}

/// The text of an Open311 error list (`[{"code":..,"description":..}]`), or the status.
fn error_text(status: u16, body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let first = v.as_array().and_then(|a| a.first()).unwrap_or(&v);
    first
        .get("description")
        .and_then(Value::as_str)
        .map(|d| format!("HTTP {status}: {}", crate::sanitize::line(d)))
        .unwrap_or_else(|| format!("HTTP {status}"))
}

impl Adapter for Open311Client {
    fn channel(&self) -> crate::domain::Channel {
        crate::domain::Channel::Pos
    }

    /// The endpoint's host and path: cursors and leases are per endpoint.
    fn account(&self) -> String {
        self.url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, rest)| rest)
            .to_string()
    }

    fn max_part_units(&self) -> usize {
        crate::domain::Channel::Pos.max_message_units()
    }

    fn text_units(&self, s: &str) -> usize {
        s.chars().count()
    }

    async fn poll(&self, cursor: Option<String>) -> Result<Batch, PollError> {
        let wait = std::mem::replace(
            &mut *self.caught_up.lock().unwrap_or_else(|p| p.into_inner()),
            false,
        );
        if wait {
            tokio::time::sleep(self.every).await;
        }
        let mut q = self.common();
        match &cursor {
            // `updated_after` is the common extension for "changed since"; a server without it
            // answers its default span and the ids already seen add nothing.
            // A little before the cursor: servers keep whole seconds, and a request changed
            // in the same second as the last one seen would otherwise be skipped for good.
            // What is seen twice is recognised by its id.
            Some(c) => q.push((
                "updated_after",
                parse::time(c).map_or_else(
                    || c.clone(),
                    |t| (t - OVERLAP).to_rfc3339_opts(SecondsFormat::Secs, true),
                ),
            )),
            None => q.push((
                "start_date",
                ((self.now)() - self.backfill).to_rfc3339_opts(SecondsFormat::Secs, true),
            )),
        }
        q.push(("page_size", PAGE.to_string()));
        let transient = |reason: String| PollError::Transient {
            reason,
            retry_after: None,
        };
        let resp = self
            .http
            .get(format!("{}/requests.json", self.url))
            .query(&q)
            .send()
            .await
            .map_err(|e| transient(self.scrub(&e.without_url().to_string())))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = resp
            .text()
            .await
            .map_err(|e| transient(self.scrub(&e.without_url().to_string())))?;
        match status {
            200 => {
                let (batch, n) = parse::page(&text, cursor.as_deref()).map_err(transient)?;
                *self.caught_up.lock().unwrap_or_else(|p| p.into_inner()) = n < PAGE;
                Ok(batch)
            }
            401 | 403 => Err(PollError::Unauthorized(
                self.scrub(&error_text(status, &text)),
            )),
            _ => Err(PollError::Transient {
                reason: self.scrub(&error_text(status, &text)),
                retry_after,
            }),
        }
    }

    async fn send(&self, part: &OutboundPart) -> SendOutcome {
        if self.publish == Publish::None {
            return SendOutcome::Failed {
                reason: "платформа не принимает ответы через Open311: ответьте в её кабинете"
                    .into(),
                unreachable: false,
            };
        }
        let mut form = self.common();
        form.extend([
            ("service_request_id", part.chat.clone()),
            ("update_id", part_key(part)),
            (
                "updated_datetime",
                (self.now)().to_rfc3339_opts(SecondsFormat::Secs, true),
            ),
            ("status", "OPEN".to_string()),
            ("description", part.text.clone()),
        ]);
        let resp = match self
            .http
            .post(format!("{}/servicerequestupdates.json", self.url))
            .form(&form)
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
            // It may have been taken; the extension promises no deduplication.
            Err(e) => {
                return SendOutcome::Unknown {
                    reason: self.scrub(&e.without_url().to_string()),
                };
            }
        };
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        match status {
            200 | 201 => {
                let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                let list = v
                    .get("service_request_updates")
                    .unwrap_or(&v)
                    .as_array()
                    .and_then(|a| a.first())
                    .cloned()
                    .unwrap_or(Value::Null);
                let id = match list.get("update_id") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => part_key(part),
                };
                SendOutcome::Sent { external_id: id }
            }
            429 | 500..=599 => SendOutcome::RetryLater {
                reason: self.scrub(&error_text(status, &text)),
                after: None,
            },
            // A wrong key is an admin's to fix: the reply waits for it.
            401 | 403 => SendOutcome::RetryLater {
                reason: self.scrub(&error_text(status, &text)),
                after: Some(Duration::from_secs(60)),
            },
            _ => SendOutcome::Failed {
                reason: self.scrub(&error_text(status, &text)),
                unreachable: false,
            },
        }
    }

    async fn fetch_file(&self, source: &str, max_bytes: u64) -> FileOutcome {
        super::download::by_url(
            &self.http,
            source,
            max_bytes,
            "the file is gone at the source",
        )
        .await
    }
}

/// Our id for the update: the same on every retry of one part, so a platform that keeps
/// update ids can recognise a repeat.
fn part_key(part: &OutboundPart) -> String {
    format!("mcu-{}", part.key)
}

#[cfg(test)]
mod tests;
