//! Presence: who has which request's card open and who is writing a reply to it, so two
//! operators don't answer one citizen twice.
//!
//! Why it lives in the server's memory and nowhere else: it is true only for seconds, so it
//! is not a change (no change log, no journal, nothing to replay or audit), and a restarted
//! server losing it costs one heartbeat. Each console reports on change and every few
//! seconds; an entry nobody renews within the TTL is dropped by a sweeper, which is also
//! what publishes the drop, so a console that died or lost the network disappears from
//! everyone's screen without anybody polling. Entries are keyed by (user, console session):
//! one operator with two consoles is shown on both requests. Subscribers get the whole
//! snapshot of their scope (a handful of operators: smaller than any diff bookkeeping),
//! without themselves, and only when what they would see changed.
//!
//! Several replicas on one PostgreSQL don't share this memory (docs/operations.md, "Presence").

use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use uuid::Uuid;

use super::engine::Principal;
use super::http::Reach;
use crate::wire::presence::{Activity, Presence, PresenceReport, PresenceSnapshot};

/// A console sends a heartbeat every 5 s; three missed ones and it is gone.
pub const DEFAULT_TTL: Duration = Duration::from_secs(15);
/// Consoles one account may have open at once; more are refused rather than kept.
const SESSIONS_PER_USER: usize = 8;
/// Scope ids are short city names; this bounds what a client can make the server keep.
const MAX_SCOPE_LEN: usize = 100;

type Snapshot = Arc<Vec<Presence>>;

struct Entry {
    request_id: Uuid,
    activity: Activity,
    expires: Instant,
}

struct Scope {
    entries: HashMap<(String, Uuid), Entry>,
    /// The scope's current snapshot; a subscriber skips to the latest if it falls behind.
    tx: watch::Sender<Snapshot>,
}

impl Scope {
    fn new() -> Scope {
        Scope {
            entries: HashMap::new(),
            tx: watch::channel(Snapshot::default()).0,
        }
    }

    /// Rebuilds the snapshot from the entries and publishes it if it differs.
    fn publish(&self) {
        let mut set = BTreeSet::new();
        for ((user, _), e) in &self.entries {
            set.insert(Presence {
                request_id: e.request_id,
                user: user.clone(),
                activity: e.activity,
            });
        }
        // Writing a reply includes looking at the card: say the stronger thing once.
        let all: Vec<Presence> = set
            .iter()
            .filter(|p| {
                p.activity == Activity::Composing
                    || !set.contains(&Presence {
                        activity: Activity::Composing,
                        ..(*p).clone()
                    })
            })
            .cloned()
            .collect();
        self.tx.send_if_modified(|v| {
            let changed = **v != all;
            if changed {
                *v = Arc::new(all);
            }
            changed
        });
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum ReportError {
    ScopeTooLong,
    TooManySessions,
}

/// Every scope's presence. Times are tokio's, so tests can run the clock by hand.
pub struct Roster {
    ttl: Duration,
    scopes: Mutex<HashMap<String, Scope>>,
    /// Rings the sweeper when an entry was added, so it re-plans its next wake-up.
    wake: Notify,
}

impl Roster {
    pub fn new(ttl: Duration) -> Roster {
        Roster {
            ttl,
            scopes: Mutex::new(HashMap::new()),
            wake: Notify::new(),
        }
    }

    fn scopes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Scope>> {
        // Nothing here is left half-done by a panic worth refusing service for.
        self.scopes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records where `user`'s console is as of `now`; no request removes it.
    pub fn report(&self, user: &str, r: &PresenceReport, now: Instant) -> Result<(), ReportError> {
        if r.scope_id.chars().count() > MAX_SCOPE_LEN {
            return Err(ReportError::ScopeTooLong);
        }
        let mut scopes = self.scopes();
        let key = (user.to_owned(), r.session);
        match r.request_id {
            Some(request_id) => {
                let scope = scopes.entry(r.scope_id.clone()).or_insert_with(Scope::new);
                if !scope.entries.contains_key(&key)
                    && scope.entries.keys().filter(|(u, _)| u == user).count() >= SESSIONS_PER_USER
                {
                    return Err(ReportError::TooManySessions);
                }
                scope.entries.insert(
                    key,
                    Entry {
                        request_id,
                        activity: r.activity,
                        expires: now + self.ttl,
                    },
                );
                scope.publish();
                self.wake.notify_one();
            }
            None => {
                if let Some(scope) = scopes.get_mut(&r.scope_id)
                    && scope.entries.remove(&key).is_some()
                {
                    scope.publish();
                }
            }
        }
        Ok(())
    }

    /// Everyone in the scope now.
    pub fn snapshot(&self, scope: &str) -> Snapshot {
        self.scopes()
            .get(scope)
            .map(|s| s.tx.borrow().clone())
            .unwrap_or_default()
    }

    pub fn subscribe(&self, scope: &str) -> watch::Receiver<Snapshot> {
        self.scopes()
            .entry(scope.to_owned())
            .or_insert_with(Scope::new)
            .tx
            .subscribe()
    }

    /// Drops what expired by `now` (and scopes nobody is in or listening to) and publishes
    /// the changes; returns when the next entry expires.
    pub fn sweep(&self, now: Instant) -> Option<Instant> {
        let mut scopes = self.scopes();
        for scope in scopes.values_mut() {
            let before = scope.entries.len();
            scope.entries.retain(|_, e| e.expires > now);
            if scope.entries.len() != before {
                scope.publish();
            }
        }
        scopes.retain(|_, s| !s.entries.is_empty() || s.tx.receiver_count() > 0);
        scopes
            .values()
            .flat_map(|s| s.entries.values().map(|e| e.expires))
            .min()
    }

    /// Sweeps at each expiry until `stop` turns true.
    pub async fn sweeper(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            let next = self.sweep(Instant::now());
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                _ = self.wake.notified() => {}
                _ = async {
                    match next {
                        Some(t) => tokio::time::sleep_until(t).await,
                        None => std::future::pending().await,
                    }
                } => {}
            }
        }
    }
}

/// What `user` is shown: everyone but their own consoles.
pub fn visible_to(all: &[Presence], user: &str) -> Vec<Presence> {
    all.iter().filter(|p| p.user != user).cloned().collect()
}

/// The routes' state: the board, and when to end the streams.
#[derive(Clone)]
pub(super) struct Routes {
    pub board: Arc<Roster>,
    pub stop: watch::Receiver<bool>,
    pub keep_alive: Duration,
}

/// `POST /v1/presence`, `GET /v1/presence`, `GET /v1/presence/stream`. The caller adds the
/// token check (the handlers read the `Principal` it leaves).
pub(super) fn routes<S: Clone + Send + Sync + 'static>(state: Routes) -> Router<S> {
    Router::new()
        .route("/v1/presence", get(snapshot).post(report))
        .route("/v1/presence/stream", get(stream))
        .with_state(state)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "error": code, "message": message })),
    )
        .into_response()
}

