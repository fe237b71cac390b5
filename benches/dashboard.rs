//! The dashboard's recompute: every number on it from 1,000,000 requests' facts in memory
//! (`MCU_BENCH_N` changes the count), target ≤ 50 ms. A plain program, like the console's
//! bench: the target is a time per run, reported as p50 and max of `MCU_BENCH_DASH_RUNS` (30).
//!
//! With `MCU_BENCH_DB=path` it also times what a refresh does on that database (read the facts,
//! compute, find the listed ids), opened read-only, and through the console's own `Store` how
//! long a card asked for during a refresh waits (the refresh reads on the store's read-only
//! connection, so not for it).

use chrono::{DateTime, Duration, TimeZone, Utc};
use mcu_desk::domain::dashboard::{self, Fact, NEVER, NOBODY, Names, Running, secs};
use mcu_desk::domain::{Channel, Status};
use std::time::Instant;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap()
}

/// xorshift: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// About 1,000 requests a day ending now, as the store bench generates them: all but the last
/// two days closed; most answered within hours, some late, some forwarded.
fn facts(n: usize) -> (Vec<Fact>, Names) {
    let names = Names {
        topics: [
            "utilities",
            "roads",
            "urban",
            "transport",
            "waste",
            "animals",
            "construction",
            "social",
            "trade",
            "public_order",
            "communications",
            "other",
        ]
        .map(String::from)
        .to_vec(),
        departments: [
            "city_economy",
            "transport_roads",
            "veterinary",
            "architecture",
            "social",
            "consumer",
            "police",
            "other",
            "mcu",
        ]
        .map(String::from)
        .to_vec(),
        operators: (0..25).map(|i| format!("operator{i:02}")).collect(),
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let end = secs(now());
    let span = (n as u64 / 1000).max(1) * 86_400;
    let out = (0..n)
        .map(|i| {
            let received = end - span as u32 + (span * i as u64 / n as u64) as u32;
            let first_due = received + 4 * 3600;
            let reply = received + rng.next(6 * 3600) as u32;
            let answered = if rng.next(10) == 0 || reply > end {
                NEVER
            } else {
                reply
            };
            let old = end - received > 2 * 86_400;
            let forwarded = rng.next(10) < 3;
            let (status, running, due, risk, closed) = if old {
                let closed = received + 3600 + rng.next(60 * 3600) as u32;
                (Status::Closed, Running::None, NEVER, NEVER, closed)
            } else if forwarded && answered != NEVER {
                let due = answered + 24 * 3600;
                (
                    Status::WaitingDepartment,
                    Running::Department,
                    due,
                    due - 6 * 3600,
                    NEVER,
                )
            } else if answered == NEVER {
                (
                    Status::New,
                    Running::FirstResponse,
                    first_due,
                    first_due - 3600,
                    NEVER,
                )
            } else {
                let due = received + 72 * 3600;
                (
                    Status::Answered,
                    Running::Resolution,
                    due,
                    due - 18 * 3600,
                    NEVER,
                )
            };
            Fact {
                key: i as u32 + 1,
                seq: i as u32 + 1,
                received,
                answered,
                first_due,
                due,
                risk,
                dep_due: NEVER,
                dep_risk: NEVER,
                closed,
                year: 2026,
                topic: rng.next(names.topics.len() as u64) as u16,
                department: rng.next(names.departments.len() as u64) as u16,
                assignee: if answered == NEVER {
                    NOBODY
                } else {
                    rng.next(names.operators.len() as u64) as u16
                },
                status,
                channel: [Channel::Vk, Channel::Vk, Channel::Telegram, Channel::Pos][i % 4],
                running,
            }
        })
        .collect();
    (out, names)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn report(what: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let p50 = ms[ms.len() / 2];
    let max = ms[ms.len() - 1];
    println!(
        "{what}: p50 {p50:.1} ms, max {max:.1} ms ({} runs)",
        ms.len()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let n = env_usize("MCU_BENCH_N", 1_000_000);
    let runs = env_usize("MCU_BENCH_DASH_RUNS", 30).max(1);
    let tz = chrono_tz::Europe::Moscow;
    let t = Instant::now();
    let (facts, names) = facts(n);
    eprintln!(
        "{n} facts ({} MB) generated in {:.1} s",
        n * std::mem::size_of::<Fact>() / 1_000_000,
        t.elapsed().as_secs_f64()
    );
    let mut times = vec![];
    let mut d = None;
    for _ in 0..runs {
        let t = Instant::now();
        d = Some(std::hint::black_box(dashboard::compute(
            &facts,
            &names,
            now(),
            tz,
            20,
        )));
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    if let Some(d) = d {
        eprintln!(
            "open {}, breached {}, at risk {}, within target this month {:.1} %, p90 this month {} s",
            d.open(),
            d.breached,
            d.at_risk,
            d.within_target[2].percent().unwrap_or(0.0),
            d.first_response[2].p90.unwrap_or(0)
        );
    }
    report(
        &format!("dashboard recompute, {n} requests (target ≤ 50 ms)"),
        times,
    );

    if let Some(path) = std::env::var_os("MCU_BENCH_DB") {
        let conn = rusqlite::Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .expect("open the bench database read-only");
        // The store bench's clock: the newest requests are still open.
        let at = now_of(&conn);
        let mut times = vec![];
        let mut facts = 0;
        for _ in 0..runs.min(10) {
            let t = Instant::now();
            let b = mcu_desk::store::dashboard::board(&conn, at, tz).expect("board");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            facts = b.facts;
        }
        report(
            &format!("store thread per refresh: read {facts} facts + compute"),
            times,
        );
        card_during_refresh(std::path::Path::new(&path), runs.min(10));
    }
}

/// What an operator waits for a card asked for while the dashboard refreshes: the console's
/// own `Store` on the file, the refresh started and the card asked for at once, against the
/// card alone. The refresh reads on the store's read-only connection, so the card should not
/// wait for it.
fn card_during_refresh(path: &std::path::Path, runs: usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let env = mcu_desk::testkit::sample::archive_env();
        let store = mcu_desk::store::Store::open(path, env)
            .await
            .expect("open the store");
        let page = store
            .inbox(
                mcu_desk::store::Filter::default(),
                mcu_desk::store::Sort::Received,
                None,
                1,
            )
            .await
            .expect("a page");
        let number = page.rows[0].number.to_string();
        store.dashboard().await.expect("first refresh");
        let (mut alone, mut during, mut refresh) = (vec![], vec![], vec![]);
        for _ in 0..runs {
            let t = Instant::now();
            store.detail(&number).await.expect("card");
            alone.push(t.elapsed().as_secs_f64() * 1000.0);
            let board = store.clone();
            let started = Instant::now();
            let refreshing = tokio::spawn(async move {
                board.dashboard().await.expect("refresh");
                started.elapsed()
            });
            tokio::task::yield_now().await;
            let t = Instant::now();
            store.detail(&number).await.expect("card");
            during.push(t.elapsed().as_secs_f64() * 1000.0);
            let took = refreshing.await.expect("refresh task");
            refresh.push(took.as_secs_f64() * 1000.0);
        }
        report("a card alone", alone);
        report("a card asked for while the dashboard refreshes", during);
        report("that refresh (on its own connection)", refresh);
    });
}

/// Just after the newest request of the database.
fn now_of(conn: &rusqlite::Connection) -> DateTime<Utc> {
    let ms: i64 = conn
        .query_row("SELECT max(received_at) FROM request", [], |r| r.get(0))
        .expect("a request");
    DateTime::from_timestamp_millis(ms).unwrap_or_else(now) + Duration::minutes(1)
}
