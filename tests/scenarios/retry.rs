//! Scenario 7: the server answers 503 for two minutes while 50 actions wait, then recovers,
//! and nobody touches the console again. The sync loop must retry on its own timer (not on
//! the next local write, PowerSync's stall) and drain the queue within one backoff period of
//! the recovery. Runs the real loop (`sync::runner::run`) on tokio's paused clock, so the two
//! minutes and the backoff are the real ones and take no wall time; the server is the
//! in-process one (`server::local`) with its `down` flag, on SQLite and on PostgreSQL.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use mcu_desk::domain::mutation::{Mutation, NewRequest, Op};
use mcu_desk::domain::{Catalog, Channel, ClockPolicy};
use mcu_desk::server::engine::Transactional;
use mcu_desk::server::local::{Local, Shared};
use mcu_desk::server::pg::PgStore;
use mcu_desk::server::sqlite::SqliteStore;
use mcu_desk::store::{Env, Store};
use mcu_desk::sync::client::{SyncError, Transport};
use mcu_desk::sync::runner::{self, SyncStatus};
use mcu_desk::testkit::checker;
use mcu_desk::testkit::contract::{SCOPE, operator};
use mcu_desk::testkit::pg_cluster::PgCluster;
use mcu_desk::wire::sync::{PullRequest, PullResponse, PushRequest, PushResponse};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{Duration, Instant};
use uuid::Uuid;

const WAITING: usize = 50;
const OUTAGE: Duration = Duration::from_secs(120);
/// The loop's longest wait (60 s) with its +25 % jitter.
const LONGEST_WAIT: Duration = Duration::from_secs(75);

/// Remembers when each push was tried (on the paused clock) and whether it got through.
struct Recorded<T> {
    inner: T,
    pushes: Arc<Mutex<Vec<(Instant, bool)>>>,
}

impl<T: Transport> Transport for Recorded<T> {
    async fn push(&self, req: PushRequest) -> Result<PushResponse, SyncError> {
        let r = self.inner.push(req).await;
        self.pushes
            .lock()
            .unwrap()
            .push((Instant::now(), r.is_ok()));
        r
    }

    async fn pull(&self, req: PullRequest) -> Result<PullResponse, SyncError> {
        self.inner.pull(req).await
    }
}

pub async fn console(path: &Path) -> Store {
    let env = Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: true,
        now: Arc::new(chrono::Utc::now),
    };
    Store::open(path, env).await.unwrap()
}

/// Read from the console's file beside its store: every journal row, sent or not.
fn journal_len(file: &Path) -> i64 {
    rusqlite::Connection::open(file)
        .unwrap()
        .query_row("SELECT count(*) FROM pending_mutation", [], |r| r.get(0))
        .unwrap()
}

async fn next(rx: &mut UnboundedReceiver<SyncStatus>) -> SyncStatus {
    rx.recv().await.expect("the sync loop is running")
}

/// Runs `f` on its own thread and fails the test if it takes more than `limit` of real time:
/// on the paused clock a loop that never retries would otherwise wait forever, and a tokio
/// timeout would fire early (the paused clock jumps whenever the runtime idles).
fn within(limit: std::time::Duration, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(())) => {}
        Ok(Err(p)) => std::panic::resume_unwind(p),
        Err(_) => panic!("no progress in {limit:?} of real time: the queue never drained"),
    }
}

