//! A department's own account in team mode (#21 item 1), through a real `mcu serve` on both
//! server stores: the department's console holds only the request forwarded to it, without
//! the citizen; its answer reaches the operator; a request it returns leaves its console;
//! and the server refuses its token everything else (the seed file, presence, Open311).

mod common;

use serde_json::Value;
use std::time::Duration;

use common::{console_of, mcu_in, team_console as console, until};

const SCOPE: &str = "krasnodar";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_account_works_its_own_requests_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
    works_its_own(db, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_account_works_its_own_requests_on_postgres() {
    let db = mcu_desk::testkit::pg_cluster::PgCluster::shared()
        .fresh_database()
        .await
        .expect("a fresh PostgreSQL database");
    works_its_own(db, tempfile::tempdir().unwrap()).await;
}

fn add_department(d: &std::path::Path, db: &str, args: &[&str]) -> std::process::Output {
    mcu_in(d, "server.toml")
        .args(["--db", db, "user", "add"])
        .args(args)
        .output()
        .unwrap()
}

async fn works_its_own(db: String, dir: tempfile::TempDir) {
    let d = dir.path();
    let sim = common::three_channels_setup(d, SCOPE, "").await;
    let token = common::add_account(d, &db, "anna", "operator");
    // The role needs its departments, named as the catalog has them (id or name).
    let refused = add_department(d, &db, &["economy", "--role", "department"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--department"),
        "{refused:?}"
    );
    let added = add_department(
        d,
        &db,
        &[
            "economy",
            "--role",
            "department",
            "--department",
            "city_economy",
        ],
    );
    assert!(added.status.success(), "{added:?}");
    let economy_token = String::from_utf8(added.stdout).unwrap().trim().to_owned();
    std::fs::write(
        d.join("economy.toml"),
        format!("[server]\nscope = \"{SCOPE}\"\n[operator]\nname = \"economy\"\n"),
    )
    .unwrap();
    let economy = |args: &[&str]| {
        console_of(
            d,
            ("economy.toml", "economy.sqlite3"),
            &served_base(d),
            &economy_token,
            args,
        )
    };

    sim.inject_text(5001, "Прорвало трубу во дворе, ул. Мира 5");
    sim.inject_text(5002, "Яма на дороге у остановки");
    let served = common::serve_telegram(d, &db);
    std::fs::write(d.join("base"), &served.base).unwrap();
    let base = served.base.clone();
    let listed = common::listed(d, &base, &token, 2).await;
    let pipe = common::number_with(&listed, "трубу");
    let pit = common::number_with(&listed, "Яма");
    for (number, to) in [(&pipe, "city_economy"), (&pit, "transport_roads")] {
        console(
            d,
            &base,
            &token,
            &["forward", number, "--department", to, "--note", "Срочно"],
        );
    }
    console(d, &base, &token, &["sync"]);
    let citizen = console(d, &base, &token, &["show", &pipe]);
    assert!(
        citizen["citizen"].is_string(),
        "the operator sees the citizen: {citizen}"
    );

    // The department's console: only its request, and no citizen.
    economy(&["sync"]);
    let mine = economy(&["list"]);
    let numbers: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["number"].as_str())
        .collect();
    assert_eq!(numbers, [pipe.as_str()], "{mine}");
    let shown = economy(&["show", &pipe]);
    assert!(
        shown["citizen"].is_null() && shown["phone"].is_null(),
        "{shown}"
    );
    assert!(shown.to_string().contains("Прорвало трубу"), "{shown}");
    assert!(
        shown.to_string().contains("Срочно"),
        "the forward note: {shown}"
    );

    // Its answer reaches the operator.
    economy(&[
        "answer",
        &pipe,
        "--text",
        "Бригада выехала, к 18:00 устраним",
    ]);
    economy(&["sync"]);
    let mut seen = Value::Null;
    until(
        Duration::from_secs(40),
        "the answer on the operator's console",
        || {
            console(d, &base, &token, &["sync"]);
            seen = console(d, &base, &token, &["show", &pipe]);
            seen["status"] == "in_work"
        },
    )
    .await;
    assert!(seen.to_string().contains("Бригада выехала"), "{seen}");

    // Forwarded again and returned as not theirs: it leaves the department's console, and
    // the operator sees who and why.
    console(
        d,
        &base,
        &token,
        &["forward", &pipe, "--department", "city_economy"],
    );
    console(d, &base, &token, &["sync"]);
    economy(&["sync"]);
    economy(&["return", &pipe, "--reason", "Это водоканал, не мы"]);
    until(
        Duration::from_secs(40),
        "the department's console emptied",
        || {
            economy(&["sync"]);
            economy(&["list"]).as_array().is_some_and(Vec::is_empty)
        },
    )
    .await;
    until(
        Duration::from_secs(40),
        "the return on the operator's console",
        || {
            console(d, &base, &token, &["sync"]);
            console(d, &base, &token, &["show", &pipe])
                .to_string()
                .contains("Это водоканал")
        },
    )
    .await;

    // Nothing else opens to its token.
    let http = reqwest::Client::new();
    for path in ["/v1/seed?scope=krasnodar", "/v1/presence"] {
        let r = http
            .get(format!("{base}{path}"))
            .bearer_auth(&economy_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path}");
    }
    let r = http
        .get(format!(
            "{base}/open311/v2/requests.json?api_key={economy_token}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "Open311");
    let r = http
        .get(format!("{base}/v1/team?scope_id={SCOPE}"))
        .bearer_auth(&economy_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "the team's status is the console's to show"
    );
}

/// The server's address, written by the test once it runs (the helper closure above is made
/// before the server starts).
fn served_base(d: &std::path::Path) -> String {
    std::fs::read_to_string(d.join("base")).unwrap_or_default()
}
