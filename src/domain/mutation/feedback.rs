//! «Вопрос решён?»: the automatic question after a resolved close and the citizen's answer.
//! Apart from `reply` because the answer is the citizen's, not the center's: it goes in the
//! thread as their message, and «нет» reopens the request the way a citizen's message does.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::apply::{citizen_message, non_empty, outgoing, record, reopen_clocks, transition};
use super::{Ctx, Mutation, Outcome, Rejection};
use crate::domain::request::{DeliveryState, Feedback};
use crate::domain::status::{CloseReason, Status, Transition};

/// Asks once, and only while the request stays closed as resolved (the gateway may decide on
/// a copy a moment old): otherwise nothing.
pub(super) fn ask(
    out: &mut Outcome,
    m: &Mutation,
    message_id: Uuid,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), Rejection> {
    let r = &out.request;
    if r.status != Status::Closed
        || r.close_reason != Some(CloseReason::Resolved)
        || r.feedback.is_some()
    {
        return Ok(());
    }
    let body = non_empty(body, "question")?;
    out.request.feedback = Some(Feedback {
        asked_at: now,
        helped: None,
        answered_at: None,
    });
    record(out, m, "feedback", None, Some("asked".into()));
    out.messages.push(outgoing(
        &out.request,
        m,
        message_id,
        body,
        now,
        DeliveryState::Queued,
    ));
    Ok(())
}

/// The first answer to an asked question counts; «нет» reopens a request still closed.
pub(super) fn answer(
    out: &mut Outcome,
    m: &Mutation,
    ctx: &Ctx,
    helped: bool,
    message_id: Uuid,
    body: &str,
    at: DateTime<Utc>,
) -> Result<(), Rejection> {
    let Some(f) = out.request.feedback.filter(|f| f.helped.is_none()) else {
        return Ok(());
    };
    out.request.feedback = Some(Feedback {
        helped: Some(helped),
        answered_at: Some(ctx.now),
        ..f
    });
    record(
        out,
        m,
        "feedback",
        Some("asked".into()),
        Some(if helped { "helped" } else { "not_helped" }.into()),
    );
    if !helped && out.request.status == Status::Closed {
        transition(out, m, Transition::Reopen)?;
        reopen_clocks(out, m, ctx);
    }
    let shown = if body.trim().is_empty() {
        if helped { "Да" } else { "Нет" }
    } else {
        body
    };
    out.messages
        .push(citizen_message(&out.request, message_id, shown, at, None));
    Ok(())
}
