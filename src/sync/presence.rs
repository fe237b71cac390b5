//! The console's side of presence (server/presence.rs says what it is): tell the server
//! where this console is, and hand the others' whereabouts to the screen.
//!
//! Two tasks, neither of which the screen waits for. `report` takes the screen's position
//! from a watch channel (only the latest matters) and posts it on change and every few
//! seconds. `listen` reads the server's stream and is the screen's only source: snapshots
//! then arrive in the server's order, and when the stream is lost the screen is told it
//! knows nothing rather than left showing people who may have gone.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::watch;
use uuid::Uuid;

use super::client::SyncError;
use crate::wire::presence::{Activity, Presence, PresenceReport, PresenceSnapshot};

/// Where this console is: the request whose card is on screen, and whether the reply
/// composer is open on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Here {
    pub request_id: Option<Uuid>,
    pub composing: bool,
}

/// Renewal interval; the server forgets a console after 15 s without one (three missed).
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// Moving through the list changes the card at every key: report where the operator
/// stopped, not every row passed.
const SETTLE: Duration = Duration::from_millis(300);
/// The longest the settling may put a report off while the operator keeps moving.
const SETTLE_MAX: Duration = Duration::from_secs(1);
/// After a lost stream, before connecting again.
const RECONNECT: Duration = Duration::from_secs(5);
/// The server writes a keep-alive every 15 s; a stream silent for longer than this is a
/// connection that died without closing, and the names on screen would go stale with it.
const IDLE: Duration = Duration::from_secs(40);

/// The presence endpoints of one server, as one operator.
#[derive(Clone)]
pub struct PresenceLink {
    http: reqwest::Client,
    base: String,
    token: String,
    scope: String,
    session: Uuid,
    heartbeat: Duration,
}

impl PresenceLink {
    pub fn new(base: &str, token: &str, scope: &str) -> Result<PresenceLink, SyncError> {
        // Short: a presence report late by more than a heartbeat is worth nothing.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| SyncError::Unavailable(e.to_string()))?;
        Ok(PresenceLink {
            http,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            scope: scope.to_string(),
            session: Uuid::now_v7(),
            heartbeat: HEARTBEAT,
        })
    }

    /// A shorter heartbeat, for servers started with a short TTL (tests).
    pub fn with_heartbeat(mut self, every: Duration) -> PresenceLink {
        self.heartbeat = every;
        self
    }

