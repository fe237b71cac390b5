//! The saved views' rules (#19 item 4): which names may be kept, how views number after the
//! built-ins, and how a typed name or number finds one.

use chrono::{TimeZone, Utc};

use super::views::*;

fn view(name: &str, minute: u32) -> SavedView {
    SavedView {
        name: name.into(),
        base: View::All,
        filter: "тема:жкх".into(),
        sort: ViewSort::TimeLeft,
        shared_by: None,
        since: Utc.with_ymd_and_hms(2026, 11, 30, 9, minute, 0).unwrap(),
    }
}

fn labels(v: View) -> Vec<&'static str> {
    match v {
        View::Mine => vec!["Мои", "Mine"],
        View::All => vec!["Все", "All"],
        _ => vec![],
    }
}

#[test]
fn names_are_cleaned_and_bounded() {
    let kept = check(&view("  ЖКХ   не передано ", 0), &["Мои"]).unwrap();
    assert_eq!(kept.name, "ЖКХ не передано");
    let mut spaced = view("x", 0);
    spaced.filter = "  тема:жкх    !closed ".into();
    assert_eq!(check(&spaced, &[]).unwrap().filter, "тема:жкх !closed");
    assert_eq!(check(&view("   ", 0), &[]), Err(ViewError::NoName));
    assert_eq!(
        check(&view(&"я".repeat(MAX_NAME + 1), 0), &[]),
        Err(ViewError::LongName)
    );
    assert!(check(&view(&"я".repeat(MAX_NAME), 0), &[]).is_ok());
    assert_eq!(check(&view("a\nb", 0), &[]), Err(ViewError::Control));
    let mut long = view("x", 0);
    long.filter = "a".repeat(MAX_FILTER + 1);
    assert_eq!(check(&long, &[]), Err(ViewError::LongFilter));
    long.filter = "тема:жкх\u{1b}[2J".into();
    assert_eq!(check(&long, &[]), Err(ViewError::LongFilter));
}

#[test]
fn a_name_is_never_a_number_nor_a_built_in_view() {
    // A number is what switches views: «8» as a name would hide view 8.
    assert!(matches!(
        check(&view("8", 0), &[]),
        Err(ViewError::Numeric(_))
    ));
    assert!(matches!(
        check(&view("№12", 0), &[]),
        Err(ViewError::Numeric(_))
    ));
    assert!(check(&view("8 марта", 0), &[]).is_ok());
    for taken in ["мои", "MINE", "at_risk", "closed-today"] {
        assert!(
            matches!(
                check(&view(taken, 0), &["Мои", "Mine"]),
                Err(ViewError::BuiltIn(_))
            ),
            "{taken}"
        );
    }
    // Every refusal has Russian words for the console.
    assert!(ViewError::TooMany.ru().contains("удалите"));
}

#[test]
fn saved_views_number_after_the_built_ins_the_teams_first() {
    let own = sorted(vec![view("мои просрочки", 5), view("ЖКХ не передано", 1)]);
    let shared = vec![view("ответы департаментов просрочены", 3)];
    let n = numbered(&shared, &own);
    let listed: Vec<(usize, Origin, &str)> = n
        .iter()
        .map(|s| (s.number, s.origin, s.view.name.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            (8, Origin::Shared, "ответы департаментов просрочены"),
            (9, Origin::Own, "ЖКХ не передано"),
            (10, Origin::Own, "мои просрочки"),
        ]
    );
    // A view saved later takes the next number; the others keep theirs.
    let more = sorted(vec![own[0].clone(), own[1].clone(), view("а новый", 9)]);
    assert_eq!(numbered(&shared, &more)[2].number, 10);
    assert_eq!(numbered(&shared, &more)[3].view.name, "а новый");
}

#[test]
fn a_view_is_found_by_number_name_or_built_in_name() {
    let own = vec![view("ЖКХ не передано", 1), view("общий", 2)];
    let mut team = view("общий", 0);
    team.shared_by = Some("boris".into());
    let shared = vec![team];
    let n = numbered(&shared, &own);
    let saved = |typed: &str| match find(typed, &n, labels) {
        Some(Found::Saved(s)) => Some((s.number, s.origin)),
        _ => None,
    };
    assert_eq!(saved("9"), Some((9, Origin::Own)));
    assert_eq!(saved("№8"), Some((8, Origin::Shared)));
    assert_eq!(saved("  жкх НЕ передано "), Some((9, Origin::Own)));
    // Both have the name: one's own first.
    assert_eq!(saved("Общий"), Some((10, Origin::Own)));
    assert_eq!(find("3", &n, labels), Some(Found::BuiltIn(View::AtRisk)));
    assert_eq!(
        find("closed-today", &n, labels),
        Some(Found::BuiltIn(View::ClosedToday))
    );
    assert_eq!(find("все", &n, labels), Some(Found::BuiltIn(View::All)));
    assert_eq!(find("11", &n, labels), None);
    assert_eq!(find("0", &n, labels), None);
    assert_eq!(find("нет такого", &n, labels), None);
}

#[test]
fn built_in_views_keep_their_ids_and_numbers() {
    for v in View::ALL {
        assert_eq!(View::from_id(v.id()), Some(v));
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, format!("\"{}\"", v.id()));
    }
    assert_eq!(View::Mine.number(), 1);
    assert_eq!(View::Undelivered.number(), 7);
    assert_eq!(View::ClosedToday.default_sort(), ViewSort::Received);
}
