//! A channel's gateway inside `mcu serve --channels telegram,vk,platform,email`: its working file,
//! the sync loop that carries what it stores to the server and the consoles' replies back,
//! and the gateway itself under the server's lease (`server::gateway_link`). One each.

use anyhow::Context;
use futures::FutureExt;
use futures::future::BoxFuture;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use super::live;
use crate::channels::gateway::{self, GatewayEvent};
use crate::config::Config;
use crate::domain::{Catalog, ClockPolicy};
use crate::server::channel_metrics::ChannelMetrics;
use crate::server::gateway_link::{FencedLocal, ServerLink, principal};
use crate::server::local::{Local, Shared};
use crate::server::url::ServerStore;
use crate::store::{Env, Store};
use crate::sync::{client, runner};

/// `mcu serve --channels`: the names it knows.
pub const CHANNELS: [&str; 4] = ["telegram", "vk", "platform", "email"];

pub struct Setup<'a> {
    /// One of `CHANNELS`.
    pub channel: &'a str,
    pub server: Arc<ServerStore>,
    pub path: PathBuf,
    pub config: &'a Config,
    pub catalog: Catalog,
    pub policy: ClockPolicy,
    pub lease: Duration,
    /// Rung when the server's store changed: the gateway pulls the consoles' replies at once.
    pub kick: Arc<Notify>,
}

pub struct Running {
    pub metrics: Arc<ChannelMetrics>,
    gateway: JoinHandle<()>,
    sync: JoinHandle<()>,
    last_pull: BoxFuture<'static, ()>,
    /// Retrains the file's triage model where suggestions are applied at intake.
    _trainer: Option<super::trainer::TriageTrainer>,
}

impl Running {
    /// Waits for the gateway to finish its send and give the lease back, stops syncing, and
    /// pulls once more: the file is left as the store is (the next start, or a standby on this
    /// machine, begins from there).
    pub async fn stop(self) {
        let _ = self.gateway.await;
        self.sync.abort();
        let _ = self.sync.await;
        self.last_pull.await;
    }
}

pub async fn start(s: Setup<'_>, stop: watch::Receiver<bool>) -> anyhow::Result<Running> {
    let refused = |what: &str| super::Refused(format!("--channels {}: {what}", s.channel));
    match s.channel {
        "telegram" => {
            let tg = Arc::new(live::telegram(s.config, None, None)?);
            start_with(s, tg, true, stop).await
        }
        "vk" => {
            let vk = Arc::new(super::channels::vk(s.config, None, None, None)?);
            start_with(s, vk, true, stop).await
        }
        "platform" => {
            let Some(client) = s.config.channels.platform.client() else {
                return Err(refused("set [channels.platform] url").into());
            };
            let client = Arc::new(client.map_err(|e| refused(&e))?);
            let acknowledge = client.publishes();
            start_with(s, client, acknowledge, stop).await
        }
        "email" => {
            let Some(mail) = super::channels::mail(s.config)? else {
                return Err(
                    refused("no department has an address ([departments.<id>] email)").into(),
                );
            };
            start_with(s, Arc::new(mail), false, stop).await
        }
        other => Err(refused(&format!("no such channel `{other}`")).into()),
    }
}

async fn start_with<C: crate::channels::Adapter>(
    s: Setup<'_>,
    adapter: Arc<C>,
    acknowledge: bool,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Running> {
    let name = s.channel.to_string();
    let env = Env {
        catalog: s.catalog.clone(),
        policy: s.policy.clone(),
        journal: true,
        now: Arc::new(chrono::Utc::now),
    };
    let store = Store::open(&s.path, env)
        .await
        .with_context(|| format!("the gateway's file {}", s.path.display()))?;
    store.send_pulled_replies().await?;
    let shared = Arc::new(Shared {
        store: s.server.clone(),
        catalog: s.catalog,
        policy: s.policy,
        assign: s.config.assign,
        down: false.into(),
    });
    let scope = s.config.server.scope.clone();
    let link = Arc::new(ServerLink::new(
        shared.clone(),
        store.clone(),
        &scope,
        &name,
        adapter.idempotent_sends(),
        s.kick.clone(),
    ));
    let fenced = |shared: Arc<Shared<Arc<ServerStore>>>| FencedLocal {
        inner: Local {
            server: shared,
            who: principal(&name),
        },
        fence: link.transport.fence.clone(),
    };
    let transport = fenced(shared.clone());
    let last_pull = {
        let (store, t, scope) = (store.clone(), fenced(shared), scope.clone());
        async move {
            if let Err(e) = client::pull_all(&store, &t, &scope).await {
                tracing::warn!(error = %e, "the gateway's last pull");
            }
        }
        .boxed()
    };
    // The gateway joins a citizen's new message to their open request: it must know the
    // requests other servers' gateways and the consoles made before it polls.
    let pulled = client::pull_all(&store, &transport, &scope)
        .await
        .context("the gateway's first pull from the store")?;
    tracing::info!(pulled, file = %s.path.display(), "gateway file in step with the store");
    // Applying confident suggestions at intake needs a model of the city's history, which this
    // file holds once pulled; nobody sees its suggestions otherwise, so none is trained then.
    let trainer = match s.config.triage.auto_apply_above {
        Some(_) => {
            store.configure_triage(s.config.triage.clone()).await?;
            Some(super::trainer::TriageTrainer::spawn(
                store.clone(),
                s.config.triage.clone(),
            ))
        }
        None => None,
    };
    let (status_tx, mut status_rx) = mpsc::unbounded_channel();
    let sync = tokio::spawn(async move {
        let log = tokio::spawn(async move {
            while let Some(st) = status_rx.recv().await {
                let st: runner::SyncStatus = st;
                if let Some(e) = &st.error {
                    tracing::warn!(error = %e, pending = st.pending, "gateway sync");
                }
                for r in &st.rejected {
                    tracing::warn!(code = %r.code, message = %r.message, "gateway action refused");
                }
            }
        });
        runner::run(store.clone(), transport, scope, status_tx, s.kick).await;
        log.abort();
    });
    let mut opts = live::gateway_options(s.config, s.config.files_dir());
    opts.lease_ttl = s.lease;
    opts.rules.acknowledge = acknowledge;
    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
    let kind = match name.as_str() {
        "telegram" => crate::domain::Channel::Telegram,
        "vk" => crate::domain::Channel::Vk,
        "email" => crate::domain::Channel::Email,
        _ => crate::domain::Channel::Pos,
    };
    let metrics = Arc::new(ChannelMetrics::new(&name, kind, &s.config.server.scope));
    let m = metrics.clone();
    let ch = name.clone();
    let events = tokio::spawn(async move {
        while let Some(e) = ev_rx.recv().await {
            m.observe(&e);
            match e {
                GatewayEvent::Alarm(a) => tracing::error!(channel = %ch, alarm = %a, "gateway"),
                GatewayEvent::Warning(w) => tracing::warn!(channel = %ch, warning = %w, "gateway"),
                GatewayEvent::Started { account, epoch } => {
                    tracing::info!(channel = %ch, %account, epoch, "gateway took the lease")
                }
                other => tracing::info!(channel = %ch, event = ?other, "gateway"),
            }
        }
    });
    let gw_store = link.store.clone();
    let gateway = tokio::spawn(async move {
        if let Err(e) = gateway::run_team(gw_store, adapter, opts, ev_tx, stop, link).await {
            tracing::error!(channel = %name, error = %e, "gateway stopped");
        }
        let _ = events.await;
    });
    Ok(Running {
        metrics,
        gateway,
        sync,
        last_pull,
        _trainer: trainer,
    })
}
