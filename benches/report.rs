//! A monthly report over 40,000 requests (issue #6 item 5: ≤ 2 s).
//!
//! A plain program, not criterion: the target is one wall-clock figure per format, and the
//! end-to-end run is the real binary as a process. The month (October 2026, Moscow) is
//! generated into a temporary file by `testkit::sample::month` (the domain's `apply`, the store's row
//! writer), with a few requests just outside it. Then, five times each:
//! - in process: the store's thread reads and adds up the month, then Markdown, the summary CSV,
//!   the per-request CSV, and the XLSX with every sheet (including one row per request);
//! - the real binary: `mcu report --month 2026-10 --format md|csv|xlsx --out FILE`, process start
//!   to exit.
//!
//! `MCU_BENCH_REPORT_N` changes the month's size.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use mcu_desk::domain::{Catalog, ClockPolicy};
use mcu_desk::report::export::{CsvRows, Lang};
use mcu_desk::report::{self, Period, tables, write};
use mcu_desk::store::{Env, Store, db};

const TARGET_S: f64 = 2.0;
const RUNS: usize = 5;

fn env() -> Env {
    Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(|| Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()),
    }
}

fn median(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let s = |d: Duration| d.as_secs_f64();
    (s(v[v.len() / 2]), s(v[v.len() - 1]))
}

fn main() {
    let n: usize = std::env::var("MCU_BENCH_REPORT_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mcu.sqlite3");
    let period = Period::month(chrono_tz::Europe::Moscow, "2026-10").expect("month");
    let started = Instant::now();
    {
        let mut conn = db::open(&path).expect("open");
        mcu_desk::testkit::sample::month(&mut conn, &env(), &period, n, 11, (env().now)())
            .expect("seed");
    }
    eprintln!(
        "generated {n} requests in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut parts: Vec<(&str, Vec<Duration>)> = vec![
        ("read and add up (store thread)", vec![]),
        ("markdown", vec![]),
        ("summary csv", vec![]),
        ("per-request csv", vec![]),
        ("xlsx, all sheets", vec![]),
        ("in process, total (md + csv + xlsx)", vec![]),
    ];
    let mut sizes = (0, 0);
    for _ in 0..RUNS {
        rt.block_on(async {
            let t0 = Instant::now();
            let store = Store::open(&path, env()).await.expect("store");
            let now = store.now();
            let r = report::build(&store, &period, now).await.expect("report");
            let t1 = Instant::now();
            let catalog = &store.env().catalog;
            let mut t = tables::tables(&r, catalog, Lang::Ru);
            let mut md = vec![];
            write::markdown(&mut md, &t, Lang::Ru).expect("md");
            let t2 = Instant::now();
            let mut csv = vec![];
            write::csv(&mut csv, &t).expect("csv");
            let t3 = Instant::now();
            let mut rows_csv = vec![];
            let mut rows = CsvRows::new(&mut rows_csv, Lang::Ru).expect("csv");
            for l in &r.lines {
                rows.row(&report::export::cells(
                    &l.request,
                    l.outcome,
                    catalog,
                    r.tz,
                    Lang::Ru,
                ))
                .expect("row");
            }
            rows.finish().expect("flush");
            let t4 = Instant::now();
            t.push(tables::requests_table(&r, catalog, Lang::Ru));
            let xlsx = write::xlsx(&t).expect("xlsx");
            std::fs::write(dir.path().join("r.xlsx"), &xlsx).expect("write");
            let t5 = Instant::now();
            sizes = (xlsx.len(), rows_csv.len());
            for (i, d) in [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t5 - t0]
                .into_iter()
                .enumerate()
            {
                parts[i].1.push(d);
            }
        });
    }
    let bin = env!("CARGO_BIN_EXE_mcu");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").expect("config");
    for format in ["md", "csv", "xlsx"] {
        let mut times = vec![];
        for _ in 0..RUNS {
            let out = dir.path().join(format!("out.{format}"));
            let t = Instant::now();
            let status = std::process::Command::new(bin)
                .env("MCU_CONFIG", &config)
                .args(["--db"])
                .arg(&path)
                .args(["report", "--month", "2026-10", "--format", format, "--out"])
                .arg(&out)
                .status()
                .expect("run mcu");
            times.push(t.elapsed());
            assert!(status.success(), "mcu report --format {format}");
        }
        parts.push((
            match format {
                "md" => "`mcu report --format md` (process)",
                "csv" => "`mcu report --format csv` (process)",
                _ => "`mcu report --format xlsx` (process)",
            },
            times,
        ));
    }
    println!("monthly report, {n} requests, median / max of {RUNS} runs:");
    for (name, v) in parts {
        let (med, max) = median(v);
        let mark = if name.contains("total") || name.contains("process") {
            if max <= TARGET_S {
                " ✓"
            } else {
                " ✗ over 2 s"
            }
        } else {
            ""
        };
        println!(
            "  {name:<42} {:>7.0} ms / {:>7.0} ms{mark}",
            med * 1e3,
            max * 1e3
        );
    }
    println!(
        "  xlsx {:.1} MB, per-request csv {:.1} MB",
        sizes.0 as f64 / 1_048_576.0,
        sizes.1 as f64 / 1_048_576.0
    );
}
