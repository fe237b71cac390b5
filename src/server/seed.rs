//! A console file the server keeps in step with its store, for new consoles to start from.
//!
//! A new console's first pull of a city's year (400,000 requests, millions of messages,
//! notes and audit lines) is bound by its one writer thread: every row written, indexed and
//! made searchable, ~100 s. A file already written that way copies in seconds. So the server
//! follows its own store with a console file (pulling like any console, read-only), and
//! `GET /v1/seed` hands out a consistent copy of it; the console takes it only while it has
//! nothing of its own, keeps its identity, and pulls what came after the copy's cookie
//! (`sync::client`, `store::adopt`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

use super::engine::{Principal, Role, Transactional};
use super::local::{Local, Shared};
use crate::store::{Env, Store, StoreError};
use crate::sync::client;

/// The follower's account: it reads what every console may read and never pushes.
pub fn principal() -> Principal {
    Principal {
        user: "_seed".into(),
        role: Role::Viewer,
        departments: None,
    }
}

/// How often the file pulls: a console that starts from a copy pulls the rest itself, so
/// the file only needs to be roughly current.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(2);

pub struct Seed {
    store: Store,
    scope: String,
    /// The server seq the file has pulled up to; -1 until its first catch-up ends.
    seq: AtomicI64,
    /// Documents its pulls set aside because they don't read (`store::quarantine`), for
    /// `/metrics`: the server's own store holds one no console can read.
    quarantined: AtomicI64,
}

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seed")
            .field("scope", &self.scope)
            .field("seq", &self.seq())
            .finish()
    }
}

