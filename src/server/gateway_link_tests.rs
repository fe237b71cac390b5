//! The team gateway in process, with the server slow to hear of a send: a department that
//! answers its post meanwhile is still heard. In team mode a send's outcome is recorded in the
//! gateway's file only after the server has it, which takes as long as the server is away.

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};
use uuid::Uuid;

use super::gateway_link::ServerLink;
use super::local::{Local, Shared};
use super::sqlite::SqliteStore;
use crate::channels::gateway::{self, GatewayEvent};
use crate::channels::team::{LinkError, TeamLink};
use crate::channels::telegram::Telegram;
use crate::config::Config;
use crate::demo::sim::Simulator;
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::{Catalog, Channel, ClockPolicy, Status};
use crate::store::Store;
use crate::store::db::Env;
use crate::sync::client;
use crate::testkit::contract::operator;
use crate::wire::fence::{Claim, Fence, PartState};

const SCOPE: &str = "krasnodar";
const ECONOMY: i64 = -100_880_002;

/// The server's link, except that a send's outcome waits until `open` is notified; `reached`
/// says one is waiting.
struct Held {
    inner: Arc<ServerLink<SqliteStore>>,
    reached: Notify,
    open: watch::Receiver<bool>,
}

impl TeamLink for Held {
    fn acquire<'a>(
        &'a self,
        lease: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Result<i64, String>, LinkError>> {
        self.inner.acquire(lease, holder, ttl)
    }
    fn renew<'a>(
        &'a self,
        fence: &'a Fence,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, LinkError>> {
        self.inner.renew(fence, ttl)
    }
    fn release<'a>(&'a self, fence: &'a Fence) -> BoxFuture<'a, Result<(), LinkError>> {
        self.inner.release(fence)
    }
    fn cursor<'a>(&'a self, lease: &'a str) -> BoxFuture<'a, Result<Option<String>, LinkError>> {
        self.inner.cursor(lease)
    }
    fn flush<'a>(
        &'a self,
        fence: &'a Fence,
        cursor: Option<String>,
    ) -> BoxFuture<'a, Result<(), LinkError>> {
        self.inner.flush(fence, cursor)
    }
    fn claim<'a>(
        &'a self,
        fence: &'a Fence,
        message_id: Uuid,
        part_no: i64,
    ) -> BoxFuture<'a, Result<Claim, LinkError>> {
        self.inner.claim(fence, message_id, part_no)
    }
    fn finish<'a>(
        &'a self,
        fence: &'a Fence,
        message_id: Uuid,
        part_no: i64,
        parts: i64,
        state: PartState,
        external_id: Option<String>,
        tracked: bool,
    ) -> BoxFuture<'a, Result<(), LinkError>> {
        async move {
            self.reached.notify_one();
            let mut open = self.open.clone();
            let _ = open.wait_for(|o| *o).await;
            self.inner
                .finish(
                    fence,
                    message_id,
                    part_no,
                    parts,
                    state,
                    external_id,
                    tracked,
                )
                .await
        }
        .boxed()
    }
}

fn env() -> Env {
    Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: true,
        now: Arc::new(chrono::Utc::now),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_answering_before_the_server_has_heard_of_the_post_is_heard() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = Shared::new(SqliteStore::open(&d.join("server.sqlite3")).unwrap());

    // An operator's console takes a request by phone; the server's Telegram gateway has its
    // file in step and has looked for forwards once (the first look only marks where to start).
    let console = Store::open(&d.join("anna.sqlite3"), env()).await.unwrap();
    let anna = Local {
        server: server.clone(),
        who: operator("anna"),
    };
    let id = Uuid::now_v7();
    let act = |op| Mutation::new(id, "anna", chrono::Utc::now(), op);
    let new = NewRequest::new(
        Channel::Phone,
        "Прорвало трубу, ул. Мира 5",
        chrono::Utc::now(),
    );
    console.apply(act(Op::Create(Box::new(new)))).await.unwrap();
    client::sync_once(&console, &anna, SCOPE).await.unwrap();
    let sim = Simulator::quiet().await.unwrap();
    sim.open_chat(ECONOMY);
    let store = Store::open(&d.join("gateway.sqlite3"), env())
        .await
        .unwrap();
    let link = Arc::new(ServerLink::new(
        server.clone(),
        store.clone(),
        SCOPE,
        "telegram",
        false,
        Arc::new(Notify::new()),
    ));
    let pull = || client::pull_all(&store, link.transport.as_ref(), SCOPE);
    pull().await.unwrap();
    let mut opts = crate::cli::live::gateway_options(&Config::default(), d.join("files"));
    opts.rules
        .departments
        .insert("city_economy".into(), ECONOMY.to_string());
    let (chats, texts) = (opts.rules.departments.clone(), opts.rules.texts.clone());
    store.sweep_department_posts(chats, texts).await.unwrap();

    // Then the console forwards it to the department.
    let forward = Op::Forward {
        department: Some("city_economy".into()),
        note_id: Uuid::now_v7(),
        note: Some("Срочно".into()),
    };
    console.apply(act(forward)).await.unwrap();
    client::sync_once(&console, &anna, SCOPE).await.unwrap();
    pull().await.unwrap();

    let (open_tx, open) = watch::channel(false);
    let held = Arc::new(Held {
        inner: link,
        reached: Notify::new(),
        open,
    });
    let adapter = Arc::new(
        Telegram::new(
            &sim.api_url(),
            sim.token(),
            Duration::from_secs(1),
            Duration::from_secs(5),
        )
        .unwrap(),
    );
    let (events, mut heard) = mpsc::unbounded_channel();
    let (stop_tx, stop) = watch::channel(false);
    let running = tokio::spawn(gateway::run_team(
        store.clone(),
        adapter,
        opts,
        events,
        stop,
        held.clone(),
    ));

    // The post is in the group; the server has not yet been told it was sent.
    tokio::time::timeout(Duration::from_secs(30), held.reached.notified())
        .await
        .expect("the post sent");
    let posts = sim.sent().chats[&ECONOMY.to_string()].clone();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(posts[0].text.contains("Срочно"), "{}", posts[0].text);
    sim.inject_raw(json!({"message": {
        "message_id": 77,
        "from": {"id": 555, "is_bot": false, "first_name": "Диспетчер"},
        "chat": {"id": ECONOMY, "type": "supergroup", "title": "ЖКХ"},
        "date": chrono::Utc::now().timestamp(),
        "text": "Бригада на месте, к 18:00 устраним",
        "reply_to_message": {"message_id": posts[0].message_id,
                             "chat": {"id": ECONOMY, "type": "supergroup"}, "date": 0},
    }}));
    let ingested = async {
        while let Some(e) = heard.recv().await {
            eprintln!("{e:?}");
            if let GatewayEvent::Ingested(r) = e
                && r.ignored + r.appended > 0
            {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), ingested)
        .await
        .expect("the department's reply ingested");
    let r = store.resolve(&id.to_string()).await.unwrap();
    assert_eq!(r.status, Status::InWork, "the answer was taken: {r:?}");

    open_tx.send_replace(true);
    stop_tx.send_replace(true);
    running.await.unwrap().unwrap();
    sim.shutdown().await;
}
