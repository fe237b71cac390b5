//! Two consoles (two database files) and one server in process: what one does reaches the
//! other, offline work arrives later, and a refusal comes back to the one who acted.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use uuid::Uuid;

use super::client::{SyncError, sync_once};
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::{Catalog, Channel, ClockPolicy};
use crate::server::local::{Local, Shared};
use crate::server::sqlite::SqliteStore;
use crate::store::Store;
use crate::store::db::Env;
use crate::testkit::contract::{lead, operator};

pub(super) const SCOPE: &str = "krasnodar";

pub(super) async fn console(dir: &std::path::Path, name: &str) -> Store {
    let env = Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: true,
        now: Arc::new(chrono::Utc::now),
    };
    Store::open(&dir.join(format!("{name}.sqlite3")), env)
        .await
        .unwrap()
}

pub(super) struct Team {
    pub _dir: tempfile::TempDir,
    pub server: Arc<Shared<SqliteStore>>,
    pub a: Store,
    pub b: Store,
}

/// A server and two consoles, each with its own file.
pub(super) async fn team() -> Team {
    let dir = tempfile::tempdir().unwrap();
    let server = Shared::new(SqliteStore::open(&dir.path().join("server.sqlite3")).unwrap());
    let a = console(dir.path(), "a").await;
    let b = console(dir.path(), "b").await;
    Team {
        _dir: dir,
        server,
        a,
        b,
    }
}

pub(super) fn link(
    server: &Arc<Shared<SqliteStore>>,
    who: crate::server::engine::Principal,
) -> Local<SqliteStore> {
    Local {
        server: server.clone(),
        who,
    }
}

