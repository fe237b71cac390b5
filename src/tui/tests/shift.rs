//! Alerts (`w`: flash, bell, unseen count, the list) and the shift handover (`h`).

use chrono::Duration;
use crossterm::event::KeyCode;

use super::super::app::Mode;
use super::super::strings::Lang;
use super::super::update::{Cmd, Msg, update};
use super::{code, key, loaded, now, render, request, screen};
use crate::domain::ClockPolicy;
use crate::store::alerts::{AlertKind, Crossing};

fn crossing(seq: u32, kind: AlertKind, minutes_ago: i64) -> Crossing {
    let r = request(seq, "Прорвало трубу во дворе, вода заливает подвал", 200);
    Crossing {
        id: r.id,
        number: r.number.to_string(),
        kind,
        at: now() - Duration::minutes(minutes_ago),
        assignee: Some("boris".into()),
        topic: r.topic.clone(),
        text: r.text.clone(),
    }
}

fn tick(a: &mut super::App, seconds: i64) -> Vec<Cmd> {
    update(a, Msg::Tick(now() + Duration::seconds(seconds)))
}

fn looks(cmds: &[Cmd]) -> Vec<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
    cmds.iter()
        .filter_map(|c| match c {
            Cmd::LookAlerts { from, to, .. } => Some((*from, *to)),
            _ => None,
        })
        .collect()
}

#[test]
fn each_second_looks_at_the_span_since_the_last_look_one_look_at_a_time() {
    let mut a = loaded(Lang::Ru);
    // The first tick only marks where the console starts: what crossed before is old news.
    assert!(looks(&tick(&mut a, 1)).is_empty());
    let s = |n| now() + Duration::seconds(n);
    assert_eq!(looks(&tick(&mut a, 2)), [(s(1), s(2))]);
    // Still waiting for that answer: no second look over the same span.
    assert!(looks(&tick(&mut a, 3)).is_empty());
    // A failed look is retried from where the last good one ended, so nothing is skipped.
    update(
        &mut a,
        Msg::Alerts {
            to: s(2),
            found: Err("база занята".into()),
        },
    );
    assert!(a.flash.as_ref().is_some_and(|f| f.error));
    assert_eq!(looks(&tick(&mut a, 4)), [(s(1), s(4))]);
    update(
        &mut a,
        Msg::Alerts {
            to: s(4),
            found: Ok(vec![]),
        },
    );
    assert_eq!(looks(&tick(&mut a, 5)), [(s(4), s(5))]);
}

