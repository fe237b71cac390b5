//! `apply`, the one function every writer calls: the console's store, the server and the rebase
//! of a console's waiting actions on pull. Kept apart from the mutation types so the rules read
//! top to bottom without the vocabulary in the way.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::*;
use crate::domain::catalog::Catalog;
use crate::domain::request::{
    DeliveryState, Direction, Event, Message, Note, NoteKind, Request, RequestNumber,
};
use crate::domain::status::{CloseReason, Status, Transition};

pub struct Ctx<'a> {
    pub catalog: &'a Catalog,
    pub policy: &'a ClockPolicy,
    /// The deciding clock: the store's (later the server's), never the writer's.
    pub now: DateTime<Utc>,
    /// The number the store allocated, used only by `Create`.
    pub new_number: Option<RequestNumber>,
}

/// What an applied mutation changes: the request as it is now, and rows to append.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub request: Request,
    pub events: Vec<Event>,
    pub messages: Vec<Message>,
    pub notes: Vec<Note>,
}

pub fn apply(current: Option<&Request>, m: &Mutation, ctx: &Ctx) -> Result<Outcome, Rejection> {
    // Every entry meets the same bounds: here, before anything is decided.
    let mut checked = m.clone();
    crate::domain::fields::check(&mut checked, ctx.now)?;
    let m = &checked;
    let req = match (&m.op, current) {
        (Op::Create(new), None) => return create(m, new, ctx),
        // Two operators confirming one group name the same incident: the second is a no-op.
        (Op::Create(new), Some(r)) if new.incident && r.is_incident => {
            return Ok(Outcome {
                request: r.clone(),
                events: vec![],
                messages: vec![],
                notes: vec![],
            });
        }
        (Op::Create(_), Some(_)) => return Err(Rejection::AlreadyExists),
        (_, None) => return Err(Rejection::NotFound),
        (_, Some(r)) => r.clone(),
    };
    let untouched_since = req.updated_at;
    let mut out = Outcome {
        request: req,
        events: vec![],
        messages: vec![],
        notes: vec![],
    };
    let now = ctx.now;
    // Events and notes are stamped with `updated_at`; restored below when nothing changed.
    out.request.updated_at = now;
    match &m.op {
        Op::Create(_) => return Err(Rejection::AlreadyExists),
        Op::Claim => {
            transition(&mut out, m, Transition::Claim)?;
            match out.request.assignee.clone() {
                Some(a) if a == m.actor => {}
                Some(a) => return Err(Rejection::AlreadyClaimed(a)),
                None => set_assignee(&mut out, m, Some(m.actor.clone())),
            }
        }
        Op::Release => match out.request.assignee.clone() {
            Some(a) if a == m.actor => set_assignee(&mut out, m, None),
            Some(a) => return Err(Rejection::NotAssignee(a)),
            None => {}
        },
        Op::Assign { assignee } => {
            transition(&mut out, m, Transition::Change)?;
            let assignee = assignee.as_ref().map(|a| a.trim().to_string());
            if assignee.as_deref() == Some("") {
                return Err(Rejection::Empty("assignee"));
            }
            if assignee.is_some() {
                transition(&mut out, m, Transition::Claim)?;
            }
            set_assignee(&mut out, m, assignee);
        }
        Op::SetTopic {
            topic,
            department_follows,
        } => {
            if let Some(t) = topic
                && ctx.catalog.topic(t).is_none()
            {
                return Err(Rejection::UnknownTopic(t.clone()));
            }
            let old = out.request.topic.clone();
            if old != *topic {
                out.request.topic = topic.clone();
                record(&mut out, m, "topic", old, topic.clone());
            }
            if *department_follows
                && let Some(dep) = topic
                    .as_deref()
                    .and_then(|t| ctx.catalog.default_department(t))
            {
                set_department(&mut out, m, Some(dep.to_string()));
            }
        }
        Op::SetDepartment { department } => {
            check_department(ctx, department.as_deref())?;
            set_department(&mut out, m, department.clone());
        }
        Op::SetPriority { priority } => {
            let old = out.request.priority;
            if old != *priority {
                out.request.priority = *priority;
                record(
                    &mut out,
                    m,
                    "priority",
                    Some(old.to_string()),
                    Some(priority.to_string()),
                );
            }
        }
        Op::Tag { tag } => {
            let tag = normalize_tag(tag)?;
            if out.request.tags.insert(tag.clone()) {
                record(&mut out, m, "tag", None, Some(tag));
            }
        }
        Op::Untag { tag } => {
            let tag = normalize_tag(tag)?;
            if out.request.tags.remove(&tag) {
                record(&mut out, m, "tag", Some(tag), None);
            }
        }
        Op::Forward {
            department,
            note_id,
            note,
        } => {
            check_department(ctx, department.as_deref())?;
            let dep = department
                .clone()
                .or_else(|| out.request.department.clone())
                .ok_or(Rejection::NoDepartment)?;
            take_over(&mut out, m)?;
            transition(&mut out, m, Transition::Forward)?;
            set_department(&mut out, m, Some(dep.clone()));
            let target = ctx
                .catalog
                .answer_target(&dep)
                .unwrap_or(ctx.policy.department_answer);
            out.request.department_clock = Some(ctx.policy.clock(now, target));
            let body = note.as_deref().map(str::trim).unwrap_or("").to_string();
            add_note(&mut out, m, *note_id, NoteKind::Forward, body);
        }
        Op::DepartmentAnswer {
            note_id,
            body,
            attachments,
        } => {
            let body = non_empty(body, "answer")?;
            transition(&mut out, m, Transition::DepartmentAnswer)?;
            if let Some(c) = out.request.department_clock.as_mut() {
                c.stop(now);
            }
            add_note(&mut out, m, *note_id, NoteKind::DepartmentAnswer, body);
            for a in attachments {
                out.request.attachments.push(a.clone());
                record(&mut out, m, "attachment", None, Some(a.kind.clone()));
            }
        }
        Op::Return { note_id, reason } => {
            let reason = non_empty(reason, "reason")?;
            transition(&mut out, m, Transition::Return)?;
            if let Some(c) = out.request.department_clock.as_mut() {
                c.stop(now);
            }
            // Who gave it back stays on record for the department's report.
            let from = out.request.department.clone();
            record(&mut out, m, "returned", from, None);
            set_department(&mut out, m, None);
            add_note(&mut out, m, *note_id, NoteKind::Returned, reason);
        }
        Op::Reply { message_id, body } => {
            super::reply::reply(&mut out, m, *message_id, body, false, now)?
        }
        Op::Ask { message_id, body } => {
            super::reply::reply(&mut out, m, *message_id, body, true, now)?
        }
        Op::Remind { message_id, body } => {
            super::reply::remind(&mut out, m, *message_id, body, now)?
        }
        Op::CloseUnanswered { message_id, body } => {
            super::reply::close_unanswered(&mut out, m, *message_id, body, now)?
        }
        Op::AskFeedback { message_id, body } => {
            super::feedback::ask(&mut out, m, *message_id, body, now)?
        }
        Op::Feedback {
            helped,
            message_id,
            body,
            at,
        } => super::feedback::answer(&mut out, m, ctx, *helped, *message_id, body, *at)?,
        Op::Delivery { message_id, state } => {
            // About any other message (the acknowledgement, a superseded reply): nothing.
            if let Some(pending) = out.request.reply.as_mut()
                && pending.message_id == *message_id
                && pending.state != *state
            {
                let old = pending.state;
                pending.state = *state;
                // When the channel said so: an undelivered alert dates from here.
                pending.at = now;
                record(
                    &mut out,
                    m,
                    "delivery",
                    Some(old.as_str().into()),
                    Some(state.as_str().into()),
                );
                if matches!(state, DeliveryState::Sent | DeliveryState::Recorded) {
                    out.request.reply = None;
                    answered(&mut out, m, now);
                }
            }
        }
        Op::SettleReply { how } => {
            if !out.request.undelivered() {
                return Err(Rejection::NoUndeliveredReply);
            }
            out.request.reply = None;
            match how {
                Settle::Phoned { message_id, body } => {
                    let body = non_empty(body, "phone call")?;
                    record(&mut out, m, "reply_settled", None, Some("phoned".into()));
                    out.messages.push(outgoing(
                        &out.request,
                        m,
                        *message_id,
                        body,
                        now,
                        DeliveryState::Recorded,
                    ));
                }
                Settle::Unreachable => {
                    record(
                        &mut out,
                        m,
                        "reply_settled",
                        None,
                        Some("unreachable".into()),
                    );
                }
            }
            answered(&mut out, m, now);
        }
        Op::AddNote { note_id, body } => {
            let body = non_empty(body, "note")?;
            add_note(&mut out, m, *note_id, NoteKind::Internal, body);
        }
        Op::Close { reason } if !reason.chosen_by_hand() => {
            return Err(Rejection::Invalid(format!(
                "a request is closed as `{reason}` only by merging it into another"
            )));
        }
        Op::Close { reason } => close(&mut out, m, *reason)?,
        Op::Merge { into } => super::merge::merge(&mut out, m, *into)?,
        Op::Relay {
            from,
            message_id,
            body,
        } => super::merge::relay(&mut out, m, *from, *message_id, body, now)?,
        Op::Reopen => {
            transition(&mut out, m, Transition::Reopen)?;
            reopen_clocks(&mut out, m, ctx);
        }
        Op::LinkDuplicate { parent_id } => {
            if *parent_id == out.request.id {
                return Err(Rejection::SelfLink);
            }
            let old = out.request.parent_id.map(|p| p.to_string());
            out.request.parent_id = Some(*parent_id);
            record(&mut out, m, "parent", old, Some(parent_id.to_string()));
            if out.request.status.is_open() {
                close(&mut out, m, CloseReason::Duplicate)?;
            }
        }
        Op::CitizenMessage {
            message_id,
            body,
            at,
            attachments,
            location,
            from,
        } => {
            let was_closed = !out.request.status.is_open();
            transition(&mut out, m, Transition::CitizenWrote)?;
            if was_closed {
                reopen_clocks(&mut out, m, ctx);
            }
            for a in attachments {
                out.request.attachments.push(a.clone());
                record(&mut out, m, "attachment", None, Some(a.kind.clone()));
            }
            if out
                .request
                .location
                .as_ref()
                .is_none_or(|l| l.lat.is_none())
                && let Some(l) = location
            {
                let mut l = l.clone();
                if l.address.is_none() {
                    l.address = out
                        .request
                        .location
                        .as_ref()
                        .and_then(|old| old.address.clone());
                }
                record(
                    &mut out,
                    m,
                    "location",
                    None,
                    Some(match (l.lat, l.lon) {
                        (Some(lat), Some(lon)) => format!("{lat:.6}, {lon:.6}"),
                        _ => l.address.clone().unwrap_or_default(),
                    }),
                );
                out.request.location = Some(l);
            }
            // A place sent on its own says so in the thread, as a request that starts with one.
            let shown = if body.trim().is_empty() && attachments.is_empty() && location.is_some() {
                crate::domain::intake::LOCATION_ONLY.to_string()
            } else {
                body.clone()
            };
            let mut msg = citizen_message(&out.request, *message_id, &shown, *at, None);
            if let Some(from) = from {
                msg.author = from.clone();
            }
            out.messages.push(msg);
        }
        Op::CitizenEdit {
            message_id,
            edit_of,
            body,
            at,
        } => {
            record(&mut out, m, "edited", None, Some(edit_of.to_string()));
            out.messages.push(citizen_message(
                &out.request,
                *message_id,
                body,
                *at,
                Some(*edit_of),
            ));
        }
        Op::Acknowledge { message_id, body } => {
            // The number is the request's where it is applied: in a team the gateway's copy
            // holds a provisional one, and the server, which numbers, renders the text the
            // citizen gets (docs/sync-protocol.md §2).
            let body = non_empty(body, "acknowledgement")?
                .replace(ACK_NUMBER, &out.request.number.to_string());
            out.messages.push(outgoing(
                &out.request,
                m,
                *message_id,
                body,
                now,
                DeliveryState::Queued,
            ));
        }
        Op::DepartmentFiles { attachments } => {
            if attachments.is_empty() {
                return Err(Rejection::Invalid("no files".into()));
            }
            for a in attachments {
                out.request.attachments.push(a.clone());
                record(&mut out, m, "attachment", None, Some(a.kind.clone()));
            }
        }
        Op::SetAttachment {
            source,
            state,
            local_path,
        } => {
            let Some(a) = out
                .request
                .attachments
                .iter_mut()
                .find(|a| a.source.as_deref() == Some(source.as_str()))
            else {
                return Err(Rejection::Invalid(format!("no attachment `{source}`")));
            };
            if a.state != *state || a.local_path != *local_path {
                let old = format!("{:?}", a.state);
                a.state = *state;
                a.local_path = local_path.clone();
                record(
                    &mut out,
                    m,
                    "attachment_state",
                    Some(old),
                    Some(format!("{state:?}")),
                );
            }
        }
        Op::JoinIncident { .. } | Op::LeaveIncident | Op::Ungroup | Op::Retitle { .. } => {
            super::incident::apply(&mut out, m)?
        }
        Op::SetPhone { phone } => {
            if out.request.phone.as_deref() != Some(phone.as_str()) {
                let old = out.request.phone.replace(phone.clone());
                record(&mut out, m, "phone", old, Some(phone.clone()));
            }
        }
        Op::SplitOff { message_id, into } => {
            if *into == out.request.id {
                return Err(Rejection::SelfLink);
            }
            record(
                &mut out,
                m,
                "split",
                Some(message_id.to_string()),
                Some(into.to_string()),
            );
        }
        Op::Escalate { level, at_risk, .. } => {
            // Once per clock and stage: a second gateway's or a retried decision changes
            // nothing.
            let (told, field) = if *at_risk {
                (&mut out.request.warned, "warned")
            } else {
                (&mut out.request.escalated, "escalated")
            };
            if !told.contains(level) {
                told.push(*level);
                record(&mut out, m, field, None, Some(level.as_str().into()));
            }
        }
    }
    // The center's resolution clock waits while the department has the request (its own
    // clock runs then): the center is not late for the time a third party takes. And while
    // the citizen has a question to answer: the center cannot go on without it.
    if out.request.status != Status::WaitingCitizen && out.request.waiting.is_some() {
        out.request.waiting = None;
    }
    if (ctx.policy.pause_resolution_while_waiting
        && out.request.status == Status::WaitingDepartment)
        || out.request.status == Status::WaitingCitizen
    {
        out.request.resolution.pause(now);
    } else {
        out.request.resolution.resume(&ctx.policy.calendar, now);
    }
    if out.events.is_empty() && out.messages.is_empty() && out.notes.is_empty() {
        out.request.updated_at = untouched_since;
    }
    Ok(out)
}

