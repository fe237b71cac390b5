//! The console: `update` as plain functions, and screens rendered into a TestBackend.

use chrono::{DateTime, Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::sync::Arc;
use uuid::Uuid;

use super::app::{App, Mode, Settings};

mod actions;
mod alarms;
mod assign;
mod bulk;
mod citizen;
mod compose;
mod dashboard;
mod department;
mod department_console;
mod detail;
mod feedback;
mod incidents;
mod macros;
mod merge;
mod photo;
mod presence;
mod saved_views;
mod shift;
mod suggest;
mod tags;
mod team;
mod undelivered;
mod views;
use super::keymap::Keymap;
use super::strings::Lang;
use super::update::{Cmd, Msg, update};
use super::view;
use crate::domain::mutation::{Ctx, Mutation, NewRequest, Op};
use crate::domain::request::{ChannelRef, Location};
use crate::domain::{Catalog, Channel, ClockPolicy, CloseReason, RequestNumber, Status, apply};
use crate::store::{Assignee, Cursor, Page};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap()
}

fn request(seq: u32, text: &str, minutes_ago: i64) -> crate::domain::Request {
    let catalog = Catalog::krasnodar();
    let policy = ClockPolicy::default();
    let id = Uuid::from_u128(seq as u128);
    let new = NewRequest {
        citizen: Some("Ольга Котова".into()),
        channel_ref: ChannelRef {
            chat: Some("42".into()),
            message: Some("7".into()),
        },
        location: seq.is_multiple_of(2).then(|| Location {
            lat: Some(45.03),
            lon: Some(38.97),
            address: Some("ул. Красная, 12".into()),
        }),
        topic: Some(["utilities", "roads", "waste", "utilities"][(seq as usize + 3) % 4].into()),
        ..NewRequest::new(
            if seq.is_multiple_of(2) {
                Channel::Telegram
            } else {
                Channel::Vk
            },
            text,
            now() - Duration::minutes(minutes_ago),
        )
    };
    let ctx = Ctx {
        catalog: &catalog,
        policy: &policy,
        now: now(),
        new_number: Some(RequestNumber::new(2026, seq)),
    };
    apply(
        None,
        &Mutation {
            id: Uuid::from_u128(1000 + seq as u128),
            request_id: id,
            actor: "tg".into(),
            at: now(),
            op: Op::Create(Box::new(new)),
        },
        &ctx,
    )
    .unwrap()
    .request
}

/// A store in a temporary directory on the tests' clock; keep the directory while it is used.
async fn temp_store() -> (tempfile::TempDir, crate::store::Store) {
    let dir = tempfile::tempdir().unwrap();
    let env = crate::store::Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(now),
    };
    let store = crate::store::Store::open(&dir.path().join("s.sqlite3"), env)
        .await
        .unwrap();
    (dir, store)
}

fn app(lang: Lang, readonly: bool) -> App {
    let settings = Settings {
        lang,
        me: "anna".into(),
        readonly,
        keymap: Keymap::default(),
        catalog: Arc::new(Catalog::krasnodar()),
        tz: chrono_tz::Europe::Moscow,
        theme: super::theme::Theme::plain(),
        templates: crate::templates::replies(),
        macros: crate::macros::shipped(),
        open_command: vec![],
        photos: true,
        dashboard: false,
        alerts: Some(crate::config::AlertsConfig::default().rules("anna")),
        bell: true,
        shift_hours: 12.0,
        incidents: Default::default(),
    };
    let mut a = App::new(settings, now());
    update(&mut a, Msg::Resize { height: 24 });
    a
}

fn loaded(lang: Lang) -> App {
    let mut a = app(lang, false);
    let cmds = super::update::refresh(&mut a);
    let generation = match &cmds[0] {
        Cmd::LoadPage { generation, .. } => *generation,
        other => panic!("{other:?}"),
    };
    let rows = vec![
        request(1, "Прорвало трубу во дворе, вода заливает подвал", 230),
        request(
            2,
            "Яма на дороге у школы №5, машины объезжают по тротуару",
            170,
        ),
        request(3, "Контейнеры переполнены третий день", 60),
        request(4, "Не горит фонарь на остановке", 10),
    ];
    update(
        &mut a,
        Msg::Page {
            generation,
            append: false,
            page: Page {
                suggested: Default::default(),
                members: Default::default(),
                rows,
                next: Some(Cursor { key: 1, rid: 4 }),
            },
        },
    );
    a
}

