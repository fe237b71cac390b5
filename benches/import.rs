//! `mcu import` of a large file, as an operator runs it: the real binary on N generated lines
//! (default 1,000,000, `MCU_BENCH_IMPORT_N`; `mcu generate`, never real citizens' data) into a
//! fresh database, timed with its peak resident size (`/usr/bin/time`), then what the file is
//! left with (its WAL) and what the next commands pay for it: `mcu list`, `mcu show`,
//! `mcu list --search свет`, each a whole process. `MCU_BENCH_BIN` measures another build of
//! `mcu` (an older one, for the before figures). A plain program: the figures are sizes and
//! single runs, not criterion's loops.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let n: usize = std::env::var("MCU_BENCH_IMPORT_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let bin = std::env::var_os("MCU_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mcu")));
    let dir = common::data_dir();
    std::fs::create_dir_all(&dir).expect("bench dir");
    let config = dir.join("import-config.toml");
    std::fs::write(&config, "").expect("config");
    let mcu = || {
        let mut c = Command::new(&bin);
        c.env("MCU_CONFIG", &config).env("MCU_UI_LANGUAGE", "en");
        c
    };

    let lines = dir.join(format!("import-{n}.jsonl"));
    let ready = dir.join(format!("import-{n}.jsonl.ready"));
    if !ready.exists() {
        let out = std::fs::File::create(&lines).expect("lines file");
        let ok = mcu()
            .args(["generate", "--count", &n.to_string(), "--seed", "7"])
            .args(["--days", "730"])
            .stdout(out)
            .status()
            .expect("mcu generate");
        assert!(ok.success(), "mcu generate failed");
        std::fs::write(&ready, b"ok").expect("mark ready");
    }
    let mb = |p: &Path| std::fs::metadata(p).map_or(0.0, |m| m.len() as f64 / 1_048_576.0);
    println!("input: {n} lines, {:.0} MB ({})", mb(&lines), bin.display());

    let db = dir.join(format!("import-{n}.sqlite3"));
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    // `/usr/bin/time` reports the peak resident size exactly (the kernel's maxrss on wait).
    let report = dir.join("import-time.txt");
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg("-o")
        .arg(&report)
        .arg(&bin)
        .env("MCU_CONFIG", &config)
        .env("MCU_UI_LANGUAGE", "en")
        .arg("--db")
        .arg(&db)
        .arg("import")
        .arg(&lines)
        .output()
        .expect("/usr/bin/time mcu import (apt install time)");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peak_kb: f64 = std::fs::read_to_string(&report)
        .expect("time report")
        .trim()
        .parse()
        .expect("maxrss");
    println!(
        "mcu import: {:.1} s ({:.0} lines/s), peak resident {:.0} MB; {}",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        peak_kb / 1024.0,
        String::from_utf8_lossy(&out.stdout).trim()
    );
    println!(
        "left behind: database {:.0} MB, WAL {:.0} MB",
        mb(&db),
        mb(&wal)
    );

    let first = mcu()
        .arg("--db")
        .arg(&db)
        .args(["list", "-o", "json", "--limit", "1"])
        .output()
        .expect("mcu list");
    let listed: serde_json::Value = serde_json::from_slice(&first.stdout).expect("list json");
    let number = listed[0]["number"].as_str().expect("a number").to_string();
    let commands: [(&str, Vec<&str>); 3] = [
        ("mcu list", vec!["list"]),
        ("mcu show", vec!["show", &number]),
        ("mcu list --search свет", vec!["list", "--search", "свет"]),
    ];
    for (name, args) in commands {
        let in_order: Vec<Duration> = (0..5)
            .map(|_| {
                let t = Instant::now();
                let ok = mcu()
                    .arg("--db")
                    .arg(&db)
                    .args(&args)
                    .stdout(std::process::Stdio::null())
                    .status()
                    .expect("mcu");
                assert!(ok.success(), "{name} failed");
                t.elapsed()
            })
            .collect();
        let mut sorted = in_order.clone();
        sorted.sort();
        println!(
            "{name} after the import: first {:.1} ms, median of 5 {:.1} ms",
            ms(in_order[0]),
            ms(sorted[2])
        );
    }
    println!("WAL after those commands: {:.0} MB", mb(&wal));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
