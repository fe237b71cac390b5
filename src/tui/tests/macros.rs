//! Macros in the console: a direct key or the palette runs one; a reply is read in the composer
//! first and Ctrl-S sends it with the other steps as one batch; a step a request refuses stops
//! the macro before anything is sent; the status line says what was done.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use uuid::Uuid;

use super::super::app::Mode;
use super::super::strings::Lang;
use super::super::update::{Cmd, Msg, update};
use super::{code, ctrl_s, key, loaded, ops, render, screen};
use crate::domain::mutation::Op;
use crate::domain::{CloseReason, Status};

fn f(n: u8) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::F(n), KeyModifiers::NONE))
}

/// `:` and `query` typed, then Enter: the palette's best match runs.
fn palette(a: &mut super::App, query: &str) -> Vec<Cmd> {
    update(a, key(':'));
    for c in query.chars() {
        update(a, key(c));
    }
    update(a, code(KeyCode::Enter))
}

fn names(cmds: &[Cmd]) -> Vec<&'static str> {
    ops(cmds).iter().map(Op::name).collect()
}

fn flash(a: &super::App) -> (String, bool) {
    a.flash
        .as_ref()
        .map(|f| (f.text.clone(), f.error))
        .unwrap_or_default()
}

#[test]
fn a_key_opens_the_reply_ready_to_read_and_ctrl_s_runs_the_macro() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, f(5));
    let Mode::Compose(c) = &a.mode else {
        panic!("the reply editor opened");
    };
    assert!(c.run.is_some());
    assert!(
        c.text().starts_with("Здравствуйте, {citizen}!"),
        "{}",
        c.text()
    );
    assert!(c.preview().contains("Ольга Котова") && c.preview().contains("2026-000001"));
    let cmds = update(&mut a, ctrl_s());
    assert!(matches!(a.mode, Mode::Normal));
    match ops(&cmds).as_slice() {
        [Op::Reply { body, .. }] => {
            assert!(
                body.starts_with("Здравствуйте, Ольга Котова! Ваше обращение 2026-000001"),
                "{body}"
            )
        }
        other => panic!("{other:?}"),
    }
    // The store's answer: the status line says what was done.
    update(
        &mut a,
        Msg::Applied(Some(Uuid::from_u128(1)), Ok("2026-000001".into())),
    );
    let (text, error) = flash(&a);
    assert!(!error);
    assert_eq!(
        text,
        "«Принято, в работу» выполнен · 2026-000001: ответ заявителю ::ack"
    );
}

