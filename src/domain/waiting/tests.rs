//! A question to the citizen, from asking to the answer, the reminder or the polite close.

use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

use super::{Step, due, mutation};
use crate::domain::catalog::Catalog;
use crate::domain::mutation::{ClockPolicy, Ctx, Mutation, NewRequest, Op, Outcome, apply};
use crate::domain::request::{
    Channel, ChannelRef, DeliveryState, Direction, Request, RequestNumber,
};
use crate::domain::status::{CloseReason, Status};

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

    fn at(&self, cur: Option<&Request>, m: &Mutation, now: DateTime<Utc>) -> Outcome {
        let ctx = Ctx {
            catalog: &self.catalog,
            policy: &self.policy,
            now,
            new_number: Some(RequestNumber::new(2026, 7)),
        };
        apply(cur, m, &ctx).expect("applies")
    }

    fn op(&self, r: &Request, actor: &str, op: Op, now: DateTime<Utc>) -> Outcome {
        self.at(Some(r), &Mutation::new(r.id, actor, now, op), now)
    }

    fn telegram_request(&self) -> Request {
        let mut new = NewRequest::new(Channel::Telegram, "Яма у дома", t0());
        new.channel_ref = ChannelRef {
            chat: Some("42".into()),
            message: Some("1".into()),
        };
        let m = Mutation::new(Uuid::now_v7(), "telegram", t0(), Op::Create(Box::new(new)));
        self.at(None, &m, t0()).request
    }

    /// The operator asks at `t0 + 1 h`, and the channel delivers it.
    fn asked(&self) -> Request {
        let r = self.telegram_request();
        let at = t0() + Duration::hours(1);
        let message_id = Uuid::now_v7();
        let body = "Уточните, пожалуйста, номер дома.".to_string();
        let r = self
            .op(&r, "anna", Op::Ask { message_id, body }, at)
            .request;
        let state = DeliveryState::Sent;
        self.op(&r, "telegram", Op::Delivery { message_id, state }, at)
            .request
    }
}

#[test]
fn asking_waits_with_the_resolution_clock_held() {
    let w = World::new();
    let r = w.asked();
    let asked_at = t0() + Duration::hours(1);
    assert_eq!(r.status, Status::WaitingCitizen);
    assert_eq!(r.waiting.map(|w| w.since), Some(asked_at));
    assert_eq!(r.resolution.paused, Some(asked_at));
    // The question is an answer: the first-response clock stopped when the citizen had it.
    assert_eq!(r.first_response.stopped, Some(asked_at));
    assert_eq!(r.assignee.as_deref(), Some("anna"));
}

#[test]
fn the_citizens_answer_resumes_the_request_and_its_clock() {
    let w = World::new();
    let r = w.asked();
    let due_before = r.resolution.due;
    let answered_at = t0() + Duration::hours(6);
    let op = Op::CitizenMessage {
        message_id: Uuid::now_v7(),
        body: "Дом 12".into(),
        at: answered_at,
        attachments: vec![],
        location: None,
        from: None,
    };
    let r = w.op(&r, "telegram", op, answered_at).request;
    assert_eq!(r.status, Status::InWork);
    assert_eq!(r.waiting, None);
    assert_eq!(r.resolution.paused, None);
    // The five hours of waiting did not count against the center.
    assert_eq!(r.resolution.due, due_before + Duration::hours(5));
    assert_eq!(due(&r, &w.policy, answered_at + Duration::days(9)), None);
}

