//! Issue #19 item 4: saved views in the console — `V` saves what is on screen under a name,
//! `8`/`9` and the `0` list switch by number after the built-in views, a view that no longer
//! reads opens its filter to be fixed, and in team mode a lead shares views the others then
//! see marked `◆`.

use chrono::Duration;
use crossterm::event::KeyCode;

use super::super::app::{Mode, View};
use super::super::saved::{Done, Work};
use super::super::strings::Lang;
use super::super::team::Team;
use super::super::update::{Cmd, Msg, update};
use super::{answer, code, key, loaded, now, render, request, screen, temp_store};
use crate::domain::views::{SavedView, ViewSort};
use crate::store::Sort;
use crate::store::views::Views;
use crate::sync::team::{Ask, News};
use crate::wire::team::{StaffMember, TeamStatus};

fn saved(name: &str, filter: &str, minute: i64) -> SavedView {
    SavedView {
        name: name.into(),
        base: View::All,
        filter: filter.into(),
        sort: ViewSort::TimeLeft,
        shared_by: None,
        since: now() - Duration::days(1) + Duration::minutes(minute),
    }
}

fn shared(name: &str, filter: &str) -> SavedView {
    SavedView {
        shared_by: Some("boris".into()),
        ..saved(name, filter, 0)
    }
}

/// The store's answer with these views.
fn with(a: &mut super::App, own: Vec<SavedView>, shared: Vec<SavedView>, done: Done) -> Vec<Cmd> {
    update(a, Msg::Views(Ok((Views { own, shared }, done))))
}

fn typed(a: &mut super::App, text: &str) {
    for c in text.chars() {
        update(a, key(c));
    }
}

fn loads_page(cmds: &[Cmd]) -> bool {
    cmds.iter().any(|c| matches!(c, Cmd::LoadPage { .. }))
}

fn flash(a: &super::App) -> String {
    a.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default()
}

#[test]
fn v_saves_the_filter_and_sort_on_screen_under_a_name() {
    let mut a = loaded(Lang::Ru);
    update(&mut a, key('2'));
    update(&mut a, key('/'));
    typed(&mut a, "тема:жкх");
    update(&mut a, code(KeyCode::Enter));
    answer(
        &mut a,
        vec![request(
            1,
            "Прорвало трубу во дворе, вода заливает подвал",
            30,
        )],
    );
    update(&mut a, key('V'));
    assert!(matches!(&a.mode, Mode::SaveView { input } if input.is_empty()));
    typed(&mut a, "ЖКХ не передано");
    insta::assert_snapshot!("saved_views_save_80x24", screen(&render(&a, 80, 24)));
    let cmds = update(&mut a, code(KeyCode::Enter));
    let [Cmd::Views(Work::Save { owner, view })] = &cmds[..] else {
        panic!("{cmds:?}")
    };
    assert_eq!(owner, "anna");
    assert_eq!(
        (
            view.name.as_str(),
            view.base,
            view.filter.as_str(),
            view.sort
        ),
        ("ЖКХ не передано", View::New, "тема:жкх", ViewSort::TimeLeft)
    );
    assert!(matches!(a.mode, Mode::Normal));
    // The store kept it: said with its number, and it is the view on screen now.
    let kept = view.clone();
    with(
        &mut a,
        vec![kept],
        vec![],
        Done::Saved {
            name: "ЖКХ не передано".into(),
            replaced: false,
        },
    );
    assert_eq!(flash(&a), "вид «ЖКХ не передано» сохранён: 8");
    let s = screen(&render(&a, 160, 48));
    assert!(
        s.contains(" 2:Новые ") && s.contains(" 8:ЖКХ не передано "),
        "{s}"
    );
    insta::assert_snapshot!("saved_views_tab_160x48", s);
    insta::assert_snapshot!("saved_views_tab_80x24", screen(&render(&a, 80, 24)));
}

#[test]
fn a_name_that_would_be_ambiguous_is_refused_in_the_window() {
    let mut a = loaded(Lang::Ru);
    with(
        &mut a,
        vec![],
        vec![shared("Дороги", "тема:дороги")],
        Done::Loaded,
    );
    for (name, why) in [
        ("", "название"),
        ("8", "число"),
        ("мои", "встроенного"),
        ("All", "встроенного"),
        ("дороги", "у команды уже есть"),
    ] {
        update(&mut a, key('V'));
        typed(&mut a, name);
        let cmds = update(&mut a, code(KeyCode::Enter));
        assert!(cmds.is_empty(), "{name}: {cmds:?}");
        assert!(flash(&a).contains(why), "{name}: {}", flash(&a));
        assert!(
            matches!(a.mode, Mode::SaveView { .. }),
            "the window stays to fix it"
        );
        update(&mut a, code(KeyCode::Esc));
    }
    // The store's own refusal (one too many) is said the same way.
    with(
        &mut a,
        vec![],
        vec![],
        Done::Refused(crate::domain::views::ViewError::TooMany),
    );
    assert!(flash(&a).contains("удалите"), "{}", flash(&a));
}

