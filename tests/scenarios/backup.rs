//! The restore drill of docs/install.md, as an IT department would run it: a backup taken while
//! the server serves (`mcu serve backup` on SQLite, `pg_dump` on PostgreSQL), work confirmed
//! after it, the store put back from the backup, the server started once with `--after-restore`,
//! and the consoles send back what the backup lacks: every action the server had confirmed is
//! there again, none twice.

use std::path::Path;

use mcu_desk::testkit::pg_cluster::PgCluster;

use crate::support::{Backend, Env, notes, put_back, tags};

fn texts(listed: &str) -> Vec<String> {
    let all: serde_json::Value = serde_json::from_str(listed).unwrap();
    let mut t: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap().to_owned())
        .collect();
    t.sort();
    t
}

fn ran(what: &str, out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{what}: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The backup, taken while the server runs.
fn back_up(env: &Env, to: &Path) {
    match env.backend {
        Backend::Sqlite => {
            let said = ran(
                "mcu serve backup",
                env.mcu(&env.db_url())
                    .args(["serve", "backup", "--out"])
                    .arg(to)
                    .output()
                    .unwrap(),
            );
            assert!(said.contains("копия записана"), "{said}");
            assert!(said.contains("обращений: 1"), "{said}");
            // A second backup to the same name would overwrite the first: refused, kept.
            let again = env
                .mcu(&env.db_url())
                .args(["serve", "backup", "--out"])
                .arg(to)
                .output()
                .unwrap();
            assert_eq!(again.status.code(), Some(2));
            assert!(
                String::from_utf8_lossy(&again.stderr).contains("уже есть"),
                "{again:?}"
            );
        }
        Backend::Postgres => {
            ran(
                "pg_dump",
                PgCluster::shared()
                    .client("pg_dump")
                    .args(["--format=custom", "--file"])
                    .arg(to)
                    .args(["--dbname", &env.db_url()])
                    .output()
                    .unwrap(),
            );
            // `mcu serve backup` names the tool instead.
            let refused = env
                .mcu(&env.db_url())
                .args(["serve", "backup", "--out"])
                .arg(env.path("nothing"))
                .output()
                .unwrap();
            assert_eq!(refused.status.code(), Some(2));
            assert!(
                String::from_utf8_lossy(&refused.stderr).contains("pg_dump"),
                "{refused:?}"
            );
        }
    }
}

/// The store put back from the backup, the server stopped.
fn restore(env: &Env, from: &Path) {
    match env.backend {
        Backend::Sqlite => put_back(&env.path("server.sqlite3"), from),
        Backend::Postgres => {
            ran(
                "pg_restore",
                PgCluster::shared()
                    .client("pg_restore")
                    .args(["--clean", "--if-exists", "--single-transaction"])
                    .args(["--dbname", &env.db_url()])
                    .arg(from)
                    .output()
                    .unwrap(),
            );
        }
    }
}

fn drill(backend: Backend) {
    let env = Env::new(backend);
    let anna_token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "operator");
    let server = env.serve();
    let a = env.console(&server, "a.sqlite3", "anna", &anna_token);
    let b = env.console(&server, "b.sqlite3", "boris", &boris_token);
    a.new_request("Нет воды на ул. Северной");
    a.sync_quiet();
    b.sync_quiet();
    let listed: serde_json::Value = serde_json::from_str(&a.ok(&["list", "-o", "json"])).unwrap();
    let first = listed[0]["number"].as_str().unwrap().to_owned();

    let backup = env.path("server.backup");
    back_up(&env, &backup);

    // Work the server confirms after the backup, which the restore takes away from it.
    b.ok(&["note", &first, "--text", "звонил в водоканал"]);
    a.ok(&["tag", &first, "--add", "после-копии"]);
    a.new_request("Яма у школы №5");
    a.sync_quiet();
    b.sync_quiet();
    a.sync_quiet();
    drop(server);

    restore(&env, &backup);
    let server = env.serve_with(&["--after-restore"]);
    assert!(
        server.log_text().contains("restored from a backup"),
        "{}",
        server.log_text()
    );
    let (a, b) = (
        env.console(&server, "a.sqlite3", "anna", &anna_token),
        env.console(&server, "b.sqlite3", "boris", &boris_token),
    );
    let back: serde_json::Value = serde_json::from_str(&a.ok(&["sync", "-o", "json"])).unwrap();
    assert_eq!(back["server_restored"], true, "{back}");
    a.sync_quiet();
    b.sync_quiet();
    a.sync_quiet();

    for c in [&a, &b] {
        let shown = c.show(&first);
        assert_eq!(notes(&shown), ["звонил в водоканал"], "{shown}");
        assert_eq!(tags(&shown), ["после-копии"], "{shown}");
        assert_eq!(
            texts(&c.ok(&["list", "-o", "json"])),
            ["Нет воды на ул. Северной", "Яма у школы №5"],
            "{}",
            c.db.display()
        );
    }
    let summary = env.check(&[&a.db, &b.db]);
    assert_eq!((summary.requests, summary.notes), (2, 1), "{summary:?}");
    assert_eq!(summary.rejected, 0, "{summary:?}");
}

#[test]
fn the_restore_drill_on_sqlite_with_mcu_serve_backup() {
    drill(Backend::Sqlite);
}

#[test]
fn the_restore_drill_on_postgres_with_pg_dump() {
    drill(Backend::Postgres);
}

/// `mcu serve backup` copies only a server's store: a console's file is refused, untouched.
#[test]
fn a_console_file_is_no_server_store_to_back_up() {
    let env = Env::new(Backend::Sqlite);
    let token = env.add_user("anna", "operator");
    let server = env.serve();
    let a = env.console(&server, "a.sqlite3", "anna", &token);
    a.new_request("Не вывозят мусор");
    let out = env
        .mcu(&format!("sqlite:{}", a.db.display()))
        .args(["serve", "backup", "--out"])
        .arg(env.path("copy.sqlite3"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("не хранилище сервера"),
        "{out:?}"
    );
    assert!(!env.path("copy.sqlite3").exists());
    assert!(!env.path("copy.sqlite3.partial").exists());
}
