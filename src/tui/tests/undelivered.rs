//! Issue #15 item 3 in the console: the undelivered queue as a view, the row's mark, the card's
//! block, and resend / phoned / unreachable, each through `apply`.

use chrono::Duration;
use crossterm::event::KeyCode;
use uuid::Uuid;

use super::super::app::{ComposeKind, Mode, View};
use super::super::strings::Lang;
use super::super::update::{Cmd, Msg, update};
use super::{answer, code, ctrl_s, key, loaded, now, ops, render, screen, thread_of};
use crate::domain::mutation::{Op, Settle};
use crate::domain::request::{DeliveryState, Direction, Message, PendingReply};

const FAILED_REPLY: u128 = 12;

/// Four requests: №1's reply failed, №2's is on its way, №3's fate is unknown, №4 has none;
/// the card (№1's) is loaded with the reply that failed.
fn queue(lang: Lang) -> super::App {
    let mut a = loaded(lang);
    let pending = |id: u128, state: DeliveryState, ago: i64| PendingReply {
        message_id: Uuid::from_u128(id),
        state,
        at: now() - Duration::minutes(ago),
    };
    let mut rows = a.rows.clone();
    rows[0].reply = Some(pending(FAILED_REPLY, DeliveryState::Failed, 20));
    rows[1].reply = Some(pending(13, DeliveryState::Queued, 1));
    rows[2].reply = Some(pending(14, DeliveryState::Unknown, 5));
    answer(&mut a, rows);
    let request = a.rows[0].clone();
    let messages = vec![Message {
        id: Uuid::from_u128(FAILED_REPLY),
        request_id: request.id,
        direction: Direction::Out,
        author: "anna".into(),
        body: "Бригада водоканала выедет сегодня до 18:00".into(),
        at: now() - Duration::minutes(25),
        delivery: Some(DeliveryState::Failed),
        edit_of: None,
    }];
    update(&mut a, Msg::Detail(Box::new(thread_of(request, messages))));
    a
}

#[test]
fn seven_is_the_undelivered_view_and_its_filter() {
    let mut a = loaded(Lang::Ru);
    let cmds = update(&mut a, key('7'));
    assert_eq!(a.view, View::Undelivered);
    assert!(a.filter.undelivered);
    assert!(
        matches!(&cmds[..], [Cmd::LoadPage { filter, append: false, .. }] if filter.undelivered),
        "{cmds:?}"
    );
    assert!(screen(&render(&a, 160, 48)).contains("7:Не доставлено"));
}

#[test]
fn undelivered_rows_are_marked_and_the_card_offers_the_three_actions() {
    let a = queue(Lang::Ru);
    let s = screen(&render(&a, 80, 24));
    let row = |n: &str| {
        s.lines()
            .find(|l| l.starts_with(n))
            .unwrap_or_else(|| panic!("{n}:\n{s}"))
            .to_string()
    };
    assert!(row("2026-000001").contains("✗"), "{s}");
    assert!(
        row("2026-000003").contains("✗"),
        "unknown fate is undelivered too:\n{s}"
    );
    assert!(row("2026-000002").contains("…"), "on its way:\n{s}");
    assert!(!row("2026-000004").contains("✗") && !row("2026-000004").contains("…"));
    assert!(s.contains("Ответ не доставлен"), "{s}");
    assert!(s.contains("Бригада водоканала выедет"), "{s}");
    assert!(
        s.contains("R отправить снова · P позвонили · U недоступен"),
        "{s}"
    );
    insta::assert_snapshot!("undelivered_80x24", s);
    insta::assert_snapshot!(
        "undelivered_160x48_in_english",
        screen(&render(&queue(Lang::En), 160, 48))
    );
}

#[test]
fn the_mark_is_in_the_bad_colour() {
    let mut a = queue(Lang::Ru);
    a.theme = super::super::theme::Theme::dark();
    let t = render(&a, 80, 24);
    let buf = t.backend().buffer();
    let y = (0..24)
        .find(|y| buf[(0u16, *y)].symbol() == "2" && buf[(1u16, *y)].symbol() == "0")
        .unwrap();
    let x = (0..80).find(|x| buf[(*x, y)].symbol() == "✗").unwrap();
    assert_eq!(Some(buf[(x, y)].fg), a.theme.bad);
}