fn create(m: &Mutation, new: &NewRequest, ctx: &Ctx) -> Result<Outcome, Rejection> {
    let text = new.text.trim();
    if text.is_empty() && new.attachments.is_empty() {
        return Err(Rejection::Empty("text"));
    }
    if let Some(t) = &new.topic
        && ctx.catalog.topic(t).is_none()
    {
        return Err(Rejection::UnknownTopic(t.clone()));
    }
    check_department(ctx, new.department.as_deref())?;
    let number = ctx
        .new_number
        .clone()
        .ok_or_else(|| Rejection::Invalid("no request number allocated".into()))?;
    let department = new.department.clone().or_else(|| {
        new.topic
            .as_deref()
            .and_then(|t| ctx.catalog.default_department(t))
            .map(str::to_string)
    });
    let received = new.received_at;
    let target = ctx
        .catalog
        .response_target(new.topic.as_deref())
        .or_else(|| ctx.policy.channel_first_response.get(&new.channel).copied())
        .unwrap_or(ctx.policy.first_response);
    let mut first_response = ctx.policy.clock(received, target);
    if let Some(at) = new.first_response_at {
        first_response.stop(at);
    }
    let mut resolution = ctx.policy.clock(received, ctx.policy.resolution);
    let status = new.status.unwrap_or(Status::New);
    let (close_reason, closed_at) = if status == Status::Closed {
        let at = new.closed_at.unwrap_or(received);
        resolution.stop(at);
        (
            Some(new.close_reason.unwrap_or(CloseReason::Resolved)),
            Some(at),
        )
    } else {
        if new.close_reason.is_some() || new.closed_at.is_some() {
            return Err(Rejection::Invalid(
                "close_reason and closed_at need status `closed`".into(),
            ));
        }
        (None, None)
    };
    let request = Request {
        id: m.request_id,
        number,
        channel: new.channel,
        external_id: new.external_id.clone(),
        channel_ref: new.channel_ref.clone(),
        citizen: new.citizen.clone(),
        phone: new.phone.clone(),
        text: text.to_string(),
        attachments: new.attachments.clone(),
        location: new.location.clone(),
        received_at: received,
        status,
        topic: new.topic.clone(),
        department,
        assignee: None,
        priority: new.priority,
        tags: Default::default(),
        parent_id: None,
        close_reason,
        closed_at,
        first_response,
        department_clock: None,
        resolution,
        updated_at: ctx.now,
        reply: None,
        is_incident: new.incident,
        incident_id: None,
        ungrouped: false,
        escalated: vec![],
        warned: vec![],
        feedback: None,
        // An import's open question waits from now: its reminder and close count from here.
        waiting: (status == Status::WaitingCitizen).then_some(crate::domain::request::Waiting {
            since: ctx.now,
            reminded_at: None,
        }),
    };
    let mut out = Outcome {
        request,
        events: vec![],
        messages: vec![],
        notes: vec![],
    };
    let number = out.request.number.to_string();
    record(&mut out, m, "created", None, Some(number));
    Ok(out)
}

