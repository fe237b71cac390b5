//! A merged thread on the card (#19 item 5): the requests merged into this one are listed,
//! their messages sit in the one thread under their own number, and `D` `Tab` merges.

use chrono::Duration;
use crossterm::event::KeyCode;
use uuid::Uuid;

use super::super::strings::Lang;
use super::super::update::{Msg, update};
use super::*;
use crate::domain::request::{DeliveryState, Direction, Message};
use crate::store::{Detail, MemberRef};

fn merged_card(lang: Lang) -> App {
    let mut a = loaded(lang);
    let request = a.rows[0].clone();
    let id = request.id;
    let other = Uuid::from_u128(77);
    let at = |m: i64| now() - Duration::minutes(m);
    let msg = |n: u128, request_id, direction, author: &str, body: &str, m, delivery| Message {
        id: Uuid::from_u128(n),
        request_id,
        direction,
        author: author.into(),
        body: body.into(),
        at: at(m),
        delivery,
        edit_of: None,
    };
    let detail = Detail {
        merged: vec![MemberRef {
            id: other,
            number: "2026-000077".into(),
            channel: "vk".into(),
            citizen: Some("Борис Петров".into()),
            status: "closed".into(),
            reply: None,
        }],
        ..thread_of(
            request,
            vec![
                msg(
                    1,
                    other,
                    Direction::In,
                    "Борис Петров",
                    "Нет горячей воды, Мира 5",
                    90,
                    None,
                ),
                msg(
                    2,
                    id,
                    Direction::Out,
                    "anna",
                    "Бригада выехала",
                    30,
                    Some(DeliveryState::Sent),
                ),
                msg(
                    3,
                    other,
                    Direction::Out,
                    "anna",
                    "Бригада выехала",
                    30,
                    Some(DeliveryState::Sent),
                ),
                msg(
                    4,
                    id,
                    Direction::In,
                    "Борис Петров · 2026-000077",
                    "А холодная тоже пропала",
                    10,
                    None,
                ),
            ],
        )
    };
    update(&mut a, Msg::Detail(Box::new(detail)));
    a
}

#[test]
fn the_card_lists_the_merged_requests_and_marks_their_messages() {
    let a = merged_card(Lang::Ru);
    let s = screen(&render(&a, 160, 48));
    for needle in [
        "Объединено: 2026-000077 (ВКонтакте)",
        "Борис Петров · 2026-000077: Нет горячей воды",
        "anna · 2026-000077 [доставлено]: Бригада выехала",
        "Борис Петров · 2026-000077: А холодная тоже пропала",
    ] {
        assert!(s.contains(needle), "`{needle}` on screen:\n{s}");
    }
    insta::assert_snapshot!("merged_card_160x48", s);
    insta::assert_snapshot!("merged_card_80x24", screen(&render(&a, 80, 24)));
    let en = screen(&render(&merged_card(Lang::En), 160, 48));
    assert!(en.contains("Merged: 2026-000077 (VK)"), "{en}");
}

#[test]
fn d_tab_merges_instead_of_linking() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('D'));
    update(&mut a, code(KeyCode::Tab));
    assert!(matches!(a.mode, Mode::LinkInput { merge: true, .. }));
    let s = screen(&render(&a, 80, 24));
    assert!(s.contains("объединить переписку с обращением"), "{s}");
    for c in "2026-000003".chars() {
        update(&mut a, key(c));
    }
    match &update(&mut a, code(KeyCode::Enter))[..] {
        [Cmd::LinkDuplicate { number, merge, .. }] => {
            assert_eq!(number, "2026-000003");
            assert!(merge, "Tab chose the merge");
        }
        other => panic!("{other:?}"),
    }
    // `Tab` again goes back to linking as a duplicate.
    update(&mut a, key('D'));
    update(&mut a, code(KeyCode::Tab));
    update(&mut a, code(KeyCode::BackTab));
    assert!(matches!(a.mode, Mode::LinkInput { merge: false, .. }));
}
