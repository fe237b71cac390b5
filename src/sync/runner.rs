//! The console's sync loop: a round every second while the server answers; when it does not,
//! rounds on a growing timer with jitter (not on the operator's next keystroke), so a
//! restarted server is not met by every console at once.

use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

use super::client::{SyncError, Transport, sync_once};
use crate::store::Store;
use crate::store::mirror::Rejected;

/// What the status bar shows, after every round.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncStatus {
    pub online: bool,
    pub pending: i64,
    pub last_ok: Option<DateTime<Utc>>,
    pub error: Option<String>,
    /// The console's and the server's sync protocol versions when they differ (the server's
    /// when it said), for the console to say which side to update.
    pub version: Option<(u32, Option<u32>)>,
    /// Refusals not shown before; each is shown once.
    pub rejected: Vec<Rejected>,
}

const PERIOD: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The wait after `failures` failed rounds in a row: doubling from the period, capped, then
/// spread by ±25 % so consoles that lost the server together don't return together.
pub fn backoff(failures: u32, random: u64) -> Duration {
    let base = PERIOD
        .saturating_mul(1u32 << failures.min(6))
        .min(MAX_BACKOFF);
    let spread = (random % 501) as f64 / 1000.0 + 0.75;
    base.mul_f64(spread)
}

/// `kick` starts a round at once: the console rings it after a local action, and the
/// server's poke stream rings it when another console changed something.
pub async fn run<T: Transport>(
    store: Store,
    transport: T,
    scope: String,
    status: UnboundedSender<SyncStatus>,
    kick: std::sync::Arc<tokio::sync::Notify>,
) {
    let mut failures = 0u32;
    let mut last_ok = None;
    loop {
        let report = sync_once(&store, &transport, &scope).await;
        let pending = store.pending_count().await.unwrap_or(-1);
        let s = match report {
            Ok(_) => {
                failures = 0;
                last_ok = Some(store.now());
                let rejected = store.take_rejections().await.unwrap_or_default();
                SyncStatus {
                    online: true,
                    pending,
                    last_ok,
                    error: None,
                    version: None,
                    rejected,
                }
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, failures, "sync round failed");
                SyncStatus {
                    online: false,
                    pending,
                    last_ok,
                    error: Some(e.to_string()),
                    version: match e {
                        SyncError::Version { console, server } => Some((console, server)),
                        _ => None,
                    },
                    rejected: vec![],
                }
            }
        };
        if status.send(s).is_err() {
            return;
        }
        if failures == 0 {
            tokio::select! {
                _ = tokio::time::sleep(PERIOD) => {}
                _ = kick.notified() => {}
            }
        } else {
            // Away: the timer alone decides, not the operator's next keystroke.
            tokio::time::sleep(backoff(failures, uuid::Uuid::now_v7().as_u128() as u64)).await;
        }
    }
}

/// Listens to the server's poke stream (`GET /v1/sync/poke`) and rings `kick` on every event;
/// reconnects after a pause when the stream ends. Only a hint: the rounds run anyway.
pub async fn listen_pokes(
    base: String,
    token: String,
    scope: String,
    kick: std::sync::Arc<tokio::sync::Notify>,
) {
    let client = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
    {
        Ok(c) => c,
        Err(_) => return,
    };
    let url = format!("{}/v1/sync/poke", base.trim_end_matches('/'));
    loop {
        let resp = client
            .get(&url)
            .query(&[("scope_id", scope.as_str())])
            .bearer_auth(&token)
            .send()
            .await;
        if let Ok(mut resp) = resp
            && resp.status().is_success()
        {
            // The server writes a keep-alive every 15 s: a stream silent for longer is a
            // connection that died without closing (a NAT dropped it); reconnect.
            while let Ok(Ok(Some(chunk))) =
                tokio::time::timeout(Duration::from_secs(40), resp.chunk()).await
            {
                // A comment line (`:`) is the keep-alive; anything else is an event.
                if chunk
                    .split(|b| *b == b'\n')
                    .any(|l| l.starts_with(b"data:"))
                {
                    kick.notify_one();
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_spread() {
        assert!(
            backoff(1, 0) >= Duration::from_millis(1500)
                && backoff(1, 0) <= Duration::from_millis(2500)
        );
        assert!(backoff(3, 250) > backoff(1, 250));
        assert!(backoff(30, 500) <= MAX_BACKOFF.mul_f64(1.25));
        assert_ne!(backoff(4, 0), backoff(4, 500));
    }
}
