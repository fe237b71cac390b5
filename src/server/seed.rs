//! A console file the server keeps in step with its store, for new consoles to start from.
//!
//! A new console's first pull of a city's year (400,000 requests, millions of messages,
//! notes and audit lines) is bound by its one writer thread: every row written, indexed and
//! made searchable, ~100 s. A file already written that way copies in seconds. So the server
//! follows its own store with a console file (pulling like any console, read-only), and
//! `GET /v1/seed` hands out a consistent copy of it; the console takes it only while it has
//! nothing of its own, keeps its identity, and pulls what came after the copy's cookie
//! (`sync::client`, `store::adopt`).

use std::path::Path;
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
                    if let Ok(Some(c)) = self.store.sync_cookie().await
                        && let Ok(c) = serde_json::from_str::<crate::wire::sync::Cookie>(&c)
                    {
                        self.seq.store(c.seq, Ordering::SeqCst);
                    }
                    if let Ok(q) = self.store.quarantined().await {
                        self.quarantined.store(q.len() as i64, Ordering::Relaxed);
                    }
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
