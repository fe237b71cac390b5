//! The sync endpoints over HTTP (docs/sync-protocol.md §4): push, pull, poke stream, health and
//! metrics (presence's routes are in presence.rs, the team's in team.rs). JSON in and out; every `/v1` route wants
//! `Authorization: Bearer <token>`. The rules are the engine's; this file only carries them:
//! it authenticates, runs the engine on a blocking thread, maps its errors to statuses, and
//! tells subscribers a scope moved.
//!
//! No TLS here: run it behind a reverse proxy (nginx, caddy) that terminates TLS.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::sync::watch;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

mod error;
mod gate;
mod observe;

pub(super) use error::ApiError;
pub use gate::Reach;
use gate::require_token;
use observe::{Metrics, health, metrics_text};

use super::engine::{self, Principal, Rules, ServerError, Transactional};
use super::presence;
use crate::domain::{Catalog, ClockPolicy};
use crate::wire::sync::{PullRequest, PushRequest, SCHEMA_VERSION, Verdict};

/// What a store must be to sit behind the server: shared across request tasks and moved into
/// blocking threads.
pub trait Backend: Transactional + Send + Sync + 'static {}
impl<S: Transactional + Send + Sync + 'static> Backend for S {}

#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Largest request body. A push of a long offline shift is a few hundred KB; 8 MB leaves
    /// room without letting one client fill the server's memory.
    pub body_limit: usize,
    /// A request (body upload included) that takes longer is answered 408, so a slow or stuck
    /// client can't hold a worker forever. The poke stream is not cut: only producing its
    /// response head counts. A push cut by this still commits what it did; the client's
    /// retry is deduplicated by mutation uuid.
    pub request_timeout: Duration,
    /// Comment lines on idle poke streams, so proxies and NATs don't drop them.
    pub keep_alive: Duration,
    /// How often the store's seqs are read for changes this process's handlers did not make
    /// (the gateway inside it, another replica on the same PostgreSQL): they poke too.
    pub watch_every: Duration,
    /// Rung on every change seen, for the gateway's own sync loop.
    pub on_change: Option<std::sync::Arc<tokio::sync::Notify>>,
    /// The gateways running in this process, for `/metrics`.
    pub channels: Vec<std::sync::Arc<super::channel_metrics::ChannelMetrics>>,
    /// How long a console's presence lasts without a heartbeat (they beat every 5 s).
    pub presence_ttl: Duration,
    /// The console files new consoles start from, one per scope (`seed`), when this server
    /// keeps them.
    pub seed: Option<Arc<super::seed::Seeds>>,
    /// `/open311/v2/` (`server::open311`).
    pub open311: super::open311::Open311Options,
    /// Round-robin at intake (`[assign]`).
    pub assign: super::assign::AssignConfig,
    /// `[departments] show_citizen`: department accounts see the citizen (off by default).
    pub show_citizen: bool,
    /// Where this process's gateways keep the files they fetch: `/v1/files` serves from
    /// here, and from nowhere else (server/files.rs).
    pub files_dir: Option<std::path::PathBuf>,
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions {
            body_limit: 8 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            keep_alive: Duration::from_secs(15),
            watch_every: Duration::from_millis(250),
            on_change: None,
            channels: vec![],
            presence_ttl: presence::DEFAULT_TTL,
            seed: None,
            open311: Default::default(),
            assign: Default::default(),
            show_citizen: false,
            files_dir: None,
        }
    }
}

/// Serves until `shutdown` completes, then stops taking requests, ends the poke streams and
/// waits for requests in flight (each bounded by the request timeout).
pub async fn serve<S: Backend>(
    listener: tokio::net::TcpListener,
    store: S,
    catalog: Catalog,
    policy: ClockPolicy,
    opts: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let board = Arc::new(presence::Roster::new(opts.presence_ttl));
    let sweeper = tokio::spawn(board.clone().sweeper(stop_rx.clone()));
    let shared = Arc::new(Shared {
        store,
        catalog,
        policy,
        pokes: Pokes::default(),
        presence: board,
        metrics: Metrics::new(),
        stop: stop_rx,
        opts,
        seen: Mutex::default(),
    });
    let watcher = tokio::spawn(watch_store(shared.clone()));
    let app = router(shared);
    // The peer's address reaches the handlers: key-less Open311 calls are limited per
    // address (behind a proxy, the proxy's).
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    })
    .await;
    watcher.abort();
    sweeper.abort();
    served
}

