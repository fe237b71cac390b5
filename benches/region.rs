//! A region on one PostgreSQL (docs/sync-protocol.md §10 scenario 29, #20 item 5): many cities (scopes) on one
//! cluster, two `mcu serve` replicas behind one address, and real consoles (their own SQLite
//! files and sync loops) working in pairs in their cities. A bounded run: it loads, measures
//! for `MCU_BENCH_REGION_SECS` and stops.
//!
//! - The history is written straight into the server's tables by `COPY`, in the server's own
//!   document format (`region/load.rs`), so that `mcu serve` sees what its own pushes leave:
//!   running millions of mutations through the engine would take hours here.
//! - Two `mcu serve` processes on that database, each keeping the new consoles' files for
//!   every scope (`server::seed::Seeds`), behind a round-robin TCP proxy (`region/proxy.rs`);
//!   both run the first city's Telegram gateway against the project's simulator, one at a
//!   time under the server's lease (`region/channel.rs`).
//! - Every scope's first sync by a new console, from the server's copy, timed.
//! - Then `MCU_BENCH_REGION_CONSOLES` consoles, two per city, each running the console's sync
//!   loop and poke listener through the proxy; each pair takes turns: one tags a request, the
//!   other waits until it sees the tag. Every push and pull is timed at the console. The
//!   first city's pair also replies to the citizens who wrote to its bot, one reply a turn:
//!   the outbox lag is each reply's time from its push applied to the simulator receiving it,
//!   and no reply may reach a citizen twice.
//!
//! `MCU_BENCH_REGION_N` requests in all (default 1,000,000; the 10,000,000 runs by
//! hand), `MCU_BENCH_REGION_SCOPES` cities (100), `MCU_BENCH_REGION_CONSOLES` (50),
//! `MCU_BENCH_REGION_SECS` of live work (60), `MCU_BENCH_REGION_CITIZENS` writing to the bot
//! (50).

#[path = "region/channel.rs"]
mod channel;
#[path = "region/load.rs"]
mod load;
#[path = "region/proxy.rs"]
mod proxy;
#[path = "common/serve.rs"]
mod serve;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcu_desk::domain::mutation::{Mutation, Op};
use mcu_desk::domain::{Catalog, ClockPolicy};
use mcu_desk::server::accounts;
use mcu_desk::server::engine::Role;
use mcu_desk::server::pg::PgStore;
use mcu_desk::store::{Env, Store};
use mcu_desk::sync::client::{Http, SyncError, Transport, sync_once};
use mcu_desk::sync::runner::{self, SyncStatus};
use mcu_desk::testkit::pg_cluster::PgCluster;
use mcu_desk::wire::sync::{PullRequest, PullResponse, PushRequest, PushResponse};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn console_env() -> Env {
    Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: true,
        now: Arc::new(chrono::Utc::now),
    }
}

fn pct(v: &[Duration], p: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    if v.is_empty() {
        return Duration::ZERO;
    }
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The console's HTTP transport, each push and pull timed.
struct Timed {
    http: Http,
    pushes: Arc<Mutex<Vec<Duration>>>,
    pulls: Arc<Mutex<Vec<Duration>>>,
    accepted: channel::Accepted,
}

impl Transport for Timed {
    async fn push(&self, req: PushRequest) -> Result<PushResponse, SyncError> {
        let replies = channel::replies(&req);
        let t = Instant::now();
        let r = self.http.push(req).await;
        if let Ok(resp) = &r {
            if let Ok(mut v) = self.pushes.lock() {
                v.push(t.elapsed());
            }
            channel::record(&self.accepted, &replies, resp);
        }
        r
    }

    async fn pull(&self, req: PullRequest) -> Result<PullResponse, SyncError> {
        let t = Instant::now();
        let r = self.http.pull(req).await;
        if r.is_ok()
            && let Ok(mut v) = self.pulls.lock()
        {
            v.push(t.elapsed());
        }
        r
    }

    async fn seed(&self, scope: &str, dest: &std::path::Path) -> Result<bool, SyncError> {
        self.http.seed(scope, dest).await
    }
}

/// `mcu serve` on the database, keeping the new consoles' files in `dir` and running the home
/// city's Telegram gateway (`config`: `channel::config`) from its own file there.
fn replica(url: &str, dir: &std::path::Path, name: &str, config: &str) -> serve::Serve {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.toml"), config).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mcu"));
    cmd.arg("--config")
        .arg(dir.join("config.toml"))
        .args(["--db", url, "serve", "--listen", "127.0.0.1:0"])
        .args(["--channels", "telegram", "--gateway-db"])
        .arg(dir.join("gateway-telegram.sqlite3"))
        .arg("--seed-db")
        .arg(dir.join("seed.sqlite3"));
    serve::spawn(cmd, &dir.join(format!("{name}.log")))
}

