//! The property test (docs/sync-protocol.md scenario 30, scaled down): 2–6 consoles, each a console
//! file, take random operator actions and sync through a faulty link to one in-process server
//! (the real engine on the SQLite server store): push answers lost after the server applied
//! them, pushes sent twice, old push bodies delivered late (out of order), pulls or pushes
//! alone, lost pull answers, two rounds of one console at once, and console restarts (the
//! file reopened). After healing, every console syncs until a whole pass moves nothing, and
//! the checker (I1–I5) must pass.
//!
//! `MCU_PROPTEST_CASES` sets the number of cases (default 100). A failure is shrunk and its
//! seed kept by proptest in `proptest-regressions/`, so it replays on the next run. One
//! fixed-seed case also runs on PostgreSQL.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use mcu_desk::domain::mutation::{Mutation, NewRequest, Op};
use mcu_desk::domain::{Channel, CloseReason, Priority};
use mcu_desk::server::engine::{Principal, Transactional};
use mcu_desk::server::local::{Local, Shared};
use mcu_desk::server::pg::PgStore;
use mcu_desk::server::sqlite::SqliteStore;
use mcu_desk::store::Store;
use mcu_desk::sync::client::{SyncError, Transport, pull_all, push_all, sync_once};
use mcu_desk::testkit::checker;
use mcu_desk::testkit::contract::{SCOPE, lead, operator};
use mcu_desk::testkit::pg_cluster::PgCluster;
use mcu_desk::wire::sync::{PullRequest, PullResponse, PushRequest, PushResponse};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use uuid::Uuid;

use crate::retry::console;

const TOPICS: [&str; 3] = ["utilities", "roads", "waste"];
const DEPARTMENTS: [&str; 3] = ["city_economy", "transport_roads", "social"];
const TAGS: [&str; 3] = ["a", "b", "c"];

/// An operator action on the `n`-th request the console knows (modulo how many it knows).
#[derive(Debug, Clone)]
enum Action {
    Create,
    Claim(usize),
    Release(usize),
    Assign(usize, usize),
    Tag(usize, usize),
    Untag(usize, usize),
    Topic(usize, usize),
    Department(usize, usize),
    Priority(usize, usize),
    Note(usize),
    Reply(usize),
    Forward(usize),
    Answer(usize),
    Close(usize),
    Reopen(usize),
}

/// What the network does to one sync round.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    None,
    /// The server applies the push; its answer never arrives.
    LosePushAnswer,
    /// Every push of the round reaches the server twice.
    DuplicatePush,
    /// Only the push half of a round (the pull comes in a later step, if at all).
    PushOnly,
    /// Only the pull half.
    PullOnly,
    /// The pull is answered, the answer lost.
    LosePullAnswer,
}

#[derive(Debug, Clone)]
enum Step {
    Act(usize, Action),
    Sync(usize, Fault),
    /// The `k`-th most recent push body of a console arrives at the server again, late.
    Replay(usize, usize),
    /// The console program restarts: its file is closed and opened again.
    Restart(usize),
    /// Two rounds of one console at once (its sync loop and an `mcu sync`).
    Twice(usize),
}

#[derive(Debug, Clone)]
struct Case {
    consoles: usize,
    steps: Vec<Step>,
}

fn action() -> impl Strategy<Value = Action> {
    let n = 0..8usize;
    let k = 0..3usize;
    prop_oneof![
        2 => Just(Action::Create),
        2 => n.clone().prop_map(Action::Claim),
        1 => n.clone().prop_map(Action::Release),
        1 => (n.clone(), 0..6usize).prop_map(|(r, w)| Action::Assign(r, w)),
        2 => (n.clone(), k.clone()).prop_map(|(r, t)| Action::Tag(r, t)),
        1 => (n.clone(), k.clone()).prop_map(|(r, t)| Action::Untag(r, t)),
        1 => (n.clone(), k.clone()).prop_map(|(r, t)| Action::Topic(r, t)),
        1 => (n.clone(), k.clone()).prop_map(|(r, d)| Action::Department(r, d)),
        1 => (n.clone(), 0..4usize).prop_map(|(r, p)| Action::Priority(r, p)),
        2 => n.clone().prop_map(Action::Note),
        1 => n.clone().prop_map(Action::Reply),
        1 => n.clone().prop_map(Action::Forward),
        1 => n.clone().prop_map(Action::Answer),
        1 => n.clone().prop_map(Action::Close),
        1 => n.prop_map(Action::Reopen),
    ]
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        4 => Just(Fault::None),
        2 => Just(Fault::LosePushAnswer),
        1 => Just(Fault::DuplicatePush),
        1 => Just(Fault::PushOnly),
        1 => Just(Fault::PullOnly),
        1 => Just(Fault::LosePullAnswer),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (2..=6usize).prop_flat_map(|consoles| {
        let c = 0..consoles;
        let step = prop_oneof![
            6 => (c.clone(), action()).prop_map(|(i, a)| Step::Act(i, a)),
            4 => (c.clone(), fault()).prop_map(|(i, f)| Step::Sync(i, f)),
            1 => (c.clone(), 0..4usize).prop_map(|(i, k)| Step::Replay(i, k)),
            1 => c.clone().prop_map(Step::Restart),
            1 => c.prop_map(Step::Twice),
        ];
        proptest::collection::vec(step, 10..50).prop_map(move |steps| Case { consoles, steps })
    })
}