/// The store's answer to the latest load: these rows, and no more.
fn answer(a: &mut App, rows: Vec<crate::domain::Request>) {
    let generation = a.generation;
    update(
        a,
        Msg::Page {
            generation,
            append: false,
            page: Page {
                rows,
                next: None,
                suggested: Default::default(),
                members: Default::default(),
            },
        },
    );
}

/// The store's detail of `request` with this thread and nothing else on it.
fn thread_of(
    request: crate::domain::Request,
    messages: Vec<crate::domain::request::Message>,
) -> crate::store::Detail {
    crate::store::Detail {
        citizen_requests: vec![],
        duplicates: vec![],
        merged: vec![],
        suggestion: None,
        same_case_as: None,
        incident: None,
        members: vec![],
        member_requests: vec![],
        request,
        messages,
        notes: vec![],
        events: vec![],
        parent_number: None,
    }
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn ctrl_s() -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL))
}

fn ops(cmds: &[Cmd]) -> Vec<Op> {
    cmds.iter()
        .flat_map(|c| match c {
            Cmd::Apply(ms) => ms.iter().map(|m| m.op.clone()).collect(),
            _ => vec![],
        })
        .collect()
}

#[test]
fn moving_loads_the_detail_and_the_next_page_early() {
    let mut a = loaded(Lang::Ru);
    let cmds = update(&mut a, key('j'));
    assert_eq!(a.selected, 1);
    assert!(cmds.contains(&Cmd::LoadDetail(Uuid::from_u128(2))));
    assert!(
        cmds.iter().any(|c| matches!(
            c,
            Cmd::LoadPage {
                append: true,
                after: Some(_),
                ..
            }
        )),
        "{cmds:?}"
    );
    // The same key on the Russian layout.
    update(&mut a, key('о'));
    assert_eq!(a.selected, 2);
    update(&mut a, key('G'));
    assert_eq!(a.selected, 3);
    update(&mut a, key('g'));
    assert_eq!(a.selected, 0);
}

#[test]
fn stale_pages_are_dropped_and_the_selection_survives_a_reload() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('j'));
    let old = a.generation;
    let cmds = super::update::refresh(&mut a);
    assert!(matches!(cmds[0], Cmd::LoadPage { .. }));
    // An answer to the older load is ignored.
    update(
        &mut a,
        Msg::Page {
            generation: old,
            append: false,
            page: Page {
                suggested: Default::default(),
                members: Default::default(),
                rows: vec![],
                next: None,
            },
        },
    );
    assert_eq!(a.rows.len(), 4);
    // A new request arrived on top: the operator stays on the same request.
    let rows = vec![
        request(9, "Новое", 1),
        request(1, "a", 230),
        request(2, "b", 170),
        request(3, "c", 60),
    ];
    answer(&mut a, rows);
    assert_eq!(a.current().map(|r| r.number.seq), Some(2));
}

#[test]
fn claim_in_both_layouts_and_readonly_refuses() {
    let mut a = loaded(Lang::Ru);
    let cmds = update(&mut a, key('c'));
    assert_eq!(ops(&cmds), vec![Op::Claim]);
    let cmds = update(&mut a, key('с'));
    assert_eq!(ops(&cmds), vec![Op::Claim]);
    if let Cmd::Apply(ms) = &cmds[0] {
        assert_eq!(ms[0].actor, "anna");
        assert_eq!(ms[0].request_id, Uuid::from_u128(1));
    }
    let mut ro = loaded(Lang::Ru);
    ro.readonly = true;
    assert!(update(&mut ro, key('c')).is_empty());
    assert!(
        ro.flash
            .as_ref()
            .is_some_and(|f| f.error && f.text.contains("только просмотр"))
    );
}

#[test]
fn reply_fills_variables_and_sends_on_ctrl_s() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('r'));
    assert!(matches!(a.mode, Mode::Compose(_)));
    update(&mut a, Msg::Paste("Обращение {number} принято".into()));
    let cmds = update(&mut a, ctrl_s());
    match ops(&cmds).as_slice() {
        [Op::Reply { body, .. }] => assert_eq!(body, "Обращение 2026-000001 принято"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(a.mode, Mode::Normal));
    // Esc drops a draft; an empty reply is not sent.
    update(&mut a, key('r'));
    assert!(update(&mut a, ctrl_s()).is_empty());
    update(&mut a, code(KeyCode::Esc));
    assert!(matches!(a.mode, Mode::Normal));
}