/// Pokes for changes made outside this process's handlers, read from the store's seqs.
async fn watch_store<S: Backend>(app: Server<S>) {
    let mut seen: HashMap<String, i64> = HashMap::new();
    loop {
        tokio::time::sleep(app.opts.watch_every).await;
        let a = app.clone();
        let Ok(Ok(seqs)) =
            tokio::task::spawn_blocking(move || a.store.in_snapshot(|tx| tx.scope_seqs())).await
        else {
            continue;
        };
        let mut changed = false;
        for (scope, seq) in seqs {
            if seen.get(&scope) != Some(&seq) {
                app.observe(&scope, seq);
                changed |= seen.insert(scope, seq).is_some();
            }
        }
        if changed && let Some(n) = &app.opts.on_change {
            n.notify_one();
        }
    }
}

pub(super) struct Shared<S> {
    pub(super) store: S,
    pub(super) catalog: Catalog,
    pub(super) policy: ClockPolicy,
    pokes: Pokes,
    /// Who is on which request: memory only (presence.rs says why).
    presence: Arc<presence::Roster>,
    metrics: Metrics,
    /// Turns true on shutdown; poke streams end on it (graceful shutdown waits for them).
    stop: watch::Receiver<bool>,
    pub(super) opts: ServeOptions,
    /// When this process last wrote each account's `last_seen`: at most once a minute, so a
    /// console's heartbeats cost no write each.
    seen: Mutex<HashMap<String, std::time::Instant>>,
}

pub(super) type Server<S> = Arc<Shared<S>>;

/// How often an account's `last_seen` is written.
const SEEN_EVERY: Duration = Duration::from_secs(60);

impl<S: Backend> Shared<S> {
    /// Notes that `user` was seen, in the background: a failed write costs nothing but the
    /// line in `mcu user list`.
    fn seen(self: &Arc<Self>, user: &str) {
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            let now = std::time::Instant::now();
            if seen
                .get(user)
                .is_some_and(|t| now.duration_since(*t) < SEEN_EVERY)
            {
                return;
            }
            seen.insert(user.to_owned(), now);
        }
        let (app, user) = (self.clone(), user.to_owned());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = app.store.in_tx(|tx| tx.touch_account(&user, Utc::now())) {
                tracing::warn!(error = %e, "last seen");
            }
        });
    }
}

fn router<S: Backend>(app: Server<S>) -> Router {
    let sync = Router::new()
        .route("/v1/sync/push", post(push::<S>))
        .route("/v1/sync/pull", post(pull::<S>))
        .route("/v1/sync/poke", get(poke::<S>))
        .route("/v1/seed", get(seed_copy::<S>))
        .merge(super::team::routes::<S>())
        .merge(super::files::routes::<S>())
        .merge(presence::routes(presence::Routes {
            board: app.presence.clone(),
            stop: app.stop.clone(),
            keep_alive: app.opts.keep_alive,
        }))
        // Before the handlers' extractors: an unauthenticated body is never read.
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            require_token::<S>,
        ));
    let opts = app.opts.clone();
    Router::new()
        .merge(sync)
        .merge(super::open311::routes(app.clone()))
        .route("/health", get(health::<S>))
        .route("/metrics", get(metrics_text::<S>))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", None) })
        // The tower-http limit below answers 413 itself; axum's own 2 MB default would
        // otherwise cut in first.
        .layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(opts.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            opts.request_timeout,
        ))
        .layer(
            // One line per request at info, with its method and path: never headers, nor the
            // query (Open311 keys travel there as `api_key`, as the spec has it).
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<axum::body::Body>| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(app)
}

/// The engine and the store are synchronous: their work runs on tokio's blocking pool, never
/// on the threads serving other connections.
async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, ServerError> + Send + 'static,
) -> Result<R, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "blocking task failed");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                None,
            ))
        }
    }
}

/// Parses the body ourselves so a malformed one is answered in our JSON shape, not axum's text.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("request body: {e}")))
}

/// A console of another version may send a body this server can't read at all (a new kind of
/// action): its version is looked at first, so it hears that the versions differ rather than
/// that its body is malformed.
fn parse_sync<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    #[derive(serde::Deserialize)]
    struct Versioned {
        schema_version: Option<u32>,
    }
    if let Ok(Versioned {
        schema_version: Some(v),
    }) = serde_json::from_slice(body)
        && v != SCHEMA_VERSION
    {
        return Err(ServerError::Schema(v).into());
    }
    parse(body)
}

