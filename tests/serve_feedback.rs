//! «Вопрос решён?» in team mode, through `mcu serve --channels telegram` on both server
//! stores: a request a team console closes as resolved is asked once by the server's gateway
//! (however many sweeps and syncs run meanwhile); the citizen's «Нет» tap reopens it and the
//! reopened request with the citizen's words reaches the console; a «Да» tap is recorded and
//! the console sees it.

mod common;

use serde_json::Value;
use std::time::Duration;

use common::{mcu_in as mcu, team_console as console, until};

const SCOPE: &str = "krasnodar";
// Asked about a second after the close; the server sweeps every 5 s.
const ASK: &str = "[feedback]\nafter_minutes = 0.01\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolved_close_is_asked_once_and_the_taps_reach_the_console_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
    asks(db, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolved_close_is_asked_once_and_the_taps_reach_the_console_on_postgres() {
    let db = mcu_desk::testkit::pg_cluster::PgCluster::shared()
        .fresh_database()
        .await
        .expect("a fresh PostgreSQL database");
    asks(db, tempfile::tempdir().unwrap()).await;
}

async fn asks(db: String, dir: tempfile::TempDir) {
    let d = dir.path();
    let sim = common::three_channels_setup(d, SCOPE, ASK).await;
    let token = common::add_account(d, &db, "anna", "operator");
    let (pleased, not) = (5101_i64, 5102_i64);
    sim.inject_text(pleased, "Не горит фонарь у школы №5");
    sim.inject_text(not, "Яма на дороге у дома 12");
    let served = common::serve_telegram(d, &db);
    let base = served.base.clone();
    let listed = common::listed(d, &base, &token, 2).await;
    let (yes_number, no_number) = (
        common::number_with(&listed, "фонарь"),
        common::number_with(&listed, "Яма"),
    );
    for number in [&yes_number, &no_number] {
        let shown = console(d, &base, &token, &["show", number]);
        assert!(shown["feedback"].is_null(), "never asked: {shown}");
        console(d, &base, &token, &["claim", number]);
        console(d, &base, &token, &["close", number, "--reason", "resolved"]);
    }
    console(d, &base, &token, &["sync"]);
    let questions = |chat: i64| -> Vec<i64> {
        sim.sent().chats.get(&chat.to_string()).map_or(vec![], |m| {
            m.iter()
                .filter(|m| m.text.contains("Вопрос решён?"))
                .map(|m| m.message_id)
                .collect()
        })
    };
    until(Duration::from_secs(40), "both asked", || {
        !questions(pleased).is_empty() && !questions(not).is_empty()
    })
    .await;
    let asked_at = std::time::Instant::now();
    sim.press(not, questions(not)[0], "fb:no");
    let mut card = Value::Null;
    until(
        Duration::from_secs(40),
        "the reopened request on the console",
        || {
            console(d, &base, &token, &["sync"]);
            card = console(d, &base, &token, &["show", &no_number]);
            card["status"] == "in_work"
        },
    )
    .await;
    assert_eq!(card["feedback"]["helped"], false, "{card}");
    assert!(
        card["messages"]
            .as_array()
            .is_some_and(|ms| ms.iter().any(|m| m["body"] == "Нет")),
        "the citizen's words in the thread: {card}"
    );
    assert_eq!(card["feedback"]["words"], "Нет", "{card}");
    // The text form says it in one line.
    let out = mcu(d, "console.toml")
        .arg("--db")
        .arg(d.join("anna.sqlite3"))
        .env("MCU_SERVER_URL", &base)
        .env("MCU_SERVER_TOKEN", &token)
        .args(["show", &no_number])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success()
            && text.contains("Вопрос решён? — «нет» ")
            && text.contains("(спросили "),
        "{text}"
    );

    sim.press(pleased, questions(pleased)[0], "fb:yes");
    until(
        Duration::from_secs(40),
        "the «Да» on the console",
        || {
            console(d, &base, &token, &["sync"]);
            card = console(d, &base, &token, &["show", &yes_number]);
            card["feedback"]["helped"] == true
        },
    )
    .await;
    assert_eq!(card["status"], "closed", "«Да» leaves it closed: {card}");
    assert!(card["feedback"]["answered_at"].is_string(), "{card}");

    // Nothing signals a second question that never comes: watch through at least two more
    // of the server's sweeps (every 5 s) since the asking, the console syncing meanwhile.
    until(
        Duration::from_secs(30),
        "two sweeps after the asking",
        || {
            console(d, &base, &token, &["sync"]);
            assert_eq!(questions(pleased).len(), 1, "asked once");
            assert_eq!(questions(not).len(), 1, "asked once");
            asked_at.elapsed() > Duration::from_secs(11)
        },
    )
    .await;
    // The server counted two questions, and the citizens got one each.
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("mcu_feedback_asked_total{channel=\"telegram\"} 2"),
        "{metrics}"
    );
    assert_eq!(questions(pleased).len(), 1);
    assert_eq!(questions(not).len(), 1);
}
