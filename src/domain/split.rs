//! Splitting an off-topic follow-up into a request of its own: the citizen wrote about a
//! second problem in the same chat, so it joined their open request. The message becomes a
//! new request of the same citizen on the same channel (answered there like any other), and
//! the old request records where it went. Pure: the mutations go through `apply` like any
//! other action, in one batch.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::mutation::{Mutation, NewRequest, Op};
use super::request::{ChannelRef, Direction, Message, Request};

/// Why a message cannot be split off.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("only a citizen's follow-up message can become a request of its own")]
    NotAFollowUp,
    #[error("the message is empty")]
    Empty,
    /// It came through a request merged into this one (`domain::merge`): its citizen is that
    /// request's, on another chat, so a request made here would answer the wrong person.
    #[error("the message came through merged request {0}: reopen that one instead")]
    ThroughMerge(String),
}

/// The new request's id and the batch: its creation, then the old request's record of it.
pub fn split(
    r: &Request,
    m: &Message,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(Uuid, Vec<Mutation>), SplitError> {
    // The request's own first message is the request; an edit is a revision of another.
    if m.direction != Direction::In || m.request_id != r.id || m.edit_of.is_some() {
        return Err(SplitError::NotAFollowUp);
    }
    if m.body.trim().is_empty() {
        return Err(SplitError::Empty);
    }
    if let Some(number) = super::merge::came_through(&m.author) {
        return Err(SplitError::ThroughMerge(number.to_string()));
    }
    let id = Uuid::now_v7();
    let new = NewRequest {
        channel_ref: ChannelRef {
            chat: r.channel_ref.chat.clone(),
            message: None,
        },
        citizen: r.citizen.clone(),
        phone: r.phone.clone(),
        ..NewRequest::new(r.channel, m.body.clone(), m.at)
    };
    Ok((
        id,
        vec![
            Mutation::new(id, actor, now, Op::Create(Box::new(new))),
            Mutation::new(
                r.id,
                actor,
                now,
                Op::SplitOff {
                    message_id: m.id,
                    into: id,
                },
            ),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::catalog::Catalog;
    use crate::domain::mutation::{ClockPolicy, Ctx, apply};
    use crate::domain::request::{Channel, RequestNumber};
    use chrono::TimeZone;

    #[test]
    fn a_follow_up_becomes_the_same_citizens_request_and_the_old_one_says_so() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 2, 7, 0, 0).unwrap();
        let (catalog, policy) = (Catalog::krasnodar(), ClockPolicy::default());
        let ctx = |n: u32| Ctx {
            catalog: &catalog,
            policy: &policy,
            now: t0,
            new_number: Some(RequestNumber::new(2026, n)),
        };
        let mut new = NewRequest::new(Channel::Telegram, "Яма у дома 5", t0);
        new.channel_ref.chat = Some("42".into());
        new.citizen = Some("Ирина".into());
        let m = Mutation::new(Uuid::now_v7(), "telegram", t0, Op::Create(Box::new(new)));
        let r = apply(None, &m, &ctx(1)).unwrap().request;
        let follow = Message {
            id: Uuid::now_v7(),
            request_id: r.id,
            direction: Direction::In,
            author: "Ирина".into(),
            body: "И ещё: во дворе не вывозят мусор".into(),
            at: t0 + chrono::Duration::hours(1),
            delivery: None,
            edit_of: None,
        };
        let (id, batch) = split(&r, &follow, "anna", t0).unwrap();
        let made = apply(None, &batch[0], &ctx(2)).unwrap().request;
        assert_eq!(made.id, id);
        assert_eq!(made.text, follow.body);
        assert_eq!(made.received_at, follow.at);
        assert_eq!(made.channel_ref.chat.as_deref(), Some("42"));
        assert_eq!(made.citizen.as_deref(), Some("Ирина"));
        let out = apply(Some(&r), &batch[1], &ctx(3)).unwrap();
        assert_eq!(out.events.len(), 1);
        assert_eq!(out.events[0].field, "split");
        assert_eq!(out.request.status, r.status, "the old request goes on");
        // The bot's own message, or another request's, is not split off.
        let out_msg = Message {
            direction: Direction::Out,
            ..follow.clone()
        };
        assert_eq!(
            split(&r, &out_msg, "anna", t0).unwrap_err(),
            SplitError::NotAFollowUp
        );
        // Another citizen's follow-up through a merged request is theirs, not this chat's.
        let through = Message {
            author: "Борис · 2026-000077".into(),
            ..follow.clone()
        };
        assert_eq!(
            split(&r, &through, "anna", t0).unwrap_err(),
            SplitError::ThroughMerge("2026-000077".into())
        );
    }
}
