//! Every screen the console has, rendered at 80×24 and 160×48 into snapshots: the inbox with
//! its card, help, each kind of window (picker, composer, templates, palette, alarms), the
//! filter and link prompts.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::super::strings::Lang;
use super::super::update::{Msg, update};
use super::{key, loaded, render, screen};

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn view(name: &str, steps: &[Msg]) -> super::App {
    let mut a = loaded(Lang::Ru);
    for m in steps {
        let m = match m {
            Msg::Key(k) => Msg::Key(*k),
            Msg::Paste(p) => Msg::Paste(p.clone()),
            _ => unreachable!("keys and text only"),
        };
        update(&mut a, m);
    }
    let _ = name;
    a
}

#[test]
fn every_view_at_both_sizes() {
    let cases: Vec<(&str, Vec<Msg>)> = vec![
        ("help", vec![key('?')]),
        ("topic_picker", vec![key('t')]),
        ("close_picker", vec![key('x')]),
        (
            "reply_composer",
            vec![
                key('r'),
                Msg::Paste("Здравствуйте, {citizen}! Обращение {number} в работе.".into()),
            ],
        ),
        ("templates", vec![key('r'), ctrl('t')]),
        (
            "note_editor",
            vec![
                key('n'),
                Msg::Paste("Звонила в УК, обещали к вечеру".into()),
            ],
        ),
        ("palette", vec![key(':'), key('о'), key('т')]),
        ("filter", vec![key('/'), key('т'), key('е'), key('м')]),
        (
            "link_prompt",
            vec![Msg::Key(KeyEvent::new(
                KeyCode::Char('D'),
                KeyModifiers::SHIFT,
            ))],
        ),
        ("alarms", vec![key('!')]),
    ];
    for (name, steps) in cases {
        let a = view(name, &steps);
        for (w, h) in [(80, 24), (160, 48)] {
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&render(&a, w, h)));
        }
    }
}

/// Help names every action at the smallest size a console supports, in both languages.
#[test]
fn help_shows_every_action_at_80x24() {
    use super::super::keymap::Action;
    for lang in [Lang::Ru, Lang::En] {
        let mut a = loaded(lang);
        update(&mut a, key('?'));
        let shown = screen(&render(&a, 80, 24));
        for action in Action::ALL {
            // Names may be cut with "…", never their first words.
            let start: String = lang.action(action).chars().take(8).collect();
            assert!(
                shown.contains(&start),
                "{action:?} ({start}) missing:\n{shown}"
            );
        }
    }
}

/// The inbox with `line` applied, showing the loaded rows on the roads topic.
fn filtered(lang: Lang, line: &str) -> super::App {
    let mut a = loaded(lang);
    let roads: Vec<_> = a
        .rows
        .iter()
        .filter(|r| r.topic.as_deref() == Some("roads"))
        .cloned()
        .collect();
    update(&mut a, key('/'));
    update(&mut a, Msg::Paste(line.into()));
    update(&mut a, super::code(KeyCode::Enter));
    assert_eq!(a.filter_line, line);
    super::answer(&mut a, roads);
    a
}

/// The screen's first line: the views, the filter and the sort.
fn head(a: &super::App, w: u16, h: u16) -> String {
    screen(&render(a, w, h)).lines().next().unwrap().to_string()
}

/// The active filter and the sort stay on screen at both sizes; at 80 columns the other
/// views' names give way first.
#[test]
fn the_filter_and_the_sort_always_show() {
    let long = "тема:дороги деп:transport_roads @me #срочно яма у школы";
    let mut a = filtered(Lang::Ru, long);
    let small = screen(&render(&a, 80, 24));
    insta::assert_snapshot!("long_filter_80x24", small);
    for (w, h) in [(80, 24), (160, 48)] {
        let line = head(&a, w, h);
        assert!(line.contains(long), "{w}×{h}: {line}");
        assert!(
            line.contains("по сроку") || line.contains("↓срок"),
            "{w}×{h}: {line}"
        );
        assert!(line.contains("6:Все"), "the view stays: {line}");
    }
    update(&mut a, key('s'));
    for (w, h) in [(80, 24), (160, 48)] {
        let line = head(&a, w, h);
        assert!(
            line.contains("по поступлению") || line.contains("↓поступл."),
            "{w}×{h}: {line}"
        );
        assert!(line.contains(long), "{w}×{h}: {line}");
    }
    // A shorter filter keeps the words at 80 columns, and every view's name at 160.
    let a = filtered(Lang::Ru, "тема:дороги");
    for (w, h) in [(80, 24), (160, 48)] {
        let line = head(&a, w, h);
        assert!(
            line.contains("фильтр: тема:дороги · сорт: по сроку"),
            "{line}"
        );
        assert_eq!(line.contains("4:Ждут департамент"), w == 160, "{line}");
    }
    // No filter: the sort still shows, in English too.
    let a = loaded(Lang::En);
    let line = head(&a, 80, 24);
    assert!(line.contains("sort: by time left"), "{line}");
    // A filter wider than the line is all the line holds, cut at its end.
    let huge = "яма ".repeat(30);
    let a = filtered(Lang::Ru, huge.trim());
    let line = head(&a, 80, 24);
    assert!(line.contains("/ яма яма") && line.ends_with("…"), "{line}");
}

/// In the filter line Ctrl-U clears the typed text as shells do (Enter then drops the
/// filter), Ctrl-W the last word.
#[test]
fn ctrl_u_clears_the_filter_line() {
    let mut a = filtered(Lang::Ru, "тема:дороги яма");
    update(&mut a, key('/'));
    update(&mut a, ctrl('w'));
    assert!(matches!(&a.mode, super::Mode::Filter { input } if input == "тема:дороги "));
    update(&mut a, ctrl('u'));
    assert!(matches!(&a.mode, super::Mode::Filter { input } if input.is_empty()));
    let cmds = update(&mut a, super::code(KeyCode::Enter));
    assert!(a.filter_line.is_empty() && a.filter.topic.is_none() && a.filter.text.is_none());
    assert!(!cmds.is_empty(), "the list is read again");
    assert!(!screen(&render(&a, 80, 24)).contains("фильтр:"));
    // The Russian layout's Ctrl-Г is the same key.
    update(&mut a, key('/'));
    update(&mut a, Msg::Paste("яма".into()));
    update(&mut a, ctrl('г'));
    assert!(matches!(&a.mode, super::Mode::Filter { input } if input.is_empty()));
}
