//! The gateway's watch over unanswered questions on its channel: it is the one process that
//! runs whether or not a console is open, and the one that may write to the citizen, so the
//! reminder and the polite close (`domain::waiting`) are sent from here.

use std::sync::Arc;
use tokio::sync::watch;

use super::{Ctx, GatewayEvent, sleep_or_stop};
use crate::channels::Adapter;
use crate::store::StoreError;

pub(super) async fn watcher<C: Adapter>(ctx: Arc<Ctx<C>>, mut stop: watch::Receiver<bool>) {
    let channel = ctx.adapter.channel();
    loop {
        if *stop.borrow() {
            return;
        }
        match ctx
            .store
            .sweep_waiting(channel, ctx.opts.rules.texts.clone())
            .await
        {
            Ok(s) if s.reminded + s.closed > 0 => {
                ctx.emit(GatewayEvent::Waiting {
                    reminded: s.reminded,
                    closed: s.closed,
                });
                // Team mode: the server decides what the citizen gets; it has these now,
                // not with the next poll.
                if let Some((link, fence)) = &ctx.team
                    && let Err(e) = link.flush(fence, None).await
                {
                    ctx.emit(GatewayEvent::Warning(format!(
                        "reminders wait for the next push: {e:?}"
                    )));
                }
            }
            Ok(_) => {}
            Err(StoreError::Fenced(_)) => return,
            Err(e) => ctx.emit(GatewayEvent::Warning(format!("unanswered questions: {e}"))),
        }
        if sleep_or_stop(ctx.opts.waiting_every, &mut stop).await {
            return;
        }
    }
}
