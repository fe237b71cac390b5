//! A server in the same process: the engine and a real store behind the `Transport` a console
//! uses, without HTTP. For tests of the console's sync against real rules, and for tools.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::engine::{self, Principal, Rules, ServerError, Transactional};
use crate::domain::{Catalog, ClockPolicy};
use crate::sync::client::{SyncError, Transport};
use crate::wire::sync::{PullRequest, PullResponse, PushRequest, PushResponse};

pub struct Shared<S> {
    pub store: S,
    pub catalog: Catalog,
    pub policy: ClockPolicy,
    /// Round-robin at intake: the gateway inside `mcu serve` pushes its new requests here.
    pub assign: super::assign::AssignConfig,
    /// While set, every call fails as if the server were down.
    pub down: AtomicBool,
}

impl<S> Shared<S> {
    pub fn new(store: S) -> Arc<Shared<S>> {
        Arc::new(Shared {
            store,
            catalog: Catalog::krasnodar(),
            policy: ClockPolicy::default(),
            assign: Default::default(),
            down: AtomicBool::new(false),
        })
    }
}

/// One operator's connection to the shared server.
pub struct Local<S> {
    pub server: Arc<Shared<S>>,
    pub who: Principal,
}

fn map(e: ServerError) -> SyncError {
    match e {
        ServerError::ClientUnknown => SyncError::ClientUnknown,
        ServerError::ReadOnly(_) => SyncError::ReadOnly,
        ServerError::Storage(s) => SyncError::Unavailable(s),
        other => SyncError::Refused(other.to_string()),
    }
}

impl<S: Transactional + Send + Sync + 'static> Local<S> {
    fn check(&self) -> Result<(), SyncError> {
        if self.server.down.load(Ordering::SeqCst) {
            return Err(SyncError::Unavailable("server is down".into()));
        }
        Ok(())
    }
}

impl<S: Transactional + Send + Sync + 'static> Transport for Local<S> {
    async fn push(&self, req: PushRequest) -> Result<PushResponse, SyncError> {
        self.check()?;
        let server = self.server.clone();
        let who = self.who.clone();
        tokio::task::spawn_blocking(move || {
            let rules = Rules {
                catalog: &server.catalog,
                policy: &server.policy,
                assign: server.assign,
            };
            engine::push(&server.store, &rules, &who, &req, chrono::Utc::now())
        })
        .await
        .map_err(|e| SyncError::Unavailable(e.to_string()))?
        .map_err(map)
    }

    async fn pull(&self, req: PullRequest) -> Result<PullResponse, SyncError> {
        self.check()?;
        let server = self.server.clone();
        let who = self.who.clone();
        tokio::task::spawn_blocking(move || engine::pull_page(&server.store, &who, &req))
            .await
            .map_err(|e| SyncError::Unavailable(e.to_string()))?
            .map_err(map)
    }
}
