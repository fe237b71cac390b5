//! `mcu report` over a generated month of 30,000 requests in a real SQLite file: every total
//! checked against counts computed here directly in SQL, the XLSX read back with calamine, and
//! the command's refusals.

use assert_cmd::Command;
use calamine::{Data, Reader, Xlsx, open_workbook};
use chrono::{DateTime, TimeZone, Utc};
use mcu_desk::domain::{Catalog, ClockPolicy};
use mcu_desk::report::{self, Group, Period};
use mcu_desk::store::{Env, Store, db};
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

const N: usize = 30_000;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

fn env() -> Env {
    Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(now),
    }
}

fn october() -> Period {
    Period::month(chrono_tz::Europe::Moscow, "2026-10").expect("month")
}

fn seeded(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("mcu.sqlite3");
    let mut conn = db::open(&path).expect("open");
    mcu_desk::testkit::sample::month(&mut conn, &env(), &october(), N, 7, now()).expect("seed");
    path
}

/// The report as `mcu report` makes it: the store reads, the report adds up.
fn build(path: &Path) -> report::Report {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let store = Store::open(path, env()).await.expect("store");
        report::build(&store, &october(), now())
            .await
            .expect("report")
    })
}

/// The SQL's own reading of the rules (24/7 calendar: working time is elapsed time):
/// answered in time when stopped by the due time; late after it; an open unanswered request
/// is overdue once due; a closed unanswered one is not judged.
const OUTCOME_COUNTS: &str = "
    count(*),
    sum(fr_stopped IS NOT NULL AND fr_stopped <= fr_due),
    sum(fr_stopped IS NOT NULL AND fr_stopped > fr_due),
    sum(fr_stopped IS NULL AND status != 'closed' AND fr_due <= :now),
    sum(fr_stopped IS NULL AND status != 'closed' AND fr_due > :now),
    sum(fr_stopped IS NULL AND status = 'closed'),
    sum(status != 'closed'),
    sum(topic IS 'out_of_scope' OR close_reason IS 'out_of_scope')";

const IN_PERIOD: &str = "received_at >= :start AND received_at < :end";

type Counts = [u64; 8];

fn counts_of(g: &Group) -> Counts {
    [
        g.requests,
        g.met,
        g.late,
        g.overdue,
        g.running,
        g.no_reply,
        g.open,
        g.out_of_scope,
    ]
}

