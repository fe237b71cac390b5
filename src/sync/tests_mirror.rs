//! What a console's file holds after syncing is what the server holds: the whole audit of a
//! request first heard of in a pull, the server's audit lines in place of the console's own,
//! nothing left of a refused action, and a round that ends although the operator keeps on.

use std::sync::atomic::{AtomicUsize, Ordering};

use uuid::Uuid;

use super::client::{SyncError, Transport, push_all, sync_once};
use super::tests::{SCOPE, Team, act, link, team};
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::{Channel, CloseReason};
use crate::store::Store;
use crate::testkit::contract::operator;
use crate::wire::sync::{PullRequest, PullResponse, PushRequest, PushResponse};

/// A link whose pulls bring one change at a time: every page boundary there is.
struct OneByOne<T>(T);

impl<T: Transport> Transport for OneByOne<T> {
    async fn push(&self, req: PushRequest) -> Result<PushResponse, SyncError> {
        self.0.push(req).await
    }

    async fn pull(&self, mut req: PullRequest) -> Result<PullResponse, SyncError> {
        req.limit = Some(1);
        self.0.pull(req).await
    }
}

/// (field, old, new) of the request's audit, in the order the console shows it.
async fn audit(store: &Store, id: Uuid) -> Vec<(String, Option<String>, Option<String>)> {
    let d = store.detail(&id.to_string()).await.unwrap();
    d.events
        .into_iter()
        .map(|e| (e.field, e.old, e.new))
        .collect()
}

fn line(
    field: &str,
    old: Option<&str>,
    new: Option<&str>,
) -> (String, Option<String>, Option<String>) {
    (field.into(), old.map(Into::into), new.map(Into::into))
}

