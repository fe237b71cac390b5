//! Saved views in the file (#19 item 4): one operator's are not another's, saving again keeps
//! a view's place, the team's copy is replaced whole, sharing and taking back move a view.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rusqlite::Connection;

use super::views::*;
use crate::domain::views::{MAX_VIEWS, SavedView, View, ViewError, ViewSort};

fn t(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap() + Duration::minutes(minute)
}

fn view(name: &str, filter: &str, minute: i64) -> SavedView {
    SavedView {
        name: name.into(),
        base: View::All,
        filter: filter.into(),
        sort: ViewSort::TimeLeft,
        shared_by: None,
        since: t(minute),
    }
}

fn file() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let conn = super::db::open(&dir.path().join("v.sqlite3")).unwrap();
    (dir, conn)
}

fn names(v: &[SavedView]) -> Vec<&str> {
    v.iter().map(|v| v.name.as_str()).collect()
}

#[test]
fn each_operator_has_their_own_and_saving_again_keeps_the_place() {
    let (_d, mut c) = file();
    let first = save(&mut c, "anna", &view(" ЖКХ  не передано ", "тема:жкх", 0))
        .unwrap()
        .unwrap();
    assert!(!first.replaced);
    assert_eq!(first.view.name, "ЖКХ не передано");
    save(&mut c, "anna", &view("мои просрочки", "@me", 1))
        .unwrap()
        .unwrap();
    save(&mut c, "boris", &view("чужой", "", 2))
        .unwrap()
        .unwrap();
    // Saved again under another case, later: the text changes, the place does not.
    let again = save(
        &mut c,
        "anna",
        &view("жкх не передано", "тема:жкх !closed", 5),
    )
    .unwrap()
    .unwrap();
    assert!(again.replaced);
    assert_eq!(again.view.since, t(0));
    let anna = list(&c, "anna").unwrap();
    assert_eq!(names(&anna.own), ["жкх не передано", "мои просрочки"]);
    assert_eq!(anna.own[0].filter, "тема:жкх !closed");
    assert!(anna.shared.is_empty());
    assert_eq!(names(&list(&c, "boris").unwrap().own), ["чужой"]);

    assert_eq!(
        delete(&mut c, "anna", "нет такого").unwrap(),
        Err(ViewError::Unknown("нет такого".into()))
    );
    // Not another's.
    assert!(delete(&mut c, "anna", "чужой").unwrap().is_err());
    let gone = delete(&mut c, "anna", "МОИ просрочки").unwrap().unwrap();
    assert_eq!(gone.filter, "@me");
    assert_eq!(names(&list(&c, "anna").unwrap().own), ["жкх не передано"]);
}

#[test]
fn a_bad_name_one_too_many_or_the_teams_name_is_refused() {
    let (_d, mut c) = file();
    assert!(matches!(
        save(&mut c, "anna", &view("8", "", 0)).unwrap(),
        Err(ViewError::Numeric(_))
    ));
    set_shared(&mut c, &[view("Дороги", "тема:дороги", 0)]).unwrap();
    assert_eq!(
        save(&mut c, "anna", &view("дороги", "", 0)).unwrap(),
        Err(ViewError::TeamHas("дороги".into()))
    );
    for i in 0..MAX_VIEWS {
        save(&mut c, "anna", &view(&format!("вид {i}"), "", i as i64))
            .unwrap()
            .unwrap();
    }
    assert_eq!(
        save(&mut c, "anna", &view("ещё один", "", 99)).unwrap(),
        Err(ViewError::TooMany)
    );
    // Saving one of them again is no new view.
    assert!(
        save(&mut c, "anna", &view("вид 3", "#срочно", 99))
            .unwrap()
            .is_ok()
    );
}

#[test]
fn the_teams_copy_is_replaced_whole_and_sharing_moves_a_view() {
    let (_d, mut c) = file();
    set_shared(
        &mut c,
        &[view("старый", "", 0), view("Дороги", "тема:дороги", 1)],
    )
    .unwrap();
    set_shared(&mut c, &[view("Дороги", "тема:дороги", 1)]).unwrap();
    assert_eq!(names(&list(&c, "anna").unwrap().shared), ["Дороги"]);

    // A lead's view goes to the team: it is the team's now, not theirs twice.
    save(&mut c, "boris", &view("ЖКХ", "тема:жкх", 2))
        .unwrap()
        .unwrap();
    let mut taken = view("ЖКХ", "тема:жкх", 3);
    taken.shared_by = Some("boris".into());
    shared(&mut c, "boris", &taken).unwrap();
    let boris = list(&c, "boris").unwrap();
    assert!(boris.own.is_empty());
    assert_eq!(names(&boris.shared), ["Дороги", "ЖКХ"]);
    assert_eq!(boris.shared[1].shared_by.as_deref(), Some("boris"));

    // Taken back: the lead keeps it as their newest own, nobody else sees it.
    let after = unshared(&mut c, "boris", "жкх", t(10)).unwrap();
    assert_eq!(names(&after.shared), ["Дороги"]);
    assert_eq!(names(&after.own), ["ЖКХ"]);
    assert_eq!(after.own[0].shared_by, None);
    assert_eq!(after.own[0].since, t(10));
    assert!(list(&c, "anna").unwrap().own.is_empty());
}

#[test]
fn a_view_that_does_not_read_is_left_out() {
    let (_d, mut c) = file();
    save(&mut c, "anna", &view("ЖКХ", "тема:жкх", 0))
        .unwrap()
        .unwrap();
    // A newer program's base view this one does not know.
    c.execute(
        "INSERT INTO saved_view(shared, owner, key, since, doc) VALUES
         (0, 'anna', 'будущий', 0, '{\"name\":\"будущий\",\"base\":\"future\",\"since\":\"2026-11-30T09:00:00Z\"}')",
        [],
    )
    .unwrap();
    assert_eq!(names(&list(&c, "anna").unwrap().own), ["ЖКХ"]);
}
