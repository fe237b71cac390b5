//! The benchmark database, shared by `benches/store.rs` and `benches/console.rs`: N requests
//! (default 1,000,000; `MCU_BENCH_N` changes it) generated once into `target/bench-data/`
//! through the real write path (`apply_batch`: request rows, audit events, search index) and
//! reused by later runs. `MCU_BENCH_DB` names an existing file to use instead, so another
//! checkout's generated copy need not be built again (about four minutes).

// Each bench compiles this module on its own and uses only part of it.
#![allow(dead_code)]

mod cache;

use chrono::{DateTime, Duration, TimeZone, Utc};
use mcu_desk::demo::corpus::Generator;
use mcu_desk::domain::mutation::{Mutation, NewRequest, Op};
use mcu_desk::domain::request::{Channel, Location, Priority};
use mcu_desk::domain::{Catalog, ClockPolicy, Status};
use mcu_desk::store::{Env, db};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

/// "Now" for the benchmark: the end of the generated history.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
}

pub fn env() -> Env {
    Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(now),
    }
}

pub fn count() -> usize {
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

/// The database to measure: `MCU_BENCH_DB` when set, else the generated one.
///
/// The generated file name carries a version: bump it when the schema or the sort keys change,
/// so an old generated database is not measured by mistake.
pub fn database() -> PathBuf {
    let n = count();
    cache::seeded("MCU_BENCH_DB", &format!("store-{n}-v3"), |p| build(p, n))
}

/// How many requests the database holds (with `MCU_BENCH_DB` it need not be `count()`).
pub fn requests(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM request", [], |r| r.get(0))
        .expect("count")
}

pub fn size_mb(path: &Path) -> f64 {
    let mut total = 0;
    for suffix in ["", "-wal"] {
        total += std::fs::metadata(format!("{}{suffix}", path.display()))
            .map(|m| m.len())
            .unwrap_or(0);
    }
    total as f64 / 1_048_576.0
}
