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
