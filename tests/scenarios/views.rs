//! Shared views in team mode (#19 item 4), on the SQLite and the PostgreSQL server store: a
//! shift lead shares a view and every console of the scope lists it (and `mcu list --view`
//! lists by it, offline too, from the copy kept); an operator's share and take-back are
//! refused (exit 3); the lead takes it back and keeps it as their own.

use crate::support::{Backend, Env};

fn views(c: &crate::support::Console) -> serde_json::Value {
    serde_json::from_str(&c.ok(&["views", "-o", "json"])).unwrap()
}

/// (number, name, kind) of the saved views, after the seven built in.
fn saved(c: &crate::support::Console) -> Vec<(u64, String, String)> {
    views(c)
        .as_array()
        .unwrap()
        .iter()
        .skip(7)
        .map(|v| {
            (
                v["number"].as_u64().unwrap(),
                v["name"].as_str().unwrap().to_owned(),
                v["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn shared_views(backend: Backend) {
    let env = Env::new(backend);
    let lead_token = env.add_user("boris", "lead");
    let anna_token = env.add_user("anna", "operator");
    let server = env.serve();
    let boris = env.console(&server, "b.sqlite3", "boris", &lead_token);
    let anna = env.console(&server, "a.sqlite3", "anna", &anna_token);
    let roads = anna.new_request("Яма на дороге у школы");
    anna.ok(&["tag", &roads, "--topic", "roads"]);
    anna.new_request("Не вывезли мусор");
    boris.sync_quiet();
    anna.sync_quiet();

    boris.ok(&[
        "views",
        "save",
        "Дороги открытые",
        "--filter",
        "тема:дороги !closed",
    ]);
    let said = boris.ok(&["views", "share", "Дороги открытые"]);
    assert!(said.contains("теперь у всей команды: 8"), "{said}");
    // The lead's own view is the team's now, listed once.
    assert_eq!(
        saved(&boris),
        [(8, "Дороги открытые".to_owned(), "shared".to_owned())]
    );
    // The operator's console hears of it, and lists by it.
    anna.ok(&["views", "save", "Моё", "--filter", "@me"]);
    let listed = views(&anna);
    assert_eq!(listed[7]["name"], "Дороги открытые", "{listed}");
    assert_eq!(listed[7]["kind"], "shared");
    assert_eq!(listed[7]["shared_by"], "boris");
    assert_eq!(listed[8]["name"], "Моё");
    let rows: serde_json::Value =
        serde_json::from_str(&anna.ok(&["list", "--view", "дороги открытые", "-o", "json"]))
            .unwrap();
    let numbers: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, [roads.as_str()], "{backend:?}");

    // An operator neither shares nor takes the team's back: the server refuses (exit 3).
    for args in [
        ["views", "share", "Моё"],
        ["views", "unshare", "Дороги открытые"],
    ] {
        let out = anna.run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert!(err.contains("только старший смены"), "{err}");
    }
    assert_eq!(saved(&anna).len(), 2, "nothing changed");

    // The server out of reach: the copy kept here still lists, said on stderr.
    drop(server);
    let out = anna.run(&["views"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("сервер недоступен"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Дороги открытые"));
    anna.ok(&["list", "--view", "8"]);
    let out = boris.run(&["views", "unshare", "Дороги открытые"]);
    assert_eq!(out.status.code(), Some(4), "offline: {out:?}");

    // Back: the lead takes it back and keeps it; the others no longer see it.
    let server = env.serve();
    let boris = env.console(&server, "b.sqlite3", "boris", &lead_token);
    let anna = env.console(&server, "a.sqlite3", "anna", &anna_token);
    let said = boris.ok(&["views", "unshare", "дороги открытые"]);
    assert!(said.contains("он остался у вас: 8"), "{said}");
    assert_eq!(
        saved(&boris),
        [(8, "Дороги открытые".to_owned(), "own".to_owned())]
    );
    assert_eq!(saved(&anna), [(8, "Моё".to_owned(), "own".to_owned())]);
    let out = boris.run(&["views", "unshare", "Дороги открытые"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    // Views are no change to any request: the files still agree with the server.
    anna.sync_quiet();
    boris.sync_quiet();
    env.check(&[&anna.db, &boris.db]);
}

#[test]
fn a_lead_shares_a_view_with_the_team_on_sqlite() {
    shared_views(Backend::Sqlite);
}

#[test]
fn a_lead_shares_a_view_with_the_team_on_postgres() {
    shared_views(Backend::Postgres);
}
