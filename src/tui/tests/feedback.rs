//! «Вопрос решён?» on the card: asked and waiting, then the citizen's «нет» with their words
//! arriving with a reload (as a synced change does), and a «да» in English.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::super::strings::Lang;
use super::super::update::{Msg, update};
use super::{answer, loaded, now, render, screen, thread_of};
use crate::domain::mutation::{Ctx, Mutation, Op, Outcome};
use crate::domain::request::Message;
use crate::domain::{Catalog, ClockPolicy, CloseReason, Request, apply, feedback};

fn run(r: &Request, m: &Mutation) -> Outcome {
    let catalog = Catalog::krasnodar();
    let policy = ClockPolicy::default();
    let ctx = Ctx {
        catalog: &catalog,
        policy: &policy,
        now: m.at,
        new_number: None,
    };
    apply(Some(r), m, &ctx).unwrap()
}

fn step(r: &Request, actor: &str, op: Op, at: DateTime<Utc>) -> Outcome {
    run(r, &Mutation::new(r.id, actor, at, op))
}

/// The first row closed as resolved 70 minutes ago and asked 60 minutes ago: the request
/// and the question's message.
fn asked(a: &super::App) -> (Request, Vec<Message>) {
    let r = a.rows[0].clone();
    let r = step(&r, "anna", Op::Claim, now() - Duration::minutes(80)).request;
    let close = Op::Close {
        reason: CloseReason::Resolved,
    };
    let r = step(&r, "anna", close, now() - Duration::minutes(70)).request;
    let at = now() - Duration::minutes(60);
    let out = run(
        &r,
        &feedback::ask(&r, "Обращение закрыто. Вопрос решён?".into(), "vk", at),
    );
    (out.request, out.messages)
}

fn show(a: &mut super::App, r: Request, messages: Vec<Message>) {
    let mut rows = a.rows.clone();
    rows[0] = r.clone();
    answer(a, rows);
    update(a, Msg::Detail(Box::new(thread_of(r, messages))));
}

fn helped(r: &Request, yes: bool, words: &str, at: DateTime<Utc>) -> Outcome {
    let op = Op::Feedback {
        helped: yes,
        message_id: Uuid::from_u128(77),
        body: words.into(),
        at,
    };
    step(r, "vk", op, at)
}

#[test]
fn the_card_shows_the_question_then_the_citizens_no_with_their_words() {
    let mut a = loaded(Lang::Ru);
    let (r, question) = asked(&a);
    show(&mut a, r.clone(), question.clone());
    let s = screen(&render(&a, 160, 48));
    assert!(
        s.contains("Вопрос решён? — спросили 30.11 11:00, ответа пока нет"),
        "{s}"
    );
    // The citizen's «нет» comes with the next reload, as a synced change does.
    let at = now() - Duration::minutes(30);
    let no = helped(&r, false, "Нет, вода всё ещё идёт", at);
    let mut thread = question;
    thread.extend(no.messages);
    show(&mut a, no.request, thread);
    let s = screen(&render(&a, 160, 48));
    // The card is narrower than the line: it wraps before «(спросили».
    let line = "Вопрос решён? — «нет» 30.11 11:30: «Нет, вода всё ещё идёт» (спросили";
    assert!(s.contains(line) && s.contains("30.11 11:00)"), "{s}");
    assert!(s.contains("в работе"), "«нет» reopened it: {s}");
    insta::assert_snapshot!("feedback_no_160x48", s);
    let small = screen(&render(&a, 80, 24));
    assert!(small.contains("Вопрос решён? — «нет»"), "{small}");
    insta::assert_snapshot!("feedback_no_80x24", small);
}

#[test]
fn a_yes_in_english_and_no_line_for_a_request_never_asked() {
    let mut a = loaded(Lang::En);
    let plain = screen(&render(&a, 160, 48));
    assert!(!plain.contains("Did it help?"), "{plain}");
    let (r, question) = asked(&a);
    let yes = helped(&r, true, "Yes", now() - Duration::minutes(20));
    let mut thread = question;
    thread.extend(yes.messages);
    show(&mut a, yes.request, thread);
    let s = screen(&render(&a, 160, 48));
    assert!(
        s.contains("Did it help? — «yes» 30.11 11:40 (asked 30.11 11:00)"),
        "{s}"
    );
}
