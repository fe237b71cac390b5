//! `!` (alarms and the channel's state) and `o` (a citizen's file in the system's viewer).

use crossterm::event::KeyCode;

use super::super::app::Mode;
use super::super::strings::Lang;
use super::super::update::{Cmd, Msg, update};
use super::{app, code, key, loaded, now, render, screen};
use crate::channels::gateway::GatewayEvent;
use crate::domain::request::{Attachment, AttachmentState};
use crate::store::alarms::Alarm;
use crate::sync::files::FileRef;

fn alarm(text: &str) -> Alarm {
    Alarm {
        at: now(),
        source: "telegram".into(),
        kind: "conflict".into(),
        text: text.into(),
    }
}

#[test]
fn bang_lists_alarms_with_the_channel_and_x_clears_them() {
    let mut a = loaded(Lang::Ru);
    update(
        &mut a,
        Msg::Gateway(
            crate::domain::Channel::Telegram,
            GatewayEvent::Started {
                account: "@mcu_bot".into(),
                epoch: 3,
            },
        ),
    );
    assert_eq!(update(&mut a, key('!')), vec![Cmd::LoadAlarms]);
    assert!(matches!(a.mode, Mode::Alarms));
    update(
        &mut a,
        Msg::Alarms(vec![alarm(
            "409: другой процесс читает getUpdates этого бота",
        )]),
    );
    let s = screen(&render(&a, 80, 24));
    assert!(s.contains("409: другой процесс"), "{s}");
    assert!(s.contains("@mcu_bot: работает"), "{s}");
    insta::assert_snapshot!("alarms_at_80x24", s);
    assert_eq!(update(&mut a, key('x')), vec![Cmd::ClearAlarms]);
    assert!(matches!(a.mode, Mode::Normal));
    // Any other key only closes the window.
    update(&mut a, key('!'));
    assert!(update(&mut a, key('j')).is_empty());
    assert!(matches!(a.mode, Mode::Normal));
}

#[test]
fn a_readonly_console_sees_alarms_but_does_not_clear_them() {
    let mut a = app(Lang::Ru, true);
    update(&mut a, key('!'));
    update(&mut a, Msg::Alarms(vec![alarm("401")]));
    assert!(update(&mut a, key('x')).is_empty());
    assert!(a.flash.as_ref().is_some_and(|f| f.error));
    let s = screen(&render(&a, 80, 24));
    assert!(s.contains("Шлюз не запущен"), "{s}");
}

fn file(path: &str, state: AttachmentState) -> Attachment {
    Attachment {
        kind: "photo".into(),
        name: Some(format!("{path}.jpg")),
        size: Some(1000),
        source: Some("AgAD".into()),
        local_path: Some(path.into()),
        state,
    }
}

#[test]
fn o_opens_the_one_stored_file_or_asks_which() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('o'));
    assert!(
        a.flash.as_ref().is_some_and(|f| f.error),
        "no files: said so"
    );
    a.rows[0].attachments = vec![
        file("/f/one", AttachmentState::Stored),
        file("/f/pending", AttachmentState::Pending),
    ];
    assert_eq!(
        update(&mut a, key('o')),
        vec![Cmd::Open {
            program: vec![],
            file: FileRef {
                number: a.rows[0].number.to_string(),
                n: 0,
                path: "/f/one".into()
            }
        }]
    );
    a.rows[0]
        .attachments
        .push(file("/f/two", AttachmentState::Stored));
    assert!(
        update(&mut a, key('щ')).is_empty(),
        "the same key on ЙЦУКЕН"
    );
    assert!(matches!(a.mode, Mode::Picker(_)));
    update(&mut a, code(KeyCode::Down));
    assert_eq!(
        update(&mut a, code(KeyCode::Enter)),
        vec![Cmd::Open {
            program: vec![],
            file: FileRef {
                number: a.rows[0].number.to_string(),
                n: 2,
                path: "/f/two".into()
            }
        }]
    );
    update(&mut a, Msg::Opened(Err("xdg-open: not found".into())));
    assert!(
        a.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("xdg-open"))
    );
}

#[test]
fn team_mode_shows_the_link_what_waits_and_each_refusal_once() {
    use crate::store::mirror::Rejected;
    use crate::sync::runner::SyncStatus;
    let mut a = loaded(Lang::Ru);
    let status = |online: bool, pending: i64, rejected: Vec<Rejected>| SyncStatus {
        online,
        pending,
        last_ok: Some(now()),
        error: (!online).then(|| "connection refused".into()),
        version: None,
        rejected,
    };
    update(&mut a, Msg::Sync(status(false, 5, vec![])));
    let s = screen(&render(&a, 80, 24));
    assert!(s.contains("⇅ нет связи · ждут 5"), "{s}");
    let refused = Rejected {
        mutation_uuid: uuid::Uuid::now_v7(),
        request_id: a.rows[0].id,
        number: Some("2026-000001".into()),
        code: "stale_base".into(),
        message: "the department was changed meanwhile (now: transport_roads)".into(),
        current: None,
        draft: None,
        changed_by: None,
        changed_at: None,
    };
    // Back online with a refusal: said once, and the inbox reloads to show the server's value.
    let cmds = update(&mut a, Msg::Sync(status(true, 0, vec![refused])));
    assert!(cmds.iter().any(|c| matches!(c, Cmd::LoadPage { .. })));
    let flash = a.flash.clone().expect("the refusal is shown");
    assert!(
        flash.error && flash.text.contains("2026-000001: сервер не принял"),
        "{flash:?}"
    );
    let s = screen(&render(&a, 160, 48));
    assert!(s.contains("⇅ синхр. 12:00:00"), "{s}");
    assert!(update(&mut a, Msg::Sync(status(true, 0, vec![]))).is_empty());
}

