//! #16 items 5 and 6, against a real `mcu serve` on both stores: an account reaches only its
//! scopes (cities), nobody makes a scope or a `/metrics` label by naming one, and accounts can
//! be disabled, enabled, given a new token or another role, with when they were last seen.

mod common;

use serde_json::{Value, json};
use std::path::Path;
use uuid::Uuid;

use common::mcu_in as mcu;

const SCOPE: &str = "krasnodar";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_reach_their_scopes_and_are_revoked_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
    accounts(db, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_reach_their_scopes_and_are_revoked_on_postgres() {
    let db = mcu_desk::testkit::pg_cluster::PgCluster::shared()
        .fresh_database()
        .await
        .expect("a fresh PostgreSQL database");
    accounts(db, tempfile::tempdir().unwrap()).await;
}

fn user(d: &Path, db: &str, args: &[&str]) -> std::process::Output {
    mcu(d, "server.toml")
        .args(["--db", db, "user"])
        .args(args)
        .output()
        .unwrap()
}

fn token(out: std::process::Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn pull(base: &str, token: &str, scope: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{base}/v1/sync/pull"))
        .bearer_auth(token)
        .json(&json!({
            "client_id": Uuid::now_v7(),
            "schema_version": mcu_desk::wire::sync::SCHEMA_VERSION,
            "scope_id": scope,
            "cookie": null,
            "limit": 10
        }))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn get(base: &str, token: &str, path: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn accounts(db: String, dir: tempfile::TempDir) {
    let d = dir.path();
    std::fs::write(
        d.join("server.toml"),
        format!(
            "[server]\nscope = \"{SCOPE}\"\n[store]\npath = \"{}\"\n",
            d.join("files.sqlite3").display()
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("console.toml"),
        format!("[server]\nscope = \"{SCOPE}\"\n[operator]\nname = \"anna\"\n"),
    )
    .unwrap();
    // By default an account reaches the config's scope.
    let anna = token(user(d, &db, &["add", "anna"]));
    let wall = token(user(d, &db, &["add", "wall", "--role", "viewer"]));
    let bad = user(d, &db, &["add", "x", "--scope", "a b"]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");

    let log = d.join("serve.log");
    let (mut child, _stdout, base) = common::spawn_serve(
        mcu(d, "server.toml").args(["--db", &db, "serve", "--listen", "127.0.0.1:0", "--no-seed"]),
        &log,
    );

    assert_eq!(pull(&base, &anna, SCOPE).await.0, 200);
    // Another city, for push, pull, presence and the team: 403, and no scope made.
    let (status, body) = pull(&base, &anna, "sochi").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("forbidden_scope"))
    );
    assert_eq!(pull(&base, &wall, "sochi").await.0, 403);
    assert_eq!(
        get(&base, &anna, "/v1/presence?scope_id=sochi").await.0,
        403
    );
    assert_eq!(get(&base, &anna, "/v1/team?scope_id=sochi").await.0, 403);
    let huge = "x".repeat(1_000_000);
    assert_eq!(pull(&base, &wall, &huge).await.0, 403);
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !metrics.contains("sochi") && metrics.len() < 100_000,
        "{}",
        metrics.len()
    );

    // Disabled: refused at once, the console told so in Russian; enabled: back.
    let console = |token: &str, args: &[&str]| {
        mcu(d, "console.toml")
            .arg("--db")
            .arg(d.join("anna.sqlite3"))
            .env("MCU_SERVER_URL", &base)
            .env("MCU_SERVER_TOKEN", token)
            .args(args)
            .output()
            .unwrap()
    };
    assert!(console(&anna, &["sync"]).status.success());
    assert!(user(d, &db, &["disable", "anna"]).status.success());
    let (status, body) = pull(&base, &anna, SCOPE).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("disabled")));
    let told = console(&anna, &["sync"]);
    assert_eq!(told.status.code(), Some(2), "{told:?}");
    assert!(
        String::from_utf8_lossy(&told.stderr).contains("учётная запись отключена"),
        "{told:?}"
    );
    assert!(user(d, &db, &["enable", "anna"]).status.success());
    assert_eq!(pull(&base, &anna, SCOPE).await.0, 200);

    // A new token: the old one opens nothing from now on.
    let fresh = token(user(d, &db, &["token", "anna"]));
    assert_eq!(pull(&base, &anna, SCOPE).await.0, 401);
    assert_eq!(pull(&base, &fresh, SCOPE).await.0, 200);
    assert_eq!(user(d, &db, &["token", "nobody"]).status.code(), Some(2));

    // Another role, another city.
    assert!(
        user(d, &db, &["role", "anna", "--role", "lead"])
            .status
            .success()
    );
    assert!(
        user(d, &db, &["grant", "anna", "--scope", "sochi"])
            .status
            .success()
    );
    assert_eq!(pull(&base, &fresh, "sochi").await.0, 200);
    let listed: Value = serde_json::from_slice(
        &mcu(d, "server.toml")
            .args(["--db", &db, "-o", "json", "user", "list"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let anna_row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "anna")
        .unwrap();
    assert_eq!(anna_row["role"], "lead", "{listed}");
    assert_eq!(anna_row["disabled"], false);
    assert_eq!(anna_row["scopes"], json!(["krasnodar", "sochi"]));
    assert!(anna_row["last_seen"].is_string(), "{listed}");
    let _ = child.kill();
    let _ = child.wait();
}