async fn push<S: Backend>(
    State(app): State<Server<S>>,
    Extension(who): Extension<Principal>,
    Extension(reach): Extension<Reach>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: PushRequest = parse_sync(&body)?;
    if let Some(r) = reach.refuse(&req.scope_id) {
        return Ok(r);
    }
    app.metrics.push_requests.increment(1);
    let a = app.clone();
    let (resp, before, head) = blocking(move || {
        // Only what is past the client's last id is new; a retried batch is answered again
        // but not counted again. (Two pushes of one client racing may both count: metrics.)
        let before = a
            .store
            .in_snapshot(|tx| tx.last_mutation_id(req.client_id))?;
        let rules = Rules {
            catalog: &a.catalog,
            policy: &a.policy,
            assign: a.opts.assign,
        };
        let resp = engine::push(&a.store, &rules, &who, &req, Utc::now())?;
        let any_applied = resp.results.iter().any(|r| r.status == Verdict::Applied);
        let head = if any_applied {
            Some((
                req.scope_id.clone(),
                a.store.in_tx(|tx| tx.scope(&req.scope_id))?.0,
            ))
        } else {
            None
        };
        Ok((resp, before, head))
    })
    .await?;
    for r in resp.results.iter().filter(|r| r.id > before) {
        match r.status {
            Verdict::Applied => app.metrics.mutations_applied.increment(1),
            Verdict::Rejected => app.metrics.mutations_rejected.increment(1),
        }
    }
    app.metrics.last_push.set(unix_now());
    if let Some((scope, seq)) = head {
        app.observe(&scope, seq);
    }
    Ok(axum::Json(resp).into_response())
}

async fn pull<S: Backend>(
    State(app): State<Server<S>>,
    Extension(who): Extension<Principal>,
    Extension(reach): Extension<Reach>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: PullRequest = parse_sync(&body)?;
    if let Some(r) = reach.refuse(&req.scope_id) {
        return Ok(r);
    }
    app.metrics.pull_requests.increment(1);
    let a = app.clone();
    let scope = req.scope_id.clone();
    let resp = blocking(move || engine::pull_page(&a.store, &who, &req)).await?;
    app.metrics.last_pull.set(unix_now());
    if !resp.more {
        // A last page's cookie is the scope's head.
        app.observe(&scope, resp.cookie.seq);
    }
    Ok(axum::Json(resp).into_response())
}

#[derive(serde::Deserialize)]
struct PokeQuery {
    scope_id: Option<String>,
}

/// Server-Sent Events: `{"seq":N}` first with the scope's current seq (a console that missed
/// a change while connecting sees it is behind), then at every change. Only a hint: consoles
/// also pull on a timer, so a lost event costs a delay, never data.
async fn poke<S: Backend>(
    State(app): State<Server<S>>,
    Extension(_who): Extension<Principal>,
    Extension(reach): Extension<Reach>,
    Query(q): Query<PokeQuery>,
) -> Result<Response, ApiError> {
    let scope = match q.scope_id {
        Some(s) if !s.is_empty() => s,
        _ => return Err(ApiError::bad_request("scope_id is required".into())),
    };
    if let Some(r) = reach.refuse(&scope) {
        return Ok(r);
    }
    let a = app.clone();
    let s = scope.clone();
    let (seq, _) = blocking(move || a.store.in_tx(|tx| tx.scope(&s))).await?;
    let rx = app.observe(&scope, seq);
    let mut stop = app.stop.clone();
    let events = futures::stream::unfold((rx, true), |(mut rx, first)| async move {
        if !first && rx.changed().await.is_err() {
            return None;
        }
        let seq = *rx.borrow_and_update();
        let event = Event::default().data(json!({ "seq": seq }).to_string());
        Some((Ok::<Event, Infallible>(event), (rx, false)))
    })
    .take_until(async move {
        let _ = stop.wait_for(|s| *s).await;
    });
    let sse = Sse::new(events).keep_alive(KeepAlive::new().interval(app.opts.keep_alive));
    // nginx buffers responses by default, which would hold pokes back until the buffer fills.
    let no_buffering = [(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    )];
    Ok((no_buffering, sse).into_response())
}

