//! Team-mode sync, measured in process (the engine and a real store behind the console's
//! `Transport`; no HTTP): a push+pull round of 1,000 actions, a new console's first pull of
//! them, and how long a change on console A takes to be on console B (A syncs, then B).
//! On SQLite (a file) and PostgreSQL (this process's throw-away cluster).

use std::sync::Arc;
use std::time::{Duration, Instant};

use mcu_desk::domain::mutation::{Mutation, NewRequest, Op};
use mcu_desk::domain::{Catalog, Channel, ClockPolicy};
use mcu_desk::server::contract::operator;
use mcu_desk::server::engine::Transactional;
use mcu_desk::server::local::{Local, Shared};
use mcu_desk::server::pg::PgStore;
use mcu_desk::server::pg_cluster::PgCluster;
use mcu_desk::server::sqlite::SqliteStore;
use mcu_desk::store::{Env, Store};
use mcu_desk::sync::client::sync_once;
use uuid::Uuid;

const SCOPE: &str = "bench";
const ACTIONS: usize = 1000;
const CROSSINGS: usize = 200;

async fn console(dir: &std::path::Path, name: &str) -> Store {
    let env = Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: true,
        now: Arc::new(chrono::Utc::now),
    };
    Store::open(&dir.join(format!("{name}.sqlite3")), env)
        .await
        .expect("console store")
}

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn measure<S: Transactional + Send + Sync + 'static>(name: &str, store: S) {
    let dir = tempfile::tempdir().unwrap();
    let server = Shared::new(store);
    let a = console(dir.path(), "a").await;
    let b = console(dir.path(), "b").await;
    let ta = Local {
        server: server.clone(),
        who: operator("anna"),
    };
    let tb = Local {
        server: server.clone(),
        who: operator("boris"),
    };
    let id = Uuid::now_v7();
    let act = |op: Op| Mutation::new(id, "anna", chrono::Utc::now(), op);
    let new = NewRequest::new(Channel::Phone, "Нагрузка", chrono::Utc::now());
    a.apply(act(Op::Create(Box::new(new)))).await.unwrap();
    for i in 1..ACTIONS {
        a.apply(act(Op::AddNote {
            note_id: Uuid::now_v7(),
            body: format!("заметка {i}"),
        }))
        .await
        .unwrap();
    }
    let t = Instant::now();
    let r = sync_once(&a, &ta, SCOPE).await.unwrap();
    let round = t.elapsed();
    assert_eq!(r.pushed, ACTIONS);
    let t = Instant::now();
    let r = sync_once(&b, &tb, SCOPE).await.unwrap();
    let first = t.elapsed();
    assert!(r.pulled >= ACTIONS);

    let mut crossing = vec![];
    for i in 0..CROSSINGS {
        let t = Instant::now();
        a.apply(act(Op::Tag {
            tag: format!("t{i}"),
        }))
        .await
        .unwrap();
        sync_once(&a, &ta, SCOPE).await.unwrap();
        sync_once(&b, &tb, SCOPE).await.unwrap();
        crossing.push(t.elapsed());
    }
    let seen = b.resolve(&id.to_string()).await.unwrap();
    assert_eq!(seen.tags.len(), CROSSINGS);
    println!(
        "{name:<11} push+pull of {ACTIONS} actions: {:>7.1} ms | new console's first pull of them: {:>7.1} ms | A→B: p50 {:.1} ms, p95 {:.1} ms",
        round.as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e3,
        pct(crossing.clone(), 0.5).as_secs_f64() * 1e3,
        pct(crossing, 0.95).as_secs_f64() * 1e3,
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("server.sqlite3")).unwrap();
    rt.block_on(measure("SQLite", sqlite));
    let url = rt
        .block_on(PgCluster::shared().fresh_database())
        .expect("PostgreSQL");
    let pg = rt.block_on(PgStore::connect(&url)).unwrap();
    rt.block_on(measure("PostgreSQL", pg));
}