#[test]
fn close_picker_filters_as_you_type() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('x'));
    for c in "спам".chars() {
        update(&mut a, key(c));
    }
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert_eq!(
        ops(&cmds),
        vec![Op::Close {
            reason: CloseReason::Spam
        }]
    );
}

#[test]
fn topic_picker_and_forward_with_a_note() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('t'));
    for c in "живот".chars() {
        update(&mut a, key(c));
    }
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert_eq!(
        ops(&cmds),
        vec![Op::SetTopic {
            topic: Some("animals".into()),
            department_follows: true
        }]
    );
    update(&mut a, key('f'));
    for c in "ветер".chars() {
        update(&mut a, key(c));
    }
    update(&mut a, code(KeyCode::Enter));
    update(&mut a, Msg::Paste("Срочно, кабан во дворе".into()));
    let cmds = update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)),
    );
    match ops(&cmds).as_slice() {
        [
            Op::Forward {
                department, note, ..
            },
        ] => {
            assert_eq!(department.as_deref(), Some("veterinary"));
            assert_eq!(note.as_deref(), Some("Срочно, кабан во дворе"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn filter_line_sets_fields_or_explains() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('/'));
    for c in "тема:мусор @me труба".chars() {
        update(&mut a, key(c));
    }
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert_eq!(a.filter.topic.as_deref(), Some("waste"));
    assert_eq!(a.filter.assignee, Some(Assignee::Is("anna".into())));
    assert_eq!(a.filter.text.as_deref(), Some("труба"));
    assert!(matches!(cmds[0], Cmd::LoadPage { append: false, .. }));
    update(&mut a, key('/'));
    for c in " тема:космос".chars() {
        update(&mut a, key(c));
    }
    assert!(update(&mut a, code(KeyCode::Enter)).is_empty());
    assert!(
        matches!(a.mode, Mode::Filter { .. }),
        "stays open to fix the typo"
    );
    assert!(
        a.flash
            .as_ref()
            .is_some_and(|f| f.error && f.text.contains("космос"))
    );
}

#[test]
fn views_change_the_filter() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('1'));
    assert_eq!(a.filter.assignee, Some(Assignee::Is("anna".into())));
    update(&mut a, key('4'));
    assert_eq!(a.filter.statuses, vec![Status::WaitingDepartment]);
    update(&mut a, key('3'));
    assert!(a.filter.urgent);
}

#[test]
fn refusals_and_alarms_reach_the_status_line() {
    let mut a = loaded(Lang::Ru);
    update(
        &mut a,
        Msg::Applied(None, Err("обращение уже взял(а) в работу boris".into())),
    );
    assert!(a.flash.as_ref().is_some_and(|f| f.error));
    update(
        &mut a,
        Msg::Gateway(
            crate::domain::Channel::Telegram,
            crate::channels::gateway::GatewayEvent::Alarm("409".into()),
        ),
    );
    let cmds = update(&mut a, Msg::Tick(now() + Duration::seconds(10)));
    assert!(a.flash.is_none(), "flashes fade");
    assert!(
        cmds.contains(&Cmd::LoadAlarms),
        "periodic refresh includes alarms"
    );
}

fn render(a: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::draw(f, a)).unwrap();
    t
}

fn screen(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

#[test]
fn inbox_at_80x24() {
    let a = loaded(Lang::Ru);
    insta::assert_snapshot!(screen(&render(&a, 80, 24)));
}

#[test]
fn inbox_at_160x48_in_english() {
    let a = loaded(Lang::En);
    insta::assert_snapshot!(screen(&render(&a, 160, 48)));
}

#[test]
fn help_fits_80x24() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('?'));
    let s = screen(&render(&a, 80, 24));
    // Three columns at 80×24: long names are cut, never their first words.
    for needle in ["взять в ра", "вид: все", "обновить", "выйти"] {
        assert!(s.contains(needle), "help shows `{needle}`:\n{s}");
    }
}

