//! Scenario 13 (docs/sync-protocol.md): the server goes back to an earlier point; consoles work on.
//! Actions it had confirmed after that point are handed back and sent again; what it no
//! longer has (a request whose console is gone) leaves the other consoles; everyone ends
//! equal to the restored server, and the checker finds nothing lost (I1) and all converged (I3).

use uuid::Uuid;

use super::client::sync_once;
use super::tests::{SCOPE, act, console, link, team};
use crate::domain::Channel;
use crate::domain::mutation::{NewRequest, Op};
use crate::server::local::{Local, Shared};
use crate::server::sqlite::SqliteStore;
use crate::store::Store;
use crate::testkit::contract::operator;

async fn quiet(store: &Store, link: &Local<SqliteStore>) {
    for _ in 0..10 {
        let r = sync_once(store, link, SCOPE).await.expect("synced");
        if r.pushed == 0 && r.pending == 0 && r.pulled == 0 {
            return;
        }
    }
    panic!("still syncing after 10 rounds");
}

async fn create(store: &Store, who: &str, text: &str) -> Uuid {
    let id = Uuid::now_v7();
    let new = NewRequest::new(Channel::Phone, text, chrono::Utc::now());
    act(store, who, id, Op::Create(Box::new(new))).await;
    id
}

async fn note(store: &Store, who: &str, id: Uuid, body: &str) {
    act(
        store,
        who,
        id,
        Op::AddNote {
            note_id: Uuid::now_v7(),
            body: body.into(),
        },
    )
    .await;
}

async fn exists(store: &Store, id: Uuid) -> bool {
    store.resolve(&id.to_string()).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restored_to_an_earlier_point_gets_back_what_consoles_had_confirmed() {
    let t = team().await;
    let dir = t._dir.path().to_path_buf();
    let c = console(&dir, "c").await;
    let (anna, boris, vera) = (
        link(&t.server, operator("anna")),
        link(&t.server, operator("boris")),
        link(&t.server, operator("vera")),
    );
    let first = create(&t.a, "anna", "Нет воды на ул. Северной").await;
    act(&t.a, "anna", first, Op::Claim).await;
    quiet(&t.a, &anna).await;
    quiet(&t.b, &boris).await;
    quiet(&c, &vera).await;

    // The backup the server will be restored from.
    let backup = dir.join("server.backup.sqlite3");
    crate::testkit::raw_file::sqlite_backup(&dir.join("server.sqlite3"), &backup);

    // Work the server confirms after the backup.
    let second = create(&t.a, "anna", "Яма у школы №5").await;
    act(
        &t.a,
        "anna",
        first,
        Op::Tag {
            tag: "после-копии".into(),
        },
    )
    .await;
    note(&t.a, "anna", first, "звонил в водоканал").await;
    quiet(&t.a, &anna).await;
    quiet(&t.b, &boris).await;
    note(&t.b, "boris", second, "передано дорожникам").await;
    quiet(&t.b, &boris).await;
    // A console that is then gone for good: its request lives on the server only until the
    // restore.
    let gone = create(&c, "vera", "Упало дерево").await;
    quiet(&c, &vera).await;
    quiet(&t.b, &boris).await;
    assert!(exists(&t.b, gone).await);
    drop(c);

    // The restore: the server's file as it was at the backup.
    let restored = Shared::new(SqliteStore::open(&backup).unwrap());
    let anna = link(&restored, operator("anna"));
    let boris = link(&restored, operator("boris"));
    quiet(&t.a, &anna).await;
    quiet(&t.b, &boris).await;
    // Boris's note came back after Anna's round: one more for her.
    quiet(&t.a, &anna).await;

    for s in [&t.a, &t.b] {
        assert!(exists(s, second).await, "the re-sent request is everywhere");
        assert!(
            !exists(s, gone).await,
            "what the server lost and nobody re-sent is gone"
        );
        let d = s.detail(&first.to_string()).await.unwrap();
        assert!(
            d.request.tags.contains("после-копии"),
            "{:?}",
            d.request.tags
        );
        assert!(d.notes.iter().any(|n| n.body == "звонил в водоканал"));
        let d = s.detail(&second.to_string()).await.unwrap();
        assert!(d.notes.iter().any(|n| n.body == "передано дорожникам"));
        let (resetting, pending) = s.reset_state().await.unwrap();
        assert!(!resetting, "the reset finished");
        assert_eq!(pending, 0);
    }
    let summary = crate::testkit::checker::assert_all(
        &restored.store,
        SCOPE,
        &[&dir.join("a.sqlite3"), &dir.join("b.sqlite3")],
    );
    assert_eq!(summary.requests, 2, "{summary:?}");
}
