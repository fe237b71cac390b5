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
        shortcut: "snow".into(),
        title: "Снег".into(),
        title_en: None,
        text: "Звоните 04".into(),
    });
    update(&mut a, code(KeyCode::Esc));
    update(&mut a, key('r'));
    typed(&mut a, "::snow");
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

/// A line longer than the window wraps instead of scrolling sideways, and Up/Down move by the
/// lines on screen within it.
#[test]
fn a_long_line_wraps_and_the_cursor_follows_it() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('r'));
    let words: Vec<String> = (1..=30).map(|i| format!("слово{i:02}")).collect();
    let line = words.join(" ");
    update(&mut a, Msg::Paste(line.clone()));
    for (w, h) in [(80, 24), (160, 48)] {
        let shown = screen(&render(&a, w, h));
        let first = shown.lines().position(|l| l.contains("слово01"));
        let last = shown.lines().position(|l| l.contains("слово30"));
        assert!(
            first.is_some() && last.is_some() && first < last,
            "both ends in view, on different lines at {w}×{h}:\n{shown}"
        );
    }
    let len = line.chars().count();
    let cursor = |a: &super::App| match &a.mode {
        Mode::Compose(c) => {
            let ratatui_textarea::DataCursor(row, col) = c.editor.cursor();
            (row, col)
        }
        _ => panic!("composing"),
    };
    assert_eq!(cursor(&a), (0, len));
    render(&a, 80, 24);
    update(&mut a, code(KeyCode::Up));
    let (row, col) = cursor(&a);
    assert_eq!(row, 0, "one line of text");
    assert!(col < len && col > len - 80, "one screen line up: {col}");
    update(&mut a, key('Ж'));
    let Mode::Compose(c) = &a.mode else { panic!() };
    let text = c.text();
    assert!(text.contains('Ж') && !text.ends_with('Ж'), "{text}");
    update(&mut a, code(KeyCode::Down));
    update(&mut a, code(KeyCode::End));
    assert_eq!(cursor(&a), (0, len + 1));
}

/// The window covers the card at 80×24; what the citizen last wrote stays in view over the
/// text, cut to a few lines.
#[test]
fn the_citizens_last_message_stays_in_view() {
    let mut a = super::detail::with_thread(Lang::Ru);
    update(&mut a, key('r'));
    let shown = screen(&render(&a, 80, 24));
    assert!(
        shown.contains("Заявитель, 30.11 11:20: Спасибо, вода всё ещё идёт"),
        "the newest message from the citizen:\n{shown}"
    );
    // Without a later message: the text the request opened with; a long one is cut.
    let mut a = loaded(Lang::En);
    a.rows[0].text = "Вода заливает подвал. ".repeat(40);
    update(&mut a, key('r'));
    for (w, h, most) in [(80, 24, 3), (160, 48, 5)] {
        let shown = screen(&render(&a, w, h));
        // The strip: from under the window's title to the rule under it.
        let lines: Vec<&str> = shown
            .lines()
            .skip_while(|l| !l.contains("Reply to the citizen ·"))
            .skip(1)
            .take_while(|l| !l.contains("│────"))
            .collect();
        assert!(
            lines[0].contains("Citizen, 30.11 ") && lines.len() <= most,
            "{w}×{h}:\n{shown}"
        );
        assert!(lines.last().unwrap().contains('…'), "{w}×{h}:\n{shown}");
    }
}

#[test]
fn shift_w_asks_the_citizen_and_the_request_waits() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('W'));
    assert!(matches!(&a.mode, Mode::Compose(c) if c.kind == super::super::app::ComposeKind::Ask));
    // The ready replies work here as in a reply: `::addr` asks for the address.
    typed(&mut a, "::addr");
    update(&mut a, code(KeyCode::Tab));
    insta::assert_snapshot!("ask_composer_80x24", screen(&render(&a, 80, 24)));
    insta::assert_snapshot!("ask_composer_160x48", screen(&render(&a, 160, 48)));
    let cmds = update(&mut a, ctrl_s());
    match ops(&cmds).as_slice() {
        [Op::Ask { body, .. }] => assert!(body.contains("адрес"), "{body}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(a.mode, Mode::Normal));
}
