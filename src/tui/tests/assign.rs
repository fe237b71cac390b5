//! Issue #15 item 7: a shift lead assigns from the console; the server's refusal of a plain
//! operator is said in Russian.

use crossterm::event::KeyCode;
use uuid::Uuid;

use super::super::app::{Mode, PickerKind};
use super::super::strings::Lang;
use super::super::update::{Msg, update};
use super::{answer, code, key, loaded, ops, render, screen};
use crate::domain::mutation::Op;
use crate::wire::presence::{Activity, Presence};

/// `boris` has request 2; `vera` is on request 3 in another console.
fn team(lang: Lang) -> super::App {
    let mut a = loaded(lang);
    let mut rows = a.rows.clone();
    rows[1].assignee = Some("boris".into());
    answer(&mut a, rows);
    update(
        &mut a,
        Msg::Presence(vec![Presence {
            request_id: Uuid::from_u128(3),
            user: "vera".into(),
            activity: Activity::Viewing,
        }]),
    );
    a
}

fn typed(a: &mut super::App, text: &str) {
    for c in text.chars() {
        update(a, key(c));
    }
}

#[test]
fn a_offers_nobody_and_the_operators_the_console_knows() {
    let mut a = team(Lang::Ru);
    update(&mut a, key('A'));
    let Mode::Picker(p) = &a.mode else {
        panic!("a picker opens");
    };
    assert_eq!(p.kind, PickerKind::Assign);
    let labels: Vec<&str> = p.items.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(labels, ["— никому —", "anna", "boris", "vera"]);
    insta::assert_snapshot!("assign_picker_80x24", screen(&render(&a, 80, 24)));
    update(&mut a, code(KeyCode::Esc));
    // Typing filters; Enter assigns.
    update(&mut a, key('A'));
    typed(&mut a, "ver");
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert_eq!(
        ops(&cmds),
        [Op::Assign {
            assignee: Some("vera".into())
        }]
    );
    // «никому» unassigns.
    update(&mut a, key('A'));
    typed(&mut a, "никому");
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert_eq!(ops(&cmds), [Op::Assign { assignee: None }]);
}

#[test]
fn a_name_typed_in_is_assigned_and_marks_get_one_each() {
    let mut a = team(Lang::Ru);
    update(&mut a, key(' '));
    update(&mut a, key(' '));
    // The Russian layout: shifted Ф is shifted A.
    update(&mut a, key('Ф'));
    typed(&mut a, "gleb");
    let Mode::Picker(p) = &a.mode else {
        panic!("still picking");
    };
    assert_eq!(
        p.visible().last().map(|(_, l)| l.as_str()),
        Some("gleb (новое имя)")
    );
    let cmds = update(&mut a, code(KeyCode::Enter));
    let ids: Vec<(Uuid, Op)> = cmds
        .iter()
        .filter_map(|c| match c {
            super::Cmd::Apply(ms) => Some((ms[0].request_id, ms[0].op.clone())),
            _ => None,
        })
        .collect();
    let gleb = Op::Assign {
        assignee: Some("gleb".into()),
    };
    assert_eq!(
        ids,
        [
            (Uuid::from_u128(1), gleb.clone()),
            (Uuid::from_u128(2), gleb)
        ]
    );
    assert!(a.marks.is_empty());
}

#[test]
fn the_servers_refusal_is_said_plainly_and_readonly_refuses() {
    let mut a = team(Lang::Ru);
    update(
        &mut a,
        Msg::Sync(crate::sync::runner::SyncStatus {
            online: true,
            pending: 0,
            last_ok: None,
            error: None,
            version: None,
            rejected: vec![crate::store::mirror::Rejected {
                mutation_uuid: Uuid::from_u128(77),
                request_id: Uuid::from_u128(1),
                number: Some("2026-000001".into()),
                code: "forbidden".into(),
                message: "an operator claims for themself; assigning is for a shift lead".into(),
                current: None,
                draft: None,
                changed_by: None,
                changed_at: None,
            }],
        }),
    );
    let flash = a.flash.clone().unwrap();
    assert!(flash.error);
    assert!(
        flash.text.contains("2026-000001")
            && flash
                .text
                .contains("назначать обращения другим может только старший смены"),
        "{flash:?}"
    );
    let mut ro = team(Lang::Ru);
    ro.readonly = true;
    assert!(update(&mut ro, key('A')).is_empty());
    assert!(matches!(ro.mode, Mode::Normal));
}
