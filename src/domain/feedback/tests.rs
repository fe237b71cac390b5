//! «Вопрос решён?» from the resolved close to the citizen's «да» or «нет».

use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

use super::{
    ASK_WITHIN, BUTTONS, answer_message, ask, awaits_answer, due, labelled, pressed, reading,
};
use crate::domain::catalog::Catalog;
use crate::domain::mutation::{ClockPolicy, Ctx, Mutation, NewRequest, Op, Outcome, apply};
use crate::domain::request::{Channel, ChannelRef, Direction, Request, RequestNumber};
use crate::domain::status::{CloseReason, Status};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 7, 0, 0).unwrap()
}

fn at(cur: Option<&Request>, m: &Mutation, now: DateTime<Utc>) -> Outcome {
    let catalog = Catalog::krasnodar();
    let policy = ClockPolicy::default();
    let ctx = Ctx {
        catalog: &catalog,
        policy: &policy,
        now,
        new_number: Some(RequestNumber::new(2026, 7)),
    };
    apply(cur, m, &ctx).expect("applies")
}

fn op(r: &Request, actor: &str, op: Op, now: DateTime<Utc>) -> Outcome {
    at(Some(r), &Mutation::new(r.id, actor, now, op), now)
}

/// A Telegram request closed by anna at `t0 + 1 h` for `reason`.
fn closed(reason: CloseReason) -> Request {
    let mut new = NewRequest::new(Channel::Telegram, "Яма у дома", t0());
    new.channel_ref = ChannelRef {
        chat: Some("42".into()),
        message: Some("1".into()),
    };
    let m = Mutation::new(Uuid::now_v7(), "telegram", t0(), Op::Create(Box::new(new)));
    let r = at(None, &m, t0()).request;
    let r = op(&r, "anna", Op::Claim, t0()).request;
    op(&r, "anna", Op::Close { reason }, t0() + Duration::hours(1)).request
}

fn asked(r: &Request, now: DateTime<Utc>) -> Outcome {
    at(
        Some(r),
        &ask(r, "Вопрос решён?".into(), "telegram", now),
        now,
    )
}

fn answer(r: &Request, helped: bool, body: &str, now: DateTime<Utc>) -> Outcome {
    let op_ = Op::Feedback {
        helped,
        message_id: Uuid::now_v7(),
        body: body.into(),
        at: now,
    };
    op(r, "telegram", op_, now)
}

#[test]
fn a_resolved_close_is_asked_after_a_moment_and_within_a_day() {
    let r = closed(CloseReason::Resolved);
    let closed_at = t0() + Duration::hours(1);
    let after = Duration::minutes(1);
    assert!(!due(&r, after, closed_at + Duration::seconds(30)));
    assert!(due(&r, after, closed_at + Duration::minutes(1)));
    assert!(!due(
        &r,
        after,
        closed_at + ASK_WITHIN + Duration::seconds(1)
    ));
    let other = closed(CloseReason::NoAnswer);
    assert!(!due(&other, after, closed_at + Duration::minutes(5)));
}

#[test]
fn the_question_goes_once_and_names_itself_by_the_close() {
    let r = closed(CloseReason::Resolved);
    let now = t0() + Duration::hours(2);
    let first = ask(&r, "Вопрос решён?".into(), "telegram", now);
    let again = ask(
        &r,
        "Вопрос решён?".into(),
        "telegram",
        now + Duration::minutes(1),
    );
    assert_eq!(first.id, again.id, "one decision, whichever sweep makes it");
    let out = asked(&r, now);
    assert_eq!(out.messages.len(), 1);
    assert_eq!(out.messages[0].direction, Direction::Out);
    assert!(awaits_answer(&out.request));
    assert!(!due(&out.request, Duration::minutes(1), now));
    // Asked already: a second question is nothing.
    let twice = asked(&out.request, now + Duration::minutes(1));
    assert!(twice.messages.is_empty() && twice.events.is_empty());
}

#[test]
fn a_request_reopened_before_the_sweep_is_not_asked() {
    let r = closed(CloseReason::Resolved);
    let now = t0() + Duration::hours(2);
    let reopened = op(&r, "anna", Op::Reopen, now).request;
    let out = asked(&reopened, now);
    assert!(out.messages.is_empty());
    assert_eq!(out.request.feedback, None);
}

