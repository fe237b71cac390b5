//! Store benchmarks at a realistic size: opening the inbox's first page and a full-text search
//! over N requests (default 1,000,000; `MCU_BENCH_N` changes it, `MCU_BENCH_DB` names an
//! existing database instead).
//!
//! The database is generated once into `target/bench-data/` through the real write path
//! (`apply_batch`: request rows, audit events, search index) and reused by later runs
//! (`common/mod.rs`).

mod common;

use common::{database, now, size_mb};
use criterion::{Criterion, criterion_group, criterion_main};
use mcu_desk::store::{Filter, Sort, db, read};

fn benches(c: &mut Criterion) {
    let path = database();
    let conn = db::open(&path).expect("open");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .expect("checkpoint");
    let n = common::requests(&conn);
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