#[test]
fn eight_and_nine_switch_to_the_saved_views_after_the_built_in_ones() {
    let mut a = loaded(Lang::Ru);
    let mut late = saved("Поступившие за смену", "@me", 2);
    late.sort = ViewSort::Received;
    late.base = View::Mine;
    with(
        &mut a,
        vec![saved("ЖКХ", "тема:жкх !closed", 1), late],
        vec![],
        Done::Loaded,
    );
    let cmds = update(&mut a, key('8'));
    assert!(loads_page(&cmds));
    assert_eq!(a.view, View::All);
    assert_eq!(a.filter_line, "тема:жкх !closed");
    assert_eq!(a.filter.topic.as_deref(), Some("utilities"));
    assert!(a.filter.open_only && a.filter.fold_incidents);
    assert_eq!(a.saved.active.as_deref(), Some("ЖКХ"));
    let cmds = update(&mut a, key('9'));
    assert!(loads_page(&cmds));
    assert_eq!((a.view, a.sort), (View::Mine, Sort::Received));
    // A built-in view's key leaves the saved one.
    update(&mut a, key('6'));
    assert_eq!(
        (a.saved.active.as_deref(), a.filter_line.as_str()),
        (None, "")
    );
    // No third: nothing to switch to, said how to get one.
    with(&mut a, vec![saved("ЖКХ", "", 1)], vec![], Done::Loaded);
    let cmds = update(&mut a, key('9'));
    assert!(cmds.is_empty());
    assert!(flash(&a).contains("нет вида 9"), "{}", flash(&a));
}

#[test]
fn a_changed_view_is_marked_and_saved_again_under_its_name() {
    let mut a = loaded(Lang::Ru);
    with(
        &mut a,
        vec![saved("ЖКХ", "тема:жкх", 1)],
        vec![],
        Done::Loaded,
    );
    update(&mut a, key('8'));
    assert!(screen(&render(&a, 160, 48)).contains(" 8:ЖКХ "));
    update(&mut a, key('s'));
    assert!(
        screen(&render(&a, 160, 48)).contains(" 8:ЖКХ* "),
        "the sort changed"
    );
    update(&mut a, key('V'));
    assert!(matches!(&a.mode, Mode::SaveView { input } if input == "ЖКХ"));
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert!(
        matches!(&cmds[..], [Cmd::Views(Work::Save { view, .. })] if view.sort == ViewSort::Received)
    );
    let mut kept = saved("ЖКХ", "тема:жкх", 1);
    kept.sort = ViewSort::Received;
    with(
        &mut a,
        vec![kept],
        vec![],
        Done::Saved {
            name: "ЖКХ".into(),
            replaced: true,
        },
    );
    assert_eq!(flash(&a), "вид «ЖКХ» обновлён: 8");
    assert!(screen(&render(&a, 160, 48)).contains(" 8:ЖКХ "));
}

#[test]
fn a_view_the_catalog_no_longer_reads_opens_its_filter_to_fix() {
    let mut a = loaded(Lang::Ru);
    with(
        &mut a,
        vec![saved("Космос", "тема:космос #срочно", 1)],
        vec![],
        Done::Loaded,
    );
    let cmds = update(&mut a, key('8'));
    // The base view is listed meanwhile, never a wrong filter.
    assert!(loads_page(&cmds));
    assert_eq!(a.filter, View::All.filter("anna", a.now, a.tz));
    assert!(matches!(&a.mode, Mode::Filter { input } if input == "тема:космос #срочно"));
    assert!(
        flash(&a).contains("неизвестная тема `космос`"),
        "{}",
        flash(&a)
    );
    // Fixed and saved again.
    update(
        &mut a,
        Msg::Key(crossterm::event::KeyEvent::new(
            KeyCode::Char('u'),
            crossterm::event::KeyModifiers::CONTROL,
        )),
    );
    typed(&mut a, "тема:жкх #срочно");
    update(&mut a, code(KeyCode::Enter));
    assert_eq!(a.filter.topic.as_deref(), Some("utilities"));
    update(&mut a, key('V'));
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert!(
        matches!(&cmds[..], [Cmd::Views(Work::Save { view, .. })] if view.name == "Космос" && view.filter == "тема:жкх #срочно")
    );
}

