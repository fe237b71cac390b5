//! The gateway: for one channel account, an inbound poller, an outbound sender and a file
//! fetcher, running as tokio tasks under one lease. Everything they learn goes through the
//! store; what happens is reported as `GatewayEvent`s for whoever shows it (the console's
//! status bar, `mcu demo --headless`, logs).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

use super::team::{Claim, LinkError, PartState, TeamLink};
use super::{Channel, FileOutcome, OutboundPart, PollError, SendOutcome};
use crate::domain::request::AttachmentState;
use crate::store::ingest::{IngestReport, IngestRules, Source};
use crate::store::outbox::{self, Finish, Part};
use crate::store::rows::ms;
use crate::store::{Store, StoreError, files, ingest};
use crate::sync::wire::Fence;

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
    channel: Arc<C>,
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
pub async fn run<C: Channel>(
    store: Store,
    channel: Arc<C>,
    opts: GatewayOptions,
    events: mpsc::UnboundedSender<GatewayEvent>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), GatewayError> {
    run_with(store, channel, opts, events, shutdown, None).await
}

/// As `run`, in team mode: the server's lease is taken as well as the working file's, and
/// every update batch, cursor and send is settled on the server through `team`.
pub async fn run_team<C: Channel>(
    store: Store,
    channel: Arc<C>,
    opts: GatewayOptions,
    events: mpsc::UnboundedSender<GatewayEvent>,
    shutdown: watch::Receiver<bool>,
    team: Arc<dyn TeamLink>,
) -> Result<(), GatewayError> {
    run_with(store, channel, opts, events, shutdown, Some(team)).await
}

