//! Gateway ingest throughput: the in-process Telegram simulator queues a burst of citizen traffic
//! and the real gateway (getUpdates → parse → ingest → SQLite, acknowledgements going out at the
//! same time) stores it. In the same run the same rows are inserted plainly into a fresh file of
//! the same schema, so the ratio says how much the write path costs over SQLite itself on this
//! machine, whatever its disk.
//!
//! `MCU_BENCH_INGEST_N` sets the burst (default 20,000 citizen messages). With
//! `MCU_BENCH_INGEST_PROFILE=1` it also times polling and parsing alone and lists where the store
//! thread spent its SQLite time, statement by statement (the tracing slows the gateway figure
//! somewhat), and replays the same batches through `ingest` alone, without HTTP or the sender.
//! `MCU_BENCH_INGEST_KEEP=1` keeps the databases and prints where they are.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{CStr, c_int, c_uint, c_void};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcu_desk::channels::Adapter;
use mcu_desk::channels::gateway::{self, GatewayEvent, GatewayOptions};
use mcu_desk::channels::telegram::Telegram;
use mcu_desk::cli::live::gateway_options;
use mcu_desk::config::Config;
use mcu_desk::demo::sim::{SimOptions, Simulator};
use mcu_desk::store::ingest::{self, Source};
use mcu_desk::store::{Env, Store, analyze, db, lease};
use mcu_desk::wire::intake::Batch;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, TransactionBehavior, ffi, params_from_iter};
use tokio::sync::{mpsc, watch};

/// getUpdates hands out at most 100 updates, so the gateway commits at most 100 per transaction;
/// the baseline commits as often.
const BATCH: usize = 100;