#[test]
fn the_list_switches_by_number_and_deletes_on_a_second_x() {
    let mut a = loaded(Lang::Ru);
    let own = vec![
        saved("ЖКХ не передано", "тема:жкх статус:новое", 1),
        saved("Космос", "тема:космос", 2),
    ];
    with(
        &mut a,
        own,
        vec![shared("ответы департаментов просрочены", "статус:ждёт")],
        Done::Loaded,
    );
    update(&mut a, key('0'));
    assert!(
        matches!(&a.mode, Mode::Views(p) if p.selected == 5),
        "on the view shown: Все"
    );
    insta::assert_snapshot!("saved_views_list_80x24", screen(&render(&a, 80, 24)));
    insta::assert_snapshot!("saved_views_list_160x48", screen(&render(&a, 160, 48)));
    // A typed number, Enter.
    update(&mut a, key('9'));
    let cmds = update(&mut a, code(KeyCode::Enter));
    assert!(loads_page(&cmds));
    assert_eq!(a.saved.active.as_deref(), Some("ЖКХ не передано"));
    assert!(matches!(a.mode, Mode::Normal));
    // Built-in views stay; one's own goes on the second x.
    update(&mut a, key('0'));
    update(&mut a, code(KeyCode::Home));
    assert!(update(&mut a, key('x')).is_empty());
    assert!(flash(&a).contains("встроенные"), "{}", flash(&a));
    update(&mut a, code(KeyCode::End));
    assert!(update(&mut a, key('x')).is_empty());
    let s = screen(&render(&a, 80, 24));
    assert!(s.contains("x ещё раз — удалить «Космос»"), "{s}");
    let cmds = update(&mut a, key('ч'));
    assert_eq!(
        cmds,
        [Cmd::Views(Work::Delete {
            owner: "anna".into(),
            name: "Космос".into()
        })]
    );
    // Not the team's, when alone.
    update(&mut a, code(KeyCode::Home));
    for _ in 0..7 {
        update(&mut a, key('j'));
    }
    assert!(update(&mut a, key('x')).is_empty());
    assert!(flash(&a).contains("командном режиме"), "{}", flash(&a));
    let left = vec![saved("ЖКХ не передано", "", 1)];
    with(&mut a, left, vec![], Done::Deleted("Космос".into()));
    assert_eq!(flash(&a), "вид «Космос» удалён");
    update(&mut a, code(KeyCode::Esc));
    assert!(matches!(a.mode, Mode::Normal));
}

fn member(user: &str, lead: bool) -> StaffMember {
    StaffMember {
        user: user.into(),
        lead,
        on_shift: true,
        marked_by: None,
        marked_at: None,
    }
}

fn status(views: Vec<SavedView>) -> Msg {
    Msg::Team(News::Status(TeamStatus {
        channels: vec![],
        staff: vec![member("anna", false), member("boris", true)],
        views,
        me: None,
    }))
}

fn team(me: &str, views: Vec<SavedView>) -> (super::App, Vec<Cmd>) {
    let mut a = loaded(Lang::Ru);
    a.me = me.into();
    a.team = Some(Team::default());
    let cmds = update(&mut a, status(views));
    (a, cmds)
}