#[test]
fn each_channel_keeps_its_own_badge_and_lines() {
    use crate::domain::Channel;
    let mut a = loaded(Lang::Ru);
    for (channel, account) in [(Channel::Telegram, "@mcu_bot"), (Channel::Vk, "club1")] {
        update(
            &mut a,
            Msg::Gateway(
                channel,
                GatewayEvent::Started {
                    account: account.into(),
                    epoch: 1,
                },
            ),
        );
    }
    update(
        &mut a,
        Msg::Gateway(
            Channel::Vk,
            GatewayEvent::Warning("VK: error 6, too many requests".into()),
        ),
    );
    update(&mut a, Msg::Gateway(Channel::Pos, GatewayEvent::Stopped));
    let s = screen(&render(&a, 100, 24));
    let status = s.lines().last().unwrap();
    assert!(
        status.contains("TG ✓") && status.contains("VK ⚠") && status.contains("ПОС ✗"),
        "{status}"
    );
    update(&mut a, key('!'));
    let s = screen(&render(&a, 120, 30));
    assert!(s.contains("TG @mcu_bot: работает"), "{s}");
    assert!(s.contains("VK club1: работает"), "{s}");
    assert!(s.contains("error 6"), "{s}");
}

/// Issue #15 item 6: a refusal stays in the list in Russian, and a refused reply's text comes
/// back in the composer.
#[test]
fn a_refused_reply_waits_in_the_list_and_its_text_comes_back() {
    use crate::store::alerts::AlertKind;
    use crate::store::mirror::Rejected;
    use crate::sync::runner::SyncStatus;
    let mut a = loaded(Lang::Ru);
    let id = a.rows[0].id;
    let refused = Rejected {
        mutation_uuid: uuid::Uuid::now_v7(),
        request_id: id,
        number: Some("2026-000001".into()),
        code: "read_only".into(),
        message: "read-only account: the server takes no changes from it".into(),
        current: None,
        draft: Some("Бригада выехала".into()),
        changed_by: None,
        changed_at: None,
    };
    update(
        &mut a,
        Msg::Sync(SyncStatus {
            online: true,
            pending: 0,
            last_ok: Some(now()),
            error: None,
            version: None,
            rejected: vec![refused],
        }),
    );
    let listed = &a.alerts.list[0];
    assert_eq!(listed.crossing.kind, AlertKind::Refused);
    assert!(
        listed
            .crossing
            .text
            .starts_with("учётная запись только для просмотра"),
        "{}",
        listed.crossing.text
    );
    assert!(!listed.seen);
    update(&mut a, key('r'));
    let Mode::Compose(c) = &a.mode else {
        panic!("the composer opens");
    };
    assert_eq!(c.text(), "Бригада выехала");
}

/// Issue #15 item 6: the refusal in the list (`w`) names who made the value that stands now
/// and when, in the console's time zone (Krasnodar, UTC+3).
#[test]
fn a_refusal_in_the_list_names_who_changed_it() {
    use crate::store::mirror::Rejected;
    use crate::sync::runner::SyncStatus;
    let mut a = loaded(Lang::Ru);
    let mut current = super::request(1, "Прорвало трубу", 30);
    current.assignee = Some("boris".into());
    let refused = Rejected {
        mutation_uuid: uuid::Uuid::now_v7(),
        request_id: current.id,
        number: Some("2026-000001".into()),
        code: "already_claimed".into(),
        message: "already claimed by boris".into(),
        current: serde_json::to_value(&current).ok(),
        draft: None,
        changed_by: Some("lena".into()),
        changed_at: Some(now() - chrono::Duration::minutes(3)),
    };
    update(
        &mut a,
        Msg::Sync(SyncStatus {
            online: true,
            pending: 0,
            last_ok: Some(now()),
            error: None,
            version: None,
            rejected: vec![refused],
        }),
    );
    update(&mut a, key('w'));
    let s = screen(&render(&a, 160, 30));
    assert!(
        s.contains("обращение уже взял(а) в работу boris — изменил(а) lena в 11:57"),
        "{s}"
    );
}

/// #20: a console and a server of different versions: the console says which side to update,
/// once, in the operator's language, rather than a badge that reads like a lost link.
#[test]
fn a_version_skew_names_the_side_to_update() {
    use crate::sync::runner::SyncStatus;
    for (lang, version, said) in [
        (Lang::Ru, (2, Some(1)), "сервер старше этой консоли"),
        (Lang::Ru, (1, Some(2)), "эта консоль старше сервера"),
        (
            Lang::En,
            (2, Some(1)),
            "the server is older than this console",
        ),
        (
            Lang::En,
            (1, Some(2)),
            "this console is older than the server",
        ),
    ] {
        let mut a = loaded(lang);
        update(
            &mut a,
            Msg::Sync(SyncStatus {
                online: false,
                pending: 3,
                last_ok: None,
                error: Some("sync protocol versions differ".into()),
                version: Some(version),
                rejected: vec![],
            }),
        );
        let flash = a.flash.clone().expect("the skew is said");
        assert!(flash.text.starts_with(said), "{}", flash.text);
        assert!(flash.error);
    }
}
