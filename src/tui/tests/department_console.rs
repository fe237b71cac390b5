//! A department account's console (#21 item 2): told by the server who it is, it opens on
//! its queue and takes only a department's actions — `a` the answer, `n` a note, `R` the
//! return — and says what to do when another key would act as an operator.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::super::team::Team;
use super::super::update::{Cmd, Msg, update};
use super::*;
use crate::domain::views::View;
use crate::sync::team::News;
use crate::wire::team::{Me, TeamStatus};

fn status(role: &str, departments: &[&str]) -> Msg {
    Msg::Team(News::Status(TeamStatus {
        channels: vec![],
        staff: vec![],
        views: vec![],
        me: Some(Me {
            role: role.into(),
            departments: departments.iter().map(|d| d.to_string()).collect(),
        }),
    }))
}

/// A team console that heard from the server that its token is a department's.
fn department(lang: Lang) -> App {
    let mut a = loaded(lang);
    a.me = "economy".into();
    a.team = Some(Team::default());
    a.view = View::Mine;
    let rows = a.rows.clone();
    let cmds = update(&mut a, status("department", &["city_economy"]));
    assert!(
        cmds.iter().any(|c| matches!(c, Cmd::MarkDepartment(load)
            if matches!(**load, Cmd::LoadPage { .. }))),
        "its queue is loaded: {cmds:?}"
    );
    // The load's answer: the same rows.
    answer(&mut a, rows);
    a
}

#[test]
fn the_server_saying_department_opens_its_queue_once() {
    let mut a = department(Lang::Ru);
    assert_eq!(a.department, Some(vec!["city_economy".to_string()]));
    assert_eq!(
        a.view,
        View::All,
        "not «mine»: a department is assigned nothing"
    );
    assert!(
        a.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("Очередь департамента")),
        "{:?}",
        a.flash
    );
    // The next status changes nothing.
    assert!(update(&mut a, status("department", &["city_economy"])).is_empty());
    // An operator's console stays as it is.
    let mut op = loaded(Lang::Ru);
    op.team = Some(Team::default());
    update(&mut op, status("operator", &[]));
    assert_eq!(op.department, None);
}

#[test]
fn an_operators_key_is_refused_with_what_to_do() {
    let mut a = department(Lang::Ru);
    for c in ['r', 'x', 'c', 'f', 't'] {
        let cmds = update(&mut a, key(c));
        assert!(cmds.is_empty(), "{c}: {cmds:?}");
        assert!(matches!(a.mode, Mode::Normal), "{c}");
        assert!(
            a.flash
                .as_ref()
                .is_some_and(|f| f.error && f.text.contains("R — вернуть")),
            "{c}: {:?}",
            a.flash
        );
    }
    // Moving and reading still work.
    update(&mut a, key('j'));
    assert_eq!(a.selected, 1);
}

#[test]
fn a_records_the_answer_and_shift_r_returns_with_a_reason() {
    let mut a = department(Lang::Ru);
    update(&mut a, key('a'));
    update(&mut a, Msg::Paste("Бригада выехала".into()));
    match ops(&update(&mut a, ctrl_s())).as_slice() {
        [Op::DepartmentAnswer { body, .. }] => assert_eq!(body, "Бригада выехала"),
        other => panic!("{other:?}"),
    }
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT)),
    );
    assert!(
        matches!(&a.mode, Mode::Compose(c) if c.kind == super::super::app::ComposeKind::Return),
        "the return's reason is asked"
    );
    update(&mut a, Msg::Paste("Это водоканал".into()));
    match ops(&update(&mut a, ctrl_s())).as_slice() {
        [Op::Return { reason, .. }] => assert_eq!(reason, "Это водоканал"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn department_console_at_80x24() {
    let a = department(Lang::Ru);
    insta::assert_snapshot!(screen(&render(&a, 80, 24)));
}

/// `?` lists what a department may press — its answer, a note, the return under `R` — and
/// none of the operators' actions or macros, which it would only be refused.
#[test]
fn department_help_lists_only_its_keys() {
    let mut a = department(Lang::Ru);
    update(&mut a, key('?'));
    assert!(matches!(a.mode, Mode::Help));
    let s = screen(&render(&a, 80, 24));
    for has in ["ответ департамента", "вернуть операторам", "заметка"]
    {
        assert!(s.contains(has), "{has}:\n{s}");
    }
    for lacks in ["закрыть", "передать в департамент", "ответить заявителю"]
    {
        assert!(!s.to_lowercase().contains(lacks), "{lacks}:\n{s}");
    }
    insta::assert_snapshot!(s);
}

/// `:` offers a department what it may do — its answer, among moving and reading — and no
/// operator's action or macro; an operator's console still offers every one.
#[test]
fn the_palette_offers_a_department_only_its_own() {
    use super::super::app::PaletteItem;
    use super::super::keymap::Action;
    let a = department(Lang::Ru);
    let all = a.palette("");
    assert!(all.contains(&PaletteItem::Action(Action::DepartmentAnswer)));
    assert!(all.contains(&PaletteItem::Action(Action::Note)));
    assert!(!all.contains(&PaletteItem::Action(Action::Close)));
    assert!(!all.contains(&PaletteItem::Action(Action::Reply)));
    assert!(!all.iter().any(|i| matches!(i, PaletteItem::Macro(_))));
    assert!(
        !a.palette("закрыть")
            .contains(&PaletteItem::Action(Action::Close))
    );
    let op = loaded(Lang::Ru);
    let every = op.palette("");
    assert!(every.contains(&PaletteItem::Action(Action::Close)));
    assert_eq!(
        every
            .iter()
            .filter(|i| matches!(i, PaletteItem::Macro(_)))
            .count(),
        op.macros.len()
    );
    assert!(
        !op.macros.is_empty(),
        "the shipped macros are there to leave out"
    );
}
