//! The inbound poller: polls the channel from the stored cursor, stores each batch with its
//! cursor in one transaction (and, in team mode, on the server) before polling again.

use std::sync::Arc;
use tokio::sync::watch;

use super::{Ctx, GatewayEvent, backoff, sleep_or_stop};
use crate::channels::team::LinkError;
use crate::channels::{Adapter, PollError};
use crate::store::StoreError;
use crate::store::ingest::IngestReport;

pub(super) async fn poller<C: Adapter>(ctx: Arc<Ctx<C>>, mut stop: watch::Receiver<bool>) {
    let channel = ctx.adapter.channel();
    let account = ctx.account.clone();
    let mut cursor = match ctx.store.cursor(channel, &account).await {
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
            r = ctx.adapter.poll(cursor.clone()) => r,
            _ = stop.changed() => return,
        };
        match polled {
            Ok(batch) => {
                failures = 0;
                conflicts = 0;
                let rules = ctx.opts.rules.clone();
                let next = batch.next_cursor.clone();
                let stored = ctx
                    .store
                    .ingest(channel, &ctx.account, &ctx.lease, ctx.epoch, batch, rules)
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
                        "{}: another poller or a webhook holds this account's token; polling stopped: {reason}",
                        channel.as_str()
                    ),
                    PollError::Unauthorized(reason) => {
                        format!(
                            "{}: the access token was refused; polling stopped: {reason}",
                            channel.as_str()
                        )
                    }
                    PollError::Transient { reason, .. } => reason,
                };
                let _ = ctx.store.raise_alarm(&ctx.source(), "poll", &text).await;
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