/// A message from the center to the citizen, written by the mutation's actor.
pub(super) fn outgoing(
    r: &Request,
    m: &Mutation,
    id: Uuid,
    body: String,
    at: DateTime<Utc>,
    delivery: DeliveryState,
) -> Message {
    Message {
        id,
        request_id: r.id,
        direction: Direction::Out,
        author: m.actor.clone(),
        body,
        at,
        delivery: Some(delivery),
        edit_of: None,
    }
}

/// The citizen has their first answer now (if they had none yet): the first-response clock stops.
pub(super) fn answered(out: &mut Outcome, m: &Mutation, now: DateTime<Utc>) {
    if out.request.first_response.stopped.is_none() {
        out.request.first_response.stop(now);
        record(out, m, "first_response_at", None, Some(now.to_rfc3339()));
    }
}

pub(super) fn record(
    out: &mut Outcome,
    m: &Mutation,
    field: &str,
    old: Option<String>,
    new: Option<String>,
) {
    out.events.push(Event {
        request_id: out.request.id,
        mutation_id: m.id,
        at: out.request.updated_at,
        actor: m.actor.clone(),
        field: field.to_string(),
        old,
        new,
    });
}

pub(super) fn transition(
    out: &mut Outcome,
    m: &Mutation,
    action: Transition,
) -> Result<(), Rejection> {
    let from = out.request.status;
    let to = from.after(action)?;
    if to != from {
        out.request.status = to;
        record(
            out,
            m,
            "status",
            Some(from.to_string()),
            Some(to.to_string()),
        );
    }
    Ok(())
}

