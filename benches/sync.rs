//! Team-mode sync on SQLite (a file) and PostgreSQL (this process's throw-away cluster), in
//! three parts (`MCU_BENCH_SYNC=local,http,first` picks them; all by default):
//!
//! - `local`: in process, the engine and a real store behind the console's `Transport` (no
//!   HTTP): a push+pull round of 1,000 actions, a new console's first pull of them, and how
//!   long a change on console A takes to be on console B (A syncs, then B).
//! - `http`: the same against `mcu serve` (the binary, its own process) on a loopback port,
//!   through the console's `Http` transport; A→B runs as the console does: A's sync loop
//!   kicked by the action, B's kicked by the server's poke stream (SSE).
//! - `first`: a new console's first sync over HTTP against a server holding a city's year
//!   (`MCU_BENCH_SYNC_N` requests, default 400,000, with their replies, notes and events; see
//!   `sync/seed.rs`, cached in `bench-data/`, `MCU_BENCH_SYNC_DB` names an existing file).
//!
//! `MCU_BENCH_SYNC=seed` only builds the seeded server file.
//! `MCU_BENCH_SYNC_BACKENDS=sqlite,postgres` picks the server stores.

#[path = "common/cache.rs"]
mod cache;
#[path = "sync/seed.rs"]
mod seed;
#[path = "common/serve.rs"]
mod serve;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mcu_desk::domain::mutation::{Mutation, NewRequest, Op};
use mcu_desk::domain::{Catalog, Channel, ClockPolicy};
use mcu_desk::server::accounts;
use mcu_desk::server::engine::{Role, Transactional};
use mcu_desk::server::local::{Local, Shared};
use mcu_desk::server::pg::PgStore;
use mcu_desk::server::sqlite::SqliteStore;
use mcu_desk::store::{Env, Filter, Sort, Store};
use mcu_desk::sync::client::{Http, Transport, sync_once};
use mcu_desk::sync::runner::{self, SyncStatus};
use mcu_desk::testkit::contract::operator;
use mcu_desk::testkit::pg_cluster::PgCluster;
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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A's 1,000 actions, pushed and pulled, then pulled by a new console B. Returns the request
/// and both timings.
async fn round<T: Transport>(a: &Store, ta: &T, b: &Store, tb: &T) -> (Uuid, Duration, Duration) {
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
    let r = sync_once(a, ta, SCOPE).await.unwrap();
    let round = t.elapsed();
    assert_eq!(r.pushed, ACTIONS);
    let t = Instant::now();
    let r = sync_once(b, tb, SCOPE).await.unwrap();
    let first = t.elapsed();
    assert!(r.pulled >= ACTIONS);
    (id, round, first)
}

fn tag(id: Uuid, i: usize) -> Mutation {
    Mutation::new(
        id,
        "anna",
        chrono::Utc::now(),
        Op::Tag {
            tag: format!("t{i}"),
        },
    )
}

fn report(name: &str, how: &str, round: Duration, first: Duration, crossing: Vec<Duration>) {
    println!(
        "{name:<11} {how:<10} push+pull of {ACTIONS} actions: {:>7.1} ms | new console's first pull of them: {:>7.1} ms | A→B: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        ms(round),
        ms(first),
        ms(pct(crossing.clone(), 0.5)),
        ms(pct(crossing.clone(), 0.95)),
        ms(pct(crossing, 1.0)),
    );
}

async fn in_process<S: Transactional + Send + Sync + 'static>(name: &str, store: S) {
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
    let (id, round_t, first) = round(&a, &ta, &b, &tb).await;
    let mut crossing = vec![];
    for i in 0..CROSSINGS {
        let t = Instant::now();
        a.apply(tag(id, i)).await.unwrap();
        sync_once(&a, &ta, SCOPE).await.unwrap();
        sync_once(&b, &tb, SCOPE).await.unwrap();
        crossing.push(t.elapsed());
    }
    let seen = b.resolve(&id.to_string()).await.unwrap();
    assert_eq!(seen.tags.len(), CROSSINGS);
    report(name, "in process", round_t, first, crossing);
}

/// `mcu serve` and the folder of its config and log.
struct Server {
    base: String,
    _serve: serve::Serve,
    _dir: tempfile::TempDir,
}

/// `mcu serve` on `db`; with `copy`, keeping the new consoles' file there (else none).
fn serve(db: &str, copy: Option<&std::path::Path>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mcu"));
    cmd.arg("--config")
        .arg(dir.path().join("config.toml"))
        .args(["--db", db, "serve", "--listen", "127.0.0.1:0"]);
    match copy {
        Some(p) => cmd.arg("--seed-db").arg(p),
        None => cmd.arg("--no-seed"),
    };
    cmd.env("MCU_SERVER_SCOPE", seed::SCOPE);
    let serve = serve::spawn(cmd, &dir.path().join("serve.log"));
    Server {
        base: serve.base.clone(),
        _serve: serve,
        _dir: dir,
    }
}

