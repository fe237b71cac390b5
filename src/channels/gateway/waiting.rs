//! The gateway's watch over the clocks: it is the one process that runs whether or not a
//! console is open, and the one that may write to citizens and through the bot, so the
//! reminder and the polite close of an unanswered question (`domain::waiting`) and the shift
//! leads' breach messages (`domain::escalation`) are sent from here, and so is «Вопрос
//! решён?» after a resolved close (`domain::feedback`).

use std::sync::Arc;
use tokio::sync::watch;

use super::{Ctx, GatewayEvent, sleep_or_stop};
use crate::channels::Adapter;
use crate::domain::Channel;
use crate::store::StoreError;

/// Team mode: the server has what was decided now, not with the next poll.
async fn flush<C: Adapter>(ctx: &Ctx<C>, what: &str) {
    if let Some((link, fence)) = &ctx.team
        && let Err(e) = link.flush(fence, None).await
    {
        ctx.emit(GatewayEvent::Warning(format!(
            "{what} wait for the next push: {e:?}"
        )));
    }
}

/// Tells what a sweep sent (and pushes it in team mode); false when the gateway must stop.
async fn told<C: Adapter>(
    ctx: &Ctx<C>,
    swept: Result<usize, StoreError>,
    event: fn(usize) -> GatewayEvent,
    what: &str,
) -> bool {
    match swept {
        Ok(0) => {}
        Ok(n) => {
            ctx.emit(event(n));
            flush(ctx, what).await;
        }
        Err(StoreError::Fenced(_)) => return false,
        Err(e) => ctx.emit(GatewayEvent::Warning(format!("{what}: {e}"))),
    }
    true
}

pub(super) async fn watcher<C: Adapter>(ctx: Arc<Ctx<C>>, mut stop: watch::Receiver<bool>) {
    let channel = ctx.adapter.channel();
    // The mail gateway writes to departments only: no citizen waits on it.
    let citizens = channel != Channel::Email;
    loop {
        if *stop.borrow() {
            return;
        }
        if channel == Channel::Email && !ctx.opts.rules.department_mail.is_empty() {
            let r = &ctx.opts.rules;
            let swept = ctx
                .store
                .sweep_department_mail(r.department_mail.clone(), r.texts.clone())
                .await;
            let what = "requests mailed to departments";
            if !told(&ctx, swept, GatewayEvent::DepartmentPosts, what).await {
                return;
            }
        }
        let swept = if citizens {
            ctx.store
                .sweep_waiting(channel, ctx.opts.rules.texts.clone())
                .await
        } else {
            Ok(Default::default())
        };
        match swept {
            Ok(s) if s.reminded + s.closed > 0 => {
                ctx.emit(GatewayEvent::Waiting {
                    reminded: s.reminded,
                    closed: s.closed,
                });
                flush(&ctx, "reminders").await;
            }
            Ok(_) => {}
            Err(StoreError::Fenced(_)) => return,
            Err(e) => ctx.emit(GatewayEvent::Warning(format!("unanswered questions: {e}"))),
        }
        if let Some(after) = ctx.opts.feedback_after.filter(|_| citizens) {
            let texts = ctx.opts.rules.texts.clone();
            let swept = ctx.store.sweep_feedback(channel, texts, after).await;
            let what = "questions whether it helped";
            if !told(&ctx, swept, GatewayEvent::FeedbackAsked, what).await {
                return;
            }
        }
        if channel == Channel::Telegram
            && let Some(chat) = &ctx.opts.escalation_chat
        {
            let texts = ctx.opts.rules.texts.clone();
            let warn = ctx.opts.escalation_at_risk;
            let swept = ctx.store.sweep_escalations(chat.clone(), texts, warn).await;
            let what = "breaches told to the leads";
            if !told(&ctx, swept, GatewayEvent::Escalated, what).await {
                return;
            }
        }
        if channel == Channel::Telegram && !ctx.opts.rules.departments.is_empty() {
            let r = &ctx.opts.rules;
            let swept = ctx
                .store
                .sweep_department_posts(r.departments.clone(), r.texts.clone())
                .await;
            let what = "requests posted to departments";
            if !told(&ctx, swept, GatewayEvent::DepartmentPosts, what).await {
                return;
            }
        }
        if sleep_or_stop(ctx.opts.waiting_every, &mut stop).await {
            return;
        }
    }
}
