//! Scenario 28: an upgrade with actions still queued. A console works offline under the
//! previous schema — its file twelve migrations back, as the program before those versions left
//! it — then the new program opens it (migrating it) and syncs: every queued action reaches
//! the server once, the console's file ends equal to the server's, the checker passes. And the
//! server upgraded in place: its store one migration back opens, migrates, and serves on.

use mcu_desk::store::schema::SCHEMA_VERSION;
use rusqlite::Connection;

use crate::support::{Backend, Console, Env, notes, tags};

/// Takes the last twelve migrations back out of `db`: what a console of the version before
/// them had (they only added tables and columns).
fn to_previous_schema(db: &std::path::Path) {
    let c = Connection::open(db).unwrap();
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        v as usize, SCHEMA_VERSION,
        "the file starts at the current schema"
    );
    c.execute_batch(&format!(
        "ALTER TABLE outbox DROP COLUMN files;
         DROP INDEX request_feedback_due;
         ALTER TABLE request DROP COLUMN feedback_asked;
         ALTER TABLE request DROP COLUMN feedback_helped;
         ALTER TABLE request DROP COLUMN feedback_at;
         ALTER TABLE outbox DROP COLUMN buttons;
         DROP TABLE saved_view;
         ALTER TABLE request DROP COLUMN escalated;
         DROP INDEX request_waiting;
         ALTER TABLE request DROP COLUMN waiting_since;
         ALTER TABLE request DROP COLUMN waiting_reminded;
         DROP INDEX request_incident;
         DROP INDEX request_place;
         DROP INDEX request_parent;
         DROP INDEX request_phone;
         ALTER TABLE request DROP COLUMN phone;
         DROP INDEX request_cell;
         ALTER TABLE request DROP COLUMN place_key;
         ALTER TABLE request DROP COLUMN cell_x;
         ALTER TABLE request DROP COLUMN cell_y;
         ALTER TABLE request DROP COLUMN is_incident;
         ALTER TABLE request DROP COLUMN incident_id;
         ALTER TABLE request DROP COLUMN ungrouped;
         DROP TABLE triage_suggestion;
         DROP TABLE triage_model;
         DROP TABLE quarantine;
         ALTER TABLE sync_rejection DROP COLUMN changed_by;
         ALTER TABLE sync_rejection DROP COLUMN changed_at;
         ALTER TABLE pending_mutation DROP COLUMN before;
         ALTER TABLE sync_rejection DROP COLUMN draft;
         PRAGMA user_version = {};",
        SCHEMA_VERSION - 12
    ))
    .unwrap();
}

fn upgrade_with_queued_actions(backend: Backend) {
    let env = Env::new(backend);
    let token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "operator");
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let offline = Console {
        db: env.path("a.sqlite3"),
        config: env.path("config.toml"),
        base: nowhere,
        user: "anna".into(),
        token: token.clone(),
    };
    let number = offline.new_request("Не вывезли мусор: правки до обновления");
    let expected: Vec<String> = (0..30).map(|i| format!("t{i:02}")).collect();
    for t in &expected {
        offline.ok(&["tag", &number, "--add", t]);
    }
    offline.ok(&[
        "note",
        &number,
        "--text",
        "Позвонили в УК, обещали к вечеру",
    ]);
    to_previous_schema(&offline.db);

    let server = env.serve();
    let anna = env.console(&server, "a.sqlite3", "anna", &token);
    anna.sync_quiet();
    let v: i64 = Connection::open(&anna.db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v as usize, SCHEMA_VERSION, "migrated on open");
    let boris = env.console(&server, "b.sqlite3", "boris", &boris_token);
    boris.sync_quiet();
    let listed: serde_json::Value =
        serde_json::from_str(&boris.ok(&["list", "-o", "json"])).unwrap();
    let on_server = listed[0]["number"].as_str().unwrap().to_owned();
    assert_eq!(tags(&boris.show(&on_server)), expected, "{backend:?}");
    let summary = env.check(&[&anna.db, &boris.db]);
    // The request, its 30 tags and the note.
    assert_eq!(summary.applied, 32, "{backend:?}: {summary:?}");
    assert_eq!(summary.rejected, 0, "{summary:?}");
}