#[test]
fn hostile_citizen_text_cannot_drive_the_terminal() {
    let mut a = app(Lang::Ru, false);
    let cmds = super::update::refresh(&mut a);
    let generation = match &cmds[0] {
        Cmd::LoadPage { generation, .. } => *generation,
        _ => unreachable!(),
    };
    let evil =
        "Яма\x1b[2J\x1b]0;owned\x07 \u{202E}тсет\u{202C} \x1b[31mкрасный\r\nвторая строка\u{9b}";
    let mut r = request(1, evil, 5);
    r.citizen = Some("\x1b]52;c;ZXZpbA==\x07Иван".into());
    update(
        &mut a,
        Msg::Page {
            generation,
            append: false,
            page: Page {
                suggested: Default::default(),
                members: Default::default(),
                rows: vec![r],
                next: None,
            },
        },
    );
    let t = render(&a, 120, 30);
    let s = screen(&t);
    assert!(
        !s.chars().any(|c| c.is_control() && c != '\n'),
        "no control characters on screen:\n{s:?}"
    );
    assert!(!s.contains('\u{202E}'));
    assert!(s.contains("Яма") && s.contains("красный") && s.contains("Иван"));
}

#[test]
fn a_long_first_line_still_fills_its_cell() {
    // The inbox cuts a first line before laying it out; the cut must never show less than the
    // cell holds, zero-width characters (an accent after every letter) included.
    for text in [
        "Очень длинное обращение ".repeat(40),
        "а\u{301}".repeat(500),
    ] {
        let mut a = app(Lang::Ru, false);
        a.show_detail = false;
        let cmds = super::update::refresh(&mut a);
        let generation = match &cmds[0] {
            Cmd::LoadPage { generation, .. } => *generation,
            _ => unreachable!(),
        };
        update(
            &mut a,
            Msg::Page {
                generation,
                append: false,
                page: Page {
                    suggested: Default::default(),
                    members: Default::default(),
                    rows: vec![request(1, &text, 5)],
                    next: None,
                },
            },
        );
        for (w, h) in [(80, 24), (160, 48)] {
            let t = render(&a, w, h);
            // Under the view tabs, the rule and the table header.
            let edge = t.backend().buffer()[(w - 1, 3)].symbol().to_string();
            assert!(
                !edge.trim().is_empty(),
                "the text reaches the right edge at {w}×{h}:\n{}",
                screen(&t)
            );
        }
    }
}

#[test]
fn mouse_wheel_and_click_select() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, Msg::Scroll(1));
    assert_eq!(a.selected, 1);
    let cmds = update(&mut a, Msg::Click { row: 5 });
    assert_eq!(
        a.selected, 2,
        "row 5 is the third request under tabs, rule and header"
    );
    assert!(cmds.contains(&Cmd::LoadDetail(Uuid::from_u128(3))));
    update(&mut a, Msg::Click { row: 40 });
    assert_eq!(a.selected, 2, "a click below the list changes nothing");
}

#[test]
fn shortcut_and_tab_insert_a_ready_reply() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('r'));
    update(&mut a, Msg::Paste("::dep".into()));
    update(&mut a, code(KeyCode::Tab));
    let cmds = update(&mut a, ctrl_s());
    match ops(&cmds).as_slice() {
        [Op::Reply { body, .. }] => {
            assert!(body.starts_with("Здравствуйте! Ваше обращение 2026-000001 передано в Департамент городского хозяйства"), "{body}");
            assert!(!body.contains("::dep"));
        }
        other => panic!("{other:?}"),
    }
    // An unknown shortcut stays as typed.
    update(&mut a, key('r'));
    update(&mut a, Msg::Paste("::nope".into()));
    update(&mut a, code(KeyCode::Tab));
    if let Mode::Compose(c) = &a.mode {
        assert!(c.text().starts_with("::nope"));
    } else {
        panic!("still composing");
    }
}

