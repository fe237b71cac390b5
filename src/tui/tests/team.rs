//! Issue #15 item 7: in team mode every console shows the server's channels (the status bar,
//! `!`), and a shift lead marks operators on and off shift (`S`), those on shift offered first
//! when assigning.

use chrono::Duration;
use crossterm::event::KeyCode;

use super::super::app::Mode;
use super::super::strings::Lang;
use super::super::team::Team;
use super::super::update::{Cmd, Msg, update};
use super::{code, key, loaded, now, render, screen};
use crate::domain::Channel;
use crate::sync::team::News;
use crate::wire::team::{ChannelHealth, StaffMember, TeamStatus};

fn member(user: &str, lead: bool, on_shift: bool) -> StaffMember {
    StaffMember {
        user: user.into(),
        lead,
        on_shift,
        marked_by: (!on_shift).then(|| "boris".into()),
        marked_at: (!on_shift).then(now),
    }
}

fn status() -> TeamStatus {
    let mut tg = ChannelHealth::new(Channel::Telegram);
    tg.up = true;
    tg.account = Some("@mcu_bot".into());
    tg.since = Some(now() - Duration::hours(2));
    tg.sent = 12;
    tg.failed = 1;
    tg.last_problem = Some((
        now() - Duration::minutes(5),
        "403 Forbidden: bot was blocked by the user".into(),
    ));
    let vk = ChannelHealth::new(Channel::Vk);
    TeamStatus {
        channels: vec![tg, vk],
        staff: vec![
            member("anna", false, true),
            member("boris", true, true),
            member("ivan", false, false),
        ],
        views: vec![],
        me: None,
    }
}

/// A team console (`me` is anna, or boris the lead) that heard from the server.
fn team(lang: Lang, me: &str) -> super::App {
    let mut a = loaded(lang);
    a.me = me.into();
    a.team = Some(Team::default());
    update(&mut a, Msg::Team(News::Status(status())));
    a
}

#[test]
fn the_status_bar_and_alarms_show_the_servers_channels() {
    let mut a = team(Lang::Ru, "anna");
    let s = screen(&render(&a, 160, 48));
    assert!(s.contains("TG ✓") && s.contains("VK ✗"), "{s}");
    update(&mut a, key('!'));
    let s = screen(&render(&a, 160, 48));
    assert!(s.contains("Каналы работают на сервере"), "{s}");
    assert!(
        s.contains("@mcu_bot") && s.contains("bot was blocked"),
        "{s}"
    );
    assert!(!s.contains("Шлюз не запущен"), "{s}");
    insta::assert_snapshot!("team_alarms_80x24", screen(&render(&a, 80, 24)));
    // The server lost: the badges say they can't vouch, `!` says why.
    update(&mut a, code(KeyCode::Esc));
    update(&mut a, Msg::Team(News::Lost("connection refused".into())));
    let s = screen(&render(&a, 160, 48));
    assert!(s.contains("TG ?") && !s.contains("TG ✓"), "{s}");
    // Back: as before.
    update(&mut a, Msg::Team(News::Status(status())));
    assert!(screen(&render(&a, 160, 48)).contains("TG ✓"));
}

#[test]
fn a_team_console_before_the_server_answers_says_so() {
    let mut a = loaded(Lang::Ru);
    a.team = Some(Team::default());
    update(&mut a, key('!'));
    let s = screen(&render(&a, 160, 48));
    assert!(s.contains("Сервер ещё не сообщил о каналах"), "{s}");
    assert!(!s.contains("Шлюз не запущен"), "{s}");
    // A server that works no channel says that, not "not running in this console".
    update(&mut a, Msg::Team(News::Status(TeamStatus::default())));
    let s = screen(&render(&a, 160, 48));
    assert!(s.contains("Сервер не работает ни с одним каналом"), "{s}");
}

