//! Store benchmarks at a realistic size: opening the inbox's first page and a full-text search
//! over N requests (default 1,000,000; `MCU_BENCH_N` changes it).
//!
//! The database is generated once into `target/bench-data/` through the real write path
//! (`apply_batch`: request rows, audit events, search index) and reused by later runs.

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use mcu_desk::demo::corpus::Generator;
use mcu_desk::domain::mutation::{Mutation, NewRequest, Op};
use mcu_desk::domain::request::{Channel, Location, Priority};
use mcu_desk::domain::{Catalog, ClockPolicy, Status};
use mcu_desk::store::{Env, Filter, Sort, db, read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

/// "Now" for the benchmark: the end of the generated history.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
}

fn env() -> Env {
    Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(now),
    }
}

fn count() -> usize {
    std::env::var("MCU_BENCH_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000)
}

/// About 1,000 requests a day ending at `now()`; all but the last two days are closed, as in a
/// working center's archive.
fn build(path: &Path, n: usize) {
    let env = env();
    let mut conn = db::open(path).expect("open bench db");
    let mut g = Generator::new(42);
    let span = Duration::days((n / 1000).max(1) as i64).num_milliseconds();
    let started = Instant::now();
    let chunk = 10_000;
    let mut done = 0;
    while done < n {
        let batch: Vec<Mutation> = (done..(done + chunk).min(n))
            .map(|i| {
                let s = g.next_request();
                let received = now() - Duration::milliseconds(span - span * i as i64 / n as i64);
                let old = now() - received > Duration::days(2);
                let channel = [Channel::Vk, Channel::Vk, Channel::Telegram, Channel::Pos][i % 4];
                let new = NewRequest {
                    channel,
                    external_id: Some(format!("bench-{i}")),
                    channel_ref: Default::default(),
                    citizen: Some(s.citizen),
                    text: s.text,
                    attachments: vec![],
                    location: s.address.map(|a| Location {
                        lat: s.lat,
                        lon: s.lon,
                        address: Some(a),
                    }),
                    received_at: received,
                    topic: Some(s.topic.to_string()),
                    department: s.department.map(str::to_string),
                    priority: Priority::Normal,
                    status: Some(if old {
                        Status::Closed
                    } else {
                        [Status::New, Status::InWork, Status::WaitingDepartment][i % 3]
                    }),
                    close_reason: None,
                    closed_at: old.then(|| received + Duration::hours(30)),
                    first_response_at: old.then(|| received + Duration::hours(3)),
                };
                Mutation::new(Uuid::now_v7(), "bench", received, Op::Create(Box::new(new)))
            })
            .collect();
        db::apply_batch(&mut conn, &env, &batch)
            .map_err(|(i, e)| format!("row {i}: {e}"))
            .expect("generate");
        done += batch.len();
    }
    conn.execute_batch("PRAGMA optimize; ANALYZE;")
        .expect("analyze");
    eprintln!(
        "generated {n} requests in {:.1} s ({:.0}/s)",
        started.elapsed().as_secs_f64(),
        n as f64 / started.elapsed().as_secs_f64()
    );
}

/// The file name carries a version: bump it when the schema or the sort keys change, so an old
/// generated database is not measured by mistake.
fn database() -> PathBuf {
    let n = count();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).expect("bench dir");
    let path = dir.join(format!("store-{n}-v3.sqlite3"));
    let ready = dir.join(format!("store-{n}-v3.ready"));
    if !ready.exists() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        build(&path, n);
        std::fs::write(&ready, b"ok").expect("mark ready");
    }
    path
}

fn size_mb(path: &Path) -> f64 {
    let mut total = 0;
    for suffix in ["", "-wal"] {
        total += std::fs::metadata(format!("{}{suffix}", path.display()))
            .map(|m| m.len())
            .unwrap_or(0);
    }
    total as f64 / 1_048_576.0
}

fn benches(c: &mut Criterion) {
    let path = database();
    let n = count();
    let conn = db::open(&path).expect("open");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
    eprintln!("database: {n} requests, {:.0} MB", size_mb(&path));
    let mut group = c.benchmark_group(format!("store_{n}"));

    let open = Filter {
        open_only: true,
        ..Default::default()
    };
    group.bench_function("inbox_first_page_open_by_time_left", |b| {
        b.iter(|| read::inbox(&conn, &open, Sort::TimeLeft, None, 50, now()).expect("page"))
    });
    group.bench_function("inbox_first_page_all_by_received", |b| {
        b.iter(|| {
            read::inbox(&conn, &Filter::default(), Sort::Received, None, 50, now()).expect("page")
        })
    });
    let roads = Filter {
        open_only: true,
        topic: Some("roads".into()),
        ..Default::default()
    };
    group.bench_function("inbox_first_page_open_roads", |b| {
        b.iter(|| read::inbox(&conn, &roads, Sort::TimeLeft, None, 50, now()).expect("page"))
    });
    for (name, q) in [
        ("search_yama_severnaya", "яма Северная"),
        ("search_trubu_prorvalo", "трубу прорвало"),
        ("search_kaban", "кабан"),
    ] {
        let f = Filter {
            text: Some(q.into()),
            ..Default::default()
        };
        group.bench_function(name, |b| {
            b.iter(|| read::inbox(&conn, &f, Sort::Received, None, 50, now()).expect("search"))
        });
    }
    group.finish();
}

criterion_group! {
    name = store;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(store);
