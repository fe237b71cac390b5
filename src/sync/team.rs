//! The console's side of `/v1/team` (server/team.rs, server/views.rs): the server's channels,
//! who is on shift and the team's shared views, polled for the screen, and a lead's marks and
//! shared views sent on. One task; the screen waits for
//! none of it. Polling rather than a stream: the answer is a few hundred bytes, it changes
//! every few seconds at most, and a console that lost the server must say so anyway.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::client::SyncError;
use crate::domain::views::SavedView;
use crate::wire::team::{ShiftChange, StaffMember, TeamStatus, ViewShare, ViewUnshare};

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
    /// The server shares this view with the team now (as it keeps it).
    Shared(SavedView),
    /// The server no longer shares the view of this name.
    Unshared(String),
    /// Sharing or taking back the view `name` was refused, or the server did not answer
    /// (`code` "unavailable").
    ViewRefused {
        name: String,
        code: String,
        message: String,
    },
}

/// What the screen asks of the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Ask {
    /// Mark `user` on or off shift.
    Mark { user: String, on_shift: bool },
    /// Share a view with the team (a lead's).
    Share(SavedView),
    /// Take the team's view of this name back (a lead's).
    Unshare(String),
}

/// A call the server answered: its answer, or `Err((code, message))` when it refused.
pub type Answer<T> = Result<Result<T, (String, String)>, SyncError>;

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
    pub async fn mark(&self, user: &str, on_shift: bool) -> Answer<StaffMember> {
        let body = ShiftChange {
            scope_id: self.scope.clone(),
            user: user.to_string(),
            on_shift,
        };
        self.post("/v1/team/shift", &body).await
    }

    /// Shares `view` with the team (a lead's call): the view as the server keeps it.
    pub async fn share(&self, view: &SavedView) -> Answer<SavedView> {
        let body = ViewShare {
            scope_id: self.scope.clone(),
            view: view.clone(),
        };
        self.post("/v1/team/views", &body).await
    }

    /// Takes the team's view `name` back (a lead's call): the view as it was shared.
    pub async fn unshare(&self, name: &str) -> Answer<SavedView> {
        let body = ViewUnshare {
            scope_id: self.scope.clone(),
            name: name.to_string(),
        };
        self.post("/v1/team/views/unshare", &body).await
    }

    /// A change the server answers with the thing changed, or refuses with its code and words.
    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Answer<T> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
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

/// What the screen is told of an ask's answer.
async fn answer(link: &TeamLink, ask: Ask) -> News {
    let unavailable = |e: SyncError| ("unavailable".to_string(), e.to_string());
    match ask {
        Ask::Mark { user, on_shift } => match link.mark(&user, on_shift).await {
            Ok(Ok(m)) => News::Marked(m),
            Ok(Err((code, message))) => News::Refused {
                user,
                code,
                message,
            },
            Err(e) => {
                let (code, message) = unavailable(e);
                News::Refused {
                    user,
                    code,
                    message,
                }
            }
        },
        Ask::Share(view) => match link.share(&view).await {
            Ok(Ok(v)) => News::Shared(v),
            Ok(Err((code, message))) => News::ViewRefused {
                name: view.name,
                code,
                message,
            },
            Err(e) => {
                let (code, message) = unavailable(e);
                News::ViewRefused {
                    name: view.name,
                    code,
                    message,
                }
            }
        },
        Ask::Unshare(name) => match link.unshare(&name).await {
            Ok(Ok(v)) => News::Unshared(v.name),
            Ok(Err((code, message))) => News::ViewRefused {
                name,
                code,
                message,
            },
            Err(e) => {
                let (code, message) = unavailable(e);
                News::ViewRefused {
                    name,
                    code,
                    message,
                }
            }
        },
    }
}

/// Polls every `every` and after each ask, sending the screen what it learns, until the
/// screen closes `out`.
pub async fn run(
    link: TeamLink,
    mut asks: UnboundedReceiver<Ask>,
    out: UnboundedSender<News>,
    every: Duration,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            ask = asks.recv() => {
                let Some(ask) = ask else { return };
                if out.send(answer(&link, ask).await).is_err() {
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