/// The console's link to the server, with the network's faults of the current round.
struct Link<S> {
    inner: Local<S>,
    fault: Mutex<Fault>,
    /// Every push body sent, for late replays.
    sent: Mutex<Vec<PushRequest>>,
}

fn lost(what: &str) -> SyncError {
    SyncError::Unavailable(format!("the {what} answer was lost"))
}

impl<S: Transactional + Send + Sync + 'static> Transport for Link<S> {
    async fn push(&self, req: PushRequest) -> Result<PushResponse, SyncError> {
        self.sent.lock().unwrap().push(req.clone());
        let fault = *self.fault.lock().unwrap();
        if fault == Fault::DuplicatePush {
            let _ = self.inner.push(req.clone()).await;
        }
        let r = self.inner.push(req).await;
        if fault == Fault::LosePushAnswer {
            return Err(lost("push"));
        }
        r
    }

    async fn pull(&self, req: PullRequest) -> Result<PullResponse, SyncError> {
        let r = self.inner.pull(req).await;
        if *self.fault.lock().unwrap() == Fault::LosePullAnswer {
            return Err(lost("pull"));
        }
        r
    }
}

struct Console<S> {
    path: PathBuf,
    store: Store,
    link: Link<S>,
    user: String,
}

fn user(i: usize) -> Principal {
    // The first console is a shift lead's: assigning is theirs to do.
    if i == 0 {
        lead("lead0")
    } else {
        operator(&format!("op{i}"))
    }
}

/// Read from the console's file beside its store: the store answers only the console's
/// questions, and this is the test's own.
fn known(path: &Path) -> Vec<Uuid> {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut st = c.prepare("SELECT id FROM request ORDER BY rid").unwrap();
    let ids = st
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    ids.iter().filter_map(|s| s.parse().ok()).collect()
}

/// The operator's action, as the console would apply it; refused ones change nothing.
async fn act<S>(c: &Console<S>, a: &Action) {
    let ids = known(&c.path);
    let pick = |n: usize| ids.get(n % ids.len().max(1)).copied();
    let fresh = Uuid::now_v7;
    let (request, op) = match a {
        Action::Create => (
            Some(fresh()),
            Op::Create(Box::new(NewRequest::new(
                Channel::Phone,
                "Обращение",
                chrono::Utc::now(),
            ))),
        ),
        Action::Claim(n) => (pick(*n), Op::Claim),
        Action::Release(n) => (pick(*n), Op::Release),
        Action::Assign(n, w) => (
            pick(*n),
            Op::Assign {
                assignee: Some(user(*w).user),
            },
        ),
        Action::Tag(n, t) => (
            pick(*n),
            Op::Tag {
                tag: TAGS[*t].into(),
            },
        ),
        Action::Untag(n, t) => (
            pick(*n),
            Op::Untag {
                tag: TAGS[*t].into(),
            },
        ),
        Action::Topic(n, t) => (
            pick(*n),
            Op::SetTopic {
                topic: Some(TOPICS[*t].into()),
                department_follows: true,
            },
        ),
        Action::Department(n, d) => (
            pick(*n),
            Op::SetDepartment {
                department: Some(DEPARTMENTS[*d].into()),
            },
        ),
        Action::Priority(n, p) => (
            pick(*n),
            Op::SetPriority {
                priority: [
                    Priority::Low,
                    Priority::Normal,
                    Priority::High,
                    Priority::Urgent,
                ][*p],
            },
        ),
        Action::Note(n) => (
            pick(*n),
            Op::AddNote {
                note_id: fresh(),
                body: "заметка".into(),
            },
        ),
        Action::Reply(n) => (
            pick(*n),
            Op::Reply {
                message_id: fresh(),
                body: "ответ".into(),
            },
        ),
        Action::Forward(n) => (
            pick(*n),
            Op::Forward {
                department: None,
                note_id: fresh(),
                note: Some("передано".into()),
            },
        ),
        Action::Answer(n) => (
            pick(*n),
            Op::DepartmentAnswer {
                note_id: fresh(),
                body: "ответ службы".into(),
                attachments: vec![],
            },
        ),
        Action::Close(n) => (
            pick(*n),
            Op::Close {
                reason: CloseReason::Resolved,
            },
        ),
        Action::Reopen(n) => (pick(*n), Op::Reopen),
    };
    if let Some(request) = request {
        let _ = c
            .store
            .apply(Mutation::new(request, &c.user, chrono::Utc::now(), op))
            .await;
    }
}