#[test]
fn a_lead_shares_a_view_and_every_console_shows_it_marked() {
    // An operator's console hears of the team's view: shown, and kept for the next start.
    let (mut a, cmds) = team("anna", vec![shared("Дороги", "тема:дороги")]);
    assert_eq!(
        cmds,
        [Cmd::Views(Work::Cache {
            owner: "anna".into(),
            shared: vec![shared("Дороги", "тема:дороги")]
        })]
    );
    assert!(screen(&render(&a, 160, 48)).contains(" 8:◆Дороги "));
    // The same list again changes nothing.
    let again = update(&mut a, status(vec![shared("Дороги", "тема:дороги")]));
    assert!(again.is_empty());
    // An operator neither shares nor takes the team's back.
    with(
        &mut a,
        vec![saved("Моё", "@me", 1)],
        vec![shared("Дороги", "тема:дороги")],
        Done::Loaded,
    );
    update(&mut a, key('0'));
    update(&mut a, key('8'));
    assert!(update(&mut a, key('x')).is_empty());
    assert!(flash(&a).contains("только старший смены"), "{}", flash(&a));
    update(&mut a, code(KeyCode::Down));
    assert!(update(&mut a, key('s')).is_empty());
    assert!(flash(&a).contains("только старший смены"), "{}", flash(&a));

    // The lead shares theirs: it goes to the server, and moves once the server has it.
    let (mut b, _) = team("boris", vec![]);
    with(
        &mut b,
        vec![saved("ЖКХ", "тема:жкх", 1)],
        vec![],
        Done::Loaded,
    );
    update(&mut b, key('0'));
    update(&mut b, key('8'));
    let cmds = update(&mut b, key('s'));
    assert_eq!(cmds, [Cmd::Team(Ask::Share(saved("ЖКХ", "тема:жкх", 1)))]);
    let mut kept = saved("ЖКХ", "тема:жкх", 1);
    kept.shared_by = Some("boris".into());
    let cmds = update(&mut b, Msg::Team(News::Shared(kept.clone())));
    assert_eq!(
        cmds,
        [Cmd::Views(Work::Shared {
            owner: "boris".into(),
            view: kept.clone()
        })]
    );
    with(&mut b, vec![], vec![kept], Done::Shared("ЖКХ".into()));
    assert_eq!(flash(&b), "вид «ЖКХ» теперь у всей команды: 8");
    // And takes it back, on a second x.
    update(&mut b, code(KeyCode::Esc));
    update(&mut b, key('0'));
    update(&mut b, key('8'));
    assert!(update(&mut b, key('x')).is_empty());
    assert!(screen(&render(&b, 80, 24)).contains("x ещё раз — убрать «ЖКХ» из общих"));
    assert_eq!(
        update(&mut b, key('x')),
        [Cmd::Team(Ask::Unshare("ЖКХ".into()))]
    );
    let cmds = update(&mut b, Msg::Team(News::Unshared("ЖКХ".into())));
    assert_eq!(
        cmds,
        [Cmd::Views(Work::Unshared {
            owner: "boris".into(),
            name: "ЖКХ".into()
        })]
    );
    // The server's refusal, in words.
    update(
        &mut b,
        Msg::Team(News::ViewRefused {
            name: "ЖКХ".into(),
            code: "forbidden".into(),
            message: "only a shift lead shares views".into(),
        }),
    );
    assert_eq!(
        flash(&b),
        "делиться видами с командой может только старший смены"
    );
}

#[test]
fn a_console_alone_says_sharing_needs_the_server() {
    let mut a = loaded(Lang::En);
    with(
        &mut a,
        vec![saved("Roads", "topic:roads", 1)],
        vec![],
        Done::Loaded,
    );
    update(&mut a, key('0'));
    update(&mut a, key('8'));
    assert!(update(&mut a, key('s')).is_empty());
    assert!(flash(&a).contains("team mode"), "{}", flash(&a));
    insta::assert_snapshot!("saved_views_list_en_80x24", screen(&render(&a, 80, 24)));
}

/// The commands run against a real store: saved, listed, the team's copy, deleted.
#[tokio::test]
async fn the_store_keeps_what_the_console_saves() {
    let (_dir, store) = temp_store().await;
    let run = |w: Work| super::super::saved::run(&store, w);
    let (v, done) = run(Work::Save {
        owner: "anna".into(),
        view: saved(" ЖКХ ", "тема:жкх", 1),
    })
    .await
    .unwrap();
    assert_eq!(
        done,
        Done::Saved {
            name: "ЖКХ".into(),
            replaced: false
        }
    );
    assert_eq!(v.own.len(), 1);
    let (v, _) = run(Work::Cache {
        owner: "anna".into(),
        shared: vec![shared("Дороги", "")],
    })
    .await
    .unwrap();
    assert_eq!((v.own.len(), v.shared.len()), (1, 1));
    let (_, done) = run(Work::Save {
        owner: "anna".into(),
        view: saved("дороги", "", 2),
    })
    .await
    .unwrap();
    assert!(matches!(done, Done::Refused(_)), "{done:?}");
    let (v, done) = run(Work::Delete {
        owner: "anna".into(),
        name: "жкх".into(),
    })
    .await
    .unwrap();
    assert_eq!(done, Done::Deleted("ЖКХ".into()));
    assert!(v.own.is_empty());
    let (v, _) = run(Work::Load {
        owner: "anna".into(),
    })
    .await
    .unwrap();
    assert_eq!(v.shared[0].name, "Дороги");
}
