//! Triage in team mode (#17 item 3), through `mcu serve --channels telegram` on both server
//! stores: with `[triage] auto_apply_above`, the server's channel gateway learns from the
//! city's history it pulls, applies a confident suggestion to a citizen's new request at
//! intake, and every console's audit names the model, its version and how sure it was — not
//! the gateway. Texts come from the demo corpus (generated), never from real appeals.

mod common;

use serde_json::Value;
use std::time::Duration;

use common::{mcu_in as mcu, team_console as console, until};

const SCOPE: &str = "krasnodar";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_gateway_applies_a_confident_suggestion_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
    applies(db, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_gateway_applies_a_confident_suggestion_on_postgres() {
    let db = mcu_desk::testkit::pg_cluster::PgCluster::shared()
        .fresh_database()
        .await
        .expect("a fresh PostgreSQL database");
    applies(db, tempfile::tempdir().unwrap()).await;
}

async fn applies(db: String, dir: tempfile::TempDir) {
    let d = dir.path();
    let sim = common::three_channels_setup(d, SCOPE, "[triage]\nauto_apply_above = 0.5\n").await;
    let token = common::add_account(d, &db, "anna", "lead");
    std::fs::write(d.join("old.jsonl"), common::labelled_history(7, 150)).unwrap();
    // The old system's history reaches the server through a team console first.
    {
        let log = d.join("serve-first.log");
        let (child, _stdout, base) = common::spawn_serve(
            mcu(d, "server.toml")
                .args(["--db", &db, "serve", "--listen", "127.0.0.1:0"])
                .arg("--no-seed"),
            &log,
        );
        let _guard = common::ServeGuard { child, log };
        console(
            d,
            &base,
            &token,
            &["import", d.join("old.jsonl").to_str().unwrap()],
        );
        console(d, &base, &token, &["sync"]);
    }
    let served = common::serve_telegram(d, &db);
    let base = served.base.clone();
    // The gateway trains on what it pulled before it takes anything in.
    until(Duration::from_secs(60), "the gateway's model", || {
        std::fs::read_to_string(d.join("serve.log")).is_ok_and(|l| l.contains("triage retrained"))
    })
    .await;
    sim.inject_text(
        5001,
        "Переполнены мусорные контейнеры, мусор не вывозят неделю",
    );
    let mut card = Value::Null;
    until(
        Duration::from_secs(40),
        "the request tagged by the model",
        || {
            console(d, &base, &token, &["sync"]);
            let listed = console(d, &base, &token, &["list"]);
            let Some(number) = listed.as_array().and_then(|l| {
                l.iter()
                    .find(|r| r["text"].as_str().is_some_and(|t| t.contains("контейнеры")))
                    .and_then(|r| r["number"].as_str())
            }) else {
                return false;
            };
            card = console(d, &base, &token, &["show", number]);
            card["topic"] == "waste"
        },
    )
    .await;
    assert_eq!(card["department"], "city_economy", "{card}");
    let by_model: Vec<&str> = card["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["field"] == "topic")
        .filter_map(|e| e["actor"].as_str())
        .collect();
    assert_eq!(by_model.len(), 1, "{card}");
    let actor = by_model[0];
    assert!(
        actor.starts_with("triage "),
        "the model, not the gateway: {actor}"
    );
    assert!(actor.ends_with('%'), "{actor}");
    // The other consoles' model is the same: trained on the same history, same version.
    let status = console(d, &base, &token, &["triage", "status"]);
    assert!(
        status["version"]
            .as_str()
            .is_some_and(|v| actor.contains(v)),
        "{status} / {actor}"
    );
}