async fn step<S: Transactional + Send + Sync + 'static>(consoles: &mut [Console<S>], s: &Step) {
    match s {
        Step::Act(i, a) => act(&consoles[*i], a).await,
        Step::Sync(i, fault) => {
            let c = &consoles[*i];
            *c.link.fault.lock().unwrap() = *fault;
            // Failures are the faults' doing; what they leave behind is for the checker.
            let _ = match fault {
                Fault::PushOnly => push_all(&c.store, &c.link, SCOPE).await.map(drop),
                Fault::PullOnly => pull_all(&c.store, &c.link, SCOPE).await.map(drop),
                _ => sync_once(&c.store, &c.link, SCOPE).await.map(drop),
            };
            *c.link.fault.lock().unwrap() = Fault::None;
        }
        Step::Replay(i, k) => {
            let c = &consoles[*i];
            let old = {
                let sent = c.link.sent.lock().unwrap();
                sent.len()
                    .checked_sub(k + 1)
                    .and_then(|at| sent.get(at).cloned())
            };
            if let Some(req) = old {
                let _ = c.link.inner.push(req).await;
            }
        }
        Step::Twice(i) => {
            let c = &consoles[*i];
            let _ = tokio::join!(
                sync_once(&c.store, &c.link, SCOPE),
                sync_once(&c.store, &c.link, SCOPE)
            );
        }
        Step::Restart(i) => {
            let c = &mut consoles[*i];
            c.store = console(&c.path).await;
        }
    }
}

/// Every console syncs without faults until a whole pass moves nothing.
async fn heal<S: Transactional + Send + Sync + 'static>(
    consoles: &[Console<S>],
) -> Result<(), String> {
    for _ in 0..30 {
        let mut moved = false;
        for c in consoles {
            let r = sync_once(&c.store, &c.link, SCOPE)
                .await
                .map_err(|e| format!("{}: a sync after healing failed: {e}", c.user))?;
            moved |= r.pushed > 0 || r.pulled > 0 || r.pending > 0;
        }
        if !moved {
            return Ok(());
        }
    }
    Err("the consoles did not settle in 30 passes".into())
}

/// Runs one case against `server`; the checker's verdict, or why the case could not finish.
fn run_case<S: Transactional + Send + Sync + 'static>(
    server: Arc<Shared<S>>,
    dir: &Path,
    case: &Case,
) -> Result<checker::Summary, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let paths: Vec<PathBuf> = (0..case.consoles)
        .map(|i| dir.join(format!("console-{i}.sqlite3")))
        .collect();
    rt.block_on(async {
        let mut consoles = vec![];
        for (i, path) in paths.iter().enumerate() {
            consoles.push(Console {
                path: path.clone(),
                store: console(path).await,
                link: Link {
                    inner: Local {
                        server: server.clone(),
                        who: user(i),
                    },
                    fault: Mutex::new(Fault::None),
                    sent: Mutex::new(vec![]),
                },
                user: user(i).user,
            });
        }
        for s in &case.steps {
            step(&mut consoles, s).await;
        }
        heal(&consoles).await
    })?;
    drop(rt);
    let files: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    checker::check(&server.store, SCOPE, &files).map_err(|v| v.to_string())
}

fn cases() -> u32 {
    std::env::var("MCU_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100)
}

proptest! {
    #![proptest_config(Config {
        cases: cases(),
        max_shrink_iters: 400,
        ..Config::default()
    })]

    #[test]
    fn consoles_converge_through_drops_duplicates_reorders_and_restarts(case in case()) {
        let dir = tempfile::tempdir().unwrap();
        let server = Shared::new(SqliteStore::open(&dir.path().join("server.sqlite3")).unwrap());
        if let Err(e) = run_case(server, dir.path(), &case) {
            prop_assert!(false, "{e}");
        }
    }
}

#[test]
fn one_fixed_case_converges_on_postgres() {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let case = case().new_tree(&mut runner).unwrap().current();
    let pg = tokio::runtime::Runtime::new().unwrap();
    let url = pg
        .block_on(PgCluster::shared().fresh_database())
        .expect("a fresh PostgreSQL database");
    let store = pg.block_on(PgStore::connect(&url)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let summary = run_case(Shared::new(store), dir.path(), &case).unwrap_or_else(|e| panic!("{e}"));
    assert!(summary.journaled > 0, "{case:?}: {summary:?}");
}
