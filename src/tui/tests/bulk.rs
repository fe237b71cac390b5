//! Actions on marked requests: every window says how many requests and which (never the one
//! under the cursor instead), the reply's preview shows each one's own rendering, and the
//! outcome is reported per request.

use crossterm::event::KeyCode;
use uuid::Uuid;

use super::super::app::Mode;
use super::super::strings::Lang;
use super::super::update::{Cmd, Msg, update};
use super::{code, ctrl_s, key, loaded, ops, render, screen};
use crate::domain::mutation::Op;

const THREE: &str = "2026-000001, 2026-000002, 2026-000003";

/// The first three rows marked; marking moves on, so the cursor ends on the fourth.
fn three_marked(lang: Lang) -> super::App {
    let mut a = loaded(lang);
    for _ in 0..3 {
        update(&mut a, key(' '));
    }
    assert_eq!(a.current().unwrap().number.to_string(), "2026-000004");
    a
}

/// The screen's line that holds `text`.
fn title_line<'a>(shown: &'a str, text: &str) -> &'a str {
    shown.lines().find(|l| l.contains(text)).unwrap_or("")
}

#[test]
fn the_bulk_reply_names_its_requests_and_previews_each() {
    let mut a = three_marked(Lang::Ru);
    update(&mut a, key('r'));
    update(&mut a, Msg::Paste("Обращение {number} принято".into()));
    let shown = screen(&render(&a, 80, 24));
    insta::assert_snapshot!("bulk_reply_80x24", shown);
    assert!(
        shown.contains(&format!("Ответ 3 заявителям: {THREE}")),
        "{shown}"
    );
    assert!(
        !shown.contains("2026-000004"),
        "not the row under the cursor:\n{shown}"
    );
    assert!(shown.contains("Обращение 2026-000001 принято"), "{shown}");
    // PgDn/PgUp go through each one's own rendering, round.
    for (k, n) in [
        (KeyCode::PageDown, 2),
        (KeyCode::PageDown, 3),
        (KeyCode::PageDown, 1),
        (KeyCode::PageUp, 3),
    ] {
        update(&mut a, code(k));
        let shown = screen(&render(&a, 160, 48));
        assert!(
            shown.contains(&format!("Обращение 2026-00000{n} принято"))
                && shown.contains(&format!("{n} из 3: 2026-00000{n}")),
            "{k:?}:\n{shown}"
        );
    }
    let Mode::Compose(c) = &a.mode else { panic!() };
    assert_eq!(
        c.text(),
        "Обращение {number} принято",
        "the keys left the text alone"
    );
    let cmds = update(&mut a, ctrl_s());
    let bodies: Vec<(Uuid, String)> = cmds
        .iter()
        .filter_map(|c| match c {
            Cmd::Apply(ms) => match &ms[0].op {
                Op::Reply { body, .. } => Some((ms[0].request_id, body.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(
        bodies,
        (1..=3)
            .map(|n| (
                Uuid::from_u128(n),
                format!("Обращение 2026-00000{n} принято")
            ))
            .collect::<Vec<_>>()
    );
}

#[test]
fn the_outcome_is_told_per_request() {
    let mut a = three_marked(Lang::Ru);
    update(&mut a, key('r'));
    update(&mut a, Msg::Paste("Принято".into()));
    assert_eq!(update(&mut a, ctrl_s()).len(), 3);
    let id = |n: u128| Some(Uuid::from_u128(n));
    // Answers arrive in any order.
    update(&mut a, Msg::Applied(id(3), Ok("2026-000003".into())));
    let flash = a.flash.clone().unwrap();
    assert!(
        flash.text.contains("готово 1 из 3") && flash.text.contains("ждём ещё 2"),
        "{flash:?}"
    );
    update(&mut a, Msg::Applied(id(2), Err("обращение закрыто".into())));
    update(&mut a, Msg::Applied(id(1), Ok("2026-000001".into())));
    let flash = a.flash.clone().unwrap();
    assert_eq!(
        flash.text,
        "Ответ заявителю: готово 2 из 3; 2026-000002: отказ — обращение закрыто"
    );
    assert!(flash.error);
    assert!(a.bulk.is_none(), "all answers are in");
    // A later single action is reported as before.
    update(&mut a, Msg::Applied(id(4), Ok("2026-000004".into())));
    assert_eq!(a.flash.unwrap().text, "готово: 2026-000004");
}

#[test]
fn every_bulk_window_says_how_many_and_which() {
    let cases: [(&str, &[Msg]); 5] = [
        ("note", &[]),
        ("forward", &[]),
        ("close", &[]),
        ("tags", &[]),
        ("claim", &[]),
    ];
    for (what, _) in cases {
        let mut a = three_marked(Lang::Ru);
        let want = match what {
            "note" => {
                update(&mut a, key('n'));
                format!("Внутренняя заметка · 3 обращения: {THREE}")
            }
            "forward" => {
                update(&mut a, key('f'));
                let picker = screen(&render(&a, 160, 48));
                assert!(
                    picker.contains(&format!("Передать в департамент · 3 обращения: {THREE}")),
                    "{picker}"
                );
                let picker = screen(&render(&a, 80, 24));
                assert!(picker.contains(THREE), "{picker}");
                update(&mut a, code(KeyCode::Enter));
                format!("Записка для департамента (можно пустую) · 3 обращения: {THREE}")
            }
            "close" => {
                update(&mut a, key('x'));
                format!("Причина закрытия · 3 обращения: {THREE}")
            }
            "tags" => {
                update(&mut a, key('l'));
                format!("Метки · 3 обращения: {THREE}")
            }
            _ => {
                let cmds = update(&mut a, key('c'));
                assert_eq!(ops(&cmds), vec![Op::Claim; 3]);
                for n in 1..=3 {
                    update(
                        &mut a,
                        Msg::Applied(Some(Uuid::from_u128(n)), Ok(String::new())),
                    );
                }
                assert_eq!(
                    a.flash.as_ref().unwrap().text,
                    "взять в работу: готово 3 из 3"
                );
                continue;
            }
        };
        let shown = screen(&render(&a, 160, 48));
        assert!(shown.contains(&want), "{what}:\n{shown}");
        assert!(
            !title_line(&shown, &want).contains("2026-000004"),
            "{what}:\n{shown}"
        );
    }
    // In English too, and cut to the width with how many more.
    let mut a = loaded(Lang::En);
    for _ in 0..4 {
        update(&mut a, key(' '));
    }
    update(&mut a, key('r'));
    let shown = screen(&render(&a, 80, 24));
    assert!(
        shown.contains("Reply to 4 citizens: 2026-000001, 2026-000002, 2026-000003, …")
            || shown.contains(
                "Reply to 4 citizens: 2026-000001, 2026-000002, 2026-000003, 2026-000004"
            ),
        "{shown}"
    );
}
