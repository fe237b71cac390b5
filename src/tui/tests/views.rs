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
