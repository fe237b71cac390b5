//! The channel gateway inside `mcu serve` (team mode): it works its own SQLite file as a
//! standalone gateway does, and that file syncs with this server like a console, as the
//! `gateway` role, under the channel account's lease. `ServerLink` is how the gateway asks
//! the server before it acts (`channels::team`).

use futures::FutureExt;
use futures::future::BoxFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

use super::engine::{Principal, Role, ServerError, Transactional};
use super::fence;
use super::local::{Local, Shared};
use crate::channels::team::{LinkError, TeamLink};
use crate::store::Store;
use crate::sync::client::{self, SyncError, Transport};
use crate::wire::fence::Fence;
use crate::wire::fence::{Claim, PartState};
use crate::wire::sync::{PullRequest, PullResponse, PushRequest, PushResponse};

/// The gateway's principal: actions it pushes are the channel's (`telegram`), as in
/// standalone mode, and only it may record citizens' messages.
pub fn principal(channel: &str) -> Principal {
    Principal {
        user: channel.to_string(),
        role: Role::Gateway,
        departments: None,
    }
}

/// The in-process transport with the gateway's current lease attached to every push.
pub struct FencedLocal<S> {
    pub inner: Local<S>,
    pub fence: Arc<Mutex<Option<Fence>>>,
}

impl<S: Transactional + Send + Sync + 'static> Transport for FencedLocal<S> {
    async fn push(&self, mut req: PushRequest) -> Result<PushResponse, SyncError> {
        req.fence = self.fence.lock().map(|f| f.clone()).unwrap_or(None);
        self.inner.push(req).await
    }

    async fn pull(&self, req: PullRequest) -> Result<PullResponse, SyncError> {
        self.inner.pull(req).await
    }
}

pub struct ServerLink<S> {
    pub server: Arc<Shared<S>>,
    /// The gateway's working file.
    pub store: Store,
    pub scope: String,
    pub transport: Arc<FencedLocal<S>>,
    /// The channel recognises a repeated send (`Channel::idempotent_sends`): a part an
    /// earlier holder left mid-send is sent again rather than left `unknown`.
    pub idempotent: bool,
    /// Starts the gateway file's sync round: rung after the gateway's own actions are in the
    /// store, so their numbered copies (and the acknowledgements carrying those numbers) come
    /// back at once rather than at the next timer.
    pub kick: Arc<tokio::sync::Notify>,
}

impl<S: Transactional + Send + Sync + 'static> ServerLink<S> {
    pub fn new(
        server: Arc<Shared<S>>,
        store: Store,
        scope: &str,
        channel: &str,
        idempotent: bool,
        kick: Arc<tokio::sync::Notify>,
    ) -> Self {
        let transport = Arc::new(FencedLocal {
            inner: Local {
                server: server.clone(),
                who: principal(channel),
            },
            fence: Arc::new(Mutex::new(None)),
        });
        ServerLink {
            server,
            store,
            scope: scope.to_string(),
            transport,
            idempotent,
            kick,
        }
    }

    /// One transaction on the server's store, off the async threads (PostgreSQL's store
    /// blocks on its own runtime handle).
    async fn tx<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn super::engine::ServerTx) -> Result<R, ServerError> + Send + 'static,
    ) -> Result<R, LinkError> {
        if self.server.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(LinkError::Unavailable("server is down".into()));
        }
        let server = self.server.clone();
        tokio::task::spawn_blocking(move || server.store.in_tx(f))
            .await
            .map_err(|e| LinkError::Unavailable(e.to_string()))?
            .map_err(link_error)
    }
}

fn link_error(e: ServerError) -> LinkError {
    match e {
        ServerError::Fenced(l) => LinkError::Fenced(l),
        other => LinkError::Unavailable(other.to_string()),
    }
}

impl<S: Transactional + Send + Sync + 'static> TeamLink for ServerLink<S> {
    fn acquire<'a>(
        &'a self,
        lease: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Result<i64, String>, LinkError>> {
        let (scope, l, h) = (self.scope.clone(), lease.to_string(), holder.to_string());
        let idempotent = self.idempotent;
        async move {
            let got = self
                .tx(move |tx| {
                    fence::acquire(tx, &scope, &l, &h, chrono::Utc::now(), ttl, idempotent)
                })
                .await?;
            if let Ok(epoch) = got
                && let Ok(mut f) = self.transport.fence.lock()
            {
                *f = Some(Fence {
                    lease: lease.to_string(),
                    epoch,
                });
            }
            Ok(got)
        }
        .boxed()
    }

    fn renew<'a>(&'a self, f: &'a Fence, ttl: Duration) -> BoxFuture<'a, Result<bool, LinkError>> {
        let f = f.clone();
        self.tx(move |tx| fence::renew(tx, &f, chrono::Utc::now(), ttl))
            .boxed()
    }

    fn release<'a>(&'a self, f: &'a Fence) -> BoxFuture<'a, Result<(), LinkError>> {
        let f = f.clone();
        self.tx(move |tx| fence::release(tx, &f)).boxed()
    }

    fn cursor<'a>(&'a self, lease: &'a str) -> BoxFuture<'a, Result<Option<String>, LinkError>> {
        let l = lease.to_string();
        self.tx(move |tx| fence::cursor(tx, &l)).boxed()
    }

    fn flush<'a>(
        &'a self,
        f: &'a Fence,
        cursor: Option<String>,
    ) -> BoxFuture<'a, Result<(), LinkError>> {
        async move {
            client::push_all(&self.store, self.transport.as_ref(), &self.scope)
                .await
                .map_err(|e| match e {
                    SyncError::Refused(text) if text.contains("held by another gateway") => {
                        LinkError::Fenced(f.lease.clone())
                    }
                    other => LinkError::Unavailable(other.to_string()),
                })?;
            self.kick.notify_one();
            if let Some(c) = cursor {
                let f = f.clone();
                self.tx(move |tx| fence::save_cursor(tx, &f, &c, chrono::Utc::now()))
                    .await?;
            }
            Ok(())
        }
        .boxed()
    }

    fn claim<'a>(
        &'a self,
        f: &'a Fence,
        message_id: Uuid,
        part_no: i64,
    ) -> BoxFuture<'a, Result<Claim, LinkError>> {
        let (f, scope, idempotent) = (f.clone(), self.scope.clone(), self.idempotent);
        self.tx(move |tx| {
            fence::claim(
                tx,
                &scope,
                &f,
                message_id,
                part_no,
                chrono::Utc::now(),
                idempotent,
            )
        })
        .boxed()
    }

    fn finish<'a>(
        &'a self,
        f: &'a Fence,
        message_id: Uuid,
        part_no: i64,
        parts: i64,
        state: PartState,
        external_id: Option<String>,
        tracked: bool,
    ) -> BoxFuture<'a, Result<(), LinkError>> {
        let f = f.clone();
        self.tx(move |tx| {
            fence::finish(
                tx,
                &f,
                message_id,
                part_no,
                parts,
                state,
                external_id.as_deref(),
                tracked,
                chrono::Utc::now(),
            )
        })
        .boxed()
    }
}