#[test]
fn the_composer_names_the_macro_and_its_other_steps_and_sends_them_in_one_batch() {
    let mut a = loaded(Lang::Ru);
    // The second row is about roads: the macro moves it to utilities and forwards it there.
    update(&mut a, key('j'));
    palette(&mut a, "передать в ук");
    for (w, h) in [(80, 24), (160, 48)] {
        let shown = screen(&render(&a, w, h));
        insta::assert_snapshot!(format!("macro_composer_{w}x{h}"), shown);
        assert!(
            shown.contains("макрос: Передать в УК и сообщить · 2026-000002"),
            "{shown}"
        );
        assert!(
            shown.contains("Вместе с ответом: тема «ЖКХ» · передать в департамент «Департамент"),
            "{shown}"
        );
        assert!(shown.contains("Ctrl-S выполнить макрос"), "{shown}");
    }
    let Mode::Compose(c) = &a.mode else {
        panic!("composing");
    };
    assert!(
        c.preview().contains("управляющая компания"),
        "{}",
        c.preview()
    );
    let cmds = update(&mut a, ctrl_s());
    assert_eq!(cmds.len(), 1, "one batch: all of it or nothing");
    assert_eq!(names(&cmds), ["set_topic", "forward", "reply"]);
    match &cmds[0] {
        Cmd::Apply(ms) => assert!(
            ms.iter()
                .all(|m| m.request_id == Uuid::from_u128(2) && m.actor == "anna")
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_operators_edit_of_the_reply_is_what_goes() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, f(7));
    update(&mut a, Msg::Paste(" Например: ул. Красная, 12.".into()));
    let cmds = update(&mut a, ctrl_s());
    match ops(&cmds).as_slice() {
        [Op::Reply { body, .. }] => assert!(body.ends_with("Например: ул. Красная, 12."), "{body}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn esc_drops_the_whole_macro() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, f(8));
    assert!(matches!(a.mode, Mode::Compose(_)));
    assert!(update(&mut a, code(KeyCode::Esc)).is_empty());
    assert!(matches!(a.mode, Mode::Normal));
    assert!(a.macro_done.is_none());
}

#[test]
fn a_macro_without_a_reply_is_done_on_the_key() {
    let mut a = loaded(Lang::Ru);
    let cmds = palette(&mut a, "спам");
    assert!(matches!(a.mode, Mode::Normal));
    assert_eq!(
        ops(&cmds),
        [Op::Close {
            reason: CloseReason::Spam
        }]
    );
    // Refused by the store (someone closed it meanwhile): said, nothing changed.
    update(
        &mut a,
        Msg::Applied(
            Some(Uuid::from_u128(1)),
            Err("нельзя закрыть обращение: оно закрыто".into()),
        ),
    );
    let (text, error) = flash(&a);
    assert!(error);
    assert!(
        text.starts_with(
            "«Спам: закрыть без ответа» не выполнен, ничего не изменено · 2026-000001"
        ),
        "{text}"
    );
}

#[test]
fn a_step_the_request_refuses_stops_the_macro_before_anything_is_sent() {
    let mut a = loaded(Lang::Ru);
    a.rows[0].status = Status::Closed;
    // Works done: reply and close; a closed request takes neither, the reply is named first.
    assert!(update(&mut a, f(8)).is_empty());
    assert!(
        matches!(a.mode, Mode::Normal),
        "no composer for what can't go"
    );
    let (text, error) = flash(&a);
    assert!(error);
    assert!(
        text.contains("не выполнен, ничего не изменено · 2026-000001: шаг «ответ заявителю»"),
        "{text}"
    );
    // Someone else's request.
    a.rows[1].assignee = Some("boris".into());
    update(&mut a, key('j'));
    assert!(update(&mut a, f(5)).is_empty());
    assert!(
        flash(&a).0.contains("назначено на boris"),
        "{:?}",
        flash(&a)
    );
    // One refusal among marked requests holds back all of them.
    let mut a = loaded(Lang::Ru);
    a.rows[2].status = Status::Closed;
    for _ in 0..3 {
        update(&mut a, key(' '));
    }
    assert!(palette(&mut a, "спам").is_empty());
    assert!(flash(&a).0.contains("2026-000003"), "{:?}", flash(&a));
}

#[test]
fn on_marked_requests_each_gets_its_own_batch_and_one_summary() {
    let mut a = loaded(Lang::Ru);
    for _ in 0..3 {
        update(&mut a, key(' '));
    }
    update(&mut a, f(8));
    let Mode::Compose(c) = &a.mode else {
        panic!("composing");
    };
    assert_eq!(c.targets.len(), 3);
    let cmds = update(&mut a, ctrl_s());
    assert_eq!(cmds.len(), 3);
    assert_eq!(
        names(&cmds),
        ["reply", "close", "reply", "close", "reply", "close"]
    );
    assert!(a.marks.is_empty(), "marks are spent");
    for n in 1..=3u128 {
        update(
            &mut a,
            Msg::Applied(Some(Uuid::from_u128(n)), Ok(format!("2026-00000{n}"))),
        );
    }
    assert_eq!(
        flash(&a).0,
        "«Работы выполнены: ответ и закрыть»: готово 3 из 3"
    );
}

#[test]
fn own_keys_work_on_the_russian_layout_and_readonly_refuses() {
    let mut a = loaded(Lang::Ru);
    let mut spam = a.macros.iter().find(|m| m.id == "spam").cloned().unwrap();
    spam.key = Some("z".into());
    a.macros.push(spam);
    // я sits on Z.
    assert_eq!(names(&update(&mut a, key('я'))), ["close"]);
    let mut ro = loaded(Lang::Ru);
    ro.readonly = true;
    assert!(update(&mut ro, f(5)).is_empty());
    assert!(flash(&ro).0.contains("только просмотр"), "{:?}", flash(&ro));
}

#[test]
fn the_palette_and_the_help_list_the_macros() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key(':'));
    for c in "макрос".chars() {
        update(&mut a, key(c));
    }
    for (w, h) in [(80, 24), (160, 48)] {
        let shown = screen(&render(&a, w, h));
        insta::assert_snapshot!(format!("macro_palette_{w}x{h}"), shown);
        assert!(
            shown.contains("макрос: Принято, в работу") && shown.contains("F5"),
            "{shown}"
        );
    }
    for lang in [Lang::Ru, Lang::En] {
        let mut a = loaded(lang);
        update(&mut a, key('?'));
        let shown = screen(&render(&a, 80, 24));
        for m in a.macros.iter().filter(|m| m.key.is_some()) {
            let start: String = lang.macro_name(m.title(lang)).chars().take(8).collect();
            assert!(shown.contains(&start), "{start}:\n{shown}");
        }
        assert!(shown.contains("F9"), "{shown}");
    }
}