#[test]
fn palette_finds_actions_by_part_of_their_name() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key(':'));
    assert!(matches!(a.mode, Mode::Palette { .. }));
    for c in "ответить".chars() {
        update(&mut a, key(c));
    }
    use super::app::PaletteItem;
    let best = super::app::palette_matches(Lang::Ru, &a.macros, "ответить");
    assert!(
        super::app::palette_matches(Lang::Ru, &a.macros, "отв").contains(&PaletteItem::Action(
            super::keymap::Action::DepartmentAnswer
        ))
    );
    assert_eq!(
        best.first(),
        Some(&PaletteItem::Action(super::keymap::Action::Reply)),
        "{best:?}"
    );
    update(&mut a, code(KeyCode::Enter));
    assert!(
        matches!(a.mode, Mode::Compose(_)),
        "the reply editor opened"
    );
    update(&mut a, code(KeyCode::Esc));
    update(&mut a, key(':'));
    for c in "взять".chars() {
        update(&mut a, key(c));
    }
    assert_eq!(ops(&update(&mut a, code(KeyCode::Enter))), vec![Op::Claim]);
}

#[test]
fn marks_apply_one_action_to_each_marked_request() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key(' '));
    update(&mut a, key(' '));
    assert_eq!(a.marks.len(), 2);
    assert_eq!(a.selected, 2, "marking moves on");
    let cmds = update(&mut a, key('c'));
    let claimed: Vec<Uuid> = cmds
        .iter()
        .filter_map(|c| match c {
            Cmd::Apply(ms) => Some(ms[0].request_id),
            _ => None,
        })
        .collect();
    assert_eq!(
        claimed,
        vec![Uuid::from_u128(1), Uuid::from_u128(2)],
        "one command each, so one refusal can't block the rest"
    );
    assert!(a.marks.is_empty(), "marks are spent");
    // A reply to several requests carries each one's own number.
    update(
        &mut a,
        Msg::Key(KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE)),
    );
    update(&mut a, key('g'));
    update(&mut a, key(' '));
    update(&mut a, key('r'));
    update(&mut a, Msg::Paste("Обращение {number} принято".into()));
    let cmds = update(&mut a, ctrl_s());
    let bodies: Vec<String> = ops(&cmds)
        .into_iter()
        .filter_map(|o| match o {
            Op::Reply { body, .. } => Some(body),
            _ => None,
        })
        .collect();
    assert_eq!(
        bodies,
        vec![
            "Обращение 2026-000001 принято".to_string(),
            "Обращение 2026-000003 принято".to_string()
        ]
    );
}

#[test]
fn link_as_duplicate_asks_for_the_number() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('D'));
    assert!(matches!(a.mode, Mode::LinkInput { .. }));
    for c in "2026-000003".chars() {
        update(&mut a, key(c));
    }
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert_eq!(
        cmds,
        vec![Cmd::LinkDuplicate {
            target: Uuid::from_u128(1),
            actor: "anna".into(),
            number: "2026-000003".into(),
            lang: Lang::Ru,
            merge: false,
        }]
    );
    // A citizen's repeat: its open request's number is offered, `Enter` joins them.
    let mut a = detail::with_thread(Lang::Ru);
    if let Some(d) = a.detail.as_mut() {
        d.same_case_as = Some("2026-000002".into());
    }
    let card = screen(&render(&a, 160, 48));
    assert!(
        card.contains("↻ Повтор обращения 2026-000002 · D Enter объединить"),
        "{card}"
    );
    update(&mut a, key('D'));
    assert!(matches!(&a.mode, Mode::LinkInput { input, .. } if input == "2026-000002"));
    match &update(&mut a, code(KeyCode::Enter))[..] {
        [Cmd::LinkDuplicate { number, .. }] => assert_eq!(number, "2026-000002"),
        other => panic!("{other:?}"),
    }
}

/// Issue #15 item 9: three photos without names are «фото 1 / 2 / 3» in the file picker.
#[test]
fn the_file_picker_names_each_photo() {
    use crate::domain::request::{Attachment, AttachmentState};
    let mut a = app(Lang::Ru, false);
    super::update::refresh(&mut a);
    let mut r = request(1, "Яма во дворе", 100);
    r.attachments = (1..=3)
        .map(|i| Attachment {
            kind: "photo".into(),
            name: None,
            size: Some(1000),
            source: Some(format!("f{i}")),
            local_path: Some(format!("/tmp/f{i}.jpg")),
            state: AttachmentState::Stored,
        })
        .collect();
    answer(&mut a, vec![r]);
    update(&mut a, key('o'));
    let Mode::Picker(p) = &a.mode else {
        panic!("a picker opens");
    };
    let labels: Vec<&str> = p.items.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(labels, ["фото 1", "фото 2", "фото 3"]);
}
