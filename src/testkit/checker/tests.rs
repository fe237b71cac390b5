//! The checker passes a team that synced, and names each kind of break when one is made by
//! hand in the server's or a console's file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::Connection;
use uuid::Uuid;

use super::{Summary, check};
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::{Catalog, Channel, ClockPolicy};
use crate::server::local::{Local, Shared};
use crate::server::sqlite::SqliteStore;
use crate::store::Store;
use crate::store::db::Env;
use crate::sync::client::sync_once;
use crate::testkit::contract::{SCOPE, operator};

struct Team {
    dir: tempfile::TempDir,
    server: Arc<Shared<SqliteStore>>,
    files: Vec<PathBuf>,
    request: Uuid,
}

impl Team {
    fn server_db(&self) -> Connection {
        Connection::open(self.dir.path().join("server.sqlite3")).unwrap()
    }

    fn console_db(&self, i: usize) -> Connection {
        Connection::open(&self.files[i]).unwrap()
    }

    fn check(&self) -> Result<Summary, String> {
        let files: Vec<&Path> = self.files.iter().map(PathBuf::as_path).collect();
        check(&self.server.store, SCOPE, &files).map_err(|v| v.to_string())
    }

    /// The violations, which must include one containing every one of `parts`.
    fn broken(&self, parts: &[&str]) -> String {
        let found = self.check().expect_err("the checker must find the break");
        assert!(
            found.lines().any(|l| parts.iter().all(|p| l.contains(p))),
            "no line with {parts:?} in:\n{found}"
        );
        found
    }
}

async fn store(path: &Path) -> Store {
    let env = Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: true,
        now: Arc::new(chrono::Utc::now),
    };
    Store::open(path, env).await.unwrap()
}

/// Anna registers, claims, tags and notes a request; Boris adds a note; both sync until quiet.
async fn team() -> Team {
    let dir = tempfile::tempdir().unwrap();
    let server = Shared::new(SqliteStore::open(&dir.path().join("server.sqlite3")).unwrap());
    let files = vec![dir.path().join("a.sqlite3"), dir.path().join("b.sqlite3")];
    let a = store(&files[0]).await;
    let b = store(&files[1]).await;
    let anna = Local {
        server: server.clone(),
        who: operator("anna"),
    };
    let boris = Local {
        server: server.clone(),
        who: operator("boris"),
    };
    let id = Uuid::now_v7();
    let act = |who: &str, op: Op| Mutation::new(id, who, chrono::Utc::now(), op);
    let new = NewRequest::new(Channel::Phone, "Упало дерево", chrono::Utc::now());
    a.apply(act("anna", Op::Create(Box::new(new))))
        .await
        .unwrap();
    a.apply(act("anna", Op::Claim)).await.unwrap();
    a.apply(act(
        "anna",
        Op::Tag {
            tag: "дерево".into(),
        },
    ))
    .await
    .unwrap();
    let note = |body: &str| Op::AddNote {
        note_id: Uuid::now_v7(),
        body: body.into(),
    };
    a.apply(act("anna", note("выехали"))).await.unwrap();
    sync_once(&a, &anna, SCOPE).await.unwrap();
    sync_once(&b, &boris, SCOPE).await.unwrap();
    b.apply(act("boris", note("спилили"))).await.unwrap();
    sync_once(&b, &boris, SCOPE).await.unwrap();
    sync_once(&a, &anna, SCOPE).await.unwrap();
    Team {
        dir,
        server,
        files,
        request: id,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synced_team_passes_and_is_counted() {
    let t = team().await;
    let s = t.check().unwrap();
    assert_eq!(
        (s.consoles, s.journaled, s.applied, s.rejected),
        (2, 5, 5, 0)
    );
    assert_eq!((s.requests, s.notes, s.messages), (1, 2, 0));
    assert!(s.events >= 3 && s.head > 0, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_action_and_an_unsent_one_are_named() {
    let t = team().await;
    t.server_db()
        .execute("DELETE FROM processed_mutation WHERE mutation_id = 3", [])
        .unwrap();
    t.broken(&["I1 console a.sqlite3", "journal #3", "tag", "not processed"]);
    t.console_db(1)
        .execute("UPDATE pending_mutation SET acked_at = NULL", [])
        .unwrap();
    t.broken(&[
        "I3 console b.sqlite3",
        "not quiesced",
        "1 action(s) not acked",
    ]);
    t.console_db(1)
        .execute("UPDATE meta SET value = '{}' WHERE key = 'sync_cookie'", [])
        .unwrap();
    t.broken(&["I5 console", "b.sqlite3", "unreadable", "cookie"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_that_differs_is_told_where() {
    let t = team().await;
    let b = t.console_db(1);
    b.execute("UPDATE request SET priority = 'urgent'", [])
        .unwrap();
    b.execute("DELETE FROM note WHERE body = 'выехали'", [])
        .unwrap();
    b.execute(
        "UPDATE event SET new = 'boris' WHERE field = 'assignee'",
        [],
    )
    .unwrap();
    let found = t.broken(&[
        "I3 console b.sqlite3",
        "priority: server \"normal\", console \"urgent\"",
    ]);
    assert!(
        found.contains("is missing") && found.contains("выехали"),
        "{found}"
    );
    assert!(
        found.contains("audit event on the console only") && found.contains("Some(\"boris\")"),
        "{found}"
    );
    assert!(!found.contains("console a.sqlite3"), "{found}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_server_history_is_named() {
    let t = team().await;
    let server = t.server_db();
    // An audit line claiming the request went from `new` straight to `answered`.
    server
        .execute(
            "UPDATE row_doc SET doc = json_set(doc, '$.new', 'answered')
             WHERE entity = 'event' AND json_extract(doc, '$.field') = 'status'",
            [],
        )
        .unwrap();
    t.broken(&["I4 server", "the audit ends at status answered"]);
    // A note logged twice, and the log no longer horizon+1..seq.
    let note: String = server
        .query_row(
            "SELECT entity_id FROM change_log WHERE entity = 'note' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    server
        .execute(
            "INSERT INTO change_log(scope_id, seq, entity, entity_id)
             SELECT ?1, seq + 5, 'note', ?2 FROM sync_scope WHERE scope_id = ?1",
            [SCOPE, &note],
        )
        .unwrap();
    t.broken(&["I2 server", &format!("note {note} again")]);
    t.broken(&["I5 server", "change_log is not exactly compacted_to+1..seq"]);
    t.broken(&["I5 server", "logged more than once"]);
    // A request whose version is not its last logged change.
    server
        .execute(
            "UPDATE request_doc SET version = version - 1 WHERE id = ?1",
            [t.request.to_string()],
        )
        .unwrap();
    t.broken(&[
        "I5 server",
        "version is not the seq of its last logged change",
    ]);
}