/// Replying or forwarding an unclaimed request claims it, so two operators never answer one
/// citizen; someone else's request is refused.
pub(super) fn take_over(out: &mut Outcome, m: &Mutation) -> Result<(), Rejection> {
    match out.request.assignee.clone() {
        Some(a) if a != m.actor => Err(Rejection::NotAssignee(a)),
        Some(_) => Ok(()),
        None if out.request.status.is_open() => {
            set_assignee(out, m, Some(m.actor.clone()));
            Ok(())
        }
        None => Ok(()),
    }
}

fn set_assignee(out: &mut Outcome, m: &Mutation, assignee: Option<String>) {
    let old = out.request.assignee.clone();
    if old != assignee {
        out.request.assignee = assignee.clone();
        record(out, m, "assignee", old, assignee);
    }
}

fn set_department(out: &mut Outcome, m: &Mutation, department: Option<String>) {
    let old = out.request.department.clone();
    if old != department {
        out.request.department = department.clone();
        record(out, m, "department", old, department);
    }
}

fn check_department(ctx: &Ctx, department: Option<&str>) -> Result<(), Rejection> {
    match department {
        Some(d) if ctx.catalog.department(d).is_none() => {
            Err(Rejection::UnknownDepartment(d.to_string()))
        }
        _ => Ok(()),
    }
}