async fn run_with<C: Channel>(
    store: Store,
    channel: Arc<C>,
    opts: GatewayOptions,
    events: mpsc::UnboundedSender<GatewayEvent>,
    mut shutdown: watch::Receiver<bool>,
    team: Option<Arc<dyn TeamLink>>,
) -> Result<(), GatewayError> {
    let account = channel.account();
    let lease = format!("gateway:{}:{account}", channel.channel().as_str());
    let holder = outbox::holder_id();
    let ttl = opts.lease_ttl;
    let epoch = loop {
        let (l, h) = (lease.clone(), holder.clone());
        let now = ms(store.now());
        match store
            .call(move |c, _| outbox::acquire(c, &l, &h, now, ttl))
            .await?
        {
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
                        let (l, h) = (lease.clone(), holder.clone());
                        let _ = store.call(move |c, _| outbox::release(c, &l, &h, epoch)).await;
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
        channel,
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
    let ch = ctx.channel.channel().as_str();
    let now = ms(ctx.store.now());
    let swept = ctx
        .store
        .call(move |c, _| outbox::sweep(c, ch, epoch, now))
        .await?;
    if swept > 0 {
        ctx.emit(GatewayEvent::Warning(format!(
            "{swept} part(s) interrupted mid-send marked unknown"
        )));
    }
    let (stop_tx, stop) = watch::channel(false);
    let tasks = vec![
        tokio::spawn(poller(ctx.clone(), stop.clone())),
        tokio::spawn(sender(ctx.clone(), stop.clone())),
        tokio::spawn(fetcher(ctx.clone(), stop.clone())),
    ];
    let renew_every = ttl / 3;
    let mut fenced = false;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(renew_every) => {
                let (l, h) = (ctx.lease.clone(), ctx.holder.clone());
                let now = ms(ctx.store.now());
                let mut kept = ctx.store.call(move |c, _| outbox::renew(c, &l, &h, epoch, now, ttl)).await.unwrap_or(false);
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
        let (l, h) = (ctx.lease.clone(), ctx.holder.clone());
        let _ = ctx
            .store
            .call(move |c, _| outbox::release(c, &l, &h, epoch))
            .await;
        if let Some((link, fence)) = &ctx.team {
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

async fn poller<C: Channel>(ctx: Arc<Ctx<C>>, mut stop: watch::Receiver<bool>) {
    let channel = ctx.channel.channel();
    let account = ctx.account.clone();
    let mut cursor = match ctx
        .store
        .call(move |c, _| ingest::cursor(c, channel, &account))
        .await
    {
        Ok(c) => c,
        Err(e) => {
            ctx.emit(GatewayEvent::Alarm(format!(
                "cannot read the {} cursor: {e}",
                channel.as_str()
            )));
            return;
        }
    };
    if let Some((link, fence)) = &ctx.team {
        // Another server may have led this account: its confirmed position wins over ours.
        match link.cursor(&fence.lease).await {
            Ok(remote) => cursor = newer(cursor, remote),
            Err(e) => {
                ctx.emit(GatewayEvent::Alarm(format!(
                    "cannot read the {} cursor on the server: {e}",
                    channel.as_str()
                )));
                return;
            }
        }
    }
    let mut failures = 0u32;
    let mut conflicts = 0u32;
    loop {
        if *stop.borrow() {
            return;
        }
        // Team mode: a server that was frozen past its lease must not poll even once, or
        // Telegram would cut off the new leader's poll (409).
        if let Some((link, fence)) = &ctx.team
            && let Ok(false) = link.renew(fence, ctx.opts.lease_ttl).await
        {
            ctx.emit(GatewayEvent::Alarm(format!(
                "{}: another gateway took over; polling stopped",
                fence.lease
            )));
            return;
        }
        let polled = tokio::select! {
            r = ctx.channel.poll(cursor.clone()) => r,
            _ = stop.changed() => return,
        };
        match polled {
            Ok(batch) => {
                failures = 0;
                conflicts = 0;
                let rules = ctx.opts.rules.clone();
                let (lease, account, epoch) = (ctx.lease.clone(), ctx.account.clone(), ctx.epoch);
                let next = batch.next_cursor.clone();
                let stored = ctx
                    .store
                    .call(move |c, env| {
                        let src = Source {
                            channel,
                            account: &account,
                            lease: &lease,
                            epoch,
                        };
                        ingest::ingest(c, env, &src, &batch, &rules)
                    })
                    .await;
                match stored {
                    Ok(report) => {
                        // Team mode: the next poll confirms this batch to the channel, so
                        // the server must hold it first.
                        if !flush(&ctx, next.clone(), &mut stop).await {
                            return;
                        }
                        if next.is_some() {
                            cursor = next;
                        }
                        if report != IngestReport::default() {
                            ctx.emit(GatewayEvent::Ingested(report));
                        }
                    }
                    Err(StoreError::Fenced(l)) => {
                        ctx.emit(GatewayEvent::Alarm(format!(
                            "{l}: another gateway took over; polling stopped"
                        )));
                        return;
                    }
                    Err(e) => {
                        // Not confirmed to the channel: the same batch comes again.
                        ctx.emit(GatewayEvent::Warning(format!(
                            "storing updates failed: {e}"
                        )));
                        if sleep_or_stop(backoff(1, 7), &mut stop).await {
                            return;
                        }
                    }
                }
            }
            Err(PollError::Transient {
                reason,
                retry_after,
            }) => {
                failures += 1;
                let wait = retry_after.unwrap_or_else(|| backoff(failures, failures as u64));
                ctx.emit(GatewayEvent::Warning(format!(
                    "{} poll failed ({reason}); retry in {wait:?}",
                    channel.as_str()
                )));
                if sleep_or_stop(wait, &mut stop).await {
                    return;
                }
            }
            Err(PollError::Conflict(reason)) if ctx.team.is_some() && conflicts < 5 => {
                // The lease is ours: the other poller is a server that lost it and is about
                // to notice. Only a conflict that lasts means a stray bot or a webhook.
                conflicts += 1;
                ctx.emit(GatewayEvent::Warning(format!(
                    "{}: another poller cut in (409: {reason}); retrying",
                    channel.as_str()
                )));
                if sleep_or_stop(backoff(conflicts, conflicts as u64), &mut stop).await {
                    return;
                }
            }
            Err(e @ (PollError::Conflict(_) | PollError::Unauthorized(_))) => {
                let text = match e {
                    PollError::Conflict(reason) => format!(
                        "{}: another poller or a webhook holds the bot token (409); polling stopped: {reason}",
                        channel.as_str()
                    ),
                    PollError::Unauthorized(reason) => {
                        format!(
                            "{}: the bot token was refused (401); polling stopped: {reason}",
                            channel.as_str()
                        )
                    }
                    PollError::Transient { reason, .. } => reason,
                };
                let (src, t) = (ctx.source(), text.clone());
                let now = ms(ctx.store.now());
                let _ = ctx
                    .store
                    .call(move |c, _| outbox::raise_alarm(c, &src, "poll", &t, now))
                    .await;
                ctx.emit(GatewayEvent::Alarm(text));
                return;
            }
        }
    }
}

/// The later of two cursors; Telegram's are numbers, anything else keeps ours when we have one.
fn newer(local: Option<String>, remote: Option<String>) -> Option<String> {
    match (local, remote) {
        (Some(l), Some(r)) => match (l.parse::<i64>(), r.parse::<i64>()) {
            (Ok(a), Ok(b)) if b > a => Some(r),
            _ => Some(l),
        },
        (l, r) => l.or(r),
    }
}

/// Pushes what was stored and records the cursor on the server, retrying while the server is
/// away. False when the gateway must stop (fenced, or shutting down).
async fn flush<C>(ctx: &Ctx<C>, cursor: Option<String>, stop: &mut watch::Receiver<bool>) -> bool {
    let Some((link, fence)) = &ctx.team else {
        return true;
    };
    let mut attempt = 0u32;
    loop {
        match link.flush(fence, cursor.clone()).await {
            Ok(()) => return true,
            Err(LinkError::Fenced(l)) => {
                ctx.emit(GatewayEvent::Alarm(format!(
                    "{l}: another gateway took over; polling stopped"
                )));
                return false;
            }
            Err(LinkError::Unavailable(e)) => {
                attempt += 1;
                ctx.emit(GatewayEvent::Warning(format!(
                    "the server did not take the updates ({e}); polling waits"
                )));
                if sleep_or_stop(backoff(attempt.min(5), attempt as u64), stop).await {
                    return false;
                }
            }
        }
    }
}

async fn sender<C: Channel>(ctx: Arc<Ctx<C>>, mut stop: watch::Receiver<bool>) {
    let ch = ctx.channel.channel().as_str();
    let mut next_per_chat: HashMap<String, Instant> = HashMap::new();
    let mut last_send = Instant::now() - ctx.opts.global_interval;
    loop {
        if *stop.borrow() {
            return;
        }
        let now_i = Instant::now();
        next_per_chat.retain(|_, t| *t > now_i);
        let cooling = next_per_chat.keys().cloned().collect();
        let (lease, epoch) = (ctx.lease.clone(), ctx.epoch);
        let now = ms(ctx.store.now());
        let claimed = ctx
            .store
            .call(move |c, _| outbox::claim(c, ch, &lease, epoch, now, &cooling))
            .await;
        let part = match claimed {
            Ok(Some(p)) => p,
            Ok(None) => {
                let soonest = next_per_chat
                    .values()
                    .min()
                    .map(|t| t.saturating_duration_since(now_i));
                let due = ctx
                    .store
                    .call(move |c, _| outbox::next_due(c, ch))
                    .await
                    .ok()
                    .flatten();
                let until_due =
                    due.map(|d| Duration::from_millis((d - ms(ctx.store.now())).max(0) as u64));
                let wait = [Some(ctx.opts.idle_poll), soonest, until_due]
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap_or(ctx.opts.idle_poll);
                if sleep_or_stop(wait.max(Duration::from_millis(5)), &mut stop).await {
                    return;
                }
                continue;
            }
            Err(StoreError::Fenced(_)) => return,
            Err(e) => {
                ctx.emit(GatewayEvent::Warning(format!("outbox: {e}")));
                if sleep_or_stop(Duration::from_secs(1), &mut stop).await {
                    return;
                }
                continue;
            }
        };
        match claim_on_server(&ctx, &part).await {
            Ok(None) => {}
            Ok(Some(settled)) => {
                // Not sent here: recorded quietly, so nothing counts it as this server's send.
                settle(&ctx, &part, settled, false).await;
                continue;
            }
            Err(()) => return,
        }
        let gap = ctx.opts.global_interval.saturating_sub(last_send.elapsed());
        if !gap.is_zero() {
            tokio::time::sleep(gap).await;
        }
        last_send = Instant::now();
        // Once claimed, the send runs to its end even during shutdown: abandoning it halfway
        // would turn a deliverable reply into an `unknown` one.
        let outcome = ctx
            .channel
            .send(&OutboundPart {
                chat: part.chat.clone(),
                reply_to: part.reply_to.clone(),
                text: part.body.clone(),
            })
            .await;
        next_per_chat.insert(
            part.chat.clone(),
            Instant::now() + ctx.opts.per_chat_interval,
        );
        settle(&ctx, &part, outcome, true).await;
    }
}

/// Team mode: the server decides whether this part may be sent. `Ok(None)`: send it;
/// `Ok(Some(outcome))`: settle it locally without sending; `Err`: the lease is gone.
async fn claim_on_server<C: Channel>(ctx: &Ctx<C>, part: &Part) -> Result<Option<SendOutcome>, ()> {
    let Some((link, fence)) = &ctx.team else {
        return Ok(None);
    };
    let Ok(message_id) = part.message_id.parse() else {
        return Ok(None);
    };
    match link.claim(fence, message_id, part.part_no).await {
        Ok(Claim::Go) => Ok(None),
        Ok(Claim::Settled(state)) => Ok(Some(match state {
            PartState::Sent => SendOutcome::Sent {
                external_id: String::new(),
            },
            PartState::Failed => SendOutcome::Failed {
                reason: "refused when another gateway sent it".into(),
                unreachable: false,
            },
            _ => SendOutcome::Unknown {
                reason: "an earlier gateway was sending it when it stopped".into(),
            },
        })),
        Err(LinkError::Fenced(l)) => {
            ctx.emit(GatewayEvent::Alarm(format!(
                "{l}: another gateway took over; sending stopped"
            )));
            Err(())
        }
        Err(LinkError::Unavailable(e)) => Ok(Some(SendOutcome::RetryLater {
            reason: format!("the server is away: {e}"),
            after: Some(Duration::from_secs(2)),
        })),
    }
}

/// Team mode: tells the server how the send ended, so consoles see it and no later gateway
/// sends it again. Retried while the server is away; a fenced holder just stops trying.
async fn report<C>(ctx: &Ctx<C>, part: &Part, state: PartState, external_id: Option<String>) {
    let Some((link, fence)) = &ctx.team else {
        return;
    };
    let Ok(message_id) = part.message_id.parse() else {
        return;
    };
    for attempt in 1..=8u32 {
        match link
            .finish(
                fence,
                message_id,
                part.part_no,
                part.parts,
                state,
                external_id.clone(),
                part.request_rid.is_some(),
            )
            .await
        {
            Ok(()) => return,
            Err(LinkError::Fenced(_)) => return,
            Err(LinkError::Unavailable(e)) => {
                ctx.emit(GatewayEvent::Warning(format!(
                    "cannot record a send on the server ({e}); retrying"
                )));
                tokio::time::sleep(backoff(attempt.min(4), attempt as u64)).await;
            }
        }
    }
}

async fn settle<C: Channel>(ctx: &Ctx<C>, part: &Part, outcome: SendOutcome, announce: bool) {
    let now = ctx.store.now();
    let (finish, event) = match outcome {
        SendOutcome::Sent { external_id } => (
            Finish::Sent { external_id },
            GatewayEvent::Sent {
                chat: part.chat.clone(),
                part: part.part_no,
                message_id: part.message_id.clone(),
            },
        ),
        SendOutcome::RetryLater { reason, after } => {
            let wait = after.unwrap_or_else(|| backoff(part.attempts as u32 + 1, part.id as u64));
            let at = ms(now) + wait.as_millis() as i64;
            (
                Finish::Retry {
                    at,
                    reason: reason.clone(),
                },
                GatewayEvent::Retry {
                    chat: part.chat.clone(),
                    reason,
                    after: wait,
                },
            )
        }
        SendOutcome::Failed {
            reason,
            unreachable,
        } => (
            Finish::Failed {
                reason: reason.clone(),
                unreachable,
            },
            GatewayEvent::Failed {
                chat: part.chat.clone(),
                reason,
            },
        ),
        SendOutcome::Unknown { reason } => (
            Finish::Unknown {
                reason: reason.clone(),
            },
            GatewayEvent::Unknown {
                chat: part.chat.clone(),
                reason,
            },
        ),
    };
    let ch = ctx.channel.channel().as_str();
    let (lease, epoch, p) = (ctx.lease.clone(), ctx.epoch, part.clone());
    let n = ms(now);
    let remote = match &finish {
        Finish::Sent { external_id } => (
            PartState::Sent,
            Some(external_id.clone()).filter(|e| !e.is_empty()),
        ),
        Finish::Retry { .. } => (PartState::Pending, None),
        Finish::Failed { .. } => (PartState::Failed, None),
        Finish::Unknown { .. } => (PartState::Unknown, None),
    };
    report(ctx, part, remote.0, remote.1).await;
    match ctx
        .store
        .call(move |c, _| outbox::finish(c, ch, &lease, epoch, &p, &finish, n))
        .await
    {
        Ok(()) if announce => ctx.emit(event),
        Ok(()) => {}
        Err(e) => ctx.emit(GatewayEvent::Alarm(format!(
            "could not record a send result: {e}"
        ))),
    }
}

async fn fetcher<C: Channel>(ctx: Arc<Ctx<C>>, mut stop: watch::Receiver<bool>) {
    let Some(dir) = ctx.opts.files_dir.clone() else {
        return;
    };
    let ch = ctx.channel.channel().as_str();
    loop {
        let now = ms(ctx.store.now());
        let jobs = ctx
            .store
            .call(move |c, _| files::due(c, ch, now, 8))
            .await
            .unwrap_or_default();
        if jobs.is_empty() {
            if sleep_or_stop(Duration::from_secs(2), &mut stop).await {
                return;
            }
            continue;
        }
        for job in jobs {
            if *stop.borrow() {
                return;
            }
            let outcome = ctx
                .channel
                .fetch_file(&job.source, ctx.opts.max_file_bytes)
                .await;
            let (state, path) = match outcome {
                FileOutcome::Stored { bytes, name } => {
                    match save(&dir, &job.source, name.as_deref(), &bytes) {
                        Ok(p) => (AttachmentState::Stored, Some(p)),
                        Err(e) => {
                            ctx.emit(GatewayEvent::Warning(format!("cannot save a file: {e}")));
                            (AttachmentState::Failed, None)
                        }
                    }
                }
                FileOutcome::TooLarge { .. } => (AttachmentState::TooLarge, None),
                FileOutcome::Failed(reason) => {
                    ctx.emit(GatewayEvent::Warning(format!(
                        "file {}: {reason}",
                        job.source
                    )));
                    (AttachmentState::Failed, None)
                }
                FileOutcome::RetryLater(reason) if job.attempts < 10 => {
                    let at = ms(ctx.store.now())
                        + backoff(job.attempts as u32 + 1, job.request_rid as u64).as_millis()
                            as i64;
                    let j = job.clone();
                    let _ = ctx
                        .store
                        .call(move |c, _| files::postpone(c, ch, &j, at))
                        .await;
                    ctx.emit(GatewayEvent::Warning(format!(
                        "file {}: {reason}; will retry",
                        job.source
                    )));
                    continue;
                }
                FileOutcome::RetryLater(_) => (AttachmentState::Failed, None),
            };
            let (j, p) = (job.clone(), path);
            match ctx
                .store
                .call(move |c, env| files::settle(c, env, ch, &j, state, p))
                .await
            {
                Ok(()) => ctx.emit(GatewayEvent::File {
                    source: job.source.clone(),
                    state,
                }),
                Err(e) => ctx.emit(GatewayEvent::Warning(format!("file {}: {e}", job.source))),
            }
        }
    }
}

/// Stores a file under a name derived from the channel's file id; citizens' file names are
/// untrusted, so only their extension is kept, and only if it is plain.
fn save(
    dir: &std::path::Path,
    source: &str,
    name: Option<&str>,
    bytes: &[u8],
) -> std::io::Result<String> {
    std::fs::create_dir_all(dir)?;
    let ext = name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty() && e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or("bin");
    let stem: String = source
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(80)
        .collect();
    let path = dir.join(format!("{stem}.{ext}"));
    let tmp = dir.join(format!(".{stem}.{ext}.part"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path.display().to_string())
}