/// Waits for B's sync loop to report a round after which B shows `want` tags.
async fn until_tags(
    b: &Store,
    id: Uuid,
    status: &mut tokio::sync::mpsc::UnboundedReceiver<SyncStatus>,
    want: usize,
) {
    loop {
        let s = tokio::time::timeout(Duration::from_secs(10), status.recv())
            .await
            .expect("B syncs within 10 s")
            .expect("B's loop runs");
        assert!(s.error.is_none(), "B: {:?}", s.error);
        if b.resolve(&id.to_string()).await.unwrap().tags.len() >= want {
            return;
        }
    }
}

async fn over_http(name: &str, base: &str, anna: &str, boris: &str) {
    let dir = tempfile::tempdir().unwrap();
    let a = console(dir.path(), "a").await;
    let b = console(dir.path(), "b").await;
    let ta = Http::new(base, anna).unwrap();
    let tb = Http::new(base, boris).unwrap();
    let (id, round_t, first) = round(&a, &ta, &b, &tb).await;

    // The console's own loops: a round when the operator acts (A) or the server pokes (B),
    // and every second anyway.
    let mut loops = vec![];
    let mut statuses = vec![];
    let mut kicks = vec![];
    for (store, token) in [(&a, anna), (&b, boris)] {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let kick = Arc::new(tokio::sync::Notify::new());
        loops.push(tokio::spawn(runner::run(
            store.clone(),
            Http::new(base, token).unwrap(),
            SCOPE.into(),
            tx,
            kick.clone(),
        )));
        loops.push(tokio::spawn(runner::listen_pokes(
            base.into(),
            token.into(),
            SCOPE.into(),
            kick.clone(),
        )));
        statuses.push(rx);
        kicks.push(kick);
    }
    let mut b_status = statuses.pop().unwrap();
    // Let both loops finish their first rounds and the poke streams connect.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while b_status.try_recv().is_ok() {}
    let mut crossing = vec![];
    for i in 0..CROSSINGS {
        let t = Instant::now();
        a.apply(tag(id, i)).await.unwrap();
        kicks[0].notify_one();
        until_tags(&b, id, &mut b_status, i + 1).await;
        crossing.push(t.elapsed());
        // An operator's next action comes later than a machine's: let A's own poke-driven
        // round end, so each crossing starts from quiet consoles.
        tokio::time::sleep(Duration::from_millis(30)).await;
        while b_status.try_recv().is_ok() {}
    }
    for l in loops {
        l.abort();
    }
    report(name, "over HTTP", round_t, first, crossing);
}

fn accounts_on<S: Transactional>(store: &S) -> (String, String) {
    let now = chrono::Utc::now();
    let city = [SCOPE.to_string()];
    let anna = accounts::add(store, "anna", Role::Operator, &city, &[], now)
        .unwrap()
        .unwrap();
    let boris = accounts::add(store, "boris", Role::Operator, &city, &[], now)
        .unwrap()
        .unwrap();
    (anna, boris)
}

