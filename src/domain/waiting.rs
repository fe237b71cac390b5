//! A question to the citizen that goes unanswered: when the one reminder is due and when the
//! request closes politely, and the mutations that do it. Pure: the gateway of the request's
//! channel asks this about the few requests that wait, and applies what it says through
//! `apply` like any other action, so it syncs, audits and shows on the card.
//!
//! The mutations are named by the question (the request and when it was asked), so a gateway
//! that decides twice — two sweeps, a retried push, a second replica — sends one reminder.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::mutation::{ClockPolicy, Mutation, Op};
use super::request::Request;
use super::status::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Remind,
    Close,
}

/// What is due on `r`'s open question at `now`, if anything. Wall-clock time, not working
/// time: the citizen's evening counts, and a bot may write at any hour.
pub fn due(r: &Request, policy: &ClockPolicy, now: DateTime<Utc>) -> Option<Step> {
    let w = r.waiting.filter(|_| r.status == Status::WaitingCitizen)?;
    if now >= w.since + policy.waiting_close {
        Some(Step::Close)
    } else if w.reminded_at.is_none() && now >= w.since + policy.waiting_reminder {
        Some(Step::Remind)
    } else {
        None
    }
}

/// The mutation for `step` with the text the citizen gets; `actor` is the channel's gateway.
pub fn mutation(
    r: &Request,
    step: Step,
    body: String,
    actor: &str,
    now: DateTime<Utc>,
) -> Mutation {
    let since = r.waiting.map_or(0, |w| w.since.timestamp_millis());
    let what = match step {
        Step::Remind => "remind",
        Step::Close => "close",
    };
    let message_id = derived(r.id, since, what, "message");
    let op = match step {
        Step::Remind => Op::Remind { message_id, body },
        Step::Close => Op::CloseUnanswered { message_id, body },
    };
    Mutation {
        id: derived(r.id, since, what, "mutation"),
        ..Mutation::new(r.id, actor, now, op)
    }
}

fn derived(request: Uuid, since_ms: i64, what: &str, kind: &str) -> Uuid {
    super::ids::named(&[
        b"mcu-waiting:",
        request.as_bytes(),
        &since_ms.to_be_bytes(),
        what.as_bytes(),
        kind.as_bytes(),
    ])
}

#[cfg(test)]
mod tests;
