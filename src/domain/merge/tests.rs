//! Merging two threads: the plan's refusals, the link's rules in `apply`, and the relay of an
//! answer to the merged request's citizen.

use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

use super::{MergeError, answer_of, follow_up_author, merge, relay};
use crate::domain::catalog::Catalog;
use crate::domain::mutation::{
    ClockPolicy, Ctx, Mutation, NewRequest, Op, Outcome, Rejection, apply, merged_into,
};
use crate::domain::request::RequestNumber;
use crate::domain::request::{Channel, ChannelRef, DeliveryState, Direction, Request};
use crate::domain::status::{CloseReason, Status};

/// The words are `present::merge::told`'s; here any text that names both numbers.
fn told(other: &Request, into: &Request) -> String {
    format!("{} → {}", other.number, into.number)
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 7, 0, 0).unwrap()
}

struct World {
    catalog: Catalog,
    policy: ClockPolicy,
}

impl World {
    fn new() -> World {
        World {
            catalog: Catalog::krasnodar(),
            policy: ClockPolicy::default(),
        }
    }

    fn run(&self, cur: Option<&Request>, m: &Mutation) -> Result<Outcome, Rejection> {
        let ctx = Ctx {
            catalog: &self.catalog,
            policy: &self.policy,
            now: m.at,
            new_number: Some(RequestNumber::new(2026, 7)),
        };
        apply(cur, m, &ctx)
    }

    fn op(&self, r: &Request, op: Op) -> Outcome {
        let at = r.updated_at + Duration::minutes(5);
        self.run(Some(r), &Mutation::new(r.id, "anna", at, op))
            .expect("applies")
    }

    fn request(&self, channel: Channel, chat: Option<&str>, citizen: &str, n: u32) -> Request {
        let mut new = NewRequest::new(channel, "Нет воды в доме", t0());
        new.citizen = Some(citizen.into());
        new.channel_ref = ChannelRef {
            chat: chat.map(str::to_string),
            message: None,
        };
        let m = Mutation::new(Uuid::now_v7(), "gw", t0(), Op::Create(Box::new(new)));
        let mut r = self.run(None, &m).expect("created").request;
        r.number = RequestNumber::new(2026, n);
        r
    }
}

#[test]
fn the_plan_tells_the_open_request_s_citizen_then_merges() {
    let w = World::new();
    let into = w.request(Channel::Telegram, Some("1"), "Анна", 1);
    let other = w.request(Channel::Vk, Some("2"), "Борис", 2);
    let batch = merge(&other, &into, None, Some(told(&other, &into)), "olga", t0()).expect("plan");
    assert_eq!(batch.len(), 2);
    match &batch[0].op {
        Op::Reply { body, .. } => {
            assert!(
                body.contains("2026-000002") && body.contains("2026-000001"),
                "{body}"
            );
        }
        op => panic!("told first, got {op:?}"),
    }
    assert_eq!(batch[0].request_id, other.id);
    assert_eq!(batch[1].op, Op::Merge { into: into.id });
    // A phone call's citizen cannot be written to: only the merge.
    let phoned = w.request(Channel::Phone, None, "Вера", 3);
    let batch = merge(
        &phoned,
        &into,
        None,
        Some(told(&phoned, &into)),
        "olga",
        t0(),
    )
    .expect("plan");
    assert_eq!(batch.len(), 1);
}

#[test]
fn the_plan_refuses_what_cannot_be_one_thread() {
    let w = World::new();
    let a = w.request(Channel::Telegram, Some("1"), "Анна", 1);
    let b = w.request(Channel::Telegram, Some("2"), "Борис", 2);
    assert_eq!(merge(&a, &a, None, None, "o", t0()), Err(MergeError::Same));
    let mut incident = b.clone();
    incident.is_incident = true;
    assert_eq!(
        merge(&a, &incident, None, None, "o", t0()),
        Err(MergeError::Incident)
    );
    let b_merged = w.op(&b, Op::Merge { into: a.id }).request;
    let c = w.request(Channel::Telegram, Some("3"), "Вера", 3);
    let refused =
        merge(&c, &b_merged, Some("2026-000001".into()), None, "o", t0()).expect_err("into a link");
    assert!(
        matches!(&refused, MergeError::IntoMerged { target, .. } if target == "2026-000001"),
        "{refused}"
    );
    assert!(matches!(
        merge(&b_merged, &a, None, None, "o", t0()),
        Err(MergeError::Already(..))
    ));
}