async fn report(
    State(st): State<Routes>,
    Extension(who): Extension<Principal>,
    Extension(reach): Extension<Reach>,
    body: Bytes,
) -> Response {
    let r: PresenceReport = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                &format!("request body: {e}"),
            );
        }
    };
    if let Some(r) = reach.refuse(&r.scope_id) {
        return r;
    }
    match st.board.report(&who.user, &r, Instant::now()) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(ReportError::ScopeTooLong) => error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "scope_id is too long",
        ),
        Err(ReportError::TooManySessions) => error(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_sessions",
            "this account has too many consoles open; close one or wait 15 s",
        ),
    }
}

#[derive(serde::Deserialize)]
struct ScopeQuery {
    scope_id: Option<String>,
}

/// The scope asked about, or why the request is refused.
fn scope_of(q: ScopeQuery) -> Result<String, &'static str> {
    match q.scope_id {
        Some(s) if s.chars().count() > MAX_SCOPE_LEN => Err("scope_id is too long"),
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err("scope_id is required"),
    }
}

async fn snapshot(
    State(st): State<Routes>,
    Extension(who): Extension<Principal>,
    Extension(reach): Extension<Reach>,
    Query(q): Query<ScopeQuery>,
) -> Response {
    let scope = match scope_of(q) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e),
    };
    if let Some(r) = reach.refuse(&scope) {
        return r;
    }
    let presence = visible_to(&st.board.snapshot(&scope), &who.user);
    axum::Json(PresenceSnapshot { presence }).into_response()
}

/// Server-Sent Events named `presence`, each a whole `PresenceSnapshot`: the current one
/// first, then every change the caller can see.
async fn stream(
    State(st): State<Routes>,
    Extension(who): Extension<Principal>,
    Extension(reach): Extension<Reach>,
    Query(q): Query<ScopeQuery>,
) -> Response {
    let scope = match scope_of(q) {
        Ok(s) => s,
        Err(e) => return error(StatusCode::BAD_REQUEST, "bad_request", e),
    };
    if let Some(r) = reach.refuse(&scope) {
        return r;
    }
    let rx = st.board.subscribe(&scope);
    let mut stop = st.stop.clone();
    let user = who.user;
    let events = futures::stream::unfold((rx, None::<Vec<Presence>>), move |(mut rx, sent)| {
        let user = user.clone();
        async move {
            loop {
                let mine = visible_to(&rx.borrow_and_update(), &user);
                // Another operator's change is news; this console's own echo is not.
                if sent.as_ref() != Some(&mine) {
                    let data = serde_json::to_string(&PresenceSnapshot {
                        presence: mine.clone(),
                    })
                    .unwrap_or_default();
                    let event = Event::default().event("presence").data(data);
                    return Some((Ok::<Event, Infallible>(event), (rx, Some(mine))));
                }
                if rx.changed().await.is_err() {
                    return None;
                }
            }
        }
    })
    .take_until(async move {
        let _ = stop.wait_for(|s| *s).await;
    });
    let sse = Sse::new(events).keep_alive(KeepAlive::new().interval(st.keep_alive));
    let no_buffering = [(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    )];
    (no_buffering, sse).into_response()
}

#[cfg(test)]
mod tests;
