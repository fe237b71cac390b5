//! Incidents in a team, on both stores: two operators confirming one candidate group at once
//! make one incident; a group dismissed on one console stays dismissed on the other; two
//! incidents found to be one are merged by moving the members; every console ends equal to
//! the server and the checker passes.

use serde_json::Value;

use crate::support::{Backend, Console, Env};

fn report(c: &Console, citizen: &str, text: &str, address: &str) -> String {
    let v: Value = serde_json::from_str(&c.ok(&[
        "new",
        "--text",
        text,
        "--citizen",
        citizen,
        "--address",
        address,
        "--topic",
        "utilities",
        "-o",
        "json",
    ]))
    .unwrap();
    v[0]["number"].as_str().unwrap().to_owned()
}

fn groups(c: &Console) -> Vec<Value> {
    let v: Value = serde_json::from_str(&c.ok(&["incidents", "-o", "json"])).unwrap();
    v.as_array().unwrap().clone()
}

fn members(g: &Value) -> Vec<String> {
    let mut m: Vec<String> = g["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    m.sort();
    m
}

fn incidents_in_a_team(backend: Backend) {
    let env = Env::new(backend);
    let anna_token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "lead");
    let server = env.serve();
    let anna = env.console(&server, "a.sqlite3", "anna", &anna_token);
    let boris = env.console(&server, "b.sqlite3", "boris", &boris_token);
    let at_122 = [
        report(
            &anna,
            "Анна",
            "Прорвало трубу, вода заливает двор",
            "ул. Красная, 122",
        ),
        report(
            &anna,
            "Борис",
            "Во дворе прорвало трубу, вода течёт",
            "Красная ул 122",
        ),
        report(
            &anna,
            "Вера",
            "Прорвало трубу у дома, вода",
            "ул. Красная, д. 122",
        ),
    ];
    let at_124 = [
        report(
            &anna,
            "Глеб",
            "Прорвало трубу, вода течёт по двору",
            "ул. Красная, 124",
        ),
        report(
            &anna,
            "Дина",
            "Труба прорвала, во дворе вода",
            "ул. Красная, 124",
        ),
        report(
            &anna,
            "Ефим",
            "Вода из трубы, прорвало во дворе",
            "ул. Красная, 124",
        ),
    ];
    let at_7 = [
        report(
            &anna,
            "Жанна",
            "Прорвало трубу в подвале, вода",
            "ул. Северная, 7",
        ),
        report(
            &anna,
            "Зоя",
            "В подвале вода, прорвало трубу",
            "ул. Северная, 7",
        ),
        report(
            &anna,
            "Иван",
            "Вода в подвале, трубу прорвало",
            "ул. Северная, 7",
        ),
    ];
    anna.sync_quiet();
    boris.sync_quiet();
    assert_eq!(groups(&boris).len(), 3, "three candidates");

    // Both confirm the group at 122 before either has seen the other's: one incident.
    anna.ok(&[
        "incident",
        "confirm",
        &at_122[0],
        "--title",
        "Прорыв, Красная 122",
    ]);
    boris.ok(&["incident", "confirm", &at_122[1]]);
    anna.sync_quiet();
    boris.sync_quiet();
    for c in [&anna, &boris] {
        let g = groups(c);
        let confirmed: Vec<&Value> = g.iter().filter(|g| g["candidate"] == false).collect();
        assert_eq!(confirmed.len(), 1, "{backend:?}: {g:#?}");
        let mut want = at_122.to_vec();
        want.sort();
        assert_eq!(members(confirmed[0]), want);
        assert_eq!(
            confirmed[0]["title"], "Прорыв, Красная 122",
            "the first confirm named it"
        );
        assert!(!confirmed[0]["number"].as_str().unwrap().is_empty());
    }

    // Boris dismisses the basement's group; on Anna's console it is gone too.
    boris.ok(&["incident", "dismiss", &at_7[0]]);
    anna.sync_quiet();
    assert!(
        groups(&anna).iter().all(|g| !members(g).contains(&at_7[0])),
        "{backend:?}"
    );

    // 124 is confirmed on its own, then found to be the same break: merged into 122's.
    boris.ok(&[
        "incident",
        "confirm",
        &at_124[0],
        "--title",
        "Прорыв, Красная 124",
    ]);
    anna.sync_quiet();
    let g = groups(&anna);
    let number_of = |title: &str| {
        g.iter()
            .find(|g| g["title"] == title)
            .and_then(|g| g["number"].as_str())
            .unwrap_or_else(|| panic!("{title} in {g:#?}"))
            .to_owned()
    };
    let (main, other) = (
        number_of("Прорыв, Красная 122"),
        number_of("Прорыв, Красная 124"),
    );
    for n in &at_124 {
        anna.ok(&["incident", "add", &main, n]);
    }
    anna.ok(&["incident", "close", &other, "--reason", "duplicate"]);
    boris.sync_quiet();
    anna.sync_quiet();
    let g = groups(&boris);
    assert_eq!(g.len(), 1, "{backend:?}: {g:#?}");
    assert_eq!(members(&g[0]).len(), 6);
    assert_eq!(boris.show(&other)["status"], "closed");

    let summary = env.check(&[&anna.db, &boris.db]);
    assert_eq!(summary.rejected, 0, "{backend:?}: {summary:?}");
}

#[test]
fn incidents_in_a_team_on_sqlite() {
    incidents_in_a_team(Backend::Sqlite);
}

#[test]
fn incidents_in_a_team_on_postgres() {
    incidents_in_a_team(Backend::Postgres);
}
