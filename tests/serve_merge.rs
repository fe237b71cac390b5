//! Merged threads in team mode (#19 item 5), through `mcu serve --channels telegram` on both
//! server stores: a team console merges one citizen's request into another's, one reply there
//! reaches both citizens once through the server's gateway, and the merged citizen's
//! follow-up arrives in the one thread on the console.

mod common;

use serde_json::Value;
use std::time::Duration;

use common::{team_console as console, until};

const SCOPE: &str = "krasnodar";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_thread_answers_both_citizens_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
    merges(db, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merged_thread_answers_both_citizens_on_postgres() {
    let db = mcu_desk::testkit::pg_cluster::PgCluster::shared()
        .fresh_database()
        .await
        .expect("a fresh PostgreSQL database");
    merges(db, tempfile::tempdir().unwrap()).await;
}

async fn merges(db: String, dir: tempfile::TempDir) {
    let d = dir.path();
    let sim = common::three_channels_setup(d, SCOPE, "").await;
    let token = common::add_account(d, &db, "anna", "operator");
    let (first, second) = (4001_i64, 4002_i64);
    sim.inject_text(first, "Нет горячей воды, ул. Мира 5");
    sim.inject_text(second, "Мира 5: третий день без горячей воды");
    let served = common::serve_telegram(d, &db);
    let base = served.base.clone();
    let listed = common::listed(d, &base, &token, 2).await;
    let (main, other) = (
        common::number_with(&listed, "Нет горячей"),
        common::number_with(&listed, "третий день"),
    );
    let said = |chat: i64, needle: &str| {
        sim.sent()
            .chats
            .get(&chat.to_string())
            .map_or(0, |m| m.iter().filter(|m| m.text.contains(needle)).count())
    };
    until(Duration::from_secs(30), "the acknowledgements", || {
        said(first, "зарегистрировано") == 1 && said(second, "зарегистрировано") == 1
    })
    .await;

    let merged = console(d, &base, &token, &["merge", &other, "--into", &main]);
    assert_eq!(merged[0]["closed_reason"], "merged", "{merged}");
    console(
        d,
        &base,
        &token,
        &[
            "reply",
            &main,
            "--text",
            "Аварийная бригада на месте, воду дадут к 18:00.",
        ],
    );
    console(d, &base, &token, &["sync"]);
    until(Duration::from_secs(40), "the answer in both chats", || {
        said(first, "воду дадут к 18:00") == 1 && said(second, "воду дадут к 18:00") == 1
    })
    .await;
    assert_eq!(said(second, &format!("объединено с обращением {main}")), 1);

    sim.inject_text(second, "А холодная тоже пропала");
    let mut shown = Value::Null;
    until(
        Duration::from_secs(40),
        "the follow-up in the one thread",
        || {
            console(d, &base, &token, &["sync"]);
            shown = console(d, &base, &token, &["show", &main]);
            shown.to_string().contains("А холодная тоже пропала")
        },
    )
    .await;
    let thread = shown["messages"].as_array().expect("a thread");
    let follow_up = thread
        .iter()
        .find(|m| m["body"] == "А холодная тоже пропала")
        .unwrap();
    assert!(
        follow_up["author"]
            .as_str()
            .is_some_and(|a| a.ends_with(&other)),
        "{follow_up}"
    );
    assert_eq!(shown["merged"][0]["number"], other.as_str(), "{shown}");
    let link = console(d, &base, &token, &["show", &other]);
    assert_eq!(link["status"], "closed", "the link stays closed: {link}");

    // A follow-up that came through the link is the other citizen's: it is not split off
    // into a request of the first citizen's chat.
    let position = |shown: &Value, body: &str| {
        let at = shown["messages"]
            .as_array()
            .unwrap()
            .iter()
            .position(|m| m["body"] == body)
            .unwrap_or_else(|| panic!("{body} in {shown}"));
        (at + 1).to_string()
    };
    let through = position(&shown, "А холодная тоже пропала");
    let refused = common::mcu_in(d, "console.toml")
        .arg("--db")
        .arg(d.join("anna.sqlite3"))
        .env("MCU_SERVER_URL", &base)
        .env("MCU_SERVER_TOKEN", &token)
        .args(["split", &main, "--message", &through])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains(&format!("объединённое обращение {other}")),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // The first citizen's own second problem is split off in team mode: a request of theirs
    // with the server's number, listed among their requests on the card.
    sim.inject_text(first, "И ещё: во дворе третий день не вывозят мусор");
    until(
        Duration::from_secs(40),
        "the second problem in the thread",
        || {
            console(d, &base, &token, &["sync"]);
            shown = console(d, &base, &token, &["show", &main]);
            shown.to_string().contains("не вывозят мусор")
        },
    )
    .await;
    let own = position(&shown, "И ещё: во дворе третий день не вывозят мусор");
    let made = console(d, &base, &token, &["split", &main, "--message", &own]);
    console(d, &base, &token, &["sync"]);
    let split_number = made[0]["number"].as_str().unwrap().to_owned();
    let mut card = Value::Null;
    until(Duration::from_secs(30), "the server's number", || {
        console(d, &base, &token, &["sync"]);
        let listed = console(d, &base, &token, &["list"]);
        card = console(d, &base, &token, &["show", &main]);
        listed.to_string().contains("не вывозят мусор")
            && card["citizen_requests"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
    })
    .await;
    let others: Vec<&str> = card["citizen_requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["number"].as_str())
        .collect();
    assert_eq!(others.len(), 1, "{card}");
    assert!(
        !others[0].contains("-9"),
        "a server number, not a provisional one ({split_number} → {others:?})"
    );

    // Once each, whatever the pushes, pulls and sweeps did meanwhile.
    assert_eq!(said(first, "воду дадут к 18:00"), 1);
    assert_eq!(said(second, "воду дадут к 18:00"), 1);
}
