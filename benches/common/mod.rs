//! The benchmark database, shared by `benches/store.rs` and `benches/console.rs`: N requests
//! (default 1,000,000; `MCU_BENCH_N` changes it) generated once into `target/bench-data/` by
//! `testkit::sample::archive` (the real write path: request rows, audit events, search index)
//! and reused by later runs. `MCU_BENCH_DB` names an existing file to use instead, so another
//! checkout's generated copy need not be built again (about four minutes).

// Each bench compiles this module on its own and uses only part of it.
#![allow(dead_code)]

mod cache;

use chrono::{DateTime, Utc};
use mcu_desk::store::Env;
use mcu_desk::testkit::sample;
use std::path::{Path, PathBuf};

/// "Now" for the benchmark: the end of the generated history.
pub fn now() -> DateTime<Utc> {
    sample::history_end()
}

pub fn env() -> Env {
    sample::archive_env()
}

pub fn count() -> usize {
    std::env::var("MCU_BENCH_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000)
}

/// The database to measure: `MCU_BENCH_DB` when set, else the generated one.
///
/// The generated file name carries a version: bump it when the schema or the sort keys change,
/// so an old generated database is not measured by mistake.
pub fn database() -> PathBuf {
    let n = count();
    cache::seeded("MCU_BENCH_DB", &format!("store-{n}-v3"), |p| {
        sample::archive(p, n)
    })
}

/// Where generated bench files are kept (`cache::data_dir`).
pub fn data_dir() -> PathBuf {
    cache::data_dir()
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
