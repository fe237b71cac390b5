//! A channel's health from its gateway's events: the one reading of them, whether the gateway
//! runs in a console (its status bar) or in `mcu serve` (`/v1/team`, which every team
//! console shows).

use chrono::{DateTime, Utc};

use super::gateway::GatewayEvent;
use crate::wire::team::ChannelHealth;

pub fn observe(h: &mut ChannelHealth, e: &GatewayEvent, now: DateTime<Utc>) {
    let mut problem = |text: String| h.last_problem = Some((now, text));
    match e {
        GatewayEvent::Started { account, .. } => {
            h.account = Some(account.clone());
            h.up = true;
            h.since = Some(now);
        }
        GatewayEvent::Stopped => {
            h.up = false;
            h.since = Some(now);
        }
        GatewayEvent::Ingested(r) => {
            h.last_in = Some(now);
            h.received += (r.created.len() + r.appended + r.edited) as u64;
            h.malformed += r.malformed as u64;
        }
        GatewayEvent::Sent { .. } => {
            h.last_out = Some(now);
            h.sent += 1;
        }
        GatewayEvent::Retry { reason, .. } => {
            h.retries += 1;
            problem(reason.clone());
        }
        GatewayEvent::Unknown { reason, .. } => {
            h.unknown += 1;
            problem(reason.clone());
        }
        GatewayEvent::Failed { reason, .. } => {
            h.failed += 1;
            problem(reason.clone());
        }
        GatewayEvent::Warning(w) | GatewayEvent::Alarm(w) => problem(w.clone()),
        GatewayEvent::File { .. }
        | GatewayEvent::Waiting { .. }
        | GatewayEvent::Escalated(_)
        | GatewayEvent::DepartmentPosts(_)
        | GatewayEvent::FeedbackAsked(_) => {}
    }
}
