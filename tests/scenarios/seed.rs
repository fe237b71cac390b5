//! A new console's first sync from the server's copy of a console file (`server::seed`): it
//! ends up holding what the server holds (the checker), pulls what came after the copy, keeps
//! an identity of its own, and can search at once; a console with work of its own never
//! takes a copy.

use rusqlite::{Connection, OptionalExtension};
use std::time::{Duration, Instant};

use crate::support::{Backend, Env, Server, tags};

const REQUESTS: usize = 40;

fn meta(db: &std::path::Path, key: &str) -> Option<String> {
    let c = Connection::open(db).unwrap();
    c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
        .unwrap()
}

/// Waits until the server's copy has pulled up to `seq` (its `/health` says where it is).
fn wait_for_copy(server: &Server, seq: i64) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let health: serde_json::Value = rt.block_on(async {
            reqwest::get(format!("{}/health", server.base))
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        if health["seed_seq"].as_i64().is_some_and(|s| s >= seq) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the copy never caught up: {health}"
        );
        // The copy pulls every 2 s; a tenth of that is plenty of resolution.
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn list(c: &crate::support::Console, extra: &[&str]) -> Vec<(String, String, String)> {
    let mut args = vec!["list", "-o", "json", "--limit", "1000"];
    args.extend_from_slice(extra);
    let v: serde_json::Value = serde_json::from_str(&c.ok(&args)).unwrap();
    let mut rows: Vec<(String, String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["number"].as_str().unwrap().to_owned(),
                r["status"].to_string(),
                r["assignee"].to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn first_sync_from_the_servers_copy(backend: Backend) {
    let env = Env::new(backend);
    let anna_token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "operator");
    let vera_token = env.add_user("vera", "operator");
    let server = env.serve();
    let a = env.console(&server, "a.sqlite3", "anna", &anna_token);
    let b = env.console(&server, "b.sqlite3", "boris", &boris_token);
    let v = env.console(&server, "v.sqlite3", "vera", &vera_token);

    let lines: String = (0..REQUESTS)
        .map(|i| {
            format!(
                "{{\"text\":\"Протекает крыша в доме {i}\",\"received_at\":\"{}\"}}\n",
                chrono::Utc::now().to_rfc3339()
            )
        })
        .collect();
    let file = env.path("import.jsonl");
    std::fs::write(&file, lines).unwrap();
    a.ok(&["import", file.to_str().unwrap()]);
    a.sync_quiet();
    let first = list(&a, &[])[0].0.clone();
    a.ok(&["claim", &first]);
    a.ok(&["note", &first, "--text", "Управляющая компания уведомлена"]);
    a.sync_quiet();
    let cookie: serde_json::Value =
        serde_json::from_str(&meta(&a.db, "sync_cookie").expect("a cookie")).unwrap();
    wait_for_copy(&server, cookie["seq"].as_i64().unwrap());

    // After the copy's point: Boris gets it from the pull that follows the copy, or in it.
    a.ok(&["tag", &first, "--add", "после-копии"]);
    a.sync_quiet();

    let out: serde_json::Value = serde_json::from_str(&b.ok(&["sync", "-o", "json"])).unwrap();
    assert_eq!(out["from_copy"], REQUESTS as i64, "{out}");
    b.sync_quiet();
    assert_eq!(list(&b, &[]), list(&a, &[]));
    let shown = b.show(&first);
    assert_eq!(tags(&shown), ["после-копии"], "{shown}");
    assert!(
        shown
            .to_string()
            .contains("Управляющая компания уведомлена"),
        "{shown}"
    );
    assert_eq!(
        list(&b, &["--search", "крыши"]).len(),
        REQUESTS,
        "search works at once"
    );

    // Boris's file has its own identity, not the server follower's: his actions land.
    let boris_id = meta(&b.db, "sync_client_id").expect("boris's client id");
    assert_ne!(Some(boris_id), meta(&a.db, "sync_client_id"));
    let second = list(&b, &[])[1].0.clone();
    b.ok(&["claim", &second]);
    let out: serde_json::Value = serde_json::from_str(&b.ok(&["sync", "-o", "json"])).unwrap();
    assert_eq!(out["rejected"], serde_json::json!([]), "{out}");
    a.sync_quiet();
    assert_eq!(a.show(&second)["assignee"], "boris");

    // Vera registered a call before her first sync: her file is not replaced.
    v.new_request("Звонок: не горит фонарь");
    let out: serde_json::Value = serde_json::from_str(&v.ok(&["sync", "-o", "json"])).unwrap();
    assert!(out["from_copy"].is_null(), "{out}");
    v.sync_quiet();
    assert_eq!(list(&v, &[]).len(), REQUESTS + 1);
    assert_eq!(list(&v, &["--search", "фонарь"]).len(), 1);

    a.sync_quiet();
    b.sync_quiet();
    let summary = env.check(&[&a.db, &b.db, &v.db]);
    assert_eq!(summary.rejected, 0, "{summary:?}");
}

#[test]
fn a_new_console_starts_from_the_servers_copy_on_sqlite() {
    first_sync_from_the_servers_copy(Backend::Sqlite);
}

#[test]
fn a_new_console_starts_from_the_servers_copy_on_postgres() {
    first_sync_from_the_servers_copy(Backend::Postgres);
}