#[test]
fn resend_goes_to_each_marked_undelivered_request() {
    let mut a = queue(Lang::Ru);
    // №1 (failed), №2 (on its way: nothing to resend), №3 (unknown).
    for _ in 0..3 {
        update(&mut a, key(' '));
    }
    let cmds = update(&mut a, key('R'));
    let targets: Vec<Uuid> = cmds
        .iter()
        .filter_map(|c| match c {
            Cmd::Resend { target, actor, .. } if actor == "anna" => Some(*target),
            _ => None,
        })
        .collect();
    assert_eq!(targets, [Uuid::from_u128(1), Uuid::from_u128(3)]);
    assert!(a.marks.is_empty());
    // The outcome per request, as every bulk action tells it.
    update(
        &mut a,
        Msg::Applied(Some(Uuid::from_u128(1)), Ok("2026-000001".into())),
    );
    update(
        &mut a,
        Msg::Applied(Some(Uuid::from_u128(3)), Err("нет связи".into())),
    );
    let flash = a.flash.clone().unwrap();
    assert!(
        flash.text.contains("готово 1 из 2") && flash.text.contains("2026-000003: отказ"),
        "{flash:?}"
    );
    // The Russian layout's shifted К is R.
    update(&mut a, key('g'));
    let cmds = update(&mut a, key('К'));
    assert!(matches!(&cmds[..], [Cmd::Resend { target, .. }] if *target == Uuid::from_u128(1)));
}

#[test]
fn phoned_opens_an_editor_and_settles_with_what_was_said() {
    let mut a = queue(Lang::Ru);
    update(&mut a, key('P'));
    assert!(matches!(&a.mode, Mode::Compose(c) if c.kind == ComposeKind::Phoned));
    let s = screen(&render(&a, 80, 24));
    assert!(
        s.contains("по телефону"),
        "the editor says what it records:\n{s}"
    );
    update(
        &mut a,
        Msg::Paste("Сообщили по телефону: бригада выедет до 18:00".into()),
    );
    let cmds = update(&mut a, ctrl_s());
    match ops(&cmds).as_slice() {
        [
            Op::SettleReply {
                how: Settle::Phoned { body, .. },
            },
        ] => {
            assert_eq!(body, "Сообщили по телефону: бригада выедет до 18:00")
        }
        other => panic!("{other:?}"),
    }
    // On a request with nothing undelivered, no editor opens.
    update(&mut a, key('G'));
    assert!(update(&mut a, key('P')).is_empty());
    assert!(matches!(a.mode, Mode::Normal));
    assert!(
        a.flash
            .as_ref()
            .is_some_and(|f| f.error && f.text.contains("недоставленного"))
    );
}

#[test]
fn unreachable_asks_first() {
    let mut a = queue(Lang::Ru);
    assert!(update(&mut a, key('U')).is_empty());
    assert!(matches!(&a.mode, Mode::Unreachable { targets } if targets == &[Uuid::from_u128(1)]));
    let s = screen(&render(&a, 80, 24));
    assert!(s.contains("Заявитель недоступен"), "{s}");
    insta::assert_snapshot!("unreachable_confirm_80x24", s);
    // Esc: nothing happens.
    assert!(update(&mut a, code(KeyCode::Esc)).is_empty());
    assert!(matches!(a.mode, Mode::Normal));
    update(&mut a, key('U'));
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert_eq!(
        ops(&cmds),
        [Op::SettleReply {
            how: Settle::Unreachable
        }]
    );
    // A read-only console refuses all three.
    let mut ro = queue(Lang::Ru);
    ro.readonly = true;
    for k in ['R', 'P', 'U'] {
        assert!(update(&mut ro, key(k)).is_empty());
        assert!(matches!(ro.mode, Mode::Normal));
    }
}

/// `R` on a real store: a new reply with the failed one's text, the old one superseded.
#[tokio::test]
async fn resend_sends_the_same_text_again_through_apply() {
    use crate::domain::Channel;
    use crate::domain::mutation::{Mutation, NewRequest};
    use crate::domain::request::ChannelRef;
    let (_dir, store) = super::temp_store().await;
    let id = Uuid::now_v7();
    let new = NewRequest {
        channel_ref: ChannelRef {
            chat: Some("42".into()),
            message: Some("1".into()),
        },
        ..NewRequest::new(Channel::Telegram, "Нет воды", now())
    };
    let first = Uuid::now_v7();
    for op in [
        Op::Create(Box::new(new)),
        Op::Reply {
            message_id: first,
            body: "Бригада выехала".into(),
        },
        Op::Delivery {
            message_id: first,
            state: DeliveryState::Failed,
        },
    ] {
        store
            .apply(Mutation::new(id, "anna", now(), op))
            .await
            .unwrap();
    }
    let again = Uuid::now_v7();
    let cmd = Cmd::Resend {
        target: id,
        actor: "anna".into(),
        message_id: again,
    };
    let msg = super::super::run_command(&store, cmd.clone()).await;
    assert!(matches!(&msg, Some(Msg::Applied(Some(t), Ok(_))) if *t == id));
    let d = store.detail(&id.to_string()).await.unwrap();
    assert!(!d.request.undelivered());
    assert_eq!(d.request.reply.as_ref().map(|p| p.message_id), Some(again));
    let sent = d.messages.iter().find(|m| m.id == again).unwrap();
    assert_eq!(sent.body, "Бригада выехала");
    // Nothing undelivered any more: a second resend is refused, in Russian.
    let msg = super::super::run_command(&store, cmd).await;
    assert!(
        matches!(&msg, Some(Msg::Applied(_, Err(e))) if e.contains("недоставленного")),
        "{:?}",
        msg.map(|_| ())
    );
}
