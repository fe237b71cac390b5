//! A console's archive for the store and console benches: about 1,000 requests a day ending at
//! [`history_end`], all but the last two days closed, as in a working center's archive.
//! Written through the real write path (`db::apply_batch`: request rows, audit events, search
//! index), since the benches measure reads of exactly what that path leaves behind.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::Duration;
use uuid::Uuid;

use super::{Generator, history_end, new_request, spread};
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::request::Channel;
use crate::domain::{Catalog, ClockPolicy, Status};
use crate::store::{Env, db};

/// Seed of the archive's corpus draws; part of what the benches' cached file names stand for.
const SEED: u64 = 42;
/// Requests written per transaction.
const CHUNK: usize = 10_000;

/// The store's settings for the archive: Krasnodar's catalog, default clocks, no journal, and
/// "now" at the end of the history.
pub fn archive_env() -> Env {
    Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(history_end),
    }
}

/// Writes `n` requests into a new console database at `path` and analyzes it.
pub fn archive(path: &Path, n: usize) {
    let env = archive_env();
    let mut conn = db::open(path).expect("open bench db");
    let mut g = Generator::new(SEED);
    let span = Duration::days((n / 1000).max(1) as i64).num_milliseconds();
    let first = history_end() - Duration::milliseconds(span);
    let started = Instant::now();
    let mut done = 0;
    while done < n {
        let batch: Vec<Mutation> = (done..(done + CHUNK).min(n))
            .map(|i| {
                let s = g.next_request();
                let received = spread(first, span, i, n);
                let old = history_end() - received > Duration::days(2);
                let channel = [Channel::Vk, Channel::Vk, Channel::Telegram, Channel::Pos][i % 4];
                let new = NewRequest {
                    external_id: Some(format!("bench-{i}")),
                    status: Some(if old {
                        Status::Closed
                    } else {
                        [Status::New, Status::InWork, Status::WaitingDepartment][i % 3]
                    }),
                    closed_at: old.then(|| received + Duration::hours(30)),
                    first_response_at: old.then(|| received + Duration::hours(3)),
                    ..new_request(s, channel, received)
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
