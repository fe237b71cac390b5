//! Scenario 28: an upgrade with actions still queued. A console works offline under the
//! previous schema — its file eleven migrations back, as the program before those versions left
//! it — then the new program opens it (migrating it) and syncs: every queued action reaches
//! the server once, the console's file ends equal to the server's, the checker passes.

use mcu_desk::store::schema::SCHEMA_VERSION;
use rusqlite::Connection;

use crate::support::{Backend, Console, Env, tags};

/// Takes the last eleven migrations back out of `db`: what a console of the version before
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
        "DROP INDEX request_feedback_due;
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
        SCHEMA_VERSION - 11
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
