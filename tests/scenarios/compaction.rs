//! Scenario 14: a console offline for days while the server compacted its change log. The
//! server runs with compaction every second; a colleague reworks one request a hundred times
//! (its early changes are superseded and go); the console, last synced before that request
//! existed, queued 5,000 actions offline (an import). It reconnects: its actions arrive once,
//! the request comes with its whole thread though the change that logged its creation is
//! gone, and the checker (I1–I5, with the compaction horizon) passes.

use std::time::{Duration, Instant};

use crate::support::{Backend, Console, Env, tags};

const QUEUED: usize = 5_000;
const CHURN: usize = 100;
/// More than the first page a console catching up asks for (5,000 changes).
const DAY: usize = 3_000;

/// Import lines: `n` requests received half an hour ago.
fn lines(text: &str, n: usize) -> String {
    let at = (chrono::Utc::now() - chrono::Duration::minutes(30)).to_rfc3339();
    (0..n)
        .map(|i| format!("{{\"text\":\"{text} {i}\",\"received_at\":\"{at}\"}}\n"))
        .collect()
}

fn offline_across_compaction(backend: Backend) {
    let env = Env::new(backend);
    let token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "operator");
    let server = env.serve_with(&["--compact-every-secs", "1"]);
    let anna = env.console(&server, "a.sqlite3", "anna", &token);
    let boris = env.console(&server, "b.sqlite3", "boris", &boris_token);
    anna.new_request("До отключения консоли");
    anna.sync_quiet();

    // Anna goes offline; Boris's request is reworked over and over, with a day's intake
    // between its first changes and its last: the change that logged its creation is
    // superseded and goes, while the audit lines of its creation stay more than a page
    // before its last change.
    let number = boris.new_request("Прорыв на Северной: много правок");
    let churn = |range: std::ops::Range<usize>| {
        for i in range {
            let tag = format!("p{:02}", i % 10);
            let op = if (i / 10) % 2 == 0 {
                "--add"
            } else {
                "--remove"
            };
            boris.ok(&["tag", &number, op, &tag]);
        }
    };
    churn(0..CHURN / 2);
    let day = env.path("day.jsonl");
    std::fs::write(&day, lines("Дневной поток", DAY)).unwrap();
    boris.ok(&["import", day.to_str().unwrap()]);
    churn(CHURN / 2..CHURN);
    boris.ok(&["note", &number, "--text", "Бригада на месте"]);
    boris.sync_quiet();
    let start = Instant::now();
    while !server.log_text().contains("change log compacted") {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no compaction ran"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let offline = Console {
        base: nowhere,
        ..anna.clone()
    };
    let file = env.path("queued.jsonl");
    std::fs::write(&file, lines("Офлайн-обращение", QUEUED)).unwrap();
    offline.ok(&["import", file.to_str().unwrap()]);

    // Back: five thousand actions up, everything since before the compaction down.
    let took = Instant::now();
    anna.sync_quiet();
    eprintln!(
        "scenario 14 ({backend:?}): {QUEUED} queued actions and the compacted log in {:?}",
        took.elapsed()
    );
    boris.sync_quiet();
    let expected = tags(&boris.show(&number));
    assert_eq!(tags(&anna.show(&number)), expected, "{backend:?}");
    let thread = anna.show(&number);
    assert!(
        thread.to_string().contains("Бригада на месте"),
        "the note came with the request: {thread}"
    );
    let files = [anna.db.as_path(), boris.db.as_path()];
    let summary = env.check(&files);
    assert_eq!(summary.rejected, 0, "{summary:?}");
    assert_eq!(
        summary.applied,
        QUEUED + DAY + 2 + CHURN + 1,
        "{backend:?}: {summary:?}"
    );
}

#[test]
fn a_console_offline_across_a_compaction_catches_up_on_sqlite() {
    offline_across_compaction(Backend::Sqlite);
}

#[test]
fn a_console_offline_across_a_compaction_catches_up_on_postgres() {
    offline_across_compaction(Backend::Postgres);
}