fn sql_groups(c: &Connection, column: &str) -> BTreeMap<Option<String>, Counts> {
    let p = october();
    let mut st = c
        .prepare(&format!(
            "SELECT {column}, {OUTCOME_COUNTS} FROM request WHERE {IN_PERIOD} GROUP BY {column}"
        ))
        .expect("prepare");
    st.query_map(
        rusqlite::named_params! {
            ":now": now().timestamp_millis(),
            ":start": p.start.timestamp_millis(),
            ":end": p.end.timestamp_millis(),
        },
        |r| {
            let mut counts = [0u64; 8];
            for (i, c) in counts.iter_mut().enumerate() {
                *c = r.get::<_, i64>(i + 1)? as u64;
            }
            Ok((r.get::<_, Option<String>>(0)?, counts))
        },
    )
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

fn report_groups(groups: &[Group]) -> BTreeMap<Option<String>, Counts> {
    groups
        .iter()
        .map(|g| (g.key.clone(), counts_of(g)))
        .collect()
}

fn sql_i64(c: &Connection, sql: &str) -> i64 {
    let p = october();
    c.query_row(
        sql,
        rusqlite::named_params! {
            ":start": p.start.timestamp_millis(),
            ":end": p.end.timestamp_millis(),
        },
        |r| r.get(0),
    )
    .expect(sql)
}

#[test]
fn a_generated_month_matches_sql_and_its_xlsx_reads_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = seeded(dir.path());
    let conn = Connection::open(&path).expect("open");
    let r = build(&path);

    // Totals, by every dimension, against GROUP BY.
    assert_eq!(r.total.requests, N as u64, "the edges outside are left out");
    let total = sql_groups(&conn, "'all'");
    assert_eq!(
        counts_of(&r.total),
        total[&Some("all".to_string())],
        "totals"
    );
    for (column, groups) in [
        ("channel", &r.by_channel),
        ("topic", &r.by_topic),
        ("department", &r.by_department),
        ("assignee", &r.by_operator),
    ] {
        assert_eq!(report_groups(groups), sql_groups(&conn, column), "{column}");
    }
    // Each kind of outcome occurs, or the comparison proves little.
    let t = &r.total;
    assert!(
        t.met > 1000 && t.late > 1000 && t.overdue > 10 && t.no_reply > 100,
        "{t:?}"
    );
    assert!(t.open > 1000 && t.out_of_scope > 100, "{t:?}");

    // First-response times: mean, and nearest-rank median and p90, over answered requests.
    let answered = sql_i64(
        &conn,
        &format!("SELECT count(*) FROM request WHERE {IN_PERIOD} AND fr_stopped IS NOT NULL"),
    );
    assert_eq!(t.stats.answered, answered as u64);
    let mean: f64 = conn
        .query_row(
            &format!(
                "SELECT avg(fr_stopped - fr_started) FROM request
                 WHERE {IN_PERIOD} AND fr_stopped IS NOT NULL"
            ),
            rusqlite::named_params! {
                ":start": october().start.timestamp_millis(),
                ":end": october().end.timestamp_millis(),
            },
            |r| r.get(0),
        )
        .expect("mean");
    assert!(
        (t.stats.mean_ms.expect("mean") - mean).abs() < 1e-3,
        "{mean}"
    );
    let rank = |p: f64| {
        let k = ((p * answered as f64).ceil() as i64).max(1) - 1;
        sql_i64(
            &conn,
            &format!(
                "SELECT fr_stopped - fr_started FROM request
                 WHERE {IN_PERIOD} AND fr_stopped IS NOT NULL
                 ORDER BY fr_stopped - fr_started LIMIT 1 OFFSET {k}"
            ),
        )
    };
    assert_eq!(t.stats.median_ms, Some(rank(0.5)));
    assert_eq!(t.stats.p90_ms, Some(rank(0.9)));

    // Streets: the part of the address before ", house".
    let mut st = conn
        .prepare(&format!(
            "SELECT CASE WHEN instr(address, ', ') > 0
                         THEN substr(address, 1, instr(address, ', ') - 1) ELSE address END AS s,
                    count(*) AS n
             FROM request WHERE {IN_PERIOD} AND address IS NOT NULL
             GROUP BY s ORDER BY n DESC, s"
        ))
        .expect("streets");
    let streets: Vec<(String, u64)> = st
        .query_map(
            rusqlite::named_params! {
                ":start": october().start.timestamp_millis(),
                ":end": october().end.timestamp_millis(),
            },
            |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)),
        )
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert!(streets.len() > 10);
    assert_eq!(r.streets, streets);

    // The real binary writes the XLSX; calamine reads it back.
    let xlsx = dir.path().join("october.xlsx");
    Command::cargo_bin("mcu")
        .expect("binary")
        .env("MCU_CONFIG", config(dir.path()))
        .args(["--db", path.to_str().expect("utf-8 path")])
        .args(["report", "--month", "2026-10", "--format", "xlsx", "--out"])
        .arg(&xlsx)
        .assert()
        .success();
    let mut wb: Xlsx<_> = open_workbook(&xlsx).expect("open xlsx");
    assert_eq!(
        wb.sheet_names(),
        [
            "Итоги",
            "Каналы",
            "Темы",
            "Департаменты",
            "Операторы",
            "Сравнение",
            "Дни",
            "Причины закрытия",
            "Ждут департамент",
            "Сроки департаментов",
            "Вопрос решён",
            "Улицы",
            "Открытые",
            "Заявки"
        ]
    );
    // Every day of October a row, and the days add up to the month.
    let days = wb.worksheet_range("Дни").expect("days");
    assert_eq!(days.height(), 31 + 1);
    let received: f64 = days
        .rows()
        .skip(1)
        .filter_map(|row| match row.get(1) {
            Some(Data::Float(v)) => Some(*v),
            _ => None,
        })
        .sum();
    assert_eq!(received, N as f64);
    let summary = wb.worksheet_range("Итоги").expect("summary");
    let value = |name: &str| {
        summary
            .rows()
            .find(|row| row.first() == Some(&Data::String(name.into())))
            .and_then(|row| row.get(1).cloned())
            .unwrap_or_else(|| panic!("no row {name}"))
    };
    assert_eq!(value("Всего заявок"), Data::Float(N as f64));
    assert_eq!(value("Ещё открыто"), Data::Float(t.open as f64));
    // Every request has its row: no cap.
    let requests = wb.worksheet_range("Заявки").expect("requests");
    assert_eq!(requests.height(), N + 1);
    assert_eq!(requests.get((0, 0)), Some(&Data::String("Номер".into())));
    let first_number: String = conn
        .query_row(
            &format!("SELECT number FROM request WHERE {IN_PERIOD} ORDER BY received_at, rid"),
            rusqlite::named_params! {
                ":start": october().start.timestamp_millis(),
                ":end": october().end.timestamp_millis(),
            },
            |r| r.get(0),
        )
        .expect("first");
    assert_eq!(requests.get((1, 0)), Some(&Data::String(first_number)));
    let channels = wb.worksheet_range("Каналы").expect("channels");
    let vk = sql_i64(
        &conn,
        &format!("SELECT count(*) FROM request WHERE {IN_PERIOD} AND channel = 'vk'"),
    );
    let vk_row = channels
        .rows()
        .find(|row| row.first() == Some(&Data::String("ВКонтакте".into())))
        .expect("vk row");
    assert_eq!(vk_row.get(1), Some(&Data::Float(vk as f64)));
    let open = wb.worksheet_range("Открытые").expect("open");
    assert_eq!(open.height() as u64, t.open + 1);
}

