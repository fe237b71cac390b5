//! What the center says to the citizen: an operator's reply, a question that waits for the
//! citizen's answer, and the two automatic messages an unanswered question leads to (the
//! reminder, the polite close). Kept together because they share the delivery rules: a reply
//! counts for the first-response clock once the channel has it; the automatic ones never do.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::apply::{answered, close, non_empty, outgoing, record, take_over, transition};
use super::{Mutation, Outcome, Rejection};
use crate::domain::request::{DeliveryState, PendingReply, Waiting};
use crate::domain::status::{CloseReason, Status, Transition};

/// An operator's reply; `ask` makes it a question the request then waits on.
pub(super) fn reply(
    out: &mut Outcome,
    m: &Mutation,
    message_id: Uuid,
    body: &str,
    ask: bool,
    now: DateTime<Utc>,
) -> Result<(), Rejection> {
    let body = non_empty(body, "reply")?;
    take_over(out, m)?;
    transition(
        out,
        m,
        if ask {
            Transition::Ask
        } else {
            Transition::Reply
        },
    )?;
    if ask {
        // A new question starts its own wait: its reminder has not gone yet.
        out.request.waiting = Some(Waiting {
            since: now,
            reminded_at: None,
        });
    }
    let delivery = if out.request.channel.delivers() {
        // Counts when the channel has it (`Op::Delivery`); a later reply supersedes an
        // earlier one still on its way or undelivered. With no chat to send to (an imported
        // request) it can't go at all.
        let state = if out.request.channel_ref.chat.is_some() {
            DeliveryState::Queued
        } else {
            DeliveryState::Failed
        };
        out.request.reply = Some(PendingReply {
            message_id,
            state,
            at: now,
        });
        state
    } else {
        // A phone call back: the citizen heard it as it was recorded.
        answered(out, m, now);
        DeliveryState::Recorded
    };
    out.messages
        .push(outgoing(&out.request, m, message_id, body, now, delivery));
    Ok(())
}

/// The reminder, once per question; nothing once the question is answered or closed (the
/// gateway may decide on a copy a moment old).
pub(super) fn remind(
    out: &mut Outcome,
    m: &Mutation,
    message_id: Uuid,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), Rejection> {
    let Some(w) = open_question(out) else {
        return Ok(());
    };
    if w.reminded_at.is_some() {
        return Ok(());
    }
    let body = non_empty(body, "reminder")?;
    out.request.waiting = Some(Waiting {
        reminded_at: Some(now),
        ..w
    });
    record(out, m, "reminded", None, Some(now.to_rfc3339()));
    automatic(out, m, message_id, body, now);
    Ok(())
}

/// No answer in time: the closing text, and closed as `no_answer`.
pub(super) fn close_unanswered(
    out: &mut Outcome,
    m: &Mutation,
    message_id: Uuid,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), Rejection> {
    if open_question(out).is_none() {
        return Ok(());
    }
    let body = non_empty(body, "closing text")?;
    close(out, m, CloseReason::NoAnswer)?;
    automatic(out, m, message_id, body, now);
    Ok(())
}

/// A message from the center itself: queued for the channel, counting for no clock.
fn automatic(out: &mut Outcome, m: &Mutation, message_id: Uuid, body: String, now: DateTime<Utc>) {
    out.messages.push(outgoing(
        &out.request,
        m,
        message_id,
        body,
        now,
        DeliveryState::Queued,
    ));
}

fn open_question(out: &Outcome) -> Option<Waiting> {
    (out.request.status == Status::WaitingCitizen)
        .then_some(out.request.waiting)
        .flatten()
}
