//! Saved views from the command line (#19 item 4), through the real binary on a real file:
//! `mcu views save|rm`, the list by number, `mcu list --view NAME` listing what the console's
//! view lists, and the refusals (exit 2) that name what there is. Sharing in team mode runs in
//! tests/scenarios/views.rs on both server stores.

mod common;

use common::cli_env::CliEnv;

/// The binary on a fresh file (`common::cli_env`), with this file's own helpers.
struct Env(CliEnv);

impl std::ops::Deref for Env {
    type Target = CliEnv;
    fn deref(&self) -> &CliEnv {
        &self.0
    }
}

impl Env {
    fn new() -> Env {
        Env(CliEnv::new(""))
    }

    fn request(&self, text: &str, topic: &str) -> String {
        let v = self.json(&["new", "--text", text, "--topic", topic]);
        v[0]["number"].as_str().unwrap().to_owned()
    }

    /// The numbers `mcu list` prints for these arguments.
    fn listed(&self, args: &[&str]) -> Vec<String> {
        let mut a = vec!["list"];
        a.extend(args);
        let v = self.json(&a);
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["number"].as_str().unwrap().to_owned())
            .collect()
    }
}

#[test]
fn a_saved_view_lists_what_its_filter_says_by_name_or_number() {
    let e = Env::new();
    let pipe = e.request("Прорвало трубу во дворе, вода в подвале", "utilities");
    let heat = e.request("Холодные батареи в квартире", "utilities");
    let road = e.request("Яма на дороге у школы", "roads");
    e.ok(&["claim", &heat]);
    e.ok(&["close", &pipe, "--reason", "resolved"]);

    let said = e.ok(&[
        "views",
        "save",
        "ЖКХ не передано",
        "--filter",
        "тема:жкх !closed",
    ]);
    assert_eq!(said.trim(), "вид «ЖКХ не передано» сохранён: 8");
    e.ok(&[
        "views",
        "save",
        "Мои новые",
        "--base",
        "mine",
        "--sort",
        "received",
    ]);
    assert_eq!(e.listed(&["--view", "ЖКХ не передано"]), [heat.as_str()]);
    // Any case, or its number; the options narrow it further.
    assert_eq!(e.listed(&["--view", "жкх НЕ передано"]), [heat.as_str()]);
    assert_eq!(e.listed(&["--view", "8"]), [heat.as_str()]);
    assert!(e.listed(&["--view", "8", "--search", "яма"]).is_empty());
    assert_eq!(e.listed(&["--view", "Мои новые"]), [heat.as_str()]);
    // The built-in views by id or number too.
    let mut open = e.listed(&["--view", "new"]);
    open.sort();
    assert_eq!(open, [road.as_str()]);
    assert_eq!(e.listed(&["--view", "1"]), [heat.as_str()]);

    // The list: built-in 1…7, then the saved ones.
    let views = e.json(&["views"]);
    let rows: Vec<(u64, &str, &str)> = views
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["number"].as_u64().unwrap(),
                v["name"].as_str().unwrap(),
                v["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 9);
    assert_eq!(rows[0], (1, "Мои", "built_in"));
    assert_eq!(rows[7], (8, "ЖКХ не передано", "own"));
    assert_eq!(rows[8], (9, "Мои новые", "own"));
    assert_eq!(views[8]["base"], "mine");
    assert_eq!(views[8]["sort"], "received");
    let table = e.ok(&["views"]);
    assert!(
        table.contains("ЖКХ не передано") && table.contains("тема:жкх !closed"),
        "{table}"
    );

    // Saved again: updated in place; deleted: gone, the next one takes its number.
    let said = e.ok(&["views", "save", "жкх не передано", "--filter", "тема:жкх"]);
    assert_eq!(said.trim(), "вид «жкх не передано» обновлён: 8");
    e.ok(&["views", "rm", "ЖКХ НЕ ПЕРЕДАНО"]);
    assert_eq!(e.json(&["views"])[7]["name"], "Мои новые");
}

#[test]
fn unknown_views_bad_names_and_filters_are_refused_with_what_there_is() {
    let e = Env::new();
    e.ok(&["views", "save", "Дороги", "--filter", "тема:дороги"]);
    let err = e.refused(&["list", "--view", "Космос"]);
    assert!(
        err.contains("нет вида `Космос`") && err.contains("1 mine") && err.contains("8 «Дороги»"),
        "{err}"
    );
    assert!(e.refused(&["list", "--view", "12"]).contains("нет вида"));
    for (args, why) in [
        (vec!["views", "save", "8"], "число"),
        (vec!["views", "save", "Все"], "встроенного"),
        (
            vec!["views", "save", "x", "--filter", "тема:космос"],
            "неизвестная тема",
        ),
        (vec!["views", "save", "x", "--base", "elsewhere"], "--base"),
        (vec!["views", "rm", "Нет такого"], "ваши: «Дороги»"),
        (vec!["views", "share", "Дороги"], "сервер"),
        (vec!["views", "unshare", "Дороги"], "сервер"),
    ] {
        let err = e.refused(&args);
        assert!(err.contains(why), "{args:?}: {err}");
    }
    // A view the catalog no longer reads (a topic it lost): said, with how to fix it.
    let c = rusqlite::Connection::open(&e.db).unwrap();
    c.execute(
        "UPDATE saved_view SET doc = json_set(doc, '$.filter', 'тема:космос')",
        [],
    )
    .unwrap();
    let err = e.refused(&["list", "--view", "Дороги"]);
    assert!(
        err.contains("вид «Дороги» не читается") && err.contains("космос"),
        "{err}"
    );
    let listed = e.json(&["views"]);
    assert!(
        listed[7]["problem"].as_str().unwrap().contains("космос"),
        "{listed}"
    );
}