fn burst() -> usize {
    std::env::var("MCU_BENCH_INGEST_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000)
}

fn sim_options(n: usize) -> SimOptions {
    SimOptions {
        per_minute: 0.0,
        burst: n,
        ..SimOptions::default()
    }
}

fn telegram(sim: &Simulator) -> Telegram {
    Telegram::new(
        &sim.api_url(),
        sim.token(),
        Duration::from_secs(1),
        Duration::from_secs(5),
    )
    .expect("telegram client")
}

/// What `mcu gateway` runs with on a default config (a standalone console keeps no journal).
fn env(config: &Config) -> Env {
    Env {
        catalog: config.catalog().expect("catalog"),
        policy: config.policy().expect("policy"),
        journal: false,
        now: Arc::new(chrono::Utc::now),
    }
}

struct GatewayRun {
    citizen_messages: usize,
    updates: usize,
    elapsed: Duration,
    requests: usize,
    acks_queued: usize,
    acks_sent: usize,
    warnings: Vec<String>,
}

async fn gateway_run(n: usize, dir: &Path, profile: bool) -> GatewayRun {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let sim = Simulator::start(listener, sim_options(n))
        .await
        .expect("simulator");
    let queued = sim.stats();
    // The gateway confirms the last update by asking for the offset after it, which it does
    // only once the batch holding it has committed.
    let done_offset = queued.next_update_id;

    let config = Config::default();
    let env = env(&config);
    let path = dir.join("gateway.sqlite3");
    let instrument: fn(&Connection) = if profile { install_profiler } else { |_| {} };
    let store = Store::open_instrumented(&path, env, instrument)
        .await
        .expect("open store");
    let opts = GatewayOptions {
        files_dir: None,
        ..gateway_options(&config, dir.join("files"))
    };
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let warnings = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(e) = events_rx.recv().await {
            match e {
                GatewayEvent::Warning(w) | GatewayEvent::Alarm(w) => seen.push(w),
                GatewayEvent::Failed { reason, .. } | GatewayEvent::Unknown { reason, .. } => {
                    seen.push(reason)
                }
                _ => {}
            }
        }
        seen
    });

    let reader = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("reader connection");
    let stored = || -> usize {
        reader
            .query_row("SELECT count(*) FROM inbound_event", [], |r| {
                r.get::<_, i64>(0)
            })
            .expect("count inbound events") as usize
    };

    let started = Instant::now();
    let gw = tokio::spawn(gateway::run(
        store,
        Arc::new(telegram(&sim)),
        opts,
        events_tx,
        stop_rx,
    ));
    let mut last_report = Instant::now();
    loop {
        let s = sim.stats();
        // Counting rows only once the simulator saw everything confirmed keeps the reader off
        // the database while the gateway writes.
        if s.highest_confirmed_offset >= done_offset && stored() == queued.updates_queued {
            break;
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "  … {} of {} updates confirmed after {:.0} s",
                queued.updates_queued - s.updates_pending,
                queued.updates_queued,
                started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        assert!(
            started.elapsed() < Duration::from_secs(1800),
            "gateway ingest did not finish in 30 min: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed();
    let acks_sent = sim.stats().send.ok;

    let _ = stop_tx.send(true);
    gw.await.expect("gateway task").expect("gateway");
    let warnings = warnings.await.expect("event task");
    sim.shutdown().await;

    let count = |sql: &str| -> usize {
        reader
            .query_row(sql, [], |r| r.get::<_, i64>(0))
            .expect(sql) as usize
    };
    GatewayRun {
        citizen_messages: queued.citizen_messages,
        updates: queued.updates_queued,
        elapsed,
        requests: count("SELECT count(*) FROM request"),
        acks_queued: count("SELECT count(*) FROM outbox"),
        acks_sent,
        warnings,
    }
}

/// Polling and parsing alone, nothing stored: the ceiling the simulator and HTTP put on ingest.
/// The burst is made before anything is sent, so the same seed gives the gateway's updates.
async fn poll_only(n: usize) -> (Vec<Batch>, Duration) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let sim = Simulator::start(listener, sim_options(n))
        .await
        .expect("simulator");
    let stats = sim.stats();
    let tg = telegram(&sim);
    let started = Instant::now();
    let mut cursor: Option<String> = None;
    let mut batches = Vec::new();
    while cursor
        .as_deref()
        .and_then(|c| c.parse::<i64>().ok())
        .is_none_or(|c| c < stats.next_update_id)
    {
        let batch = tg.poll(cursor.clone()).await.expect("poll");
        cursor = batch.next_cursor.clone().or(cursor);
        batches.push(batch);
    }
    let elapsed = started.elapsed();
    sim.shutdown().await;
    assert_eq!(
        updates(&batches),
        stats.updates_queued,
        "poll-only pass lost updates"
    );
    (batches, elapsed)
}

fn updates(batches: &[Batch]) -> usize {
    batches
        .iter()
        .map(|b| b.events.len() + b.malformed.len())
        .sum()
}

/// The write path alone: the polled batches handed to `ingest` one after another on a fresh
/// file, as the poller does, with no HTTP and no sender sharing the connection.
fn store_only(batches: &[Batch], path: &Path) -> Duration {
    let config = Config::default();
    let env = env(&config);
    let rules = gateway_options(&config, path.with_extension("files")).rules;
    let mut conn = db::open(path).expect("open store-only db");
    install_profiler(&conn);
    let lease = "gateway:telegram:bench";
    let epoch = lease::acquire(
        &mut conn,
        lease,
        "bench",
        chrono::Utc::now().timestamp_millis(),
        Duration::from_secs(3600),
    )
    .expect("acquire")
    .expect("lease free");
    let src = Source {
        channel: mcu_desk::domain::Channel::Telegram,
        account: "123456",
        lease,
        epoch,
    };
    let started = Instant::now();
    for b in batches {
        ingest::ingest(&mut conn, &env, &src, b, &rules).expect("ingest");
    }
    started.elapsed()
}

/// What the gateway stored, as rows to insert without any of its logic.
struct Rows {
    /// inbound_event rows in update order, with the request each one created (if any).
    events: Vec<(Vec<Value>, Option<i64>)>,
    /// request rows (every column, rid included) by rid.
    requests: HashMap<i64, Vec<Value>>,
    /// The search document reindex() built last for each request.
    documents: HashMap<i64, String>,
    /// Time spent stemming those documents (outside the timed baseline).
    analysis: Duration,
}

fn collect_rows(path: &Path) -> Rows {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("reopen");
    let mut st = conn
        .prepare(
            "SELECT channel, account, external_id, received_at, outcome, request_rid, payload
             FROM inbound_event ORDER BY CAST(external_id AS INTEGER)",
        )
        .expect("events");
    let events = st
        .query_map([], |r| {
            let row: Vec<Value> = (0..7).map(|i| r.get(i)).collect::<Result<_, _>>()?;
            let outcome: String = r.get(4)?;
            let created = if outcome == "created" {
                r.get(5)?
            } else {
                None
            };
            Ok((row, created))
        })
        .expect("events")
        .collect::<Result<Vec<_>, _>>()
        .expect("events");

    let mut st = conn.prepare("SELECT * FROM request").expect("requests");
    let width = st.column_count();
    let requests = st
        .query_map([], |r| {
            let row: Vec<Value> = (0..width).map(|i| r.get(i)).collect::<Result<_, _>>()?;
            Ok((r.get::<_, i64>(0)?, row))
        })
        .expect("requests")
        .collect::<Result<HashMap<_, _>, _>>()
        .expect("requests");

    // Same parts in the same order as the store's reindex().
    let mut parts: HashMap<i64, Vec<String>> = HashMap::new();
    let mut st = conn
        .prepare("SELECT rid, number, text, citizen, address FROM request")
        .expect("documents");
    let heads = st
        .query_map([], |r| {
            let mut p = vec![r.get::<_, String>(1)?, r.get(2)?];
            p.extend(r.get::<_, Option<String>>(3)?);
            p.extend(r.get::<_, Option<String>>(4)?);
            Ok((r.get::<_, i64>(0)?, p))
        })
        .expect("documents");
    for h in heads {
        let (rid, p) = h.expect("document head");
        parts.insert(rid, p);
    }
    let mut st = conn
        .prepare(
            "SELECT request_rid, body FROM message UNION ALL SELECT request_rid, body FROM note",
        )
        .expect("bodies");
    let bodies = st
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .expect("bodies");
    for b in bodies {
        let (rid, body) = b.expect("body");
        parts.entry(rid).or_default().push(body);
    }
    let started = Instant::now();
    let documents = parts
        .into_iter()
        .map(|(rid, p)| (rid, analyze::document(p.iter().map(String::as_str))))
        .collect();
    Rows {
        events,
        requests,
        documents,
        analysis: started.elapsed(),
    }
}

/// Inserts `rows` in transactions of `BATCH` updates each; returns the time it took.
fn baseline(rows: &Rows, path: &Path) -> Duration {
    let mut conn = db::open(path).expect("open baseline db");
    let width = rows.requests.values().next().map_or(0, Vec::len);
    let request_sql = format!(
        "INSERT INTO request VALUES ({})",
        (1..=width)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let started = Instant::now();
    for chunk in rows.events.chunks(BATCH) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        {
            let mut request = tx.prepare_cached(&request_sql).expect("prepare request");
            let mut fts = tx
                .prepare_cached("INSERT INTO request_fts(rowid, words) VALUES (?1, ?2)")
                .expect("prepare fts");
            let mut event = tx
                .prepare_cached(
                    "INSERT INTO inbound_event(channel, account, external_id, received_at, outcome, request_rid, payload)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .expect("prepare event");
            for (row, created) in chunk {
                if let Some(rid) = created {
                    request
                        .execute(params_from_iter(&rows.requests[rid]))
                        .expect("insert request");
                    fts.execute((rid, &rows.documents[rid]))
                        .expect("insert fts");
                }
                event.execute(params_from_iter(row)).expect("insert event");
            }
        }
        tx.commit().expect("commit");
    }
    started.elapsed()
}

/// Per-statement SQLite time on the profiled connection, keyed by the statement's text.
static PROFILE: Mutex<Option<HashMap<String, (u64, u64)>>> = Mutex::new(None);

thread_local! {
    /// When each running statement took its first step. SQLite's own profile figure comes from
    /// the VFS clock in whole milliseconds, too coarse for statements of a few microseconds.
    static STARTED: RefCell<HashMap<usize, Instant>> = RefCell::new(HashMap::new());
}

unsafe extern "C" fn on_trace(
    kind: c_uint,
    _ctx: *mut c_void,
    stmt: *mut c_void,
    _x: *mut c_void,
) -> c_int {
    if kind == ffi::SQLITE_TRACE_STMT as c_uint {
        STARTED.with(|s| {
            s.borrow_mut()
                .entry(stmt as usize)
                .or_insert_with(Instant::now);
        });
    } else if kind == ffi::SQLITE_TRACE_PROFILE as c_uint {
        let Some(started) = STARTED.with(|s| s.borrow_mut().remove(&(stmt as usize))) else {
            return 0;
        };
        let ns = started.elapsed().as_nanos() as u64;
        // SAFETY: SQLite passes the statement, valid for the duration of the callback; its SQL
        // text is NUL-terminated and owned by the statement.
        let sql = unsafe {
            let sql = ffi::sqlite3_sql(stmt.cast());
            if sql.is_null() {
                String::from("?")
            } else {
                CStr::from_ptr(sql).to_string_lossy().into_owned()
            }
        };
        let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Ok(mut p) = PROFILE.lock() {
            let e = p.get_or_insert_with(HashMap::new).entry(sql).or_default();
            e.0 += 1;
            e.1 += ns;
        }
    }
    0
}

fn install_profiler(conn: &Connection) {
    // SAFETY: the handle belongs to this live connection and the callback keeps no pointer to it.
    let rc = unsafe {
        ffi::sqlite3_trace_v2(
            conn.handle(),
            (ffi::SQLITE_TRACE_STMT | ffi::SQLITE_TRACE_PROFILE) as c_uint,
            Some(on_trace),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, ffi::SQLITE_OK, "sqlite3_trace_v2");
}

fn print_profile(what: &str, wall: Duration) {
    let Some(p) = PROFILE.lock().ok().and_then(|mut p| p.take()) else {
        return;
    };
    let mut rows: Vec<_> = p.into_iter().collect();
    rows.sort_by_key(|(_, (_, ns))| std::cmp::Reverse(*ns));
    // FTS5 runs its own statements on its shadow tables inside ours; their time is already in
    // the statement that caused them, so they are listed but not added up.
    let nested = |sql: &str| sql.contains("'main'.'");
    let total: u64 = rows
        .iter()
        .filter(|(sql, _)| !nested(sql))
        .map(|(_, (_, ns))| ns)
        .sum();
    println!(
        "{what}: SQLite busy {:.2} s of {:.2} s wall ({:.0} %); top statements (* = FTS5's own, inside another):",
        total as f64 / 1e9,
        wall.as_secs_f64(),
        100.0 * total as f64 / 1e9 / wall.as_secs_f64()
    );
    println!(
        "  {:>8} {:>8} {:>9} {:>5}  statement",
        "s", "calls", "µs/call", "%"
    );
    for (sql, (calls, ns)) in rows.iter().take(20) {
        let short: String = sql.chars().take(110).collect();
        let mark = if nested(sql) { "*" } else { " " };
        println!(
            "  {:>8.3} {:>8} {:>9.1} {:>5.1} {mark}{short}",
            *ns as f64 / 1e9,
            calls,
            *ns as f64 / 1e3 / *calls as f64,
            100.0 * *ns as f64 / total.max(1) as f64,
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; this binary has no filters or options of its own.
    let n = burst();
    let profile = std::env::var_os("MCU_BENCH_INGEST_PROFILE").is_some_and(|v| v != "0");
    let dir = tempfile::Builder::new()
        .prefix("mcu-bench-ingest-")
        .tempdir()
        .expect("temp dir");
    // Both databases are worth a look (EXPLAIN QUERY PLAN, sizes) when the figure disappoints.
    let keep = std::env::var_os("MCU_BENCH_INGEST_KEEP").is_some_and(|v| v != "0");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");

    eprintln!("ingest: simulator burst of {n} citizen messages, gateway → SQLite …");
    let g = rt.block_on(gateway_run(n, dir.path(), profile));
    let rows = collect_rows(&dir.path().join("gateway.sqlite3"));
    assert_eq!(rows.events.len(), g.updates, "gateway stored every update");
    eprintln!("ingest: plain batched insert of the same rows …");
    let b = baseline(&rows, &dir.path().join("baseline.sqlite3"));

    let g_rate = g.updates as f64 / g.elapsed.as_secs_f64();
    let b_rate = g.updates as f64 / b.as_secs_f64();
    println!(
        "ingest, {} cores; burst of {} citizen messages = {} Telegram updates ({} requests created)",
        std::thread::available_parallelism().map_or(0, |p| p.get()),
        g.citizen_messages,
        g.updates,
        g.requests
    );
    println!(
        "gateway ingest (simulator → getUpdates → parse → apply → SQLite): {} messages in {:.1} s = {:.0} msg/s",
        g.updates,
        g.elapsed.as_secs_f64(),
        g_rate
    );
    println!(
        "  acknowledgements sent meanwhile: {} of {} queued (the sender paces ~30/s, as Telegram allows)",
        g.acks_sent, g.acks_queued
    );
    println!(
        "plain batched insert of the same rows: {} in {:.1} s = {:.0} rows/s; ratio {:.2}",
        g.updates,
        b.as_secs_f64(),
        b_rate,
        g_rate / b_rate
    );
    println!(
        "  (per update one inbound_event row, plus request + FTS rows for the {} that created a request; {} per transaction; stemming done beforehand, {:.2} s)",
        g.requests,
        BATCH,
        rows.analysis.as_secs_f64()
    );
    if !g.warnings.is_empty() {
        println!("gateway warnings ({}):", g.warnings.len());
        for w in g.warnings.iter().take(10) {
            println!("  {w}");
        }
    }
    if profile {
        print_profile("gateway run, store thread", g.elapsed);
        let (batches, took) = rt.block_on(poll_only(n));
        let u = updates(&batches);
        println!(
            "poll + parse only (nothing stored): {u} updates in {:.2} s = {:.0} msg/s",
            took.as_secs_f64(),
            u as f64 / took.as_secs_f64()
        );
        let took = store_only(&batches, &dir.path().join("store-only.sqlite3"));
        println!(
            "ingest() alone (same batches, no HTTP, no sender): {u} updates in {:.2} s = {:.0} msg/s",
            took.as_secs_f64(),
            u as f64 / took.as_secs_f64()
        );
        print_profile("ingest() alone", took);
    }
    if keep {
        println!("databases kept in {}", dir.keep().display());
    }
}
