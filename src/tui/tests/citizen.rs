//! The citizen on the card: their phone, their other requests (three on the card, all in
//! `i`'s list), and `Enter` in the list showing the chosen one.

use chrono::Duration;
use crossterm::event::KeyCode;

use super::*;
use crate::store::Detail;
use crate::store::citizen::CitizenRequest;

fn with_history(lang: Lang, others: usize) -> App {
    let mut a = loaded(lang);
    a.rows[0].phone = Some("+79181112233".into());
    let request = a.rows[0].clone();
    let citizen_requests = (0..others)
        .map(|i| CitizenRequest {
            number: format!("2026-0000{:02}", 50 - i),
            received_at: now() - Duration::days(2 + i as i64),
            status: if i == 0 { "closed" } else { "in_work" }.into(),
            topic: Some("utilities".into()),
            channel: "telegram".into(),
        })
        .collect();
    update(
        &mut a,
        Msg::Detail(Box::new(Detail {
            citizen_requests,
            duplicates: (0..others).map(|i| format!("2026-0001{i:02}")).collect(),
            ..thread_of(request, vec![])
        })),
    );
    a
}

#[test]
fn the_card_shows_the_phone_and_the_citizens_other_requests() {
    let a = with_history(Lang::Ru, 5);
    let s = screen(&render(&a, 160, 48));
    for needle in [
        "+7 918 111-22-33",
        "Ещё обращения заявителя: 5 · i список",
        "2026-000050 · ",
        "2026-000048 · ",
        "Дубликаты (5): 2026-000100, 2026-000101",
    ] {
        assert!(s.contains(needle), "`{needle}` on screen:\n{s}");
    }
    // Three on the card; `i` has the rest.
    assert!(!s.contains("2026-000047"), "{s}");
    insta::assert_snapshot!("citizen_card_160x48", s);
    insta::assert_snapshot!("citizen_card_80x24", screen(&render(&a, 80, 24)));
    let en = screen(&render(&with_history(Lang::En, 1), 160, 48));
    assert!(
        en.contains("The citizen's other requests: 1 · i lists them"),
        "{en}"
    );
    // No other requests: no line at all.
    let alone = screen(&render(&with_history(Lang::Ru, 0), 160, 48));
    assert!(!alone.contains("Ещё обращения"), "{alone}");
}

#[test]
fn i_lists_them_and_enter_shows_the_chosen_one() {
    let mut a = with_history(Lang::Ru, 5);
    assert!(
        update(&mut a, key('ш')).is_empty(),
        "ш is i on the Russian layout"
    );
    let Mode::Picker(p) = &a.mode else {
        panic!("no picker")
    };
    assert_eq!(p.items.len(), 5);
    assert!(p.items[0].1.contains("закрыто"), "{:?}", p.items[0]);
    update(&mut a, code(KeyCode::Down));
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert_eq!(a.filter.number.as_deref(), Some("2026-000049"));
    assert!(cmds.iter().any(|c| matches!(c, Cmd::LoadPage { .. })));
    // None: said so, nothing opened.
    let mut alone = with_history(Lang::Ru, 0);
    assert!(update(&mut alone, key('i')).is_empty());
    assert!(matches!(alone.mode, Mode::Normal));
    assert!(alone.flash.as_ref().is_some_and(|f| f.text.contains("нет")));
    // Before the card is read: wait, nothing opened.
    let mut early = loaded(Lang::Ru);
    assert!(update(&mut early, key('i')).is_empty());
    assert!(matches!(early.mode, Mode::Normal));
}

/// Issue #19 item 5: an off-topic follow-up becomes a request of its own, in one batch.
#[test]
fn shift_n_splits_a_follow_up_into_a_new_request() {
    use crate::domain::request::{Direction, Message};
    let mut a = loaded(Lang::Ru);
    let request = a.rows[0].clone();
    let msg = |body: &str, direction: Direction, minutes: i64| Message {
        id: uuid::Uuid::now_v7(),
        request_id: request.id,
        direction,
        author: "Ольга".into(),
        body: body.into(),
        at: now() - Duration::minutes(minutes),
        delivery: None,
        edit_of: None,
    };
    let messages = vec![
        msg("Прорвало трубу во дворе", Direction::In, 90),
        msg("Обращение зарегистрировано", Direction::Out, 89),
        msg("И ещё: не вывозят мусор с площадки", Direction::In, 30),
    ];
    let off_topic = messages[2].id;
    update(
        &mut a,
        Msg::Detail(Box::new(thread_of(request.clone(), messages))),
    );
    update(&mut a, key('N'));
    let Mode::Picker(p) = &a.mode else {
        panic!("a picker of the citizen's messages")
    };
    // The citizen's messages only, newest first; the bot's are not offered.
    assert_eq!(p.items.len(), 2, "{:?}", p.items);
    assert_eq!(p.items[0].0, off_topic.to_string());
    insta::assert_snapshot!("split_picker_80x24", screen(&render(&a, 80, 24)));
    let cmds = update(&mut a, code(KeyCode::Enter));
    match ops(&cmds).as_slice() {
        [Op::Create(new), Op::SplitOff { message_id, .. }] => {
            assert_eq!(new.text, "И ещё: не вывозят мусор с площадки");
            assert_eq!(*message_id, off_topic);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        a.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("новое обращение"))
    );
}