#[test]
fn one_reminder_then_a_polite_close() {
    let w = World::new();
    let r = w.asked();
    let asked_at = t0() + Duration::hours(1);
    assert_eq!(due(&r, &w.policy, asked_at + Duration::hours(23)), None);
    let at = asked_at + Duration::hours(24);
    assert_eq!(due(&r, &w.policy, at), Some(Step::Remind));
    let m = mutation(&r, Step::Remind, "Напоминаем…".into(), "telegram", at);
    let out = w.at(Some(&r), &m, at);
    assert_eq!(out.messages.len(), 1);
    assert_eq!(out.messages[0].direction, Direction::Out);
    assert_eq!(out.messages[0].delivery, Some(DeliveryState::Queued));
    let r = out.request;
    assert_eq!(r.status, Status::WaitingCitizen);
    assert_eq!(r.waiting.and_then(|w| w.reminded_at), Some(at));
    // Reminded once: nothing more until the close is due.
    assert_eq!(due(&r, &w.policy, asked_at + Duration::hours(71)), None);
    // The same decision made again (a second sweep, a retried push) sends nothing more.
    let again = mutation(&r, Step::Remind, "Напоминаем…".into(), "telegram", at);
    assert_eq!(again.id, m.id);
    assert!(w.at(Some(&r), &again, at).messages.is_empty());

    let at = asked_at + Duration::days(3);
    assert_eq!(due(&r, &w.policy, at), Some(Step::Close));
    let m = mutation(&r, Step::Close, "Закрываем…".into(), "telegram", at);
    let out = w.at(Some(&r), &m, at);
    assert_eq!(out.messages.len(), 1);
    let r = out.request;
    assert_eq!(r.status, Status::Closed);
    assert_eq!(r.close_reason, Some(CloseReason::NoAnswer));
    assert_eq!(r.waiting, None);
    assert_eq!(due(&r, &w.policy, at + Duration::days(1)), None);
}

#[test]
fn a_long_silence_closes_without_a_late_reminder() {
    let w = World::new();
    let r = w.asked();
    let at = t0() + Duration::days(5);
    assert_eq!(due(&r, &w.policy, at), Some(Step::Close));
}

#[test]
fn a_decision_overtaken_by_the_answer_does_nothing() {
    let w = World::new();
    let r = w.asked();
    let at = t0() + Duration::hours(30);
    let remind = mutation(&r, Step::Remind, "Напоминаем…".into(), "telegram", at);
    let close = mutation(&r, Step::Close, "Закрываем…".into(), "telegram", at);
    let op = Op::CitizenMessage {
        message_id: Uuid::now_v7(),
        body: "Дом 12".into(),
        at,
        attachments: vec![],
        location: None,
        from: None,
    };
    let answered = w.op(&r, "telegram", op, at).request;
    for m in [remind, close] {
        let out = w.at(Some(&answered), &m, at);
        assert!(out.messages.is_empty() && out.events.is_empty());
        assert_eq!(out.request.status, Status::InWork);
    }
}

#[test]
fn a_new_question_is_reminded_anew() {
    let w = World::new();
    let r = w.asked();
    let at = t0() + Duration::hours(30);
    let first = mutation(&r, Step::Remind, "Напоминаем…".into(), "telegram", at);
    let r = w.at(Some(&r), &first, at).request;
    let ask = Op::Ask {
        message_id: Uuid::now_v7(),
        body: "И ещё: какой подъезд?".into(),
    };
    let r = w.op(&r, "anna", ask, at).request;
    assert_eq!(
        r.waiting.map(|w| (w.since, w.reminded_at)),
        Some((at, None))
    );
    let later = at + Duration::hours(24);
    assert_eq!(due(&r, &w.policy, later), Some(Step::Remind));
    assert_ne!(
        mutation(&r, Step::Remind, "…".into(), "telegram", later).id,
        first.id
    );
}

#[test]
fn a_plain_reply_ends_the_wait() {
    let w = World::new();
    let r = w.asked();
    let at = t0() + Duration::hours(2);
    let op = Op::Reply {
        message_id: Uuid::now_v7(),
        body: "Спасибо, разобрались сами.".into(),
    };
    let r = w.op(&r, "anna", op, at).request;
    assert_eq!(r.status, Status::Answered);
    assert_eq!(r.waiting, None);
    assert_eq!(r.resolution.paused, None);
}

#[test]
fn no_question_while_the_department_has_it() {
    let w = World::new();
    let r = w.telegram_request();
    let forward = Op::Forward {
        department: Some("city_economy".into()),
        note_id: Uuid::now_v7(),
        note: None,
    };
    let r = w.op(&r, "anna", forward, t0()).request;
    let ask = Op::Ask {
        message_id: Uuid::now_v7(),
        body: "Уточните адрес".into(),
    };
    let m = Mutation::new(r.id, "anna", t0(), ask);
    let ctx = Ctx {
        catalog: &w.catalog,
        policy: &w.policy,
        now: t0(),
        new_number: None,
    };
    assert!(apply(Some(&r), &m, &ctx).is_err());
}
