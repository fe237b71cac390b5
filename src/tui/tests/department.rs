//! The department's side on the operator's screen (#21 item 5): an answer that waits to be
//! sent on is marked in the inbox and on the card; a returned request says who gave it back
//! and why.

use chrono::Duration;
use uuid::Uuid;

use super::super::strings::Lang;
use super::super::update::{Msg, update};
use super::*;
use crate::domain::request::{Event, Note, NoteKind};
use crate::domain::sla::{Calendar, Clock};
use crate::domain::status::Status;
use crate::store::Detail;

fn detail_of(a: &App, notes: Vec<Note>, events: Vec<Event>) -> Detail {
    Detail {
        citizen_requests: vec![],
        duplicates: vec![],
        merged: vec![],
        suggestion: None,
        same_case_as: None,
        incident: None,
        members: vec![],
        member_requests: vec![],
        request: a.rows[0].clone(),
        messages: vec![],
        notes,
        events,
        parent_number: None,
    }
}

fn answered(lang: Lang) -> App {
    let mut a = loaded(lang);
    let r = &mut a.rows[0];
    r.status = Status::InWork;
    r.department = Some("city_economy".into());
    let mut clock = Clock::start(
        &Calendar::always(chrono_tz::Europe::Moscow),
        now() - Duration::hours(3),
        Duration::hours(24),
        0.75,
    );
    clock.stop(now() - Duration::minutes(20));
    r.department_clock = Some(clock);
    let d = detail_of(&a, vec![], vec![]);
    update(&mut a, Msg::Detail(Box::new(d)));
    a
}

fn returned(lang: Lang) -> App {
    let mut a = loaded(lang);
    a.rows[0].status = Status::InWork;
    a.rows[0].department = None;
    let id = a.rows[0].id;
    let note = |n: u128, kind, author: &str, body: &str, m: i64| Note {
        id: Uuid::from_u128(n),
        request_id: id,
        kind,
        author: author.into(),
        body: body.into(),
        at: now() - Duration::minutes(m),
    };
    let notes = vec![
        note(1, NoteKind::Forward, "anna", "Проверьте", 90),
        note(
            2,
            NoteKind::Returned,
            "economy",
            "Это ветслужба, не наше",
            15,
        ),
    ];
    let events = vec![Event {
        request_id: id,
        mutation_id: Uuid::from_u128(3),
        at: now() - Duration::minutes(15),
        actor: "economy".into(),
        field: "returned".into(),
        old: Some("city_economy".into()),
        new: None,
    }];
    let d = detail_of(&a, notes, events);
    update(&mut a, Msg::Detail(Box::new(d)));
    a
}

#[test]
fn a_department_s_answer_is_marked_until_sent_on() {
    let a = answered(Lang::Ru);
    let s = screen(&render(&a, 160, 48));
    assert!(s.contains("ответ деп."), "the inbox marks it:\n{s}");
    assert!(
        s.contains("✉ Ответ департамента получен — r ответить, ::ans вставит его"),
        "{s}"
    );
    insta::assert_snapshot!("department_answer_160x48", s);
    insta::assert_snapshot!("department_answer_80x24", screen(&render(&a, 80, 24)));
    let en = screen(&render(&answered(Lang::En), 160, 48));
    assert!(en.contains("dept ans."), "{en}");
}

#[test]
fn a_returned_request_says_who_gave_it_back_and_why() {
    let a = returned(Lang::Ru);
    let s = screen(&render(&a, 160, 48));
    for needle in [
        "↩ Возвращено: Департамент городского хозяйства и ТЭК (economy): Это",
        "возвращено департаментом: Департамент",
    ] {
        assert!(s.contains(needle), "`{needle}`:\n{s}");
    }
    insta::assert_snapshot!("department_returned_160x48", s);
    insta::assert_snapshot!("department_returned_80x24", screen(&render(&a, 80, 24)));
}