/// Waits until every replica's file of every scope has caught up with the loaded history.
async fn wait_for_copies(replicas: &[serve::Serve], scopes: &[String], heads: &[i64]) -> Duration {
    let started = Instant::now();
    let client = reqwest::Client::new();
    for r in replicas {
        loop {
            let health: serde_json::Value = client
                .get(format!("{}/health", r.base))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let ready = scopes.iter().zip(heads).all(|(s, head)| {
                health["seed_seqs"][s.as_str()]
                    .as_i64()
                    .is_some_and(|q| q >= *head)
            });
            if ready {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(4 * 3600),
                "the copies never caught up: {health}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    started.elapsed()
}

/// One console of the live phase.
struct Console {
    /// The account it signs in as: the server records its actions under this name.
    user: String,
    store: Store,
    kick: Arc<tokio::sync::Notify>,
    status: tokio::sync::mpsc::UnboundedReceiver<SyncStatus>,
}

/// `a` tags request `id`; how long until `b` shows it.
async fn crossing(a: &mut Console, b: &mut Console, id: &str, tag: String) -> Duration {
    let t = Instant::now();
    let uuid = id.parse().expect("request id");
    a.store
        .apply(Mutation::new(
            uuid,
            "bench",
            chrono::Utc::now(),
            Op::Tag { tag: tag.clone() },
        ))
        .await
        .expect("tag");
    a.kick.notify_one();
    loop {
        if b.store
            .resolve(id)
            .await
            .is_ok_and(|r| r.tags.contains(&tag))
        {
            return t.elapsed();
        }
        let s = tokio::time::timeout(Duration::from_secs(30), b.status.recv())
            .await
            .expect("the other console syncs within 30 s")
            .expect("its loop runs");
        assert!(s.error.is_none(), "console: {:?}", s.error);
    }
}

fn main() {
    let n = setting("MCU_BENCH_REGION_N", 1_000_000);
    let scopes_n = setting("MCU_BENCH_REGION_SCOPES", 100);
    let consoles_n = setting("MCU_BENCH_REGION_CONSOLES", 50);
    let citizens_n = setting("MCU_BENCH_REGION_CITIZENS", 50).max(2);
    let secs = setting("MCU_BENCH_REGION_SECS", 60);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::Builder::new()
        .prefix("mcu-bench-region-")
        .tempdir()
        .unwrap();
    let scopes: Vec<String> = (0..scopes_n).map(|i| format!("city{i:03}")).collect();
    println!(
        "region: {n} requests in {scopes_n} scopes, {consoles_n} consoles, {secs} s live; {} cores",
        std::thread::available_parallelism().map_or(0, |p| p.get())
    );

    let url = rt
        .block_on(PgCluster::shared().fresh_database())
        .expect("PostgreSQL");
    let pg = rt.block_on(PgStore::connect(&url)).expect("schema");
    let t = Instant::now();
    let loaded = rt.block_on(load::load(&url, &scopes, n));
    println!(
        "loaded {n} requests into PostgreSQL by COPY in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    let broken = rt.block_on(load::invariants(&url));
    assert!(broken.is_empty(), "the loaded store breaks: {broken:?}");

    // A newcomer reaching every city; each live console reaches its own.
    let now = chrono::Utc::now();
    let newcomer = accounts::add(&pg, "newcomer", Role::Operator, &scopes, &[], now)
        .unwrap()
        .unwrap();
    let pairs = (consoles_n / 2).min(scopes_n);
    let tokens: Vec<(String, String)> = (0..pairs * 2)
        .map(|i| {
            let scope = scopes[i / 2].clone();
            let token = accounts::add(
                &pg,
                &format!("op{i}"),
                Role::Operator,
                std::slice::from_ref(&scope),
                &[],
                now,
            )
            .unwrap()
            .unwrap();
            (scope, token)
        })
        .collect();
    drop(pg);

    // The home city's bot; both replicas run its gateway, one at a time under the lease.
    let sim = rt.block_on(channel::start());
    let replicas: Vec<serve::Serve> = ["r1", "r2"]
        .iter()
        .map(|name| {
            let dir = tmp.path().join(name);
            replica(&url, &dir, name, &channel::config(&sim, &scopes[0], &dir))
        })
        .collect();
    let heads: Vec<i64> = scopes.iter().map(|s| loaded.heads[s]).collect();
    let caught = rt.block_on(wait_for_copies(&replicas, &scopes, &heads));
    println!(
        "both replicas' files for new consoles caught up with all {scopes_n} scopes in {:.0} s",
        caught.as_secs_f64()
    );
    let front = rt.block_on(proxy::spawn(
        replicas.iter().map(|r| r.base.clone()).collect(),
    ));

    // Every city's first console, from the server's copy.
    let mut firsts = vec![];
    for s in &scopes {
        let dir = tempfile::tempdir_in(tmp.path()).unwrap();
        let took = rt.block_on(async {
            let c = Store::open(&dir.path().join("new.sqlite3"), console_env())
                .await
                .unwrap();
            let t = Http::new(&front, &newcomer).unwrap();
            let started = Instant::now();
            let r = sync_once(&c, &t, s).await.expect("first sync");
            let took = started.elapsed();
            assert!(r.from_copy.is_some(), "{s}: no copy: {r:?}");
            let count: i64 = rusqlite::Connection::open(dir.path().join("new.sqlite3"))
                .unwrap()
                .query_row("SELECT count(*) FROM request", [], |r| r.get(0))
                .unwrap();
            assert_eq!(count, loaded.per_scope[s], "{s}: requests");
            took
        });
        firsts.push(took);
    }
    println!(
        "first sync of a new console, from the server's copy, every one of {scopes_n} scopes (~{} requests each): p50 {:.1} s, max {:.1} s (target ≤ 20 s each)",
        n / scopes_n.max(1),
        pct(&firsts, 0.5).as_secs_f64(),
        pct(&firsts, 1.0).as_secs_f64()
    );

    // Citizens of the home city write to its bot; its consoles will reply to them.
    let t = Instant::now();
    let telegram = rt.block_on(channel::citizens(&sim, &url, &scopes[0], citizens_n));
    let leader = ["r1", "r2"]
        .into_iter()
        .filter(|r| {
            std::fs::read_to_string(tmp.path().join(r).join(format!("{r}.log")))
                .is_ok_and(|l| l.contains("gateway took the lease"))
        })
        .collect::<Vec<_>>();
    println!(
        "{citizens_n} citizens wrote to {}'s bot (the simulator); the gateway ({} holds the lease) registered them in {:.1} s",
        scopes[0],
        leader.join(", "),
        t.elapsed().as_secs_f64()
    );

    // The live phase.
    let pushes = Arc::new(Mutex::new(vec![]));
    let pulls = Arc::new(Mutex::new(vec![]));
    let accepted = channel::Accepted::default();
    let made = Arc::new(Mutex::new(vec![]));
    let crossings = rt.block_on(async {
        let mut consoles = vec![];
        for (i, (scope, token)) in tokens.iter().enumerate() {
            let store = Store::open(
                &tmp.path().join(format!("console{i}.sqlite3")),
                console_env(),
            )
            .await
            .unwrap();
            sync_once(&store, &Http::new(&front, token).unwrap(), scope)
                .await
                .expect("console's first sync");
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let kick = Arc::new(tokio::sync::Notify::new());
            tokio::spawn(runner::run(
                store.clone(),
                Timed {
                    http: Http::new(&front, token).unwrap(),
                    pushes: pushes.clone(),
                    pulls: pulls.clone(),
                    accepted: accepted.clone(),
                },
                scope.clone(),
                tx,
                kick.clone(),
            ));
            tokio::spawn(runner::listen_pokes(
                front.clone(),
                token.clone(),
                scope.clone(),
                kick.clone(),
            ));
            consoles.push(Console {
                user: format!("op{i}"),
                store,
                kick,
                status: rx,
            });
        }
        // Let the loops finish their first rounds and the poke streams connect.
        tokio::time::sleep(Duration::from_secs(2)).await;
        pushes.lock().unwrap().clear();
        pulls.lock().unwrap().clear();
        let until = Instant::now() + Duration::from_secs(secs as u64);
        let mut tasks = vec![];
        let mut it = consoles.into_iter();
        let mut k = 0;
        while let (Some(mut a), Some(mut b)) = (it.next(), it.next()) {
            let ids = loaded.sample_ids[&scopes[k]].clone();
            // The home city's pair also answers the bot's citizens, each its own half of them
            // (a reply makes the one who sends it the request's assignee).
            let replying = (k == 0).then(|| {
                let half = |r: usize| -> Vec<String> {
                    telegram.iter().skip(r).step_by(2).cloned().collect()
                };
                (half(0), half(1))
            });
            let made = made.clone();
            k += 1;
            tasks.push(tokio::spawn(async move {
                let mut seen = vec![];
                let mut i = 0usize;
                while Instant::now() < until {
                    let id = &ids[i % ids.len()];
                    let tag = format!("t{i}");
                    if let Some((to_a, to_b)) = &replying {
                        let (c, to) = if i.is_multiple_of(2) {
                            (&a, to_a)
                        } else {
                            (&b, to_b)
                        };
                        let (m, marker) = channel::reply(&to[(i / 2) % to.len()], &c.user, i);
                        let mid = m.id;
                        c.store.apply(m).await.expect("reply");
                        made.lock().unwrap().push((mid, marker));
                    }
                    let d = if i.is_multiple_of(2) {
                        crossing(&mut a, &mut b, id, tag).await
                    } else {
                        crossing(&mut b, &mut a, id, tag).await
                    };
                    seen.push(d);
                    i += 1;
                    // An operator's next action comes later than a machine's.
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    while a.status.try_recv().is_ok() {}
                    while b.status.try_recv().is_ok() {}
                }
                seen
            }));
        }
        let mut all = vec![];
        for t in tasks {
            all.extend(t.await.expect("pair"));
        }
        all
    });
    let pushes = pushes.lock().unwrap().clone();
    let pulls = pulls.lock().unwrap().clone();
    println!(
        "live, {} consoles in {pairs} cities for {secs} s: {} changes crossed ({:.1}/s)",
        pairs * 2,
        crossings.len(),
        crossings.len() as f64 / secs as f64
    );
    println!(
        "  push: {} requests, p50 {:.1} ms, p99 {:.1} ms (target ≤ 300 ms)",
        pushes.len(),
        ms(pct(&pushes, 0.5)),
        ms(pct(&pushes, 0.99))
    );
    println!(
        "  pull: {} requests, p50 {:.1} ms, p99 {:.1} ms (target ≤ 500 ms)",
        pulls.len(),
        ms(pct(&pulls, 0.5)),
        ms(pct(&pulls, 0.99))
    );
    println!(
        "  a change visible on the other console of its city: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms (target p95 ≤ 2 s)",
        ms(pct(&crossings, 0.5)),
        ms(pct(&crossings, 0.95)),
        ms(pct(&crossings, 1.0))
    );
    let made = made.lock().unwrap().clone();
    let lag = rt.block_on(channel::lags(
        &sim,
        &accepted,
        &made,
        Duration::from_secs(60),
    ));
    println!(
        "  outbox lag, a reply's push applied → the fake Telegram got its sendMessage: {} replies to {citizens_n} citizens of {}, p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms (target p95 ≤ 5 s); not applied {}, not delivered within 60 s {}",
        lag.lags.len(),
        scopes[0],
        ms(pct(&lag.lags, 0.5)),
        ms(pct(&lag.lags, 0.95)),
        ms(pct(&lag.lags, 0.99)),
        ms(pct(&lag.lags, 1.0)),
        lag.not_accepted,
        lag.undelivered
    );
    assert_eq!(
        lag.repeated, 0,
        "a reply reached the citizen more than once with two gateways on one bot"
    );
    println!(
        "  every reply reached its citizen at most once, with both replicas running the gateway"
    );
    let broken = rt.block_on(load::invariants(&url));
    assert!(broken.is_empty(), "after the run: {broken:?}");
    println!("the server's invariants hold after the run");
    drop(replicas);
}
