//! Scenario 12 end to end (and 13 below): a console file is backed up while 200 actions wait; they are synced
//! and more work follows; then the file is restored from the backup and new actions are made.
//! Its journal ids now repeat ids the server already took for other actions: the server must
//! not answer "already applied" for the new ones. The console takes a new client id, pushes
//! again, the server dedups by uuid, and the new actions land.

use rusqlite::{Connection, OptionalExtension};

use crate::support::{Backend, Env, notes, put_back, tags};

const WAITING: usize = 200;

fn meta(db: &std::path::Path, key: &str) -> Option<String> {
    let c = Connection::open(db).unwrap();
    c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
        .unwrap()
}

fn unacked(db: &std::path::Path) -> i64 {
    let c = Connection::open(db).unwrap();
    c.query_row(
        "SELECT count(*) FROM pending_mutation WHERE acked_at IS NULL",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn restored_console_repushes_under_a_new_id(backend: Backend) {
    let env = Env::new(backend);
    let anna_token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "operator");
    let server = env.serve();
    let a = env.console(&server, "a.sqlite3", "anna", &anna_token);
    let b = env.console(&server, "b.sqlite3", "boris", &boris_token);
    a.new_request("Не вывозят мусор");
    a.sync_quiet();
    let listed: serde_json::Value = serde_json::from_str(&a.ok(&["list", "-o", "json"])).unwrap();
    let number = listed[0]["number"].as_str().unwrap().to_owned();

    // 200 actions waiting: an import of 200 requests, journaled one action each.
    let lines: String = (0..WAITING)
        .map(|i| {
            format!(
                "{{\"text\":\"Обращение {i}\",\"received_at\":\"{}\"}}\n",
                chrono::Utc::now().to_rfc3339()
            )
        })
        .collect();
    let file = env.path("import.jsonl");
    std::fs::write(&file, lines).unwrap();
    a.ok(&["import", file.to_str().unwrap()]);
    assert_eq!(unacked(&a.db), WAITING as i64);

    // The backup, taken with SQLite's own consistent copy (no console is running).
    let backup = env.path("a.backup.sqlite3");
    Connection::open(&a.db)
        .unwrap()
        .execute("VACUUM INTO ?1", [backup.to_str().unwrap()])
        .unwrap();
    let old_client = meta(&a.db, "sync_client_id").expect("a client id");

    // The 200 go to the server, and work goes on after the backup.
    a.sync_quiet();
    a.ok(&["tag", &number, "--add", "before-restore"]);
    a.ok(&["note", &number, "--text", "до восстановления"]);
    a.sync_quiet();

    // The file comes back from the backup, and the operator works on.
    put_back(&a.db, &backup);
    assert_eq!(
        unacked(&a.db),
        WAITING as i64,
        "the backup's 200 wait again"
    );
    a.ok(&["tag", &number, "--add", "after-restore"]);
    a.ok(&["note", &number, "--text", "после восстановления"]);
    a.sync_quiet();

    let new_client = meta(&a.db, "sync_client_id").expect("a client id");
    assert_ne!(
        new_client, old_client,
        "the restored console took a new client id"
    );
    assert_eq!(unacked(&a.db), 0);

    b.sync_quiet();
    let shown = b.show(&number);
    assert_eq!(tags(&shown), ["after-restore", "before-restore"], "{shown}");
    assert_eq!(
        notes(&shown),
        ["до восстановления", "после восстановления"],
        "{shown}"
    );
    let all: serde_json::Value =
        serde_json::from_str(&b.ok(&["list", "-o", "json", "--limit", "1000"])).unwrap();
    assert_eq!(all.as_array().unwrap().len(), WAITING + 1);

    let summary = env.check(&[&a.db, &b.db]);
    // In the journals now: the first request, the 200, and the two actions after the restore
    // (the two before it left the file with the restore; Boris shows them from the server).
    assert_eq!(summary.applied, 1 + WAITING + 2, "{summary:?}");
    assert_eq!(summary.rejected, 0, "{summary:?}");
    assert_eq!(summary.notes, 2, "{summary:?}");
}

#[test]
fn a_restored_console_repushes_under_a_new_id_on_sqlite() {
    restored_console_repushes_under_a_new_id(Backend::Sqlite);
}

#[test]
fn a_restored_console_repushes_under_a_new_id_on_postgres() {
    restored_console_repushes_under_a_new_id(Backend::Postgres);
}

/// Scenario 13 end to end: the server's store comes back from a backup and is started with
/// `--after-restore`; it runs on (a new console's work) before the others sync. They still
/// notice, send back what the backup lacks of their work, and end equal to the server.
#[test]
fn a_server_restored_from_a_backup_gets_back_the_consoles_work() {
    let env = Env::new(Backend::Sqlite);
    let anna_token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "operator");
    let vera_token = env.add_user("vera", "operator");
    let server = env.serve();
    let a = env.console(&server, "a.sqlite3", "anna", &anna_token);
    let b = env.console(&server, "b.sqlite3", "boris", &boris_token);
    a.new_request("Нет воды на ул. Северной");
    a.sync_quiet();
    b.sync_quiet();
    // The server's number, which replaced the console's provisional one.
    let listed: serde_json::Value = serde_json::from_str(&a.ok(&["list", "-o", "json"])).unwrap();
    let first = listed[0]["number"].as_str().unwrap().to_owned();
    drop(server);
    let backup = env.path("server.backup.sqlite3");
    Connection::open(env.path("server.sqlite3"))
        .unwrap()
        .execute("VACUUM INTO ?1", [backup.to_str().unwrap()])
        .unwrap();

    let server = env.serve();
    let (a, b) = (
        env.console(&server, "a.sqlite3", "anna", &anna_token),
        env.console(&server, "b.sqlite3", "boris", &boris_token),
    );
    a.new_request("Яма у школы №5");
    a.ok(&["note", &first, "--text", "звонил в водоканал"]);
    a.sync_quiet();
    b.sync_quiet();
    assert_eq!(notes(&b.show(&first)), ["звонил в водоканал"]);
    drop(server);

    put_back(&env.path("server.sqlite3"), &backup);
    let server = env.serve_with(&["--after-restore"]);
    let (a, b, v) = (
        env.console(&server, "a.sqlite3", "anna", &anna_token),
        env.console(&server, "b.sqlite3", "boris", &boris_token),
        env.console(&server, "v.sqlite3", "vera", &vera_token),
    );
    // The restored server runs on past where the others were before they come back.
    for i in 0..5 {
        v.new_request(&format!("Новое после восстановления {i}"));
    }
    let round = |c: &crate::support::Console| -> serde_json::Value {
        serde_json::from_str(&c.ok(&["sync", "-o", "json"])).unwrap()
    };
    let fresh = round(&v);
    assert_eq!(fresh["server_restored"], false, "a new console: {fresh}");
    v.sync_quiet();
    let back = round(&a);
    assert_eq!(back["server_restored"], true, "{back}");
    a.sync_quiet();
    b.sync_quiet();
    a.sync_quiet();
    v.sync_quiet();

    let shown = b.show(&first);
    assert_eq!(notes(&shown), ["звонил в водоканал"], "{shown}");
    let all: serde_json::Value =
        serde_json::from_str(&b.ok(&["list", "-o", "json", "--limit", "100"])).unwrap();
    let texts: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"Яма у школы №5"), "{texts:?}");
    assert_eq!(texts.len(), 7, "{texts:?}");
    let summary = env.check(&[&a.db, &b.db, &v.db]);
    assert_eq!(summary.requests, 7, "{summary:?}");
    assert_eq!(summary.notes, 1, "{summary:?}");
}