/// Waits until the server's file for new consoles holds the seeded history (a server that has
/// been running has it; one started on the seeded store builds it first, once: its time is
/// printed, and the file is kept beside the seeded store for the next run).
async fn wait_for_copy(base: &str, seeded: &std::path::Path) {
    let head: i64 = rusqlite::Connection::open(seeded)
        .unwrap()
        .query_row("SELECT max(seq) FROM change_log", [], |r| r.get(0))
        .unwrap();
    let started = Instant::now();
    let mut waited = false;
    loop {
        let health: serde_json::Value = reqwest::get(format!("{base}/health"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if health["seed_seq"].as_i64().is_some_and(|s| s >= head) {
            break;
        }
        waited = true;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if waited {
        eprintln!(
            "the server's file for new consoles caught up in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
}

/// A new console's first sync against the seeded server at `base`.
async fn first_sync(name: &str, base: &str, seeded: &std::path::Path, load: Option<Duration>) {
    let dir = tempfile::tempdir().unwrap();
    let c = console(dir.path(), "new").await;
    let t = Http::new(base, seed::READER_TOKEN).unwrap();
    let started = Instant::now();
    let r = sync_once(&c, &t, seed::SCOPE).await.expect("first sync");
    let took = started.elapsed();
    let count = |conn: &rusqlite::Connection, sql: &str| -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    };
    // The console's file read beside it: its store answers only the console's questions.
    let conn = rusqlite::Connection::open(dir.path().join("new.sqlite3")).unwrap();
    let got = [
        count(&conn, "SELECT count(*) FROM request"),
        count(&conn, "SELECT count(*) FROM message"),
        count(&conn, "SELECT count(*) FROM note"),
        count(&conn, "SELECT count(*) FROM event"),
    ];
    let server = rusqlite::Connection::open(seeded).unwrap();
    let want = [
        count(&server, "SELECT count(*) FROM request_doc"),
        count(
            &server,
            "SELECT count(*) FROM row_doc WHERE entity = 'message'",
        ),
        count(
            &server,
            "SELECT count(*) FROM row_doc WHERE entity = 'note'",
        ),
        count(
            &server,
            "SELECT count(*) FROM row_doc WHERE entity = 'event'",
        ),
    ];
    assert_eq!(
        got, want,
        "requests, messages, notes, events: console vs server"
    );
    // The search index came along too.
    let found = c
        .inbox(
            Filter {
                text: Some("открытый люк".into()),
                ..Default::default()
            },
            Sort::Received,
            None,
            50,
        )
        .await
        .unwrap();
    assert!(!found.rows.is_empty(), "search finds pulled requests");
    let [requests, messages, notes, events] = got;
    let size = std::fs::metadata(dir.path().join("new.sqlite3"))
        .map(|m| m.len())
        .unwrap_or(0)
        + std::fs::metadata(dir.path().join("new.sqlite3-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!(
        "{name:<11} first sync of a new console, server holding {requests} requests: {:.1} s \
         ({}; then {} patch entries; {requests} requests, {messages} messages, {notes} notes, {events} events; \
         console file {:.0} MB){}",
        took.as_secs_f64(),
        match r.from_copy {
            Some(n) => format!("from the server's copy of {n} requests"),
            None => "no copy: pulled everything".into(),
        },
        r.pulled,
        size as f64 / 1_048_576.0,
        load.map(|l| format!("; loading PostgreSQL took {:.0} s", l.as_secs_f64()))
            .unwrap_or_default(),
    );
}

fn main() {
    let parts = std::env::var("MCU_BENCH_SYNC").unwrap_or_else(|_| "local,http,first".into());
    let backends =
        std::env::var("MCU_BENCH_SYNC_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let want = |list: &str, x: &str| list.split(',').any(|p| p.trim() == x);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pg_url = || {
        rt.block_on(PgCluster::shared().fresh_database())
            .expect("PostgreSQL")
    };
    let tmp = tempfile::tempdir().unwrap();
    if want(&parts, "local") {
        if want(&backends, "sqlite") {
            let s = SqliteStore::open(&tmp.path().join("local.sqlite3")).unwrap();
            rt.block_on(in_process("SQLite", s));
        }
        if want(&backends, "postgres") {
            let pg = rt.block_on(PgStore::connect(&pg_url())).unwrap();
            rt.block_on(in_process("PostgreSQL", pg));
        }
    }
    if want(&parts, "http") {
        if want(&backends, "sqlite") {
            let path = tmp.path().join("http.sqlite3");
            let (anna, boris) = accounts_on(&SqliteStore::open(&path).unwrap());
            let server = serve(&format!("sqlite:{}", path.display()), None);
            rt.block_on(over_http("SQLite", &server.base, &anna, &boris));
        }
        if want(&backends, "postgres") {
            let url = pg_url();
            let pg = rt.block_on(PgStore::connect(&url)).unwrap();
            let (anna, boris) = accounts_on(&pg);
            drop(pg);
            let server = serve(&url, None);
            rt.block_on(over_http("PostgreSQL", &server.base, &anna, &boris));
        }
    }
    if want(&parts, "seed") {
        seed::server_db();
    }
    if want(&parts, "first") {
        let path = seed::server_db();
        let copy = |backend: &str| {
            let name = path
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .replace("server", "copy");
            path.with_file_name(format!("{name}-{backend}.sqlite3"))
        };
        if want(&backends, "sqlite") {
            let copy = copy("sqlite");
            let server = serve(&format!("sqlite:{}", path.display()), Some(&copy));
            rt.block_on(wait_for_copy(&server.base, &path));
            rt.block_on(first_sync("SQLite", &server.base, &path, None));
        }
        if want(&backends, "postgres") {
            let url = pg_url();
            // The schema as the server makes it, then the seeded rows.
            drop(rt.block_on(PgStore::connect(&url)).unwrap());
            let t = Instant::now();
            let rows = rt.block_on(seed::copy_to_postgres(&path, &url));
            let load = t.elapsed();
            eprintln!(
                "copied {rows} rows into PostgreSQL in {:.0} s",
                load.as_secs_f64()
            );
            let copy = copy("postgres");
            let server = serve(&url, Some(&copy));
            rt.block_on(wait_for_copy(&server.base, &path));
            rt.block_on(first_sync("PostgreSQL", &server.base, &path, Some(load)));
        }
    }
}
