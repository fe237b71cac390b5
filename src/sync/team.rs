//! The console's side of `/v1/team` (server/team.rs): the server's channels and who is on
//! shift, polled for the screen, and a lead's marks sent on. One task; the screen waits for
//! none of it. Polling rather than a stream: the answer is a few hundred bytes, it changes
//! every few seconds at most, and a console that lost the server must say so anyway.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::client::SyncError;
use crate::wire::team::{ShiftChange, StaffMember, TeamStatus};

/// How often the console asks; a channel that went down shows within this.
pub const EVERY: Duration = Duration::from_secs(5);

/// What the screen is told.
#[derive(Debug, Clone, PartialEq)]
pub enum News {
    Status(TeamStatus),
    /// The server did not answer: what the screen shows may be out of date.
    Lost(String),
    /// A mark went through.
    Marked(StaffMember),
    /// A mark was refused: (who was to be marked, the server's code, its words).
    Refused {
        user: String,
        code: String,
        message: String,
    },
}

/// `/v1/team` of one server, as one operator.
#[derive(Clone)]
pub struct TeamLink {
    http: reqwest::Client,
    base: String,
    token: String,
    scope: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
}

impl TeamLink {
    pub fn new(base: &str, token: &str, scope: &str) -> Result<TeamLink, SyncError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| SyncError::Unavailable(e.to_string()))?;
        Ok(TeamLink {
            http,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            scope: scope.to_string(),
        })
    }

    pub async fn status(&self) -> Result<TeamStatus, SyncError> {
        let resp = self
            .http
            .get(format!("{}/v1/team", self.base))
            .query(&[("scope_id", self.scope.as_str())])
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| SyncError::Unavailable(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            return Err(SyncError::Refused(format!("{status}: {text}")));
        }
        resp.json()
            .await
            .map_err(|e| SyncError::Unavailable(e.without_url().to_string()))
    }

    /// Marks `user` on or off shift: `Ok(Err((code, message)))` when the server refused.
    pub async fn mark(
        &self,
        user: &str,
        on_shift: bool,
    ) -> Result<Result<StaffMember, (String, String)>, SyncError> {
        let body = ShiftChange {
            scope_id: self.scope.clone(),
            user: user.to_string(),
            on_shift,
        };
        let resp = self
            .http
            .post(format!("{}/v1/team/shift", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| SyncError::Unavailable(e.without_url().to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return resp
                .json()
                .await
                .map(Ok)
                .map_err(|e| SyncError::Unavailable(e.without_url().to_string()));
        }
        if status.is_server_error() {
            return Err(SyncError::Unavailable(status.to_string()));
        }
        let text = resp.text().await.unwrap_or_default();
        let e: ErrorBody = serde_json::from_str(&text).unwrap_or(ErrorBody {
            error: status.as_u16().to_string(),
            message: text,
        });
        Ok(Err((e.error, e.message)))
    }
}

/// Polls every `every` and after each mark, sending the screen what it learns, until the
/// screen closes `out`.
pub async fn run(
    link: TeamLink,
    mut marks: UnboundedReceiver<(String, bool)>,
    out: UnboundedSender<News>,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            mark = marks.recv() => {
                let Some((user, on_shift)) = mark else { return };
                let news = match link.mark(&user, on_shift).await {
                    Ok(Ok(m)) => News::Marked(m),
                    Ok(Err((code, message))) => News::Refused { user, code, message },
                    Err(e) => News::Refused { user, code: "unavailable".into(), message: e.to_string() },
                };
                if out.send(news).is_err() {
                    return;
                }
            }
        }
        let news = match link.status().await {
            Ok(s) => News::Status(s),
            Err(e) => News::Lost(e.to_string()),
        };
        if out.send(news).is_err() {
            return;
        }
    }
}
