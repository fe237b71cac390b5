//! Presence on screen: who else has a card open or writes a reply, in the inbox, the card and
//! the composer; and where this console tells the others it is.

use crossterm::event::KeyCode;
use uuid::Uuid;

use super::super::strings::Lang;
use super::super::update::{Msg, update};
use super::{code, key, loaded, render, screen};
use crate::sync::presence::Here;
use crate::wire::presence::{Activity, Presence};

fn on(request: u128, user: &str, activity: Activity) -> Presence {
    Presence {
        request_id: Uuid::from_u128(request),
        user: user.into(),
        activity,
    }
}

/// Петров looks at 1 and Сидорова writes a reply to it; Иванова looks at 3, Орлов and
/// Козлова both write to 4.
fn others() -> Vec<Presence> {
    vec![
        on(1, "Петров", Activity::Viewing),
        on(1, "Сидорова", Activity::Composing),
        on(3, "Иванова", Activity::Viewing),
        on(4, "Орлов", Activity::Composing),
        on(4, "Козлова", Activity::Composing),
    ]
}

fn with_others(lang: Lang) -> super::App {
    let mut a = loaded(lang);
    let cmds = update(&mut a, Msg::Presence(others()));
    assert!(cmds.is_empty(), "presence is drawn, nothing is loaded");
    a
}

#[test]
fn a_snapshot_replaces_the_last_and_an_empty_one_clears() {
    let mut a = with_others(Lang::Ru);
    assert_eq!(a.presence, others());
    assert_eq!(
        a.others_on(Uuid::from_u128(1)),
        (vec!["Петров"], vec!["Сидорова"])
    );
    assert_eq!(
        a.others_on(Uuid::from_u128(4)),
        (vec![], vec!["Орлов", "Козлова"])
    );
    assert_eq!(a.others_on(Uuid::from_u128(2)), (vec![], vec![]));
    // The stream lost: nobody is shown rather than whoever was there before.
    assert!(update(&mut a, Msg::Presence(vec![])).is_empty());
    assert!(a.presence.is_empty());
}

#[test]
fn here_is_the_card_on_screen_and_composing_only_in_the_reply_composer() {
    let mut a = loaded(Lang::Ru);
    let at = |n: u128, composing| Here {
        request_id: Some(Uuid::from_u128(n)),
        composing,
    };
    assert_eq!(a.here(), at(1, false));
    update(&mut a, key('j'));
    assert_eq!(a.here(), at(2, false));
    // The card hidden: the operator is scanning the list, not on a request.
    update(&mut a, code(KeyCode::Enter));
    assert_eq!(a.here(), Here::default());
    update(&mut a, code(KeyCode::Enter));
    update(&mut a, key('r'));
    assert_eq!(a.here(), at(2, true));
    update(&mut a, code(KeyCode::Esc));
    assert_eq!(a.here(), at(2, false));
    // A note or the department's answer reaches no citizen: looking, not replying.
    update(&mut a, key('n'));
    assert_eq!(a.here(), at(2, false));
    update(&mut a, code(KeyCode::Esc));
    update(&mut a, key('t'));
    assert_eq!(a.here(), at(2, false));
}

#[test]
fn inbox_and_card_with_others_at_80x24() {
    let a = with_others(Lang::Ru);
    let s = screen(&render(&a, 80, 24));
    assert!(
        s.contains("◉ Смотрит: Петров · ✎ Пишет ответ: Сидорова"),
        "{s}"
    );
    insta::assert_snapshot!(s);
}

#[test]
fn inbox_and_card_with_others_at_160x48_in_english() {
    let mut a = with_others(Lang::En);
    update(&mut a, key('G'));
    let s = screen(&render(&a, 160, 48));
    assert!(s.contains("✎ Replying: Орлов, Козлова"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn the_reply_composer_warns_of_another_reply() {
    let mut a = with_others(Lang::Ru);
    update(&mut a, key('r'));
    let s = screen(&render(&a, 80, 24));
    assert!(s.contains("⚠ Сидорова уже пишет ответ"), "{s}");
    insta::assert_snapshot!("reply_composer_warns_80x24", s);
    // Two at once, in English, on the wide screen.
    let mut a = with_others(Lang::En);
    update(&mut a, key('G'));
    update(&mut a, key('r'));
    let s = screen(&render(&a, 160, 48));
    assert!(
        s.contains("⚠ Орлов, Козлова are already writing a reply"),
        "{s}"
    );
    insta::assert_snapshot!("reply_composer_warns_160x48", s);
    // Nobody else writes to request 2: no warning.
    let mut a = with_others(Lang::Ru);
    update(&mut a, key('j'));
    update(&mut a, key('r'));
    assert!(!screen(&render(&a, 80, 24)).contains("уже пишет"));
}