#[test]
fn a_crossing_flashes_rings_and_counts_until_the_list_is_seen() {
    let mut a = loaded(Lang::Ru);
    tick(&mut a, 1);
    tick(&mut a, 2);
    let c = crossing(1, AlertKind::Breached, 0);
    let cmds = update(
        &mut a,
        Msg::Alerts {
            to: now() + Duration::seconds(2),
            found: Ok(vec![c.clone()]),
        },
    );
    assert_eq!(cmds, [Cmd::Bell], "bell = true in these settings");
    let flash = a.flash.clone().expect("flashed");
    assert!(flash.error);
    assert!(
        flash.text.contains(&c.number) && flash.text.contains("срок нарушен"),
        "{}",
        flash.text
    );
    assert_eq!(a.alerts.unseen(), 1);
    let s = screen(&render(&a, 80, 24));
    assert!(
        s.contains("⚑ 1"),
        "the status bar counts unseen alerts:\n{s}"
    );
    // The same crossing again (a look over an overlapping span) is not news.
    let cmds = update(
        &mut a,
        Msg::Alerts {
            to: now() + Duration::seconds(3),
            found: Ok(vec![c.clone()]),
        },
    );
    assert!(cmds.is_empty());
    assert_eq!(a.alerts.list.len(), 1);
    // Several at once: one line saying how many, and the key to the list.
    update(
        &mut a,
        Msg::Alerts {
            to: now() + Duration::seconds(4),
            found: Ok(vec![
                crossing(2, AlertKind::AtRisk, 1),
                crossing(3, AlertKind::DueSoon, 0),
            ]),
        },
    );
    let text = a.flash.clone().unwrap().text;
    assert!(text.contains('3') || text.contains('2'), "{text}");
    assert!(text.contains("w — список"), "{text}");
    assert_eq!(a.alerts.unseen(), 3);
    update(&mut a, key('w'));
    assert!(matches!(a.mode, Mode::Alerts { selected: 0 }));
    assert_eq!(a.alerts.unseen(), 0, "opening the list is seeing them");
    let s = screen(&render(&a, 80, 24));
    assert!(s.contains("Предупреждения"), "{s}");
    assert!(s.contains("просрочено") && s.contains("под угрозой"), "{s}");
    assert!(!s.contains("⚑ 3"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn enter_on_an_alert_shows_that_request_alone_with_its_card() {
    let mut a = loaded(Lang::Ru);
    tick(&mut a, 1);
    let c = crossing(2, AlertKind::AtRisk, 0);
    update(
        &mut a,
        Msg::Alerts {
            to: now() + Duration::seconds(1),
            found: Ok(vec![crossing(1, AlertKind::Breached, 1), c.clone()]),
        },
    );
    update(&mut a, key('w'));
    // Newest first: the at-risk one is on top.
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert!(matches!(a.mode, Mode::Normal));
    assert_eq!(a.filter.number.as_deref(), Some(c.number.as_str()));
    assert_eq!(a.keep, Some(c.id));
    assert!(a.show_detail);
    let pages: Vec<_> = cmds
        .iter()
        .filter_map(|c| match c {
            Cmd::LoadPage { filter, .. } => Some(filter.number.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(pages, [Some(c.number.clone())], "{cmds:?}");
    assert!(a.filter_line.contains(&c.number));
}

#[test]
fn x_clears_the_alert_list() {
    let mut a = loaded(Lang::En);
    tick(&mut a, 1);
    update(
        &mut a,
        Msg::Alerts {
            to: now() + Duration::seconds(1),
            found: Ok(vec![crossing(1, AlertKind::Breached, 0)]),
        },
    );
    assert!(a.flash.as_ref().unwrap().text.contains("breached"));
    update(&mut a, key('w'));
    update(&mut a, key('x'));
    assert!(a.alerts.list.is_empty());
    assert!(matches!(a.mode, Mode::Normal));
}

fn handover() -> Box<crate::present::handover::Handover> {
    use crate::store::handover::ShiftNote;
    let policy = ClockPolicy::default();
    // Received 5 h ago: late; 1 h ago: falls due in the next shift; 3 h ago: one of each
    // depending on the calendar — the test checks against the built lists, not a guess.
    let open = vec![
        request(1, "Прорвало трубу во дворе, вода заливает подвал", 300),
        request(2, "Яма на дороге у школы №5", 60),
        request(3, "Не вывозят мусор третий день", 10),
    ];
    let notes = vec![ShiftNote {
        number: "2026-000002".into(),
        kind: "note".into(),
        author: "anna".into(),
        at: now() - Duration::hours(1),
        body: "Дорожники обещали выехать к 14:00, проверить".into(),
    }];
    Box::new(crate::present::handover::build(
        &open,
        notes,
        &policy,
        now(),
        Duration::hours(12),
    ))
}

#[test]
fn h_shows_the_handover_and_enter_opens_a_listed_request() {
    let mut a = loaded(Lang::Ru);
    let cmds = update(&mut a, key('h'));
    assert_eq!(cmds, [Cmd::LoadHandover { hours: 12.0 }]);
    let s = screen(&render(&a, 80, 24));
    assert!(s.contains("Читаю"), "{s}");
    let h = handover();
    let listed: Vec<String> = h
        .breached
        .iter()
        .chain(&h.due_next_shift)
        .map(|v| v.number.clone())
        .collect();
    assert!(listed.len() >= 2, "{listed:?}");
    update(&mut a, Msg::Handover(Ok(h)));
    let s = screen(&render(&a, 80, 24));
    for needle in [
        "Передача смены",
        "Открыто: 3",
        "Срок наступит в следующую смену",
        "Заметки уходящей смены: 1",
        "Дорожники обещали",
    ] {
        assert!(s.contains(needle), "`{needle}`:\n{s}");
    }
    for n in &listed {
        assert!(s.contains(n.as_str()), "{n}:\n{s}");
    }
    insta::assert_snapshot!(s);
    update(&mut a, key('j'));
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert!(matches!(a.mode, Mode::Normal));
    assert_eq!(a.filter.number.as_deref(), Some(listed[1].as_str()));
    assert!(cmds.iter().any(|c| matches!(c, Cmd::LoadPage { .. })));
}

#[test]
fn a_late_handover_answer_after_esc_is_dropped() {
    let mut a = loaded(Lang::En);
    update(&mut a, key('h'));
    update(&mut a, code(KeyCode::Esc));
    assert!(matches!(a.mode, Mode::Normal));
    update(&mut a, Msg::Handover(Ok(handover())));
    assert!(matches!(a.mode, Mode::Normal));
    let s = screen(&render(&a, 80, 24));
    assert!(!s.contains("Shift handover"), "{s}");
}
