//! Merging two requests' threads: one citizen's request (`Op::Merge`) becomes a link to the
//! request that handles the case, and the answers given there are carried back to its citizen
//! (`Op::Relay`). Kept apart from `apply` because both sides of the link follow one rule: a
//! request is merged exactly while it is closed as `merged` under its `parent_id`.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::apply::{close, non_empty, outgoing, record};
use super::{Mutation, Outcome, Rejection};
use crate::domain::request::{DeliveryState, PendingReply, Request};
use crate::domain::status::CloseReason;

/// Whether `r` is a link to the request `into` (its thread merged there).
pub fn merged_into(r: &Request) -> Option<Uuid> {
    r.parent_id
        .filter(|_| r.close_reason == Some(CloseReason::Merged))
}

/// This request's thread joins `into`'s: it closes as `merged` (a closed one only changes its
/// reason), so its clocks stop and its citizen's follow-ups are placed on `into`.
pub(super) fn merge(out: &mut Outcome, m: &Mutation, into: Uuid) -> Result<(), Rejection> {
    if into == out.request.id {
        return Err(Rejection::SelfLink);
    }
    if out.request.is_incident {
        return Err(Rejection::Invalid(
            "an incident is not merged: its members join another incident".into(),
        ));
    }
    if merged_into(&out.request) == Some(into) {
        return Ok(());
    }
    let old = out.request.parent_id.map(|p| p.to_string());
    out.request.parent_id = Some(into);
    record(out, m, "merged_into", old, Some(into.to_string()));
    if out.request.status.is_open() {
        close(out, m, CloseReason::Merged)
    } else {
        let old = out.request.close_reason.map(|r| r.to_string());
        out.request.close_reason = Some(CloseReason::Merged);
        record(
            out,
            m,
            "close_reason",
            old,
            Some(CloseReason::Merged.to_string()),
        );
        Ok(())
    }
}

/// An answer given on `from` carried to this request's citizen on their own channel. No
/// clock moves: the request is closed, and `from`'s clocks count the answer. Where no channel
/// reaches the citizen it is kept as undelivered, so the thread shows whom to call.
pub(super) fn relay(
    out: &mut Outcome,
    m: &Mutation,
    from: Uuid,
    message_id: Uuid,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), Rejection> {
    if merged_into(&out.request) != Some(from) {
        return Ok(());
    }
    let body = non_empty(body, "reply")?;
    let delivery = if out.request.channel.delivers() && out.request.channel_ref.chat.is_some() {
        DeliveryState::Queued
    } else {
        DeliveryState::Failed
    };
    // Its fate is this request's last reply: a relay the citizen did not get lands in the
    // undelivered queue (view 7) like any reply, not only as a mark in the thread.
    out.request.reply = Some(PendingReply {
        message_id,
        state: delivery,
        at: now,
    });
    out.messages
        .push(outgoing(&out.request, m, message_id, body, now, delivery));
    Ok(())
}