async fn drains_on_the_timer<S: Transactional + Send + Sync + 'static>(
    server: Arc<Shared<S>>,
    file: PathBuf,
) {
    let store = console(&file).await;
    let id = Uuid::now_v7();
    let new = NewRequest::new(Channel::Phone, "Нет отопления", chrono::Utc::now());
    let m = Mutation::new(id, "anna", chrono::Utc::now(), Op::Create(Box::new(new)));
    store.apply(m).await.unwrap();
    let pushes = Arc::new(Mutex::new(vec![]));
    let link = Recorded {
        inner: Local {
            server: server.clone(),
            who: operator("anna"),
        },
        pushes: pushes.clone(),
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // Never rung: nothing but the loop's own timer may start a round here.
    let kick = Arc::new(tokio::sync::Notify::new());
    let sync = tokio::spawn(runner::run(store.clone(), link, SCOPE.to_owned(), tx, kick));
    let first = next(&mut rx).await;
    assert!(first.online && first.pending == 0, "{first:?}");

    server.down.store(true, Ordering::SeqCst);
    for i in 0..WAITING {
        let op = Op::Tag {
            tag: format!("t{i}"),
        };
        store
            .apply(Mutation::new(id, "anna", chrono::Utc::now(), op))
            .await
            .unwrap();
    }
    let written = journal_len(&file);
    let outage = Instant::now();
    let mut failed_rounds = 0;
    let last = loop {
        let s = next(&mut rx).await;
        assert!(
            !s.online,
            "a round got through while the server was down: {s:?}"
        );
        failed_rounds += 1;
        if outage.elapsed() >= OUTAGE {
            break s;
        }
    };
    assert_eq!(last.pending, WAITING as i64, "{last:?}");

    server.down.store(false, Ordering::SeqCst);
    let recovered = Instant::now();
    let s = next(&mut rx).await;
    let waited = recovered.elapsed();
    assert!(
        s.online && s.pending == 0,
        "the first round after the recovery drains the queue: {s:?}"
    );
    assert!(
        waited <= LONGEST_WAIT,
        "drained {waited:?} after the recovery, more than one backoff period"
    );
    assert_eq!(
        journal_len(&file),
        written,
        "nothing was written after the outage began: the timer did it"
    );

    let pushes = pushes.lock().unwrap().clone();
    let failed: Vec<Instant> = pushes.iter().filter(|p| !p.1).map(|p| p.0).collect();
    assert!(pushes.last().is_some_and(|p| p.1), "{pushes:?}");
    assert!(
        failed.len() >= 5 && failed.len() <= failed_rounds,
        "{} failed pushes in {OUTAGE:?} over {failed_rounds} rounds",
        failed.len()
    );
    for w in failed.windows(2) {
        let gap = w[1] - w[0];
        // Backing off (never spinning at the 1 s period), never waiting past the cap.
        assert!(
            gap >= Duration::from_millis(750) && gap <= LONGEST_WAIT,
            "a retry {gap:?} after the previous one: {failed:?}"
        );
    }
    let gaps: Vec<Duration> = failed.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.windows(2).take(3).all(|g| g[1] > g[0]),
        "the first waits grow: {gaps:?}"
    );
    sync.abort();
    let _ = sync.await;
}

/// Runs the scenario on a paused current-thread runtime of its own thread, then the checker.
fn scenario_7<S: Transactional + Send + Sync + 'static>(server: Arc<Shared<S>>, dir: &Path) {
    let file = dir.join("console.sqlite3");
    let (s, f) = (server.clone(), file.clone());
    within(std::time::Duration::from_secs(30), move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(drains_on_the_timer(s, f));
    });
    let summary = checker::assert_all(&server.store, SCOPE, &[&file]);
    assert_eq!(summary.applied, 1 + WAITING, "{summary:?}");
}

#[test]
fn the_queue_drains_on_the_timer_after_an_outage_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let server = Shared::new(SqliteStore::open(&dir.path().join("server.sqlite3")).unwrap());
    scenario_7(server, dir.path());
}

#[test]
fn the_queue_drains_on_the_timer_after_an_outage_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    // The store's connections live on a runtime of their own: the scenario's clock is paused.
    let pg = tokio::runtime::Runtime::new().unwrap();
    let url = pg
        .block_on(PgCluster::shared().fresh_database())
        .expect("a fresh PostgreSQL database");
    let store = pg.block_on(PgStore::connect(&url)).unwrap();
    scenario_7(Shared::new(store), dir.path());
}