    /// Tells the server where this console is now.
    pub async fn post(&self, here: Here) -> Result<(), SyncError> {
        let body = PresenceReport {
            scope_id: self.scope.clone(),
            session: self.session,
            request_id: here.request_id,
            activity: if here.composing {
                Activity::Composing
            } else {
                Activity::Viewing
            },
        };
        let resp = self
            .http
            .post(format!("{}/v1/presence", self.base))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(5))
            .json(&body)
            .send()
            .await
            .map_err(|e| SyncError::Unavailable(e.without_url().to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let text = resp.text().await.unwrap_or_default();
        Err(SyncError::Refused(format!("{status}: {text}")))
    }
}

/// Posts `here` now, on every change (once the operator settles) and every heartbeat; when
/// the screen closes its end of `here`, says goodbye so the others see it at once instead
/// of after the TTL.
pub async fn report(c: PresenceLink, mut here: watch::Receiver<Here>) {
    loop {
        let now = *here.borrow_and_update();
        if let Err(e) = c.post(now).await {
            tracing::debug!(error = %e, "presence report");
        }
        tokio::select! {
            changed = here.changed() => {
                if changed.is_err() {
                    let _ = c.post(Here::default()).await;
                    return;
                }
                settle(&mut here).await;
            }
            _ = tokio::time::sleep(c.heartbeat) => {}
        }
    }
}

/// Waits until `here` stays put for `SETTLE` (at most `SETTLE_MAX`); opening the reply
/// composer is reported at once, since that is what warns the others.
async fn settle(here: &mut watch::Receiver<Here>) {
    let deadline = tokio::time::Instant::now() + SETTLE_MAX;
    while !here.borrow().composing {
        tokio::select! {
            changed = here.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep(SETTLE) => return,
            _ = tokio::time::sleep_until(deadline) => return,
        }
    }
}

/// Follows `GET /v1/presence/stream` and sends each snapshot to `out`; an empty one when the
/// stream is lost. Reconnects until `out` is closed.
pub async fn listen(c: PresenceLink, out: UnboundedSender<Vec<Presence>>) {
    let url = format!("{}/v1/presence/stream", c.base);
    loop {
        let resp = c
            .http
            .get(&url)
            .query(&[("scope_id", c.scope.as_str())])
            .bearer_auth(&c.token)
            .send()
            .await;
        match resp {
            Ok(mut resp) if resp.status().is_success() => {
                let mut sse = SseReader::default();
                while let Ok(Ok(Some(chunk))) = tokio::time::timeout(IDLE, resp.chunk()).await {
                    for (event, data) in sse.feed(&chunk) {
                        if event != "presence" {
                            continue;
                        }
                        match serde_json::from_str::<PresenceSnapshot>(&data) {
                            Ok(s) => {
                                if out.send(s.presence).is_err() {
                                    return;
                                }
                            }
                            Err(e) => tracing::warn!(error = %e, "presence event"),
                        }
                    }
                }
            }
            Ok(resp) => tracing::debug!(status = %resp.status(), "presence stream refused"),
            Err(e) => tracing::debug!(error = %e.without_url(), "presence stream"),
        }
        if out.send(vec![]).is_err() {
            return;
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

/// Server-Sent Events from arbitrary chunks: a line may be split anywhere, even inside a
/// UTF-8 character, so bytes wait until their line is whole.
#[derive(Default)]
pub struct SseReader {
    pending: Vec<u8>,
    event: String,
    data: String,
}

/// Far more than any snapshot; a stream that never ends a line is not kept in memory.
const MAX_LINE: usize = 1 << 20;

impl SseReader {
    /// The events completed by `chunk`: (event name, `message` when unnamed; data).
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<(String, String)> {
        self.pending.extend_from_slice(chunk);
        let mut out = vec![];
        while let Some(i) = self.pending.iter().position(|b| *b == b'\n') {
            let raw: Vec<u8> = self.pending.drain(..=i).collect();
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    let name = if self.event.is_empty() {
                        "message".to_string()
                    } else {
                        std::mem::take(&mut self.event)
                    };
                    out.push((name, std::mem::take(&mut self.data)));
                }
                self.event.clear();
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match field {
                "event" => self.event = value.to_string(),
                "data" => {
                    if !self.data.is_empty() {
                        self.data.push('\n');
                    }
                    self.data.push_str(value);
                }
                // Comments (keep-alives), ids and retry hints: nothing to act on.
                _ => {}
            }
        }
        if self.pending.len() > MAX_LINE {
            self.pending.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_from_chunks_split_anywhere() {
        let stream = "event: presence\ndata: {\"presence\":[{\"user\":\"Сидорова\"}]}\n\n: keep-alive\n\ndata: {\"seq\":3}\n\n";
        let bytes = stream.as_bytes();
        // Every split point, including inside the two-byte Cyrillic letters.
        for cut in 0..bytes.len() {
            let mut r = SseReader::default();
            let mut got = r.feed(&bytes[..cut]);
            got.extend(r.feed(&bytes[cut..]));
            assert_eq!(
                got,
                vec![
                    (
                        "presence".to_string(),
                        "{\"presence\":[{\"user\":\"Сидорова\"}]}".to_string()
                    ),
                    ("message".to_string(), "{\"seq\":3}".to_string()),
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn sse_multi_line_data_and_crlf() {
        let mut r = SseReader::default();
        let got = r.feed(b"event: presence\r\ndata: a\r\ndata: b\r\n\r\n");
        assert_eq!(got, vec![("presence".to_string(), "a\nb".to_string())]);
    }

    #[tokio::test(start_paused = true)]
    async fn settling_waits_for_the_operator_to_stop_but_not_for_the_composer() {
        let (tx, mut rx) = watch::channel(Here::default());
        let id = |n| Some(Uuid::from_u128(n));
        // Moving row to row every 100 ms: one report after the last move settles.
        let start = tokio::time::Instant::now();
        let mover = tokio::spawn(async move {
            for n in 1..=5 {
                tx.send_replace(Here {
                    request_id: id(n),
                    composing: false,
                });
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            tx
        });
        rx.changed().await.unwrap();
        settle(&mut rx).await;
        assert_eq!(rx.borrow().request_id, id(5));
        assert!(
            start.elapsed() >= Duration::from_millis(700),
            "{:?}",
            start.elapsed()
        );
        let tx = mover.await.unwrap();
        // The composer opening: no wait at all.
        let at = tokio::time::Instant::now();
        tx.send_replace(Here {
            request_id: id(5),
            composing: true,
        });
        rx.changed().await.unwrap();
        settle(&mut rx).await;
        assert_eq!(at.elapsed(), Duration::ZERO);
    }
}