pub(super) fn close(out: &mut Outcome, m: &Mutation, reason: CloseReason) -> Result<(), Rejection> {
    transition(out, m, Transition::Close)?;
    out.request.close_reason = Some(reason);
    out.request.closed_at = Some(m_now(out));
    let at = m_now(out);
    out.request.resolution.stop(at);
    if let Some(c) = out.request.department_clock.as_mut() {
        c.stop(at);
    }
    record(out, m, "close_reason", None, Some(reason.to_string()));
    Ok(())
}

pub(super) fn reopen_clocks(out: &mut Outcome, m: &Mutation, ctx: &Ctx) {
    let old = out.request.close_reason.take().map(|r| r.to_string());
    out.request.closed_at = None;
    out.request.resolution = ctx.policy.clock(ctx.now, ctx.policy.resolution);
    record(out, m, "close_reason", old, None);
}

/// `apply` sets `updated_at` to the deciding clock before any change is recorded.
fn m_now(out: &Outcome) -> DateTime<Utc> {
    out.request.updated_at
}

fn add_note(out: &mut Outcome, m: &Mutation, id: Uuid, kind: NoteKind, body: String) {
    out.notes.push(Note {
        id,
        request_id: out.request.id,
        kind,
        author: m.actor.clone(),
        body,
        at: m_now(out),
    });
}

pub(super) fn citizen_message(
    r: &Request,
    id: Uuid,
    body: &str,
    at: DateTime<Utc>,
    edit_of: Option<Uuid>,
) -> Message {
    Message {
        id,
        request_id: r.id,
        direction: Direction::In,
        author: r.citizen.clone().unwrap_or_default(),
        body: body.to_string(),
        at,
        delivery: None,
        edit_of,
    }
}

pub(super) fn non_empty(body: &str, what: &'static str) -> Result<String, Rejection> {
    let body = body.trim();
    if body.is_empty() {
        Err(Rejection::Empty(what))
    } else {
        Ok(body.to_string())
    }
}

fn normalize_tag(tag: &str) -> Result<String, Rejection> {
    let t = tag.trim().to_lowercase();
    if t.is_empty() {
        return Err(Rejection::Empty("tag"));
    }
    if t.chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ',')
    {
        return Err(Rejection::Invalid(format!(
            "tag `{}` must be one word without commas",
            tag.trim()
        )));
    }
    Ok(t)
}
