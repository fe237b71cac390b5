//! The tag picker (`l`) and the editors that do not go to the citizen: Enter in the picker
//! adds or removes a tag and never starts a new line, so a note typed next stays a note; each
//! editor says what becomes of its text.

use crossterm::event::KeyCode;

use super::super::strings::Lang;
use super::super::update::update;
use super::{code, ctrl_s, key, loaded, ops, render, screen};
use crate::domain::mutation::Op;

fn typed(a: &mut super::App, text: &str) {
    for c in text.chars() {
        update(a, key(c));
    }
}

fn tagged(a: &mut super::App) {
    a.rows[0].tags = ["авария".to_string()].into();
    a.rows[1].tags = ["дети".to_string(), "аварийный_дом".to_string()].into();
    a.rows[2].tags = ["дети".to_string()].into();
}

fn tag(t: &str) -> Op {
    Op::Tag { tag: t.into() }
}

fn untag(t: &str) -> Op {
    Op::Untag { tag: t.into() }
}

#[test]
fn enter_adds_the_typed_tag_and_a_note_typed_next_stays_a_note() {
    // The reported sequence: `l`, a tag, Enter, then `n` and a note.
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('l'));
    typed(&mut a, "протечка");
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert_eq!(ops(&cmds), vec![tag("протечка")]);
    assert!(
        matches!(a.mode, super::Mode::Normal),
        "Enter chooses and closes, as in every picker"
    );
    update(&mut a, key('n'));
    typed(&mut a, "звонила в управляющую компанию");
    let cmds = update(&mut a, ctrl_s());
    match ops(&cmds).as_slice() {
        [Op::AddNote { body, .. }] => assert_eq!(body, "звонила в управляющую компанию"),
        other => panic!("one note, no tags: {other:?}"),
    }
}

#[test]
fn the_picker_lists_tags_in_use_filters_and_toggles() {
    let mut a = loaded(Lang::Ru);
    tagged(&mut a);
    update(&mut a, key('l'));
    let shown = screen(&render(&a, 80, 24));
    insta::assert_snapshot!("tag_picker_80x24", shown);
    // The request's own tag first and ticked, then the others seen in the list.
    let own = shown.find("✓ авария").expect(&shown);
    let other = shown.find("дети").expect(&shown);
    assert!(own < other, "{shown}");
    assert!(shown.contains("аварийный_дом"), "{shown}");
    // Typing filters; Enter on a tag it lacks adds it.
    typed(&mut a, "дет");
    let shown = screen(&render(&a, 80, 24));
    assert!(!shown.contains("аварийный_дом"), "{shown}");
    assert_eq!(
        ops(&update(&mut a, code(KeyCode::Enter))),
        vec![tag("дети")]
    );
    // Enter on a tag the request has removes it; so does Delete, and on one it lacks
    // Delete does nothing.
    for k in [KeyCode::Enter, KeyCode::Delete] {
        update(&mut a, key('l'));
        update(&mut a, key('#'));
        typed(&mut a, "авари");
        assert_eq!(ops(&update(&mut a, code(k))), vec![untag("авария")]);
    }
    update(&mut a, key('l'));
    typed(&mut a, "аварийный");
    assert!(update(&mut a, code(KeyCode::Delete)).is_empty());
    // Ctrl-U clears the search; spaces and commas never reach a tag.
    update(
        &mut a,
        super::Msg::Key(crossterm::event::KeyEvent::new(
            KeyCode::Char('u'),
            crossterm::event::KeyModifiers::CONTROL,
        )),
    );
    typed(&mut a, "Новая, метка");
    assert_eq!(
        ops(&update(&mut a, code(KeyCode::Enter))),
        vec![tag("новаяметка")]
    );
    // Esc leaves without a change.
    update(&mut a, key('l'));
    assert!(update(&mut a, code(KeyCode::Esc)).is_empty());
    assert!(matches!(a.mode, super::Mode::Normal));
}

#[test]
fn marked_requests_get_the_tag_where_it_is_missing() {
    let mut a = loaded(Lang::Ru);
    tagged(&mut a);
    for _ in 0..3 {
        update(&mut a, key(' '));
    }
    update(&mut a, key('l'));
    let shown = screen(&render(&a, 80, 24));
    assert!(
        shown.contains("3 обращения: 2026-000001, 2026-000002, 2026-000003"),
        "{shown}"
    );
    assert!(shown.contains("◐ дети (2/3)"), "{shown}");
    typed(&mut a, "дети");
    let cmds = update(&mut a, code(KeyCode::Enter));
    let to: Vec<u128> = cmds
        .iter()
        .filter_map(|c| match c {
            super::Cmd::Apply(ms) => Some(ms[0].request_id.as_u128()),
            _ => None,
        })
        .collect();
    assert_eq!(to, vec![1], "only the one lacking it");
    assert!(a.marks.is_empty(), "marks are spent");
    // On all three: Enter takes it off each.
    for r in &mut a.rows {
        r.tags.insert("дети".into());
    }
    update(&mut a, key('g'));
    for _ in 0..3 {
        update(&mut a, key(' '));
    }
    update(&mut a, key('l'));
    typed(&mut a, "дети");
    assert_eq!(
        ops(&update(&mut a, code(KeyCode::Enter))),
        vec![untag("дети"); 3]
    );
}

#[test]
fn editors_that_stay_inside_say_so() {
    let cases: [(&[char], &str); 3] = [
        (&['n'], "заявитель её не увидит"),
        (&['a'], "заявителю не отправляется"),
        (&['f', '\n'], "заявитель её не увидит"),
    ];
    for (keys, hint) in cases {
        let mut a = loaded(Lang::Ru);
        for k in keys {
            update(
                &mut a,
                if *k == '\n' {
                    code(KeyCode::Enter)
                } else {
                    key(*k)
                },
            );
        }
        update(&mut a, super::Msg::Paste("Текст {number}".into()));
        for (w, h) in [(80, 24), (160, 48)] {
            let shown = screen(&render(&a, w, h));
            assert!(!shown.contains("Заявитель увидит"), "{keys:?}:\n{shown}");
            assert!(shown.contains(hint), "{keys:?} at {w}×{h}:\n{shown}");
            assert!(shown.contains("Ctrl-S записать") || shown.contains("Ctrl-S передать"));
        }
    }
    let mut a = loaded(Lang::En);
    update(&mut a, key('n'));
    assert!(screen(&render(&a, 80, 24)).contains("the citizen never sees it"));
    update(&mut a, code(KeyCode::Esc));
    update(&mut a, key('r'));
    assert!(screen(&render(&a, 80, 24)).contains("The citizen will see:"));
}
