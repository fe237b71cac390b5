//! Bots Long Poll: `groups.getLongPollServer` gives `{server, key, ts}`, then
//! `{server}?act=a_check&key=&ts=&wait=` answers `{ts, updates}` or `{failed: N}`:
//! - 1: the history is outdated or partly lost: continue from the `ts` given, backfill;
//! - 2: the key expired: get a new key, keep our `ts`;
//! - 3: the information is lost: get a new key and `ts`, backfill.
//!
//! The cursor is `ts`; the gateway stores it with the batch's events in one transaction, so a
//! backfill's events and the `ts` that follows them land together or not at all.

use chrono::Utc;
use serde_json::Value;
use std::time::Duration;

use super::api::Failure;
use super::{Vk, backfill, parse};
use crate::channels::PollError;
use crate::wire::intake::Batch;

#[derive(Debug, Clone)]
pub(super) struct Session {
    server: String,
    key: String,
}

/// What `a_check` answered.
#[derive(Debug, PartialEq)]
pub(super) enum Check {
    Updates { ts: String, updates: Vec<Value> },
    Failed { code: i64, ts: Option<String> },
}

/// `ts` comes as a string in current versions and as a number in old ones.
fn ts_of(v: &Value) -> Option<String> {
    match v.get("ts")? {
        Value::String(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) => {
            Some(s.clone())
        }
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        _ => None,
    }
}

pub(super) fn check_body(body: &str) -> Result<Check, String> {
    let v: Value =
        serde_json::from_str(body).map_err(|e| format!("long poll answer is not JSON: {e}"))?;
    if let Some(code) = v.get("failed") {
        return Ok(Check::Failed {
            code: code.as_i64().unwrap_or(-1),
            ts: ts_of(&v),
        });
    }
    let ts = ts_of(&v).ok_or("long poll answer without ts")?;
    let updates = match v.get("updates") {
        Some(Value::Array(a)) => a.clone(),
        None | Some(Value::Null) => vec![],
        Some(_) => return Err("long poll `updates` is not a list".into()),
    };
    Ok(Check::Updates { ts, updates })
}

fn transient(reason: String) -> PollError {
    PollError::Transient {
        reason,
        retry_after: None,
    }
}

/// What a failed method call means for the poller: a refused token or a community with Long
/// Poll switched off needs an admin (stop and alarm); the rest passes.
pub(super) fn poll_error(f: Failure) -> PollError {
    match f {
        Failure::Api { code, message } => match code {
            6 | 9 | 10 | 1 => PollError::Transient {
                reason: format!("VK error {code}: {message}"),
                retry_after: (code == 6).then_some(Duration::from_secs(1)),
            },
            _ => PollError::Unauthorized(format!("VK error {code}: {message}")),
        },
        other => transient(other.to_string()),
    }
}

impl Vk {
    fn session(&self) -> Option<Session> {
        self.session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_session(&self, s: Option<Session>) {
        *self.session.lock().unwrap_or_else(|e| e.into_inner()) = s;
    }

    /// A new server and key, and VK's current `ts`.
    async fn new_session(&self) -> Result<(Session, String), PollError> {
        let v = self
            .call(
                "groups.getLongPollServer",
                &[("group_id", self.group_id.to_string())],
                self.send_timeout,
            )
            .await
            .map_err(poll_error)?;
        let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(server), Some(key), Some(ts)) = (field("server"), field("key"), ts_of(&v)) else {
            return Err(transient(
                "groups.getLongPollServer answered without server, key or ts".into(),
            ));
        };
        let s = Session { server, key };
        self.set_session(Some(s.clone()));
        Ok((s, ts))
    }

    async fn check(&self, s: &Session, ts: &str) -> Result<Check, PollError> {
        let wait = self.wait.as_secs().to_string();
        let resp = self
            .http
            .get(&s.server)
            .query(&[
                ("act", "a_check"),
                ("key", s.key.as_str()),
                ("ts", ts),
                ("wait", wait.as_str()),
            ])
            .timeout(self.wait + Duration::from_secs(15))
            .send()
            .await
            .map_err(|e| transient(self.scrub(&e.without_url().to_string())))?;
        let status = resp.status().as_u16();
        let text = resp
            .text()
            .await
            .map_err(|e| transient(self.scrub(&e.without_url().to_string())))?;
        if status != 200 {
            // The server may have moved: ask for a new one next time.
            self.set_session(None);
            return Err(transient(format!("long poll answered HTTP {status}")));
        }
        check_body(&text).map_err(transient)
    }

    /// Where a backfill must look back to: a little before the last answered poll, or the
    /// configured window when this process has not heard from VK yet.
    fn backfill_since(&self) -> chrono::DateTime<Utc> {
        let floor = Utc::now() - self.backfill;
        let last = *self.last_ok.lock().unwrap_or_else(|e| e.into_inner());
        match last {
            Some(t) => (t - chrono::Duration::minutes(5)).max(floor),
            None => floor,
        }
    }

    fn heard(&self) {
        *self.last_ok.lock().unwrap_or_else(|e| e.into_inner()) = Some(Utc::now());
    }

    /// Remembers that a backfill is due before `ts` may be stored, then runs it.
    async fn owe_backfill(&self, ts: String) -> Result<Batch, PollError> {
        *self.backfill_owed.lock().unwrap_or_else(|e| e.into_inner()) = Some(ts.clone());
        self.recovered(ts).await
    }

    /// Backfills, and hands back what it found with `ts` as the batch's cursor.
    async fn recovered(&self, ts: String) -> Result<Batch, PollError> {
        let since = self.backfill_since();
        let (events, malformed) = backfill::run(self, since).await?;
        *self.backfill_owed.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.heard();
        Ok(Batch {
            events,
            malformed,
            next_cursor: Some(ts),
        })
    }
}

pub(super) async fn poll(vk: &Vk, cursor: Option<String>) -> Result<Batch, PollError> {
    // A backfill that failed is tried again before anything else: its `ts` must not be stored
    // (and so confirmed) until what it covers is.
    let owed = vk
        .backfill_owed
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if let Some(next) = owed {
        return vk.recovered(next).await;
    }
    let mut ts = cursor.filter(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_digit()));
    // A `failed: 2` costs one extra round; more in a row means something else is wrong.
    for _ in 0..3 {
        let session = match (vk.session(), &ts) {
            (Some(s), Some(_)) => s,
            _ => {
                let (s, server_ts) = vk.new_session().await?;
                // First start: begin at VK's present; there is nothing of ours to catch up on.
                ts.get_or_insert(server_ts);
                s
            }
        };
        let Some(current) = ts.clone() else {
            continue;
        };
        match vk.check(&session, &current).await? {
            Check::Updates { ts: next, updates } => {
                vk.heard();
                let (events, malformed) = parse::updates(&updates, vk.group_id);
                return Ok(Batch {
                    events,
                    malformed,
                    next_cursor: Some(next),
                });
            }
            Check::Failed { code: 1, ts: next } => {
                // Events between our ts and VK's may be gone: fetch what they could have been.
                return vk.owe_backfill(next.unwrap_or(current)).await;
            }
            Check::Failed { code: 2, .. } => vk.set_session(None),
            Check::Failed { code: 3, .. } => {
                vk.set_session(None);
                let (_, server_ts) = vk.new_session().await?;
                return vk.owe_backfill(server_ts).await;
            }
            Check::Failed { code, .. } => {
                vk.set_session(None);
                return Err(transient(format!("long poll failed with code {code}")));
            }
        }
    }
    Err(transient("the long poll key kept expiring".into()))
}
