//! The detail card with a whole thread: messages with delivery states, notes, audit events.

use chrono::Duration;
use uuid::Uuid;

use super::super::strings::Lang;
use super::super::update::{Msg, update};
use super::{loaded, now, render, screen, thread_of};
use crate::domain::request::{DeliveryState, Direction, Event, Message, Note, NoteKind};
use crate::store::Detail;

pub(super) fn with_thread(lang: Lang) -> super::App {
    let mut a = loaded(lang);
    let request = a.rows[0].clone();
    let id = request.id;
    let at = |m: i64| now() - Duration::minutes(m);
    let event = |m: i64, field: &str, old: Option<&str>, new: Option<&str>| Event {
        request_id: id,
        mutation_id: Uuid::now_v7(),
        at: at(m),
        actor: "anna".into(),
        field: field.into(),
        old: old.map(str::to_string),
        new: new.map(str::to_string),
    };
    let messages = vec![
        Message {
            id: Uuid::from_u128(10),
            request_id: id,
            direction: Direction::Out,
            author: "anna".into(),
            body: "Здравствуйте! Передали в департамент.".into(),
            at: at(100),
            delivery: Some(DeliveryState::Sent),
            edit_of: None,
        },
        Message {
            id: Uuid::from_u128(11),
            request_id: id,
            direction: Direction::In,
            author: "Ольга Котова".into(),
            body: "Спасибо, вода всё ещё идёт".into(),
            at: at(40),
            delivery: None,
            edit_of: None,
        },
        Message {
            id: Uuid::from_u128(12),
            request_id: id,
            direction: Direction::Out,
            author: "anna".into(),
            body: "Бригада выехала".into(),
            at: at(5),
            delivery: Some(DeliveryState::Unknown),
            edit_of: None,
        },
    ];
    let detail = Detail {
        notes: vec![Note {
            id: Uuid::from_u128(20),
            request_id: id,
            kind: NoteKind::Internal,
            author: "boris".into(),
            body: "Звонил диспетчер водоканала".into(),
            at: at(60),
        }],
        events: vec![
            event(110, "status", Some("new"), Some("in_work")),
            event(110, "assignee", None, Some("anna")),
            event(105, "topic", None, Some("water")),
            event(104, "tag", None, Some("авария")),
            event(1, "first_response_at", None, Some("x")),
        ],
        ..thread_of(request, messages)
    };
    update(&mut a, Msg::Detail(Box::new(detail)));
    a
}

#[test]
fn the_thread_shows_replies_notes_and_who_changed_what() {
    let a = with_thread(Lang::Ru);
    let s = screen(&render(&a, 160, 48));
    for needle in [
        "[доставлено]",
        "[не известно, дошло ли]",
        "# boris: Звонил диспетчер",
        "anna · статус: новое → в работе",
        "anna · исполнитель: — → anna",
        "anna · метка: +авария",
    ] {
        assert!(s.contains(needle), "`{needle}` on screen:\n{s}");
    }
    // The first reply's clock stop is the reply itself: no separate line.
    assert!(!s.contains("first_response_at"), "{s}");
    insta::assert_snapshot!("detail_thread_160x48", s);
    insta::assert_snapshot!("detail_thread_80x24", screen(&render(&a, 80, 24)));
}

#[test]
fn the_thread_in_english() {
    let a = with_thread(Lang::En);
    let s = screen(&render(&a, 160, 48));
    assert!(
        s.contains("[sent]") && s.contains("status: new → in work"),
        "{s}"
    );
}

#[test]
fn a_long_thread_shows_its_newest_line_and_scrolls_back() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut a = with_thread(Lang::Ru);
    let small = |a: &super::App| screen(&render(a, 80, 24));
    assert!(small(&a).contains("Бригада выехала"));
    assert!(!small(&a).contains("статус: новое"));
    let shift_k = Msg::Key(KeyEvent::new(KeyCode::Char('K'), KeyModifiers::SHIFT));
    update(&mut a, shift_k);
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char('y'), KeyModifiers::CONTROL)),
    );
    let s = small(&a);
    assert!(s.contains("статус: новое → в работе"), "{s}");
    // Another request starts at its newest line again.
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE)),
    );
    assert_eq!(a.detail_scroll, 0);
}