#[test]
fn a_lead_marks_an_operator_off_shift_and_the_list_follows_the_server() {
    let mut a = team(Lang::Ru, "boris");
    update(&mut a, key('S'));
    assert!(
        matches!(a.mode, Mode::Shift { selected: 1 }),
        "the cursor on me"
    );
    insta::assert_snapshot!("team_shift_80x24", screen(&render(&a, 80, 24)));
    update(&mut a, key('k'));
    let cmds = update(&mut a, key(' '));
    assert_eq!(
        cmds,
        [Cmd::MarkShift {
            user: "anna".into(),
            on_shift: false
        }]
    );
    // Nothing changes until the server has it.
    assert!(a.team.as_ref().unwrap().staff[0].on_shift);
    let mut marked = member("anna", false, false);
    marked.marked_by = Some("boris".into());
    update(&mut a, Msg::Team(News::Marked(marked)));
    assert_eq!(a.team.as_ref().unwrap().on_shift("anna"), Some(false));
    assert!(a.flash.as_ref().unwrap().text.contains("anna: не на смене"));
    let s = screen(&render(&a, 120, 30));
    assert!(
        s.contains("○ anna") && s.contains("отметил(а) boris"),
        "{s}"
    );
    assert!(matches!(a.mode, Mode::Shift { .. }), "the list stays open");
    // The Russian layout: shifted Ы is shifted S.
    update(&mut a, code(KeyCode::Esc));
    update(&mut a, key('Ы'));
    assert!(matches!(a.mode, Mode::Shift { .. }));
}

#[test]
fn an_operator_marks_only_themself_and_a_refusal_is_said() {
    let mut a = team(Lang::Ru, "anna");
    update(&mut a, key('S'));
    update(&mut a, key('j'));
    // boris: not anna's to mark; nothing is sent.
    let cmds = update(&mut a, key(' '));
    assert!(cmds.is_empty());
    assert!(
        a.flash.as_ref().unwrap().text.contains("старший смены"),
        "{:?}",
        a.flash
    );
    update(&mut a, key('k'));
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert_eq!(
        cmds,
        [Cmd::MarkShift {
            user: "anna".into(),
            on_shift: false
        }]
    );
    update(
        &mut a,
        Msg::Team(News::Refused {
            user: "anna".into(),
            code: "unavailable".into(),
            message: "connection refused".into(),
        }),
    );
    let f = a.flash.as_ref().unwrap();
    assert!(
        f.error && f.text.contains("отметка anna не сохранена"),
        "{f:?}"
    );
}

#[test]
fn assigning_offers_those_on_shift_first() {
    let mut a = team(Lang::Ru, "boris");
    update(&mut a, key('A'));
    let Mode::Picker(p) = &a.mode else {
        panic!("a picker opens");
    };
    let labels: Vec<&str> = p.items.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(
        labels,
        ["— никому —", "anna", "boris", "ivan · не на смене"]
    );
    let values: Vec<&str> = p.items.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(values[3], "ivan", "the label is not the name");
}

#[test]
fn the_dashboard_marks_who_left_the_shift_with_requests() {
    let mut a = team(Lang::Ru, "boris");
    update(&mut a, key('b'));
    let mut board = crate::store::dashboard::Board {
        dashboard: crate::domain::dashboard::compute(
            &[],
            &Default::default(),
            now(),
            chrono_tz::Europe::Moscow,
            5,
        ),
        ids: Default::default(),
        facts: 0,
        incidents: vec![],
    };
    for (name, claimed) in [("anna", 1), ("ivan", 3)] {
        board
            .dashboard
            .operators
            .push(crate::domain::dashboard::OperatorLoad {
                name: name.into(),
                claimed,
                replied_today: 0,
                median_first_response: None,
            });
    }
    update(&mut a, Msg::Dashboard(Ok(Box::new(board))));
    let s = screen(&render(&a, 160, 48));
    assert!(s.contains("○ ivan") && !s.contains("○ anna"), "{s}");
}