#[test]
fn an_upgrade_with_actions_queued_by_the_previous_schema_on_sqlite() {
    upgrade_with_queued_actions(Backend::Sqlite);
}

#[test]
fn an_upgrade_with_actions_queued_by_the_previous_schema_on_postgres() {
    upgrade_with_queued_actions(Backend::Postgres);
}

/// Takes the server store's last migration back out (5: department accounts, which only
/// added a table): the store as the server of the version before left it.
fn server_to_previous_schema(env: &Env) {
    use mcu_desk::server::{pg, sqlite};
    assert_eq!(
        (sqlite::STORE_VERSION, pg::STORE_VERSION),
        (5, 5),
        "a new server migration: take it back here too"
    );
    let undo = "DROP TABLE account_department;";
    match env.backend {
        Backend::Sqlite => {
            let c = Connection::open(env.path("server.sqlite3")).unwrap();
            let v: i64 = c
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .unwrap();
            assert_eq!(v, 5, "the store starts at the current schema");
            c.execute_batch(&format!("{undo} PRAGMA user_version = 4;"))
                .unwrap();
        }
        Backend::Postgres => {
            let out = mcu_desk::testkit::pg_cluster::PgCluster::shared()
                .client("psql")
                .args([
                    "-X",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-d",
                    &env.db_url(),
                    "-c",
                ])
                .arg(format!(
                    "BEGIN; {undo} DELETE FROM schema_version WHERE version = 5; COMMIT;"
                ))
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
        }
    }
}

/// The server's schema version as its store records it.
fn server_version(env: &Env) -> i64 {
    match env.backend {
        Backend::Sqlite => Connection::open(env.path("server.sqlite3"))
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap(),
        Backend::Postgres => {
            let out = mcu_desk::testkit::pg_cluster::PgCluster::shared()
                .client("psql")
                .args(["-X", "-At", "-d", &env.db_url(), "-c"])
                .arg("SELECT max(version) FROM schema_version")
                .output()
                .unwrap();
            assert!(out.status.success(), "{out:?}");
            String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
        }
    }
}

/// A server upgraded in place: its store, made by the version before, opens under the new
/// program and migrates; the consoles' work from before is all there and work goes on.
fn server_upgrade(backend: Backend) {
    let env = Env::new(backend);
    let anna_token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "operator");
    let server = env.serve();
    let a = env.console(&server, "a.sqlite3", "anna", &anna_token);
    let b = env.console(&server, "b.sqlite3", "boris", &boris_token);
    let number = a.new_request("Не горит фонарь у дома 12");
    a.ok(&["note", &number, "--text", "до обновления"]);
    a.sync_quiet();
    b.sync_quiet();
    let listed: serde_json::Value = serde_json::from_str(&b.ok(&["list", "-o", "json"])).unwrap();
    let number = listed[0]["number"].as_str().unwrap().to_owned();
    drop(server);
    server_to_previous_schema(&env);
    assert_eq!(server_version(&env), 4);

    let server = env.serve();
    assert_eq!(server_version(&env), 5, "migrated on open");
    let (a, b) = (
        env.console(&server, "a.sqlite3", "anna", &anna_token),
        env.console(&server, "b.sqlite3", "boris", &boris_token),
    );
    b.ok(&["tag", &number, "--add", "после-обновления"]);
    b.sync_quiet();
    a.sync_quiet();
    let shown = a.show(&number);
    assert_eq!(tags(&shown), ["после-обновления"], "{shown}");
    assert_eq!(notes(&shown), ["до обновления"], "{shown}");
    let summary = env.check(&[&a.db, &b.db]);
    assert_eq!((summary.requests, summary.notes), (1, 1), "{summary:?}");
    assert_eq!(summary.rejected, 0, "{summary:?}");
}

#[test]
fn a_server_store_of_the_previous_schema_migrates_on_sqlite() {
    server_upgrade(Backend::Sqlite);
}

#[test]
fn a_server_store_of_the_previous_schema_migrates_on_postgres() {
    server_upgrade(Backend::Postgres);
}
