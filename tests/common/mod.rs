//! Shared pieces of the gateway tests: a store environment, gateway options, waiting.
#![allow(dead_code)]

use chrono::Duration as ChronoDuration;
use mcu_desk::channels::gateway::GatewayOptions;
use mcu_desk::domain::{Catalog, ClockPolicy};
use mcu_desk::store::Env;
use mcu_desk::store::ingest::{ClosedPolicy, IngestRules};
use mcu_desk::templates::BotTexts;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn env() -> Env {
    Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(chrono::Utc::now),
    }
}

pub fn options(files: Option<std::path::PathBuf>) -> GatewayOptions {
    GatewayOptions {
        rules: IngestRules {
            join_window: ChronoDuration::hours(24),
            closed_policy: ClosedPolicy::Reopen,
            reopen_window: ChronoDuration::days(7),
            texts: BotTexts::shipped("ru"),
            status_words: |s| s.as_str(),
        },
        lease_ttl: Duration::from_secs(15),
        idle_poll: Duration::from_millis(50),
        per_chat_interval: Duration::from_secs(1),
        global_interval: Duration::from_millis(5),
        files_dir: files,
        max_file_bytes: 20 * 1024 * 1024,
    }
}

pub fn count(db: &std::path::Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Waits for `cond`, checking every 50 ms, up to `limit`.
pub async fn until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