/// An empty config file: the defaults (Russian, Moscow, round the clock).
fn config(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("config.toml");
    std::fs::write(&p, "").expect("config");
    p
}

fn mcu(dir: &Path, db: &Path) -> Command {
    let mut c = Command::cargo_bin("mcu").expect("binary");
    c.env("MCU_CONFIG", config(dir))
        .env_remove("MCU_UI_LANGUAGE")
        .args(["--db", db.to_str().expect("utf-8 path")]);
    c
}

#[test]
fn bad_periods_and_unwritable_files_are_refused_plainly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcu.sqlite3");
    let cases: [(&[&str], i32, &str); 5] = [
        (&["report", "--month", "2026-13"], 2, "не месяц"),
        (
            &["report", "--from", "2026-10-10", "--to", "2026-10-01"],
            2,
            "позже",
        ),
        (&["report"], 2, "укажите период"),
        (
            &["report", "--month", "2026-10", "--format", "xlsx"],
            2,
            "--out",
        ),
        (
            &[
                "report",
                "--month",
                "2026-10",
                "--out",
                "/nonexistent-dir/r.md",
            ],
            1,
            "не удаётся записать /nonexistent-dir/r.md",
        ),
    ];
    for (args, code, says) in cases {
        let out = mcu(dir.path(), &db).args(args).output().expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
}

#[test]
fn list_csv_exports_every_matching_request_and_md_is_safe_for_the_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mcu.sqlite3");
    let hostile = "Прорвало трубу\x1b]0;pwned\x07, \"срочно\"\nул. Северная";
    // One import, not sixty processes.
    let received = Utc::now().to_rfc3339();
    let lines: Vec<String> = (0..60)
        .map(|i| {
            let text = if i == 0 {
                hostile.to_string()
            } else {
                format!("Яма на дороге номер {i}")
            };
            serde_json::json!({
                "text": text, "received_at": received, "topic": "roads",
                "address": format!("ул. Красная, {i}"),
            })
            .to_string()
        })
        .collect();
    let import = dir.path().join("in.jsonl");
    std::fs::write(&import, lines.join("\n")).expect("import file");
    mcu(dir.path(), &db)
        .arg("import")
        .arg(&import)
        .assert()
        .success();
    let out = mcu(dir.path(), &db)
        .args(["list", "--topic", "roads", "--csv"])
        .output()
        .expect("list");
    assert!(out.status.success());
    let mut rd = csv::Reader::from_reader(&out.stdout[..]);
    assert_eq!(&rd.headers().expect("header")[0], "Номер");
    let recs: Vec<csv::StringRecord> = rd.records().map(|r| r.expect("record")).collect();
    // All of them, not a page of 50.
    assert_eq!(recs.len(), 60);
    assert!(
        recs.iter()
            .any(|r| &r[10] == "Прорвало трубу]0;pwned, \"срочно\" ул. Северная"),
        "{recs:?}"
    );

    let this_month = Utc::now()
        .with_timezone(&chrono_tz::Europe::Moscow)
        .format("%Y-%m")
        .to_string();
    let out = mcu(dir.path(), &db)
        .args(["report", "--month", &this_month, "--requests"])
        .output()
        .expect("report");
    assert!(out.status.success());
    let md = String::from_utf8(out.stdout).expect("utf-8");
    // The escape sequence's introducer is gone; what is left is plain (escaped) text.
    assert!(md.contains("Прорвало трубу\\]0;pwned"), "{md}");
    assert!(!md.chars().any(|c| c.is_control() && c != '\n'), "{md}");
}
