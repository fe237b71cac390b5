//! A department reached through the bot in team mode (#21 item 3), through `mcu serve
//! --channels telegram` on both server stores: a team console forwards a request, the server's
//! gateway posts it to the department's group once, and the department's reply to the post
//! reaches the console as its answer.

mod common;

use serde_json::{Value, json};
use std::time::Duration;

use common::{team_console as console, until};

const SCOPE: &str = "krasnodar";
const ECONOMY: i64 = -100_880_002;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_answers_in_its_group_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
    answers(db, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_answers_in_its_group_on_postgres() {
    let db = mcu_desk::testkit::pg_cluster::PgCluster::shared()
        .fresh_database()
        .await
        .expect("a fresh PostgreSQL database");
    answers(db, tempfile::tempdir().unwrap()).await;
}

async fn answers(db: String, dir: tempfile::TempDir) {
    let d = dir.path();
    let departments = format!("[departments.city_economy]\ntelegram_chat_id = {ECONOMY}\n");
    let sim = common::three_channels_setup(d, SCOPE, &departments).await;
    sim.open_chat(ECONOMY);
    let token = common::add_account(d, &db, "anna", "operator");
    sim.inject_text(5001, "Прорвало трубу во дворе, ул. Мира 5");
    let served = common::serve_telegram(d, &db);
    let base = served.base.clone();
    let listed = common::listed(d, &base, &token, 1).await;
    let number = listed[0]["number"].as_str().unwrap().to_owned();
    console(
        d,
        &base,
        &token,
        &[
            "forward",
            &number,
            "--department",
            "city_economy",
            "--note",
            "Срочно",
        ],
    );
    console(d, &base, &token, &["sync"]);
    let posts = || {
        sim.sent()
            .chats
            .get(&ECONOMY.to_string())
            .map(|m| {
                m.iter()
                    .filter(|m| m.text.contains("передано вам"))
                    .map(|m| (m.message_id, m.text.clone()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    until(
        Duration::from_secs(40),
        "the post in the department's group",
        || !posts().is_empty(),
    )
    .await;
    // The simulator holds the post before the gateway has recorded which request it carries;
    // a reply faster than that (no person is) would find nothing to answer. The gateway says
    // `Sent` once it has.
    let sent = format!("event=Sent {{ chat: \"{ECONOMY}\"");
    until(Duration::from_secs(40), "the post recorded", || {
        std::fs::read_to_string(d.join("serve.log")).is_ok_and(|l| l.contains(&sent))
    })
    .await;
    let (post, text) = posts()[0].clone();
    assert!(text.contains(&number) && text.contains("Срочно"), "{text}");
    sim.inject_raw(json!({"message": {
        "message_id": 77,
        "from": {"id": 555, "is_bot": false, "first_name": "Диспетчер"},
        "chat": {"id": ECONOMY, "type": "supergroup", "title": "ЖКХ"},
        "date": chrono::Utc::now().timestamp(),
        "text": "Бригада на месте, к 18:00 устраним",
        "reply_to_message": {"message_id": post, "chat": {"id": ECONOMY, "type": "supergroup"}, "date": 0},
    }}));
    let mut shown = Value::Null;
    until(Duration::from_secs(40), "the answer on the console", || {
        console(d, &base, &token, &["sync"]);
        shown = console(d, &base, &token, &["show", &number]);
        shown["status"] == "in_work"
    })
    .await;
    assert!(
        shown
            .to_string()
            .contains("Бригада на месте, к 18:00 устраним"),
        "{shown}"
    );
    assert_eq!(posts().len(), 1, "posted once");
}
