//! The composer's helpers: the template list, `$EDITOR`'s text coming back, and themes.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;

use super::super::app::Mode;
use super::super::strings::Lang;
use super::super::theme::Theme;
use super::super::update::{Cmd, Msg, update};
use super::{code, ctrl_s, key, loaded, ops, render, screen};
use crate::domain::mutation::Op;

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn typed(a: &mut super::App, text: &str) {
    for c in text.chars() {
        update(a, key(c));
    }
}

fn list_open(a: &super::App) -> bool {
    matches!(&a.mode, Mode::Compose(c) if c.templates.is_some())
}

#[test]
fn ctrl_t_lists_templates_filters_and_inserts_at_the_cursor() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('r'));
    typed(&mut a, "Добрый день. ");
    update(&mut a, ctrl('t'));
    assert!(list_open(&a));
    // Esc closes the list, not the composer.
    update(&mut a, code(KeyCode::Esc));
    assert!(!list_open(&a) && matches!(a.mode, Mode::Compose(_)));
    // The Russian layout's Ctrl-Е is the same key.
    update(&mut a, ctrl('е'));
    typed(&mut a, "компетенц");
    update(&mut a, code(KeyCode::Enter));
    assert!(!list_open(&a));
    let cmds = update(&mut a, ctrl_s());
    match ops(&cmds).as_slice() {
        [Op::Reply { body, .. }] => {
            assert!(body.starts_with("Добрый день. Здравствуйте!"), "{body}");
            assert!(body.contains("не относится к компетенции"), "{body}");
            assert!(body.contains("2026-000001"), "{body}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn tab_after_an_unknown_word_opens_the_list_and_replaces_the_word() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('r'));
    typed(&mut a, "::де");
    update(&mut a, code(KeyCode::Tab));
    assert!(list_open(&a));
    let Mode::Compose(c) = &a.mode else { panic!() };
    assert_eq!(c.templates.as_ref().unwrap().query, "де");
    // "де" is in the "Передано в департамент" title; arrows move, Enter inserts.
    update(&mut a, code(KeyCode::Down));
    update(&mut a, code(KeyCode::Up));
    update(&mut a, code(KeyCode::Enter));
    let Mode::Compose(c) = &a.mode else { panic!() };
    assert!(!c.text().contains("::"), "{}", c.text());
    assert!(c.text().contains("передано в {department}"), "{}", c.text());
    // A known shortcut still expands at once, a custom one from the config too.
    a.templates.push(crate::templates::ReplyTemplate {
        shortcut: "gas".into(),
        title: "Газ".into(),
        title_en: None,
        text: "Звоните 04".into(),
    });
    update(&mut a, code(KeyCode::Esc));
    update(&mut a, key('r'));
    typed(&mut a, "::gas");
    update(&mut a, code(KeyCode::Tab));
    let Mode::Compose(c) = &a.mode else { panic!() };
    assert_eq!(c.text(), "Звоните 04");
}

#[test]
fn the_list_shows_the_choice_as_the_citizen_will_read_it() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('r'));
    update(&mut a, ctrl('t'));
    typed(&mut a, "ack");
    let text = screen(&render(&a, 160, 48));
    assert!(text.contains("::ack"), "{text}");
    assert!(
        text.contains("Ваше обращение 2026-000001 принято"),
        "{text}"
    );
    insta::assert_snapshot!("templates_at_80x24", screen(&render(&a, 80, 24)));
    typed(&mut a, "zzz");
    assert!(screen(&render(&a, 80, 24)).contains("нет подходящих шаблонов"));
}

#[test]
fn ctrl_o_hands_the_text_to_the_editor_and_takes_it_back() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('r'));
    typed(&mut a, "Черновик");
    assert_eq!(
        update(&mut a, ctrl('o')),
        vec![Cmd::Edit("Черновик".into())]
    );
    assert!(matches!(a.mode, Mode::Compose(_)));
    update(
        &mut a,
        Msg::Edited(Ok("Первая строка\nВторая {number}\n".into())),
    );
    let Mode::Compose(c) = &a.mode else { panic!() };
    // The editor's final newline is not part of the reply.
    assert_eq!(c.text(), "Первая строка\nВторая {number}");
    // A failed editor keeps the draft and says why.
    update(&mut a, Msg::Edited(Err("редактор vi не запустился".into())));
    let Mode::Compose(c) = &a.mode else { panic!() };
    assert_eq!(c.text(), "Первая строка\nВторая {number}");
    assert!(a.flash.as_ref().is_some_and(|f| f.error));
}

#[test]
fn light_theme_colours_a_breached_clock_readably() {
    let mut a = loaded(Lang::Ru);
    a.now += chrono::Duration::hours(10);
    let colours = |a: &super::App| {
        let t = render(a, 160, 48);
        let buf = t.backend().buffer().clone();
        buf.content().iter().map(|c| c.fg).collect::<Vec<Color>>()
    };
    a.theme = Theme::light();
    let light = colours(&a);
    assert!(light.contains(&Color::Indexed(160)), "{light:?}");
    assert!(!light.contains(&Color::Yellow) && !light.contains(&Color::White));
    a.theme = Theme::dark();
    assert!(colours(&a).contains(&Color::Red));
    a.theme = Theme::plain();
    assert!(colours(&a).iter().all(|c| *c == Color::Reset));
}