async fn created_and_claimed(t: &Team) -> Uuid {
    let id = Uuid::now_v7();
    let new = NewRequest::new(Channel::Phone, "Открытый люк", chrono::Utc::now());
    act(&t.a, "anna", id, Op::Create(Box::new(new))).await;
    act(&t.a, "anna", id, Op::Claim).await;
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_new_to_a_request_gets_its_whole_audit_across_page_ends() {
    let t = team().await;
    let id = created_and_claimed(&t).await;
    sync_once(&t.a, &link(&t.server, operator("anna")), SCOPE)
        .await
        .unwrap();
    let boris = OneByOne(link(&t.server, operator("boris")));
    sync_once(&t.b, &boris, SCOPE).await.unwrap();
    let want = vec![
        line("created", None, Some("2026-000001")),
        line("status", Some("new"), Some("in_work")),
        line("assignee", None, Some("anna")),
    ];
    assert_eq!(audit(&t.b, id).await, want);
    assert_eq!(audit(&t.a, id).await, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_audit_and_times_replace_the_consoles_own() {
    let t = team().await;
    let (anna, boris) = (
        link(&t.server, operator("anna")),
        link(&t.server, operator("boris")),
    );
    let id = created_and_claimed(&t).await;
    let note = Uuid::now_v7();
    let body = "на месте".to_string();
    act(
        &t.a,
        "anna",
        id,
        Op::AddNote {
            note_id: note,
            body,
        },
    )
    .await;
    // Until the server answers, the console's own line carries its provisional number.
    assert_eq!(audit(&t.a, id).await[0].2.as_deref(), Some("2026-900001"));
    sync_once(&t.a, &anna, SCOPE).await.unwrap();
    sync_once(&t.b, &boris, SCOPE).await.unwrap();
    // Both tag the same word while apart; Boris's reaches the server first, so Anna's finds
    // nothing to change and writes no line there: her own line goes.
    act(
        &t.b,
        "boris",
        id,
        Op::Tag {
            tag: "люк".into()
        },
    )
    .await;
    act(
        &t.a,
        "anna",
        id,
        Op::Tag {
            tag: "люк".into()
        },
    )
    .await;
    sync_once(&t.b, &boris, SCOPE).await.unwrap();
    sync_once(&t.a, &anna, SCOPE).await.unwrap();
    sync_once(&t.b, &boris, SCOPE).await.unwrap();

    let mine = t.a.detail(&id.to_string()).await.unwrap();
    let theirs = t.b.detail(&id.to_string()).await.unwrap();
    assert_eq!(
        mine.events, theirs.events,
        "the same audit, times and actors included"
    );
    assert_eq!(mine.notes, theirs.notes, "the note at the server's time");
    let tags: Vec<&str> = mine
        .events
        .iter()
        .filter(|e| e.field == "tag")
        .map(|e| e.actor.as_str())
        .collect();
    assert_eq!(tags, ["boris"]);
    assert_eq!(
        audit(&t.a, id).await[0],
        line("created", None, Some("2026-000001"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_action_leaves_nothing_behind_on_the_console() {
    let t = team().await;
    let (anna, boris) = (
        link(&t.server, operator("anna")),
        link(&t.server, operator("boris")),
    );
    let id = Uuid::now_v7();
    let new = NewRequest::new(Channel::Telegram, "Нет света", chrono::Utc::now());
    act(&t.b, "boris", id, Op::Create(Box::new(new))).await;
    sync_once(&t.b, &boris, SCOPE).await.unwrap();
    sync_once(&t.a, &anna, SCOPE).await.unwrap();
    let before = t.a.detail(&id.to_string()).await.unwrap();

    // An operator's assignment is refused by the server (a lead's to make), though the
    // console applied it; nothing else changes the request, so no pull would bring it back.
    let assign = Op::Assign {
        assignee: Some("boris".into()),
    };
    act(&t.a, "anna", id, assign).await;
    assert_eq!(
        t.a.resolve(&id.to_string())
            .await
            .unwrap()
            .assignee
            .as_deref(),
        Some("boris")
    );
    let r = sync_once(&t.a, &anna, SCOPE).await.unwrap();
    assert_eq!(r.rejected[0].code, "forbidden");
    let after = t.a.detail(&id.to_string()).await.unwrap();
    assert_eq!(after.request.assignee, None);
    assert_eq!(after.events, before.events);

    // A reply to a request Boris closed meanwhile: refused, and gone from the thread and
    // from the queue of parts to send.
    let close = Op::Close {
        reason: CloseReason::Resolved,
    };
    act(&t.b, "boris", id, close).await;
    sync_once(&t.b, &boris, SCOPE).await.unwrap();
    let reply = Op::Reply {
        message_id: Uuid::now_v7(),
        body: "Уже едем".into(),
    };
    act(&t.a, "anna", id, reply).await;
    let r = sync_once(&t.a, &anna, SCOPE).await.unwrap();
    assert_eq!(r.rejected[0].code, "invalid_transition");
    let after = t.a.detail(&id.to_string()).await.unwrap();
    assert!(after.messages.is_empty(), "{:?}", after.messages);
    assert_eq!(after.request.status, crate::domain::Status::Closed);
    let queued: i64 = t.a.outbox_len().await.unwrap();
    assert_eq!(queued, 0);
    assert_eq!(
        after.events,
        t.b.detail(&id.to_string()).await.unwrap().events
    );
}

/// The operator acts again during every push (a busy console), up to a bound.
struct Busy<T> {
    inner: T,
    store: Store,
    request: Uuid,
    acted: AtomicUsize,
}

impl<T: Transport> Transport for Busy<T> {
    async fn push(&self, req: PushRequest) -> Result<PushResponse, SyncError> {
        if self.acted.fetch_add(1, Ordering::SeqCst) < 20 {
            let tag = format!("t{}", self.acted.load(Ordering::SeqCst));
            let m = Mutation::new(self.request, "anna", chrono::Utc::now(), Op::Tag { tag });
            self.store.apply(m).await.unwrap();
        }
        self.inner.push(req).await
    }

    async fn pull(&self, req: PullRequest) -> Result<PullResponse, SyncError> {
        self.inner.pull(req).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_pushes_what_waited_when_it_began() {
    let t = team().await;
    let id = created_and_claimed(&t).await;
    let busy = Busy {
        inner: link(&t.server, operator("anna")),
        store: t.a.clone(),
        request: id,
        acted: AtomicUsize::new(0),
    };
    let (pushed, _) = push_all(&t.a, &busy, SCOPE).await.unwrap();
    assert_eq!(
        pushed, 2,
        "the creation and the claim; the tag made meanwhile waits"
    );
    let waiting = t.a.pending_count().await.unwrap();
    assert_eq!(waiting, 1);
}
