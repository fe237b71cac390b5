//! Scenario 26 (scaled to seconds): the operator's writes and sync's writes on one console
//! file at once. In this process the console's store takes operator actions in a tight loop
//! while its own sync loop runs; beside it, `mcu sync` processes run one after another on the
//! same file (separate connections: real lock contention), pulling the large stream of notes
//! another console keeps pushing. No error — SQLITE_BUSY or any — may reach the operator's
//! writes or the syncs; then everyone settles and the checker runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mcu_desk::domain::mutation::{Mutation, NewRequest, Op};
use mcu_desk::domain::{Catalog, Channel, ClockPolicy};
use mcu_desk::store::{Env as StoreEnv, Store};
use mcu_desk::sync::client::{Http, sync_once};
use mcu_desk::sync::runner;
use mcu_desk::testkit::contract::SCOPE;
use uuid::Uuid;

use crate::support::{Backend, Env};

const WINDOW: Duration = Duration::from_secs(3);
const BACKLOG: usize = 600;

async fn console(path: &std::path::Path) -> Store {
    let env = StoreEnv {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: true,
        now: Arc::new(chrono::Utc::now),
    };
    Store::open(path, env).await.unwrap()
}

fn note(request: Uuid, who: &str, body: String) -> Mutation {
    let op = Op::AddNote {
        note_id: Uuid::now_v7(),
        body,
    };
    Mutation::new(request, who, chrono::Utc::now(), op)
}

/// Sync rounds for every console until a whole pass moves nothing.
pub async fn settle(consoles: &[(&Store, &Http)]) {
    for _ in 0..20 {
        let mut moved = false;
        for (store, link) in consoles {
            let r = sync_once(store, *link, SCOPE).await.unwrap();
            moved |= r.pushed > 0 || r.pulled > 0 || r.pending > 0;
        }
        if !moved {
            return;
        }
    }
    panic!("the consoles did not settle in 20 passes");
}

fn ui_and_sync_writes_on_one_file(backend: Backend) {
    let env = Env::new(backend);
    let anna_token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "operator");
    let server = env.serve();
    let a_cli = env.console(&server, "a.sqlite3", "anna", &anna_token);
    let b_file = env.path("b.sqlite3");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (ui_writes, ui_errors, slowest, syncs, notes_sent) = rt.block_on(async {
        let a = console(&a_cli.db).await;
        let b = console(&b_file).await;
        let a_link = Http::new(&server.base, &anna_token).unwrap();
        let b_link = Http::new(&server.base, &boris_token).unwrap();
        // Boris registers three requests; both consoles have them before the window opens.
        let mut requests = vec![];
        for i in 0..3 {
            let id = Uuid::now_v7();
            let new = NewRequest::new(Channel::Phone, format!("Заявка {i}"), chrono::Utc::now());
            let m = Mutation::new(id, "boris", chrono::Utc::now(), Op::Create(Box::new(new)));
            b.apply(m).await.unwrap();
            requests.push(id);
        }
        settle(&[(&b, &b_link), (&a, &a_link)]).await;
        // A backlog on the server for A's first pulls in the window: pages of notes.
        for i in 0..BACKLOG {
            let m = note(requests[i % 3], "boris", format!("заметка {i}"));
            b.apply(m).await.unwrap();
        }
        sync_once(&b, &b_link, SCOPE).await.unwrap();

        let stop = Arc::new(AtomicBool::new(false));
        // Boris keeps pushing notes for the whole window: a stream for A to pull.
        let stream = {
            let (b, stop, requests) = (b.clone(), stop.clone(), requests.clone());
            let link = Http::new(&server.base, &boris_token).unwrap();
            tokio::spawn(async move {
                let mut sent = 0;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..10 {
                        let m = note(requests[sent % 3], "boris", format!("поток {sent}"));
                        b.apply(m).await.unwrap();
                        sent += 1;
                    }
                    sync_once(&b, &link, SCOPE).await.unwrap();
                }
                sent
            })
        };
        // `mcu sync` processes on A's file, one after another, for the whole window.
        let runs = Arc::new(AtomicUsize::new(0));
        let processes = {
            let (cli, stop, runs) = (a_cli.clone(), stop.clone(), runs.clone());
            tokio::task::spawn_blocking(move || {
                while !stop.load(Ordering::Relaxed) {
                    let out = cli.run(&["sync", "-o", "json"]);
                    assert!(
                        out.status.success(),
                        "mcu sync beside the console: {:?} {}",
                        out.status,
                        String::from_utf8_lossy(&out.stderr)
                    );
                    runs.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        // A's own sync loop on the console's store.
        let (status_tx, mut status_rx) = tokio::sync::mpsc::unbounded_channel();
        let kick = Arc::new(tokio::sync::Notify::new());
        let looped = tokio::spawn(runner::run(
            a.clone(),
            Http::new(&server.base, &anna_token).unwrap(),
            SCOPE.to_owned(),
            status_tx,
            kick.clone(),
        ));

        // The operator, as fast as the store takes it.
        let started = Instant::now();
        let (mut writes, mut errors, mut slowest) = (0usize, vec![], Duration::ZERO);
        // At least the window, and at least two whole `mcu sync` runs beside the operator.
        while started.elapsed() < WINDOW || runs.load(Ordering::SeqCst) < 2 {
            assert!(
                started.elapsed() < WINDOW * 10,
                "mcu sync runs do not finish"
            );
            let request = requests[writes % 3];
            let tag = format!("u{}", writes % 7);
            let op = match writes % 3 {
                0 => Op::Tag { tag },
                1 => Op::Untag { tag },
                _ => Op::AddNote {
                    note_id: Uuid::now_v7(),
                    body: format!("оператор {writes}"),
                },
            };
            let t = Instant::now();
            if let Err(e) = a
                .apply(Mutation::new(request, "anna", chrono::Utc::now(), op))
                .await
            {
                errors.push(e.to_string());
            }
            slowest = slowest.max(t.elapsed());
            writes += 1;
            kick.notify_one();
        }
        stop.store(true, Ordering::Relaxed);
        let sent = stream.await.unwrap();
        processes.await.unwrap();
        let runs = runs.load(Ordering::SeqCst);
        looped.abort();
        let _ = looped.await;
        while let Ok(s) = status_rx.try_recv() {
            assert!(s.error.is_none(), "the console's sync loop failed: {s:?}");
        }
        settle(&[(&b, &b_link), (&a, &a_link)]).await;
        (writes, errors, slowest, runs, sent)
    });
    eprintln!(
        "scenario 26 ({backend:?}): {ui_writes} operator writes (slowest {slowest:?}), \
         {syncs} mcu sync runs, {notes_sent} streamed notes"
    );
    assert!(
        ui_errors.is_empty(),
        "errors reached the operator: {ui_errors:?}"
    );
    assert!(
        ui_writes >= 100 && syncs >= 2,
        "{ui_writes} writes, {syncs} syncs"
    );
    let summary = env.check(&[&a_cli.db, &b_file]);
    assert!(summary.notes >= BACKLOG + notes_sent, "{summary:?}");
}

#[test]
fn operator_and_sync_writes_on_one_file_on_sqlite() {
    ui_and_sync_writes_on_one_file(Backend::Sqlite);
}

#[test]
fn operator_and_sync_writes_on_one_file_on_postgres() {
    ui_and_sync_writes_on_one_file(Backend::Postgres);
}