#[test]
fn merging_closes_the_other_as_a_link_and_keeps_a_closed_one_closed() {
    let w = World::new();
    let into = w.request(Channel::Telegram, Some("1"), "Анна", 1);
    let other = w.request(Channel::Vk, Some("2"), "Борис", 2);
    let out = w.op(&other, Op::Merge { into: into.id });
    let r = &out.request;
    assert_eq!(r.status, Status::Closed);
    assert_eq!(r.close_reason, Some(CloseReason::Merged));
    assert_eq!(merged_into(r), Some(into.id));
    assert!(r.resolution.stopped.is_some(), "its clocks stop");
    assert!(out.events.iter().any(|e| e.field == "merged_into"));

    let closed = w
        .op(
            &into,
            Op::Close {
                reason: CloseReason::Resolved,
            },
        )
        .request;
    let linked = w.op(&closed, Op::Merge { into: other.id }).request;
    assert_eq!(linked.close_reason, Some(CloseReason::Merged));
    assert_eq!(linked.closed_at, closed.closed_at, "closed when it was");
}

#[test]
fn merged_is_no_close_reason_an_operator_picks() {
    let w = World::new();
    let r = w.request(Channel::Telegram, Some("1"), "Анна", 1);
    let m = Mutation::new(
        r.id,
        "anna",
        t0(),
        Op::Close {
            reason: CloseReason::Merged,
        },
    );
    assert!(matches!(w.run(Some(&r), &m), Err(Rejection::Invalid(_))));
    let mut incident = r.clone();
    incident.is_incident = true;
    let m = Mutation::new(
        r.id,
        "anna",
        t0(),
        Op::Merge {
            into: Uuid::now_v7(),
        },
    );
    assert!(matches!(
        w.run(Some(&incident), &m),
        Err(Rejection::Invalid(_))
    ));
    let m = Mutation::new(r.id, "anna", t0(), Op::Merge { into: r.id });
    assert_eq!(w.run(Some(&r), &m), Err(Rejection::SelfLink));
}

#[test]
fn an_answer_is_relayed_to_the_merged_citizen_once_and_only_while_merged() {
    let w = World::new();
    let into = w.request(Channel::Telegram, Some("1"), "Анна", 1);
    let other = w.request(Channel::Vk, Some("2"), "Борис", 2);
    let linked = w.op(&other, Op::Merge { into: into.id }).request;
    let reply = Mutation::new(
        into.id,
        "olga",
        t0(),
        Op::Reply {
            message_id: Uuid::now_v7(),
            body: "Бригада выехала".into(),
        },
    );
    let relayed = relay(&reply, linked.id, t0()).expect("a reply is relayed");
    assert_eq!(
        relayed,
        relay(&reply, linked.id, t0()).unwrap(),
        "named ids"
    );
    let out = w.op(&linked, relayed.op.clone());
    assert_eq!(
        out.request.status,
        Status::Closed,
        "no clock or status moves"
    );
    let [msg] = &out.messages[..] else {
        panic!("one message: {:?}", out.messages)
    };
    assert_eq!(msg.direction, Direction::Out);
    assert_eq!(msg.body, "Бригада выехала");
    assert_eq!(msg.delivery, Some(DeliveryState::Queued));
    // Reopened (no longer a link): nothing is relayed.
    let reopened = w.op(&out.request, Op::Reopen).request;
    assert!(w.op(&reopened, relayed.op).messages.is_empty());
    // Only answers are relayed, not notes.
    let note = Mutation::new(
        into.id,
        "olga",
        t0(),
        Op::AddNote {
            note_id: Uuid::now_v7(),
            body: "x".into(),
        },
    );
    assert!(relay(&note, linked.id, t0()).is_none());
    assert!(
        answer_of(&Op::Ask {
            message_id: Uuid::nil(),
            body: "Какой подъезд?".into()
        })
        .is_some()
    );
}

#[test]
fn a_relay_to_a_citizen_no_channel_reaches_is_kept_undelivered() {
    let w = World::new();
    let into = w.request(Channel::Telegram, Some("1"), "Анна", 1);
    let phoned = w.request(Channel::Phone, None, "Вера", 2);
    let linked = w.op(&phoned, Op::Merge { into: into.id }).request;
    let out = w.op(
        &linked,
        Op::Relay {
            from: into.id,
            message_id: Uuid::now_v7(),
            body: "Бригада выехала".into(),
        },
    );
    assert_eq!(out.messages[0].delivery, Some(DeliveryState::Failed));
    // In the undelivered queue, so an operator phones Вера.
    assert!(out.request.undelivered());
}

#[test]
fn a_follow_up_through_a_link_names_its_citizen_and_request() {
    let w = World::new();
    let other = w.request(Channel::Vk, Some("2"), "Борис", 2);
    assert_eq!(follow_up_author(&other), "Борис · 2026-000002");
    let into = w.request(Channel::Telegram, Some("1"), "Анна", 1);
    let out = w.op(
        &into,
        Op::CitizenMessage {
            message_id: Uuid::now_v7(),
            body: "Воды всё ещё нет".into(),
            at: t0(),
            attachments: vec![],
            location: None,
            from: Some(follow_up_author(&other)),
        },
    );
    assert_eq!(out.messages[0].author, "Борис · 2026-000002");
}
