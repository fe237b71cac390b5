//! Full-text search's first page at 1,000,000 requests, for rare, ~1 % and very common words:
//! the inbox shows one page, and any word an operator types must answer within the target
//! (≤ 10 ms p99 in process). A plain program, because the target is a percentile: each query
//! runs `MCU_BENCH_SEARCH_RUNS` times (default 100) after one warm-up, by receipt and by time
//! left, and the p50 / p99 / max are printed with how many requests the word matches.
//!
//! The words: the store bench's three, `свет` (the example), and words picked from the
//! search index itself nearest to 0.01 %, 0.1 %, 1 %, 5 %, 20 % and 50 % of the requests, so
//! the bands hold whatever the generated corpus says. Uses the store bench's database
//! (`MCU_BENCH_DB`, `MCU_BENCH_N` as there).

mod common;

use common::{database, now};
use mcu_desk::store::{Filter, Sort, db, read};
use std::time::{Duration, Instant};

fn main() {
    let runs: usize = std::env::var("MCU_BENCH_SEARCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let path = database();
    let conn = db::open(&path).expect("open");
    let n = common::requests(&conn);
    println!("database: {n} requests, {:.0} MB", common::size_mb(&path));
    let mut words: Vec<String> = ["кабан", "свет", "яма Северная", "трубу прорвало"]
        .map(str::to_string)
        .to_vec();
    words.extend(picked(&conn, n));
    println!("| query | matches | by receipt p50 / p99 / max | by time left p50 / p99 / max |");
    println!("| --- | --- | --- | --- |");
    let mut worst = Duration::ZERO;
    for q in &words {
        let matches = count(&conn, q);
        let mut cells = vec![];
        for sort in [Sort::Received, Sort::TimeLeft] {
            let f = Filter {
                text: Some(q.clone()),
                ..Default::default()
            };
            read::inbox(&conn, &f, sort, None, 50, now()).expect("warm-up");
            let mut t: Vec<Duration> = (0..runs)
                .map(|_| {
                    let s = Instant::now();
                    let page = read::inbox(&conn, &f, sort, None, 50, now()).expect("search");
                    std::hint::black_box(page);
                    s.elapsed()
                })
                .collect();
            t.sort();
            let p99 = t[(runs * 99 / 100).min(runs - 1)];
            worst = worst.max(p99);
            cells.push(format!(
                "{:.2} / {:.2} / {:.2} ms",
                ms(t[runs / 2]),
                ms(p99),
                ms(t[runs - 1])
            ));
        }
        println!(
            "| `{q}` | {matches} ({:.2} %) | {} | {} |",
            matches as f64 * 100.0 / n.max(1) as f64,
            cells[0],
            cells[1]
        );
    }
    println!("worst p99: {:.2} ms (target ≤ 10 ms)", ms(worst));
}

/// How many requests the query matches, as the inbox's search reads it.
fn count(conn: &rusqlite::Connection, q: &str) -> i64 {
    let Some(expr) = mcu_desk::store::analyze::match_expression(q) else {
        return 0;
    };
    conn.query_row(
        "SELECT count(*) FROM request_fts WHERE request_fts MATCH ?1",
        [expr],
        |r| r.get(0),
    )
    .expect("count")
}

/// Index terms (stems) whose share of requests is nearest to each band.
fn picked(conn: &rusqlite::Connection, n: i64) -> Vec<String> {
    conn.execute_batch(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_terms USING fts5vocab(main, request_fts, row)",
    )
    .expect("vocab");
    let terms: Vec<(String, i64)> = conn
        .prepare("SELECT term, doc FROM temp.fts_terms")
        .expect("terms")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("terms")
        .collect::<Result<_, _>>()
        .expect("terms");
    let mut out = vec![];
    for band in [0.0001, 0.001, 0.01, 0.05, 0.2, 0.5] {
        let want = band * n as f64;
        // Cyrillic words only: numbers and request numbers are not what is typed as a word.
        let best = terms
            .iter()
            .filter(|(t, _)| t.chars().count() >= 3 && t.chars().all(|c| c.is_alphabetic()))
            .min_by(|a, b| {
                let da = (a.1 as f64 - want).abs();
                let db = (b.1 as f64 - want).abs();
                da.total_cmp(&db)
            });
        if let Some((t, _)) = best
            && !out.contains(t)
        {
            out.push(t.clone());
        }
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
