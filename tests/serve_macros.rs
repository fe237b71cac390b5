//! Macros in team mode, through `mcu serve --channels telegram` on both server stores: a
//! macro run on one team console (`mcu macro uk N`) reaches a second console with every step
//! (the topic, the department it forwarded to, the note, the reply, the status), and its
//! reply reaches the citizen once through the server's gateway.

mod common;

use serde_json::Value;
use std::path::Path;
use std::time::Duration;

use common::{team_console as anna, until};

const SCOPE: &str = "krasnodar";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_macro_on_one_console_reaches_another_with_all_its_steps_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
    runs(db, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_macro_on_one_console_reaches_another_with_all_its_steps_on_postgres() {
    let db = mcu_desk::testkit::pg_cluster::PgCluster::shared()
        .fresh_database()
        .await
        .expect("a fresh PostgreSQL database");
    runs(db, tempfile::tempdir().unwrap()).await;
}

/// Boris's console (`boris.toml`, `boris.sqlite3`): its answer to `args` in JSON.
fn boris(dir: &Path, base: &str, token: &str, args: &[&str]) -> Value {
    common::console_of(dir, ("boris.toml", "boris.sqlite3"), base, token, args)
}

async fn runs(db: String, dir: tempfile::TempDir) {
    let d = dir.path();
    let sim = common::three_channels_setup(d, SCOPE, "").await;
    std::fs::write(
        d.join("boris.toml"),
        format!("[server]\nscope = \"{SCOPE}\"\n[operator]\nname = \"boris\"\n"),
    )
    .unwrap();
    let anna_token = common::add_account(d, &db, "anna", "operator");
    let boris_token = common::add_account(d, &db, "boris", "operator");
    let chat = 6101_i64;
    sim.inject_text(chat, "В подъезде третий день не горит свет, УК не отвечает");
    let served = common::serve_telegram(d, &db);
    let base = served.base.clone();
    let mut number = String::new();
    until(
        Duration::from_secs(40),
        "the request on anna's console",
        || {
            anna(d, &base, &anna_token, &["sync"]);
            let listed = anna(d, &base, &anna_token, &["list"]);
            number = listed[0]["number"].as_str().unwrap_or_default().to_owned();
            !number.is_empty()
        },
    )
    .await;
    // Boris has it too before anna runs the macro: what reaches him next is the macro.
    until(
        Duration::from_secs(40),
        "the request on boris's console",
        || {
            boris(d, &base, &boris_token, &["sync"]);
            boris(d, &base, &boris_token, &["list"])
                .as_array()
                .is_some_and(|l| l.len() == 1)
        },
    )
    .await;

    anna(d, &base, &anna_token, &["macro", "uk", &number]);
    anna(d, &base, &anna_token, &["sync"]);
    let mut card = Value::Null;
    until(
        Duration::from_secs(40),
        "the macro on boris's console",
        || {
            boris(d, &base, &boris_token, &["sync"]);
            card = boris(d, &base, &boris_token, &["show", &number]);
            card["status"] == "waiting_department"
        },
    )
    .await;
    assert_eq!(card["topic"], "utilities", "{card}");
    assert_eq!(card["department"], "city_economy", "{card}");
    assert_eq!(card["assignee"], "anna", "{card}");
    let notes = card["notes"].as_array().cloned().unwrap_or_default();
    assert!(
        notes.iter().any(|n| n["body"]
            .as_str()
            .is_some_and(|b| b.contains("управляющей компании"))),
        "the note: {card}"
    );
    let replies: Vec<&Value> = card["messages"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .filter(|m| {
                    m["body"]
                        .as_str()
                        .is_some_and(|b| b.contains("управляющая компания"))
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(replies.len(), 1, "the reply once: {card}");
    assert_eq!(replies[0]["direction"], "out", "{card}");

    // The server's gateway delivers it to the citizen once, whichever console synced what.
    let told = || {
        sim.sent().chats.get(&chat.to_string()).map_or(0, |m| {
            m.iter()
                .filter(|m| m.text.contains("управляющая компания"))
                .count()
        })
    };
    until(Duration::from_secs(40), "the reply delivered", || {
        told() == 1
    })
    .await;
    until(
        Duration::from_secs(40),
        "its delivery on boris's console",
        || {
            boris(d, &base, &boris_token, &["sync"]);
            card = boris(d, &base, &boris_token, &["show", &number]);
            card["messages"].as_array().is_some_and(|ms| {
                ms.iter()
                    .any(|m| m["direction"] == "out" && m["delivery"] == "sent")
            })
        },
    )
    .await;
    assert_eq!(told(), 1);
}