impl Seed {
    /// Opens the file at `path`, or starts it over when it follows another history than the
    /// store's (`epoch`: another store, or this one restored from a backup).
    pub async fn open(
        path: &Path,
        scope: &str,
        epoch: uuid::Uuid,
        env: Env,
    ) -> Result<Arc<Seed>, StoreError> {
        let cookie = |store: Store| async move {
            Ok::<_, StoreError>(
                store
                    .sync_cookie()
                    .await?
                    .and_then(|s| serde_json::from_str::<crate::wire::sync::Cookie>(&s).ok()),
            )
        };
        let mut store = Store::open(path, env.clone()).await?;
        let mut at = cookie(store.clone()).await?;
        if at.is_some_and(|c| c.epoch != epoch) {
            tracing::warn!(file = %path.display(), "the new consoles' file follows another history: starting it over");
            drop(store);
            for suffix in ["", "-wal", "-shm"] {
                let f = format!("{}{suffix}", path.display());
                if let Err(e) = std::fs::remove_file(&f)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    return Err(StoreError::Open(format!("{f}: {e}")));
                }
            }
            store = Store::open(path, env).await?;
            at = None;
        }
        Ok(Arc::new(Seed {
            store,
            scope: scope.to_string(),
            seq: AtomicI64::new(at.map_or(-1, |c| c.seq)),
            quarantined: AtomicI64::new(0),
        }))
    }

    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// How many documents the file's pulls have set aside.
    pub fn quarantined(&self) -> i64 {
        self.quarantined.load(Ordering::Relaxed)
    }

    /// The server seq the file is at; `None` before it has ever caught up.
    pub fn seq(&self) -> Option<i64> {
        let s = self.seq.load(Ordering::SeqCst);
        (s >= 0).then_some(s)
    }

    /// Pulls until `stop`, every `every`. A failed round is logged and retried: the file is
    /// only a shortcut, consoles can always pull everything themselves.
    pub async fn follow<S: Transactional + Send + Sync + 'static>(
        self: Arc<Self>,
        server: Arc<Shared<S>>,
        every: Duration,
        mut stop: watch::Receiver<bool>,
    ) {
        let t = Local {
            server,
            who: principal(),
        };
        let mut first = true;
        loop {
            let started = std::time::Instant::now();
            match client::pull_all(&self.store, &t, &self.scope).await {
                Ok(n) => {
                    self.note_progress().await;
                    if first {
                        tracing::info!(
                            changes = n,
                            secs = started.elapsed().as_secs_f64(),
                            "the new consoles' file is in step with the store"
                        );
                        first = false;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "the new consoles' file could not pull"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }

    /// `follow`, with the first catch-up (a whole city pulled into an empty file) taken
    /// only while `gate` has room.
    pub async fn follow_gated<S: Transactional + Send + Sync + 'static>(
        self: Arc<Self>,
        server: Arc<Shared<S>>,
        every: Duration,
        mut stop: watch::Receiver<bool>,
        gate: Arc<tokio::sync::Semaphore>,
    ) {
        if self.seq().is_none() {
            let t = Local {
                server: server.clone(),
                who: principal(),
            };
            let permit = tokio::select! {
                p = gate.acquire_owned() => p.ok(),
                _ = stop.wait_for(|s| *s) => return,
            };
            match client::pull_all(&self.store, &t, &self.scope).await {
                Ok(_) => self.note_progress().await,
                Err(e) => {
                    tracing::warn!(scope = %self.scope, error = %e, "the new consoles' file could not pull")
                }
            }
            drop(permit);
        }
        self.follow(server, every, stop).await
    }

    /// Reads where the file's pulls got to, for `seq` and `quarantined`.
    async fn note_progress(&self) {
        if let Ok(Some(c)) = self.store.sync_cookie().await
            && let Ok(c) = serde_json::from_str::<crate::wire::sync::Cookie>(&c)
        {
            self.seq.store(c.seq, Ordering::SeqCst);
        }
        if let Ok(q) = self.store.quarantined().await {
            self.quarantined.store(q.len() as i64, Ordering::Relaxed);
        }
    }

    /// A consistent copy of the file, made on its own thread between two pulls, as an open
    /// file whose name is already gone (nothing is left behind if the download stops).
    /// `None` before the file has caught up once.
    pub async fn copy(&self) -> Result<Option<(std::fs::File, u64)>, StoreError> {
        if self.seq().is_none() {
            return Ok(None);
        }
        self.store.copy_out().await.map(Some)
    }
}

/// Opens and follows one scope's file; `Seeds` holds it type-erased so that `ServeOptions`
/// stays the same whatever store the server runs on.
type Start = Box<
    dyn Fn(String, PathBuf) -> futures::future::BoxFuture<'static, Result<Arc<Seed>, StoreError>>
        + Send
        + Sync,
>;

/// The new consoles' files, one per scope (city): a region's server serves many cities, and
/// the first console of each must start from a copy of its own city, not pull it row by row.
/// The server's own scope (`[server] scope`) keeps the file named on the command line; every
/// other scope a file beside it, started the first time a console asks for it (or at the
/// server's start for every scope the store already holds, `start_all`).
pub struct Seeds {
    home: String,
    path: PathBuf,
    open: tokio::sync::Mutex<HashMap<String, Arc<Seed>>>,
    start: Start,
}

impl std::fmt::Debug for Seeds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seeds")
            .field("home", &self.home)
            .field("path", &self.path)
            .finish()
    }
}

/// How many files catch up from nothing at once: each is a console's one writer pulling a
/// whole city, and a region's server started with a hundred of them must go on serving.
const CATCHING_UP: usize = 2;