pub(super) async fn act(store: &Store, who: &str, id: Uuid, op: Op) {
    store
        .apply(Mutation::new(id, who, chrono::Utc::now(), op))
        .await
        .expect("applied locally");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_on_one_console_shows_on_the_other_with_the_servers_number() {
    let Team { _dir, server, a, b } = team().await;
    let anna = link(&server, operator("anna"));
    let boris = link(&server, operator("boris"));
    let id = Uuid::now_v7();
    let new = NewRequest::new(Channel::Phone, "Звонок: нет воды", chrono::Utc::now());
    act(&a, "anna", id, Op::Create(Box::new(new))).await;
    act(&a, "anna", id, Op::Claim).await;
    // Until the server answers, the number is provisional.
    let local = a.resolve(&id.to_string()).await.unwrap();
    assert!(local.number.is_provisional());

    let r = sync_once(&a, &anna, SCOPE).await.unwrap();
    assert_eq!((r.pushed, r.pending), (2, 0));
    assert!(r.rejected.is_empty());
    let mine = a.resolve(&id.to_string()).await.unwrap();
    assert_eq!(
        mine.number.seq, 1,
        "the server's number replaced the provisional one"
    );

    sync_once(&b, &boris, SCOPE).await.unwrap();
    let theirs = b.resolve(&id.to_string()).await.unwrap();
    assert_eq!(theirs.assignee.as_deref(), Some("anna"));
    assert_eq!(theirs.number, mine.number);
    // The thread came along: the audit of the claim is on B too, and of the creation, which
    // the server logs ahead of the request it belongs to.
    let d = b.detail(&id.to_string()).await.unwrap();
    assert!(
        d.events.iter().any(|e| e.field == "assignee"),
        "{:?}",
        d.events
    );
    assert!(
        d.events.iter().any(|e| e.field == "created"),
        "{:?}",
        d.events
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_made_offline_arrive_when_the_server_is_back() {
    let Team { _dir, server, a, b } = team().await;
    let anna = link(&server, operator("anna"));
    let boris = link(&server, operator("boris"));
    let id = Uuid::now_v7();
    let new = NewRequest::new(Channel::Phone, "Яма", chrono::Utc::now());
    act(&a, "anna", id, Op::Create(Box::new(new))).await;
    sync_once(&a, &anna, SCOPE).await.unwrap();

    server.down.store(true, Ordering::SeqCst);
    for i in 0..100 {
        act(
            &a,
            "anna",
            id,
            Op::Tag {
                tag: format!("t{i}"),
            },
        )
        .await;
    }
    assert!(matches!(
        sync_once(&a, &anna, SCOPE).await,
        Err(SyncError::Unavailable(_))
    ));
    assert_eq!(a.pending_count().await.unwrap(), 100);
    // The operator still sees their own edits while offline.
    assert_eq!(a.resolve(&id.to_string()).await.unwrap().tags.len(), 100);

    server.down.store(false, Ordering::SeqCst);
    let r = sync_once(&a, &anna, SCOPE).await.unwrap();
    assert_eq!((r.pushed, r.pending), (100, 0));
    sync_once(&b, &boris, SCOPE).await.unwrap();
    assert_eq!(b.resolve(&id.to_string()).await.unwrap().tags.len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_change_comes_back_with_the_current_value() {
    let Team { _dir, server, a, b } = team().await;
    let anna = link(&server, operator("anna"));
    let lena = link(&server, lead("lena"));
    let id = Uuid::now_v7();
    let new = NewRequest::new(Channel::Phone, "Дорога", chrono::Utc::now());
    act(&a, "anna", id, Op::Create(Box::new(new))).await;
    sync_once(&a, &anna, SCOPE).await.unwrap();
    sync_once(&b, &lena, SCOPE).await.unwrap();
    // Both re-route the same version while apart; the lead syncs first.
    let to = |d: &str| Op::SetDepartment {
        department: Some(d.into()),
    };
    act(&b, "lena", id, to("transport_roads")).await;
    act(&a, "anna", id, to("city_economy")).await;
    sync_once(&b, &lena, SCOPE).await.unwrap();
    let r = sync_once(&a, &anna, SCOPE).await.unwrap();
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].code, "stale_base");
    assert_eq!(
        r.rejected[0].current.as_ref().unwrap()["department"],
        "transport_roads"
    );
    // A's screen now shows the server's department, and the refusal waits to be shown once.
    let now = a.resolve(&id.to_string()).await.unwrap();
    assert_eq!(now.department.as_deref(), Some("transport_roads"));
    let shown = a.take_rejections().await.unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(
        shown[0].number.as_deref(),
        Some(now.number.to_string().as_str())
    );
    // Who made the department what it is, kept on the file with the refusal.
    assert_eq!(shown[0].changed_by.as_deref(), Some("lena"));
    assert!(shown[0].changed_at.is_some(), "{:?}", shown[0]);
    assert!(a.take_rejections().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_console_keeps_pulling_after_its_actions_are_refused() {
    let Team { _dir, server, a, b } = team().await;
    let anna = link(&server, operator("anna"));
    let wall = link(
        &server,
        crate::server::engine::Principal {
            user: "wall".into(),
            role: crate::server::engine::Role::Viewer,
            departments: None,
        },
    );
    let id = Uuid::now_v7();
    let new = NewRequest::new(Channel::Phone, "Нет света", chrono::Utc::now());
    act(&a, "anna", id, Op::Create(Box::new(new))).await;
    sync_once(&a, &anna, SCOPE).await.unwrap();

    // Something typed at the read-only console: refused once, shown, and out of the way.
    sync_once(&b, &wall, SCOPE).await.unwrap();
    act(&b, "wall", id, Op::Claim).await;
    assert_eq!(
        b.resolve(&id.to_string())
            .await
            .unwrap()
            .assignee
            .as_deref(),
        Some("wall"),
        "taken here at first"
    );
    let r = sync_once(&b, &wall, SCOPE).await.unwrap();
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].code, "read_only");
    assert_eq!(r.pending, 0);
    // Refused, so undone here too (#15 item 6): no phantom claim on this screen.
    let undone = b.resolve(&id.to_string()).await.unwrap();
    assert_eq!(undone.assignee, None);
    assert_eq!(undone.status, crate::domain::Status::New);

    // What others do still arrives.
    act(&a, "anna", id, Op::Claim).await;
    sync_once(&a, &anna, SCOPE).await.unwrap();
    sync_once(&b, &wall, SCOPE).await.unwrap();
    let seen = b.resolve(&id.to_string()).await.unwrap();
    assert_eq!(seen.assignee.as_deref(), Some("anna"));
}

/// Issue #15 item 6: a reply the server refuses (someone else has the request) comes off this
/// file — no phantom answered state, no message that never went — and its text is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_reply_is_undone_here_and_its_text_kept_as_a_draft() {
    let Team { _dir, server, a, b } = team().await;
    let anna = link(&server, operator("anna"));
    let boris = link(&server, operator("boris"));
    let id = Uuid::now_v7();
    let new = NewRequest::new(Channel::Phone, "Нет света", chrono::Utc::now());
    act(&a, "anna", id, Op::Create(Box::new(new))).await;
    sync_once(&a, &anna, SCOPE).await.unwrap();
    sync_once(&b, &boris, SCOPE).await.unwrap();

    act(&a, "anna", id, Op::Claim).await;
    sync_once(&a, &anna, SCOPE).await.unwrap();
    // Boris, not yet seeing anna's claim, answers.
    act(
        &b,
        "boris",
        id,
        Op::Reply {
            message_id: Uuid::now_v7(),
            body: "Электрик придёт сегодня".into(),
        },
    )
    .await;
    assert_eq!(
        b.resolve(&id.to_string()).await.unwrap().status,
        crate::domain::Status::Answered
    );
    let r = sync_once(&b, &boris, SCOPE).await.unwrap();
    assert_eq!(r.rejected.len(), 1, "{r:?}");
    let now = b.resolve(&id.to_string()).await.unwrap();
    assert_eq!(now.assignee.as_deref(), Some("anna"));
    assert_eq!(now.status, crate::domain::Status::InWork);
    assert!(now.first_response_at().is_none());
    let d = b.detail(&id.to_string()).await.unwrap();
    assert!(d.messages.is_empty(), "{:?}", d.messages);
    assert!(
        d.events.iter().all(|e| e.actor != "boris"),
        "{:?}",
        d.events
    );
    let shown = b.take_rejections().await.unwrap();
    assert_eq!(shown[0].draft.as_deref(), Some("Электрик придёт сегодня"));
    let at = shown[0].changed_at.expect("when anna took it");
    assert_eq!(
        crate::present::refusal::sync_refusal(
            &shown[0],
            &crate::domain::Catalog::krasnodar(),
            crate::lang::Lang::Ru,
            chrono_tz::UTC,
            at
        ),
        format!(
            "обращение назначено на anna, а не на вас — изменил(а) anna в {}",
            at.format("%H:%M")
        )
    );
}