#[test]
fn yes_is_recorded_and_the_request_stays_closed() {
    let now = t0() + Duration::hours(2);
    let r = asked(&closed(CloseReason::Resolved), now).request;
    let out = answer(&r, true, "Да, спасибо", now + Duration::minutes(5));
    assert_eq!(out.request.status, Status::Closed);
    let f = out.request.feedback.unwrap();
    assert_eq!(f.helped, Some(true));
    assert_eq!(out.messages[0].body, "Да, спасибо");
    assert_eq!(out.messages[0].direction, Direction::In);
    // The first answer counts: a later tap changes nothing.
    let later = answer(&out.request, false, "Нет", now + Duration::minutes(6));
    assert_eq!(later.request.status, Status::Closed);
    assert!(later.messages.is_empty());
}

#[test]
fn no_reopens_the_request_with_the_citizens_words() {
    let now = t0() + Duration::hours(2);
    let r = asked(&closed(CloseReason::Resolved), now).request;
    let out = answer(&r, false, "Нет, яма на месте", now + Duration::minutes(5));
    assert_eq!(out.request.status, Status::InWork);
    assert_eq!(out.request.close_reason, None);
    assert_eq!(out.request.feedback.unwrap().helped, Some(false));
    assert_eq!(out.messages[0].body, "Нет, яма на месте");
    assert!(!awaits_answer(&out.request));
}

#[test]
fn an_answer_without_a_question_is_nothing() {
    let r = closed(CloseReason::Resolved);
    let out = answer(&r, false, "нет", t0() + Duration::hours(2));
    assert_eq!(out.request.status, Status::Closed);
    assert!(out.messages.is_empty() && out.events.is_empty());
}

#[test]
fn short_yes_and_no_read_as_answers_anything_else_does_not() {
    for yes in ["да", "Да!", "да, спасибо", "Yes", "  ДА  ", "Решено"] {
        assert_eq!(reading(yes), Some(true), "{yes}");
    }
    for no in ["нет", "Нет, не решён", "no", "не помогло", "НЕТ."] {
        assert_eq!(reading(no), Some(false), "{no}");
    }
    for other in [
        "",
        "Яма снова появилась",
        "дайте номер",
        "да, но теперь у соседнего дома тоже провалился асфальт, посмотрите",
    ] {
        assert_eq!(reading(other), None, "{other}");
    }
}

#[test]
fn a_pressed_button_answers_in_the_words_the_citizen_saw() {
    assert_eq!(pressed("fb:yes", Some("Yes")).as_deref(), Some("Yes"));
    assert_eq!(pressed("fb:no", Some("Нет")).as_deref(), Some("Нет"));
    // A label that does not say the button's answer (or none) is replaced by ours, so the
    // answer always reads as the button meant.
    assert_eq!(pressed("fb:no", Some("Да")).as_deref(), Some("Нет"));
    assert_eq!(pressed("fb:yes", Some("Подробнее")).as_deref(), Some("Да"));
    assert_eq!(pressed("fb:yes", None).as_deref(), Some("Да"));
    assert_eq!(pressed("menu:1", Some("Да")), None);
    for data in ["fb:yes", "fb:no"] {
        let words = pressed(data, None).unwrap();
        assert_eq!(reading(&words), Some(data == "fb:yes"), "{words}");
    }
}

#[test]
fn buttons_are_labelled_in_the_centers_language_and_others_kept() {
    let stored: Vec<(String, String)> = BUTTONS
        .iter()
        .map(|(l, d)| (l.to_string(), d.to_string()))
        .chain([("Меню".to_string(), "menu:1".to_string())])
        .collect();
    let en = labelled(&stored, "Yes", "No");
    let labels: Vec<&str> = en.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["Yes", "No", "Меню"]);
    assert_eq!(en[0].1, "fb:yes");
    // An empty label would make an unpressable button: the stored one stays.
    assert_eq!(labelled(&stored, " ", "")[..2], stored[..2]);
}

#[test]
fn the_answer_is_the_citizens_first_message_since_the_question_that_says_it() {
    let now = t0() + Duration::hours(2);
    let r = asked(&closed(CloseReason::Resolved), now).request;
    let out = answer(&r, false, "Нет, яма на месте", now + Duration::minutes(5));
    let mut thread = out.messages.clone();
    // A later «нет» about the reopened request is not the answer.
    let mut later = thread[0].clone();
    later.body = "нет, не приезжали".into();
    later.at = now + Duration::minutes(30);
    thread.push(later);
    let found = answer_message(&out.request, &thread).map(|m| m.body.as_str());
    assert_eq!(found, Some("Нет, яма на месте"));
    // Another request's «нет» in a merged thread is not this one's answer.
    let mut other = thread[0].clone();
    other.request_id = Uuid::now_v7();
    other.at = now + Duration::minutes(1);
    thread.push(other);
    let found = answer_message(&out.request, &thread).map(|m| m.at);
    assert_eq!(found, Some(now + Duration::minutes(5)));
    // Asked, not answered: no answer to find.
    assert!(answer_message(&r, &thread).is_none());
}