impl Seeds {
    /// Files for `server`'s scopes, `home`'s at `path`, each pulling every `every` until `stop`.
    pub fn new<S: Transactional + Send + Sync + 'static>(
        server: Arc<Shared<S>>,
        home: &str,
        path: PathBuf,
        env: Env,
        every: Duration,
        stop: watch::Receiver<bool>,
    ) -> Arc<Seeds> {
        let gate = Arc::new(tokio::sync::Semaphore::new(CATCHING_UP));
        let start: Start = Box::new(move |scope: String, file: PathBuf| {
            let server = server.clone();
            let env = env.clone();
            let stop = stop.clone();
            let gate = gate.clone();
            Box::pin(async move {
                let epoch = {
                    let server = server.clone();
                    let scope = scope.clone();
                    tokio::task::spawn_blocking(move || server.store.in_tx(|tx| tx.scope(&scope)))
                        .await
                        .map_err(|e| StoreError::Open(e.to_string()))?
                        .map_err(|e| StoreError::Open(e.to_string()))?
                        .1
                };
                let seed = Seed::open(&file, &scope, epoch, env).await?;
                tracing::info!(%scope, file = %file.display(), "following the store for new consoles");
                tokio::spawn(seed.clone().follow_gated(server, every, stop, gate));
                Ok(seed)
            })
        });
        Arc::new(Seeds {
            home: home.to_string(),
            path,
            open: tokio::sync::Mutex::new(HashMap::new()),
            start,
        })
    }

    /// The file for `scope`'s new consoles: the server's own scope's at the path it was
    /// given, another's beside it (`seed-<scope>.sqlite3`, the scope spelt safely).
    pub fn file_of(&self, scope: &str) -> PathBuf {
        if scope == self.home {
            return self.path.clone();
        }
        let stem = self
            .path
            .file_stem()
            .map_or_else(|| "seed".into(), |s| s.to_string_lossy().into_owned());
        self.path
            .with_file_name(format!("{stem}-{}.sqlite3", file_safe(scope)))
    }

    /// Whether `scope` is the server's own (`[server] scope`), whose file is kept from the
    /// start.
    pub fn is_home(&self, scope: &str) -> bool {
        scope == self.home
    }

    /// `scope`'s file, opened and followed from now on if it was not yet.
    pub async fn get(&self, scope: &str) -> Result<Arc<Seed>, StoreError> {
        let mut open = self.open.lock().await;
        if let Some(s) = open.get(scope) {
            return Ok(s.clone());
        }
        let seed = (self.start)(scope.to_string(), self.file_of(scope)).await?;
        open.insert(scope.to_string(), seed.clone());
        Ok(seed)
    }

    /// Opens and follows the file of each of `scopes` (the server's own first).
    pub async fn start_all(&self, scopes: &[String]) -> Result<(), StoreError> {
        self.get(&self.home.clone()).await?;
        for s in scopes {
            self.get(s).await?;
        }
        Ok(())
    }

    /// The server's own scope's file, if it is open.
    pub async fn home(&self) -> Option<Arc<Seed>> {
        self.open.lock().await.get(&self.home).cloned()
    }

    /// Every open file, by scope.
    pub async fn all(&self) -> Vec<Arc<Seed>> {
        let mut v: Vec<_> = self.open.lock().await.values().cloned().collect();
        v.sort_by(|a, b| a.scope().cmp(b.scope()));
        v
    }
}

/// A scope as part of a file name: letters, digits, `-` and `_` as they are, anything else
/// as its bytes in hex, so two scopes never share a file and none climbs out of the folder.
fn file_safe(scope: &str) -> String {
    let mut out = String::new();
    for c in scope.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("~{b:02x}"));
            }
        }
    }
    out
}

/// `GET /v1/seed?scope=…`: the copy as `application/vnd.sqlite3`; 404 `no_seed` when this
/// server keeps none for that scope, 503 `seed_not_ready` while it is still catching up.
/// Consoles take either as "pull everything".
pub async fn respond(seed: Option<Arc<Seed>>, scope: &str) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let refuse = |status: StatusCode, code: &str, message: &str| {
        (
            status,
            axum::Json(serde_json::json!({ "error": code, "message": message })),
        )
            .into_response()
    };
    let Some(seed) = seed.filter(|s| s.scope() == scope) else {
        return refuse(
            StatusCode::NOT_FOUND,
            "no_seed",
            "this server keeps no copy for new consoles of this scope",
        );
    };
    match seed.copy().await {
        Ok(None) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "seed_not_ready",
            "the copy for new consoles is still catching up",
        ),
        Ok(Some((file, len))) => {
            let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
                tokio::fs::File::from_std(file),
                1 << 20,
            ));
            (
                [
                    (header::CONTENT_TYPE, "application/vnd.sqlite3".to_string()),
                    (header::CONTENT_LENGTH, len.to_string()),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "copy for a new console");
            refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "seed_failed",
                "the copy could not be made; the console pulls everything instead",
            )
        }
    }
}