/// 200 when the store answers a read, 503 otherwise (no auth: for load balancers).
#[derive(serde::Deserialize)]
struct SeedQuery {
    scope: String,
}

async fn seed_copy<S: Backend>(
    State(app): State<Server<S>>,
    Extension(_who): Extension<Principal>,
    Extension(reach): Extension<Reach>,
    Query(q): Query<SeedQuery>,
) -> Response {
    if let Some(r) = reach.refuse(&q.scope) {
        return r;
    }
    let seed = match &app.opts.seed {
        None => None,
        // A scope nobody has written to has nothing to copy: an admin's typo must not make
        // a scope and a file of its own.
        Some(seeds) if !seeds.is_home(&q.scope) && !scope_exists(&app, &q.scope).await => None,
        Some(seeds) => match seeds.get(&q.scope).await {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!(scope = %q.scope, error = %e, "the new consoles' file");
                return ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "seed_failed",
                    Some("the copy could not be made; the console pulls everything instead".into()),
                )
                .into_response();
            }
        },
    };
    super::seed::respond(seed, &q.scope).await
}

/// Whether the store holds `scope` (a store that does not answer: as if it did, and the
/// copy's own read says what is wrong).
async fn scope_exists<S: Backend>(app: &Server<S>, scope: &str) -> bool {
    let (a, scope) = (app.clone(), scope.to_string());
    blocking(move || a.store.in_snapshot(|tx| tx.scope_seqs()))
        .await
        .map_or(true, |all| all.iter().any(|(s, _)| *s == scope))
}

impl<S> Shared<S> {
    /// Records a scope's seq: pokes go out and the gauge moves only when it went forward
    /// (pushes finish in any order). Returns a subscription to the scope.
    fn observe(&self, scope: &str, seq: i64) -> watch::Receiver<i64> {
        let rx = self.pokes.observe(scope, seq);
        self.metrics.scope_seq(scope).set(*rx.borrow() as f64);
        rx
    }
}

fn unix_now() -> f64 {
    Utc::now().timestamp_millis() as f64 / 1000.0
}

/// One watch channel per scope: the latest seq is all a subscriber needs, so a slow one
/// skips to it instead of queueing every change.
#[derive(Default)]
struct Pokes {
    scopes: Mutex<HashMap<String, watch::Sender<i64>>>,
}

impl Pokes {
    fn observe(&self, scope: &str, seq: i64) -> watch::Receiver<i64> {
        let mut scopes = self.scopes.lock().unwrap_or_else(|p| p.into_inner());
        let tx = scopes
            .entry(scope.to_owned())
            .or_insert_with(|| watch::channel(seq).0);
        tx.send_if_modified(|v| {
            let forward = seq > *v;
            if forward {
                *v = seq;
            }
            forward
        });
        tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::gate::bearer;
    use super::*;
    use axum::http::{HeaderMap, header};

    #[test]
    fn bearer_tokens() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
            bearer(&m)
        };
        assert_eq!(h("Bearer mcu_abc").as_deref(), Some("mcu_abc"));
        assert_eq!(h("bearer  mcu_abc ").as_deref(), Some("mcu_abc"));
        assert_eq!(h("Basic dXNlcjpwYXNz"), None);
        assert_eq!(h("Bearer "), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }

    #[test]
    fn pokes_only_move_forward() {
        let pokes = Pokes::default();
        let mut rx = pokes.observe("city", 5);
        assert_eq!(*rx.borrow_and_update(), 5);
        pokes.observe("city", 3);
        assert!(!rx.has_changed().unwrap());
        pokes.observe("city", 9);
        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), 9);
        // Scopes are independent.
        pokes.observe("other", 100);
        assert!(!rx.has_changed().unwrap());
    }

    #[test]
    fn each_server_has_its_own_metrics() {
        let a = Metrics::new();
        let b = Metrics::new();
        a.push_requests.increment(3);
        a.scope_seq("krasnodar").set(42.0);
        let text = a.recorder.handle().render();
        assert!(text.contains("mcu_push_requests_total 3"), "{text}");
        assert!(
            text.contains("mcu_scope_seq{scope=\"krasnodar\"} 42"),
            "{text}"
        );
        let other = b.recorder.handle().render();
        assert!(other.contains("mcu_push_requests_total 0"), "{other}");
    }
}