/// `--after-restore` on PostgreSQL (the store itself not rolled back): every console pulls
/// everything again under the new epoch, and nothing is lost or doubled.
#[test]
fn a_new_epoch_on_postgres_resets_every_console_and_loses_nothing() {
    let env = Env::new(Backend::Postgres);
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
    b.ok(&["note", &first, "--text", "принято"]);
    b.sync_quiet();
    a.sync_quiet();
    let epoch = |db: &std::path::Path| -> String {
        let cookie: serde_json::Value =
            serde_json::from_str(&meta(db, "sync_cookie").expect("a cookie")).unwrap();
        cookie["epoch"].as_str().unwrap().to_owned()
    };
    let before = epoch(&a.db);
    drop(server);

    let server = env.serve_with(&["--after-restore"]);
    let (a, b) = (
        env.console(&server, "a.sqlite3", "anna", &anna_token),
        env.console(&server, "b.sqlite3", "boris", &boris_token),
    );
    a.ok(&["tag", &first, "--add", "после-перезапуска"]);
    a.sync_quiet();
    b.sync_quiet();
    assert_ne!(epoch(&a.db), before, "the console follows the new epoch");
    assert_eq!(epoch(&a.db), epoch(&b.db));
    let shown = b.show(&first);
    assert_eq!(tags(&shown), ["после-перезапуска"], "{shown}");
    assert_eq!(notes(&shown), ["принято"], "{shown}");
    let summary = env.check(&[&a.db, &b.db]);
    assert_eq!((summary.requests, summary.notes), (1, 1), "{summary:?}");
}
