//! The gateway: for one channel account, an inbound poller, an outbound sender and a file
//! fetcher, running as tokio tasks under one lease. Everything they learn goes through the
//! store; what happens is reported as `GatewayEvent`s for whoever shows it (the console's
//! status bar, `mcu demo --headless`, logs).

mod fetch;
mod poll;
mod send;
mod waiting;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

use super::Adapter;
use super::team::TeamLink;
use crate::domain::request::AttachmentState;
use crate::store::ingest::{IngestReport, IngestRules};
use crate::store::lease;
use crate::store::{Store, StoreError};
use crate::wire::fence::Fence;

#[derive(Debug, Clone)]
pub struct GatewayOptions {
    pub rules: IngestRules,
    pub lease_ttl: Duration,
    /// How often an idle sender looks for replies written by other processes (`mcu reply`).
    pub idle_poll: Duration,
    /// Telegram: about one message a second per chat.
    pub per_chat_interval: Duration,
    /// Telegram: about 30 messages a second in all.
    pub global_interval: Duration,
    /// Where fetched files go; None leaves files unfetched.
    pub files_dir: Option<PathBuf>,
    pub max_file_bytes: u64,
    /// How often unanswered questions are looked at for a reminder or a close, and breaches
    /// for the leads.
    pub waiting_every: Duration,
    /// The shift leads' Telegram chat, told of every breach (`[escalation]`); a Telegram
    /// gateway only.
    pub escalation_chat: Option<String>,
    /// Also warn that chat when a clock turns at risk (`[escalation] at_risk`).
    pub escalation_at_risk: bool,
    /// «Вопрос решён?» this long after a resolved close (`[feedback]`); `None`: not asked.
    pub feedback_after: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GatewayEvent {
    Started {
        account: String,
        epoch: i64,
    },
    Ingested(IngestReport),
    Sent {
        chat: String,
        part: i64,
        message_id: String,
    },
    Retry {
        chat: String,
        reason: String,
        after: Duration,
    },
    Unknown {
        chat: String,
        reason: String,
    },
    Failed {
        chat: String,
        reason: String,
    },
    File {
        source: String,
        state: AttachmentState,
    },
    /// Citizens reminded of a question, and requests closed for want of an answer.
    Waiting {
        reminded: usize,
        closed: usize,
    },
    /// Breaches told to the shift leads' chat.
    Escalated(usize),
    /// Forwarded requests and reminders sent to departments (their Telegram chats or mail).
    DepartmentPosts(usize),
    /// Citizens asked «Вопрос решён?» after a resolved close.
    FeedbackAsked(usize),
    /// Something an operator must see (a second poller, a revoked token, a lost lease).
    Alarm(String),
    Warning(String),
    Stopped,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Ctx<C> {
    store: Store,
    adapter: Arc<C>,
    opts: GatewayOptions,
    events: mpsc::UnboundedSender<GatewayEvent>,
    lease: String,
    holder: String,
    epoch: i64,
    account: String,
    /// Team mode: the server's lease and the link that settles each step there.
    team: Option<(Arc<dyn TeamLink>, Fence)>,
}

impl<C> Ctx<C> {
    fn emit(&self, e: GatewayEvent) {
        let _ = self.events.send(e);
    }

    fn source(&self) -> String {
        format!("{}:{}", self.lease, self.account)
    }
}

/// Runs until `shutdown` turns true or the lease is lost. Waits for the lease while another
/// live gateway holds it.
pub async fn run<C: Adapter>(
    store: Store,
    adapter: Arc<C>,
    opts: GatewayOptions,
    events: mpsc::UnboundedSender<GatewayEvent>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), GatewayError> {
    run_with(store, adapter, opts, events, shutdown, None).await
}

/// As `run`, in team mode: the server's lease is taken as well as the working file's, and
/// every update batch, cursor and send is settled on the server through `team`.
pub async fn run_team<C: Adapter>(
    store: Store,
    adapter: Arc<C>,
    opts: GatewayOptions,
    events: mpsc::UnboundedSender<GatewayEvent>,
    shutdown: watch::Receiver<bool>,
    team: Arc<dyn TeamLink>,
) -> Result<(), GatewayError> {
    run_with(store, adapter, opts, events, shutdown, Some(team)).await
}

async fn run_with<C: Adapter>(
    store: Store,
    adapter: Arc<C>,
    opts: GatewayOptions,
    events: mpsc::UnboundedSender<GatewayEvent>,
    mut shutdown: watch::Receiver<bool>,
    team: Option<Arc<dyn TeamLink>>,
) -> Result<(), GatewayError> {
    let account = adapter.account();
    let lease = format!("gateway:{}:{account}", adapter.channel().as_str());
    let holder = lease::holder_id();
    let ttl = opts.lease_ttl;
    let epoch = loop {
        match store.acquire_lease(&lease, &holder, ttl).await? {
            Ok(epoch) => break epoch,
            Err(other) => {
                let _ = events.send(GatewayEvent::Warning(format!(
                    "{lease} is held by {other}; waiting"
                )));
                tokio::select! {
                    _ = tokio::time::sleep(ttl / 3) => {}
                    _ = shutdown.changed() => return Ok(()),
                }
            }
        }
    };
    let team = match team {
        None => None,
        Some(link) => {
            let mut warned = false;
            let remote = loop {
                match link.acquire(&lease, &holder, ttl).await {
                    Ok(Ok(epoch)) => break epoch,
                    Ok(Err(other)) if !warned => {
                        warned = true;
                        let _ = events.send(GatewayEvent::Warning(format!(
                            "{lease} is held by {other} on the server; standing by"
                        )));
                    }
                    Ok(Err(_)) => {}
                    Err(e) => {
                        let _ = events.send(GatewayEvent::Warning(format!(
                            "{lease}: cannot reach the server's lease: {e}"
                        )));
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(ttl / 3) => {}
                    _ = shutdown.changed() => {
                        let _ = store.release_lease(&lease, &holder, epoch).await;
                        return Ok(());
                    }
                }
            };
            let fence = Fence {
                lease: lease.clone(),
                epoch: remote,
            };
            Some((link, fence))
        }
    };
    let ctx = Arc::new(Ctx {
        store,
        adapter,
        opts,
        events,
        lease,
        holder,
        epoch,
        account,
        team,
    });
    ctx.emit(GatewayEvent::Started {
        account: ctx.account.clone(),
        epoch: ctx.team.as_ref().map_or(epoch, |(_, f)| f.epoch),
    });
    let retry = ctx.adapter.idempotent_sends();
    let swept = ctx
        .store
        .sweep_outbox(ctx.adapter.channel(), epoch, retry)
        .await?;
    if swept > 0 {
        ctx.emit(GatewayEvent::Warning(if retry {
            format!("{swept} part(s) interrupted mid-send will be sent again (the channel drops repeats)")
        } else {
            format!("{swept} part(s) interrupted mid-send marked unknown")
        }));
    }
    let (stop_tx, stop) = watch::channel(false);
    let tasks = vec![
        tokio::spawn(poll::poller(ctx.clone(), stop.clone())),
        tokio::spawn(send::sender(ctx.clone(), stop.clone())),
        tokio::spawn(fetch::fetcher(ctx.clone(), stop.clone())),
        tokio::spawn(waiting::watcher(ctx.clone(), stop.clone())),
    ];
    let renew_every = ttl / 3;
    let mut fenced = false;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(renew_every) => {
                let mut kept = ctx.store.renew_lease(&ctx.lease, &ctx.holder, epoch, ttl).await.unwrap_or(false);
                if let Some((link, fence)) = &ctx.team {
                    match link.renew(fence, ttl).await {
                        Ok(true) => {}
                        Ok(false) => kept = false,
                        // The store is away: the lease runs out on its own if this lasts,
                        // and every write is fenced meanwhile.
                        Err(e) => ctx.emit(GatewayEvent::Warning(format!("{}: lease renewal failed: {e}", ctx.lease))),
                    }
                }
                if !kept {
                    ctx.emit(GatewayEvent::Alarm(format!("{}: lease lost to another gateway; stopping", ctx.lease)));
                    fenced = true;
                    break;
                }
            }
            _ = shutdown.changed() => break,
        }
    }
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    if !fenced {
        let _ = ctx
            .store
            .release_lease(&ctx.lease, &ctx.holder, epoch)
            .await;
        if let Some((link, fence)) = &ctx.team {
            // What the last sends recorded (a reply delivered: `Op::Delivery`) goes to the
            // server while this gateway still holds the lease it must be pushed under.
            if let Err(e) = link.flush(fence, None).await {
                ctx.emit(GatewayEvent::Warning(format!(
                    "the last sends' outcomes wait in this file for the next start: {e:?}"
                )));
            }
            let _ = link.release(fence).await;
        }
    }
    ctx.emit(GatewayEvent::Stopped);
    Ok(())
}

fn backoff(attempt: u32, salt: u64) -> Duration {
    let base = 2u64.saturating_pow(attempt.min(8)).min(300);
    // Deterministic jitter (±25%) so retries of many parts don't align.
    let jitter = (salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33) % 500;
    Duration::from_millis(base * 750 + base * jitter)
}

async fn sleep_or_stop(d: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = stop.changed() => true,
    }
}
