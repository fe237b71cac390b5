//! The outbound sender: claims each due part (committed before the call), sends it, records
//! the outcome; in team mode each step is settled on the server too.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

use super::{Ctx, GatewayEvent, backoff, sleep_or_stop};
use crate::channels::team::LinkError;
use crate::channels::{Adapter, OutboundPart, SendOutcome};
use crate::store::StoreError;
use crate::store::outbox::{Finish, Part};
use crate::store::rows::ms;
use crate::wire::fence::{Claim, PartState};

pub(super) async fn sender<C: Adapter>(ctx: Arc<Ctx<C>>, mut stop: watch::Receiver<bool>) {
    let ch = ctx.adapter.channel();
    let mut next_per_chat: HashMap<String, Instant> = HashMap::new();
    let mut last_send = Instant::now() - ctx.opts.global_interval;
    loop {
        if *stop.borrow() {
            return;
        }
        let now_i = Instant::now();
        next_per_chat.retain(|_, t| *t > now_i);
        let cooling = next_per_chat.keys().cloned().collect();
        let claimed = ctx
            .store
            .claim_part(ch, &ctx.lease, ctx.epoch, cooling)
            .await;
        let part = match claimed {
            Ok(Some(p)) => p,
            Ok(None) => {
                let soonest = next_per_chat
                    .values()
                    .min()
                    .map(|t| t.saturating_duration_since(now_i));
                let due = ctx.store.next_due(ch).await.ok().flatten();
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
            .adapter
            .send(&OutboundPart {
                key: format!("{}:{}", part.message_id, part.part_no),
                chat: part.chat.clone(),
                reply_to: part.reply_to.clone(),
                text: part.body.clone(),
                // Labelled here, in the center's language: the outbox keeps the buttons as
                // the domain names them, whoever queued the question.
                buttons: crate::domain::feedback::labelled(
                    &part.buttons,
                    &ctx.opts.rules.texts.feedback_yes,
                    &ctx.opts.rules.texts.feedback_no,
                ),
                files: part.files.clone(),
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
async fn claim_on_server<C: Adapter>(ctx: &Ctx<C>, part: &Part) -> Result<Option<SendOutcome>, ()> {
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

async fn settle<C: Adapter>(ctx: &Ctx<C>, part: &Part, outcome: SendOutcome, announce: bool) {
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
    let ch = ctx.adapter.channel();
    let p = part.clone();
    let remote = match &finish {
        Finish::Sent { external_id } => (
            PartState::Sent,
            Some(external_id.clone()).filter(|e| !e.is_empty()),
        ),
        Finish::Retry { .. } => (PartState::Pending, None),
        Finish::Failed { .. } => (PartState::Failed, None),
        Finish::Unknown { .. } => (PartState::Unknown, None),
    };
    // Team mode records the outcome only after the server has heard of it (below), which
    // takes as long as the server is away; a reply to the post must find it meanwhile.
    if let (Some(_), Finish::Sent { external_id }) = (&ctx.team, &finish)
        && let Err(e) = ctx
            .store
            .remember_post(ch, part.clone(), external_id.clone())
            .await
    {
        ctx.emit(GatewayEvent::Warning(format!(
            "could not record a sent message's id: {e}"
        )));
    }
    report(ctx, part, remote.0, remote.1).await;
    let terminal = !matches!(finish, Finish::Retry { .. });
    match ctx
        .store
        .finish_part(ch, &ctx.lease, ctx.epoch, p, finish, now)
        .await
    {
        Ok(()) if announce => ctx.emit(event),
        Ok(()) => {}
        Err(e) => ctx.emit(GatewayEvent::Alarm(format!(
            "could not record a send result: {e}"
        ))),
    }
    // Team mode: a reply's fate decides the citizen's clock on every console (`Op::Delivery`,
    // journaled by the line above): it goes to the server now, not with the next poll.
    if let (true, Some(_), Some((link, fence))) = (terminal, part.request_rid, &ctx.team)
        && let Err(e) = link.flush(fence, None).await
    {
        ctx.emit(GatewayEvent::Warning(format!(
            "a send's outcome waits for the next push: {e:?}"
        )));
    }
}
