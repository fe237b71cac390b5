//! The scriptable CLI, driven through the real binary on a real SQLite file.

use assert_cmd::Command;
use chrono::{Duration, TimeZone, Utc};
use mcu_desk::demo::corpus::Generator;
use serde_json::Value;
use std::path::{Path, PathBuf};

struct Env {
    _dir: tempfile::TempDir,
    db: PathBuf,
    config: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("mcu.sqlite3");
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "[operator]\nname = \"anna\"\n").unwrap();
        Env {
            db,
            config,
            _dir: dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self._dir.path().join(name)
    }

    fn mcu(&self) -> Command {
        let mut c = Command::cargo_bin("mcu").unwrap();
        c.arg("--db")
            .arg(&self.db)
            .arg("--config")
            .arg(&self.config);
        // The test's own environment must not leak into the config.
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("MCU_")) {
            c.env_remove(k);
        }
        c
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.mcu().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "mcu {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&a)).unwrap()
    }

    /// Fails with exit code 2 and one line on stderr; returns that line.
    fn refused(&self, args: &[&str]) -> String {
        let out = self.mcu().args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "mcu {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "one-line error: {err:?}");
        err.trim_end().to_string()
    }

    /// What the database holds. The fields the export derives from the present moment
    /// (`minutes_left`, `clock_state`) are left out: a minute passing between two snapshots is
    /// not a change to the database.
    fn snapshot(&self) -> (String, i64) {
        let export: String = self
            .ok(&["export", "-o", "jsonl"])
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                if let Some(o) = v.as_object_mut() {
                    o.remove("minutes_left");
                    o.remove("clock_state");
                }
                v.to_string() + "\n"
            })
            .collect();
        let c = rusqlite::Connection::open(&self.db).unwrap();
        let events: i64 = c
            .query_row("SELECT count(*) FROM event", [], |r| r.get(0))
            .unwrap();
        (export, events)
    }
}

fn write_import(path: &Path, n: usize) {
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap();
    let mut lines = String::new();
    for (i, s) in Generator::new(7).take(n).enumerate() {
        let mut v = serde_json::json!({
            "text": s.text,
            "received_at": (start + Duration::minutes(i as i64 * 3)).to_rfc3339(),
            "channel": if i % 3 == 0 { "vk" } else { "telegram" },
            "external_id": format!("ext-{i}"),
            "citizen": s.citizen,
        });
        if let Some(a) = s.address {
            v["address"] = a.into();
        }
        if let (Some(lat), Some(lon)) = (s.lat, s.lon) {
            v["lat"] = lat.into();
            v["lon"] = lon.into();
        }
        lines.push_str(&v.to_string());
        lines.push('\n');
    }
    std::fs::write(path, lines).unwrap();
}

#[test]
fn import_search_tag_claim_close_show() {
    let env = Env::new();
    let file = env.path("batch.jsonl");
    write_import(&file, 3000);
    let out = env.ok(&["import", file.to_str().unwrap()]);
    assert!(out.contains("3000"), "{out}");

    // Re-running the same import adds nothing.
    let again = env.ok(&["import", file.to_str().unwrap()]);
    assert!(
        again.contains("3000") && again.contains("импортировано 0"),
        "{again}"
    );

    // Word forms: searching "ямой" finds requests written with "яма"/"ямы".
    let found = env.json(&["list", "--search", "ямой", "--limit", "500"]);
    let found = found.as_array().unwrap();
    assert!(!found.is_empty(), "search finds pits");
    for r in found {
        let t = r["text"].as_str().unwrap().to_lowercase();
        assert!(t.contains("ям"), "every hit mentions a pit: {t}");
    }
    let number = found[0]["number"].as_str().unwrap().to_string();

    let tagged = env.json(&["tag", &number, "--topic", "roads", "--add", "срочно"]);
    assert_eq!(tagged[0]["topic"], "roads");
    assert_eq!(
        tagged[0]["department"], "transport_roads",
        "department follows the topic"
    );
    assert_eq!(tagged[0]["tags"][0], "срочно");

    let claimed = env.json(&["claim", &number]);
    assert_eq!(claimed[0]["assignee"], "anna");
    assert_eq!(claimed[0]["status"], "in_work");

    let mine = env.json(&["list", "--mine"]);
    assert_eq!(mine.as_array().unwrap().len(), 1);

    env.ok(&[
        "reply",
        &number,
        "--text",
        "Передали в департамент транспорта",
    ]);
    // An imported request has no chat to send to: the reply can't reach the citizen, and
    // the request waits in the undelivered queue until someone calls them (#15 item 3).
    let undelivered = env.json(&["list", "--undelivered"]);
    assert_eq!(undelivered[0]["number"], number.as_str(), "{undelivered}");
    assert_eq!(undelivered[0]["reply_delivery"], "failed");
    assert_eq!(undelivered[0]["first_response_at"], Value::Null);
    assert_eq!(undelivered[0]["clock"], "first_response");
    let table = env.ok(&["list", "--undelivered"]);
    assert!(table.contains("✗недост."), "{table}");
    let phoned = env.json(&[
        "phoned",
        &number,
        "--text",
        "Позвонили: передали в департамент транспорта",
    ]);
    assert_eq!(phoned[0]["undelivered"], false, "{phoned}");
    assert!(phoned[0]["first_response_at"].is_string(), "{phoned}");
    assert_eq!(
        env.json(&["list", "--undelivered"])
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    let err = env.refused(&["unreachable", &number]);
    assert!(err.contains("недоставленного"), "{err}");
    let closed = env.json(&["close", &number, "--reason", "resolved"]);
    assert_eq!(closed[0]["status"], "closed");
    assert_eq!(closed[0]["closed_reason"], "resolved");

    let shown = env.json(&["show", &number]);
    for key in [
        "number",
        "status",
        "channel",
        "topic",
        "department",
        "assignee",
        "priority",
        "text",
        "received_at",
        "first_response_due",
        "first_response_at",
        "closed_reason",
        "messages",
        "notes",
        "events",
    ] {
        assert!(
            shown.get(key).is_some(),
            "show -o json has `{key}`: {shown}"
        );
    }
    assert_eq!(shown["messages"][0]["direction"], "out");
    let fields: Vec<&str> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "created",
        "topic",
        "department",
        "tag",
        "assignee",
        "status",
        "first_response_at",
        "close_reason",
    ] {
        assert!(fields.contains(&f), "audit has {f}: {fields:?}");
    }

    // Closed requests sort last by time left; the first page is the most urgent open ones.
    let page = env.json(&["list", "--limit", "20"]);
    let page = page.as_array().unwrap();
    assert_eq!(page.len(), 20);
    let dues: Vec<&str> = page.iter().map(|r| r["due"].as_str().unwrap()).collect();
    let mut sorted = dues.clone();
    sorted.sort();
    assert_eq!(dues, sorted);
}

#[test]
fn pages_cover_everything_once() {
    let env = Env::new();
    let file = env.path("batch.jsonl");
    write_import(&file, 250);
    env.ok(&["import", file.to_str().unwrap()]);
    for sort in ["time-left", "received"] {
        let mut seen = std::collections::HashSet::new();
        let mut after: Option<String> = None;
        loop {
            let mut args = vec!["list", "--sort", sort, "--limit", "100"];
            let a;
            if let Some(c) = &after {
                a = c.clone();
                args.extend(["--after", a.as_str()]);
            }
            let out = env.mcu().args(&args).output().unwrap();
            assert!(out.status.success());
            let stdout = String::from_utf8(out.stdout).unwrap();
            for line in stdout.lines().skip(1) {
                let n = line.split_whitespace().next().unwrap().to_string();
                assert!(seen.insert(n), "no request twice");
            }
            let stderr = String::from_utf8(out.stderr).unwrap();
            match stderr.split("--after ").nth(1) {
                Some(c) => after = Some(c.trim().to_string()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 250, "sort {sort}");
    }
}

#[test]
fn refusals_exit_2_with_one_line_and_change_nothing() {
    let env = Env::new();
    let file = env.path("batch.jsonl");
    write_import(&file, 20);
    env.ok(&["import", file.to_str().unwrap()]);
    let number = env.json(&["list", "--limit", "1"])[0]["number"]
        .as_str()
        .unwrap()
        .to_string();
    env.ok(&["close", &number, "--reason", "spam"]);
    let before = env.snapshot();

    let e = env.refused(&["close", &number, "--reason", "resolved"]);
    assert!(e.contains("нельзя закрыть обращение: оно закрыто"), "{e}");
    let e = env
        .mcu()
        .env("MCU_UI_LANGUAGE", "en")
        .args(["close", &number, "--reason", "resolved"])
        .output()
        .unwrap();
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("cannot close a request that is closed"));
    let e = env.refused(&["tag", &number, "--topic", "ufo"]);
    assert!(e.contains("неизвестная тема `ufo`"), "{e}");
    let e = env.refused(&["claim", "2026-999999"]);
    assert!(e.contains("2026-999999"), "{e}");
    let e = env.refused(&["claim", "12x"]);
    assert!(e.contains("not a request number"), "{e}");
    let e = env.refused(&["close", &number, "--reason", "bored"]);
    assert!(e.contains("bored"), "{e}");

    // A bad line in the middle: nothing of the file is imported.
    let bad = env.path("bad.jsonl");
    let good = r#"{"text":"Нет света в подъезде","received_at":"2026-11-03T08:00:00Z"}"#;
    std::fs::write(
        &bad,
        format!("{good}\n{good}\n{{\"text\": \"без даты\"}}\n{good}\n"),
    )
    .unwrap();
    let e = env.refused(&["import", bad.to_str().unwrap()]);
    assert!(e.contains("строка 3") && e.contains("received_at"), "{e}");
    // A line that parses but names an unknown topic is refused too, by its line number.
    std::fs::write(
        &bad,
        format!(
            "{good}\n{}\n",
            r#"{"text":"x","received_at":"2026-11-03T08:00:00Z","topic":"ufo"}"#
        ),
    )
    .unwrap();
    let e = env.refused(&["import", bad.to_str().unwrap()]);
    assert!(e.contains("строка 2") && e.contains("ufo"), "{e}");

    assert_eq!(env.snapshot(), before, "database unchanged");
}

#[test]
fn broken_config_and_foreign_files_are_reported() {
    let env = Env::new();
    std::fs::write(&env.config, "[clocks]\nfirst_response_hours = \"four\"\n").unwrap();
    let e = env.refused(&["list"]);
    assert!(
        e.contains("config.toml") && e.contains("first_response_hours"),
        "{e}"
    );

    let env = Env::new();
    std::fs::write(
        &env.db,
        "this is not a database, just text that happens to be long enough to matter",
    )
    .unwrap();
    let out = env.mcu().arg("list").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("mcu.sqlite3"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn phone_request_registered_by_hand() {
    let env = Env::new();
    let r = env.json(&[
        "new",
        "--text",
        "Звонок: упало дерево на ул. Северной",
        "--topic",
        "urban",
        "--citizen",
        "Иван",
    ]);
    assert_eq!(r[0]["channel"], "phone");
    assert_eq!(r[0]["department"], "city_economy");
    let n = r[0]["number"].as_str().unwrap();
    assert!(n.ends_with("-000001"), "{n}");
    // A phone request's reply is only recorded: the operator calls back.
    env.ok(&["reply", n, "--text", "Перезвонили"]);
    let shown = env.json(&["show", n]);
    assert_eq!(shown["messages"][0]["delivery"], "recorded");
    // The tail of the number is enough when it is unambiguous.
    let tail = env.json(&["show", "1"]);
    assert_eq!(tail["number"], n);
}

#[test]
fn a_phone_in_any_form_is_one_citizen_with_their_requests() {
    let env = Env::new();
    let first = env.json(&[
        "new",
        "--text",
        "Звонок: нет воды",
        "--phone",
        "8 918 111-22-33",
    ]);
    let first = first[0]["number"].as_str().unwrap().to_owned();
    let second = env.json(&[
        "new",
        "--text",
        "Звонок: воды нет второй день",
        "--phone",
        "+79181112233",
    ]);
    let second = second[0]["number"].as_str().unwrap().to_owned();
    env.ok(&[
        "new",
        "--text",
        "Звонок: другой человек",
        "--phone",
        "+7 918 000-00-00",
    ]);
    let shown = env.json(&["show", &second]);
    assert_eq!(shown["phone"], "+7 918 111-22-33", "{shown}");
    let others: Vec<&str> = shown["citizen_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap())
        .collect();
    assert_eq!(others, [first.as_str()], "{shown}");
    assert!(
        env.ok(&["show", &second])
            .contains("Другие обращения заявителя")
    );
    // Searched in any form, the number finds both.
    let found = env.json(&["list", "--search", "89181112233", "--sort", "received"]);
    let numbers: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, [second.as_str(), first.as_str()], "{found}");
    // Linked as a duplicate, the second is listed on the first's card.
    env.ok(&["link", &second, "--duplicate-of", &first]);
    let parent = env.json(&["show", &first]);
    assert_eq!(
        parent["duplicates"],
        serde_json::json!([second]),
        "{parent}"
    );
    assert!(
        env.ok(&["show", &first])
            .contains(&format!("Дубликаты: {second}"))
    );
    // A wrong number: one line, exit 2, nothing made.
    let before = env.snapshot();
    let e = env.refused(&["new", "--text", "Звонок", "--phone", "позвоните\u{1b}[2J"]);
    assert!(
        e.contains("--phone") && e.contains("not a phone number"),
        "{e}"
    );
    assert!(!e.contains('\u{1b}'), "{e}");
    assert_eq!(env.snapshot(), before);
}

#[test]
fn templates_lists_the_shipped_set_and_the_centers_own() {
    let env = Env::new();
    std::fs::write(
        &env.config,
        "[operator]\nname = \"anna\"\n[[templates]]\nshortcut = \"snow\"\ntitle = \"Уборка снега\"\ntext = \"Заявка {number}: снег уберут\"\n",
    )
    .unwrap();
    let lines = env.ok(&["templates"]);
    assert!(lines.lines().count() >= 21, "{lines}");
    for needle in [
        "gas        Запах газа: 104",
        "addr",
        "photo",
        "done",
        "snow       Уборка снега",
    ] {
        assert!(lines.contains(needle), "{needle} in {lines}");
    }
    let all = env.json(&["templates"]);
    let gas = all
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["shortcut"] == "gas")
        .unwrap();
    assert!(gas["text"].as_str().unwrap().contains("104"), "{gas}");
    // A shipped reply used by its shortcut.
    let made = env.json(&["new", "--text", "Пахнет газом в подъезде"]);
    let n = made[0]["number"].as_str().unwrap().to_owned();
    env.ok(&["reply", &n, "--template", "gas"]);
    let shown = env.json(&["show", &n]);
    let body = shown["messages"][0]["body"].as_str().unwrap();
    assert!(body.contains("104") && body.contains(&n), "{body}");
}

#[test]
fn csv_export_quotes_citizen_text() {
    let env = Env::new();
    env.ok(&[
        "new",
        "--text",
        "Текст с \"кавычками\", запятыми\nи переводом строки",
    ]);
    let csv = env.ok(&["export", "-o", "csv"]);
    let mut rdr = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        &rows[0][9],
        "Текст с \"кавычками\", запятыми\nи переводом строки"
    );
}

#[test]
fn a_locked_database_is_reported_not_waited_on_forever() {
    let env = Env::new();
    env.ok(&["new", "--text", "Нет воды"]);
    let holder = rusqlite::Connection::open(&env.db).unwrap();
    holder
        .execute_batch("BEGIN IMMEDIATE; UPDATE request SET citizen = 'x';")
        .unwrap();
    let out = env.mcu().args(["claim", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("занята"), "{err}");
    holder.execute_batch("ROLLBACK").unwrap();
    let claimed = env.json(&["claim", "1"]);
    assert_eq!(
        claimed[0]["assignee"], "anna",
        "works once the lock is gone"
    );
}

#[test]
fn sync_says_whether_a_server_is_set_and_reachable_by_its_exit_code() {
    let e = Env::new();
    let out = e.mcu().arg("sync").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[server] url"));
    // A closed port: nothing is lost, the action waits, exit 4.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    e.mcu()
        .env("MCU_SERVER_URL", &url)
        .args(["new", "--text", "Звонок: нет света"])
        .assert()
        .success();
    let out = e
        .mcu()
        .env("MCU_SERVER_URL", &url)
        .arg("sync")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("недоступен"));

    // #16 item 10: an address that is no address is the config's fault, not the network's.
    std::fs::write(&e.config, "[server]\nurl = \"not a url\"\n").unwrap();
    let err = e.refused(&["sync"]);
    assert!(
        err.contains("server.url") && err.contains("line 2"),
        "{err}"
    );
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let e = Env::new();
    let lines = e.ok(&["generate", "--count", "3000", "--seed", "7"]);
    let file = e.path("many.jsonl");
    std::fs::write(&file, lines).unwrap();
    e.ok(&["import", file.to_str().unwrap()]);
    // `mcu export | head -c 100`: the pipe closes long before 3,000 lines are written.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("mcu"))
        .args(["--db"])
        .arg(&e.db)
        .arg("--config")
        .arg(&e.config)
        .args(["export", "-o", "jsonl"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 100];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut head).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn handover_lists_late_and_falling_due_requests_and_the_shifts_notes() {
    let env = Env::new();
    let long_ago = (Utc::now() - Duration::days(3)).to_rfc3339();
    let lines = format!(
        "{{\"text\":\"Яма у школы\",\"received_at\":\"{long_ago}\"}}\n{{\"text\":\"Нет света в подъезде\",\"received_at\":\"{}\"}}\n",
        Utc::now().to_rfc3339()
    );
    let file = env.path("two.jsonl");
    std::fs::write(&file, lines).unwrap();
    env.ok(&["import", file.to_str().unwrap()]);
    let listed = env.json(&["list"]);
    let number_of = |text: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["text"] == text)
            .unwrap()["number"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (late, fresh) = (number_of("Яма у школы"), number_of("Нет света в подъезде"));
    env.ok(&["note", &fresh, "--text", "Электрик обещал к утру\u{1b}[31m"]);

    // A week-long "shift" reaches the fresh request's due time whatever the calendar.
    let h = env.json(&["handover", "--hours", "72"]);
    assert_eq!(h["open"]["new"], 2, "{h}");
    let numbers = |key: &str| -> Vec<String> {
        h[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["number"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(numbers("breached"), vec![late.as_str()]);
    assert_eq!(numbers("due_next_shift"), vec![fresh.as_str()]);
    assert_eq!(h["notes"][0]["number"], fresh.as_str(), "{h}");
    assert_eq!(h["notes"][0]["author"], "anna");

    let text = env.ok(&["handover"]);
    assert!(text.starts_with("Передача смены"), "{text}");
    assert!(text.contains("Открыто: 2 (новые 2)"), "{text}");
    assert!(text.contains("Срок уже нарушен: 1"), "{text}");
    assert!(text.contains(&late), "{text}");
    assert!(text.contains("Электрик обещал к утру"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no escape reaches the terminal: {text:?}"
    );

    let err = env.refused(&["handover", "--hours", "0"]);
    assert!(err.contains("--hours"), "{err}");
}

/// Issue #15 item 2: forwarding a request without replying leaves the citizen's 4-hour clock
/// the one that runs: late in `--breached`, in the handover, and in the list's clock columns.
#[test]
fn a_request_forwarded_unanswered_is_breached_when_its_four_hours_pass() {
    let env = Env::new();
    let received = (Utc::now() - Duration::hours(5)).to_rfc3339();
    let file = env.path("late.jsonl");
    std::fs::write(
        &file,
        format!("{{\"text\":\"Прорыв трубы на Северной\",\"received_at\":\"{received}\"}}\n"),
    )
    .unwrap();
    env.ok(&["import", file.to_str().unwrap()]);
    let number = env.json(&["list"])[0]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    env.ok(&["forward", &number, "--department", "city_economy"]);

    let breached = env.json(&["list", "--breached"]);
    assert_eq!(breached.as_array().unwrap().len(), 1, "{breached}");
    assert_eq!(breached[0]["number"], number.as_str());
    assert_eq!(breached[0]["clock"], "first_response", "{breached}");
    assert_eq!(breached[0]["status"], "waiting_department");

    let h = env.json(&["handover"]);
    assert_eq!(h["breached"][0]["number"], number.as_str(), "{h}");
}

/// Issue #15 item 10: `mcu reply` fills a template's variables as the console does; a greeting
/// uses a name, never an account handle; a late request is not promised a time in the past; the
/// department's answer is pulled in.
#[test]
fn replies_from_the_cli_read_as_the_citizen_should_read_them() {
    let env = Env::new();
    let received = (Utc::now() - Duration::hours(5)).to_rfc3339();
    let file = env.path("late.jsonl");
    std::fs::write(
        &file,
        format!(
            "{{\"text\":\"Нет воды\",\"citizen\":\"zhenya_kuban (@zhenya_kuban)\",\"received_at\":\"{received}\"}}\n"
        ),
    )
    .unwrap();
    env.ok(&["import", file.to_str().unwrap()]);
    let number = env.json(&["list"])[0]["number"]
        .as_str()
        .unwrap()
        .to_owned();
    env.ok(&["reply", &number, "--template", "ack"]);
    env.ok(&[
        "reply",
        &number,
        "--text",
        "По обращению {number}: {citizen}мастер выехал",
    ]);
    env.ok(&["forward", &number, "--department", "city_economy"]);
    env.ok(&["answer", &number, "--text", "Трубу заменили, вода есть"]);
    env.ok(&["reply", &number, "--template", "::ans"]);
    let shown = env.json(&["show", &number]);
    let bodies: Vec<&str> = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "out")
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies[0],
        format!(
            "Здравствуйте! Ваше обращение {number} принято в работу. Ответим в ближайшее время."
        ),
        "{bodies:?}"
    );
    assert_eq!(bodies[1], format!("По обращению {number}: мастер выехал"));
    assert!(
        bodies[2].ends_with("сообщает: Трубу заменили, вода есть"),
        "{bodies:?}"
    );
    assert!(bodies.iter().all(|b| !b.contains('{')), "{bodies:?}");
    let err = env.refused(&["reply", &number, "--template", "nope"]);
    assert!(err.contains("нет готового ответа"), "{err}");
}

/// Issue #15 item 11: the CLI takes topics and departments as the console's filter does — ids
/// or Russian/English names — and refuses an unknown one in the operator's language.
#[test]
fn topics_and_departments_by_name_as_in_the_console() {
    let env = Env::new();
    let file = env.path("two.jsonl");
    write_import(&file, 2);
    env.ok(&["import", file.to_str().unwrap()]);
    let listed = env.json(&["list"]);
    let numbers: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap().to_owned())
        .collect();
    let tagged = env.json(&["tag", &numbers[0], "--topic", "Дороги"]);
    assert_eq!(tagged[0]["topic"], "roads", "{tagged}");
    assert_eq!(tagged[0]["department"], "transport_roads", "{tagged}");
    let tagged = env.json(&["tag", &numbers[1], "--department", "транспорта"]);
    assert_eq!(tagged[0]["department"], "transport_roads", "{tagged}");

    let by_name = env.json(&["list", "--topic", "дороги"]);
    let by_id = env.json(&["list", "--topic", "roads"]);
    assert_eq!(by_name, by_id);
    assert_eq!(by_name.as_array().unwrap().len(), 1, "{by_name}");
    assert_eq!(by_name[0]["number"], numbers[0].as_str());
    let by_dept = env.json(&["list", "--department", "Transport and Roads"]);
    assert_eq!(by_dept.as_array().unwrap().len(), 2, "{by_dept}");

    let e = env.refused(&["list", "--topic", "космос"]);
    assert!(e.contains("неизвестная тема `космос`"), "{e}");
    let e = env.refused(&["forward", &numbers[0], "--department", "луна"]);
    assert!(e.contains("неизвестный департамент `луна`"), "{e}");
}

/// #16 item 1: a receipt time outside 2000 … tomorrow is refused where it enters, and a file
/// that already holds a row that doesn't read is repaired by `mcu repair`.
#[test]
fn impossible_receipt_times_are_refused_and_unreadable_rows_repaired() {
    let env = Env::new();
    for at in [
        "9999-12-31T23:59:59Z",
        "2999-01-01T00:00:00Z",
        "1999-01-01T00:00:00Z",
    ] {
        let file = env.path("p.jsonl");
        std::fs::write(
            &file,
            format!("{{\"text\":\"x\",\"received_at\":\"{at}\"}}\n"),
        )
        .unwrap();
        let out = env.mcu().arg("import").arg(&file).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{at}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("время поступления"),
            "{out:?}"
        );
    }
    assert_eq!(env.json(&["list"]).as_array().unwrap().len(), 0);

    // A row written before the bound existed (its number, 10000-…, no longer parses).
    env.ok(&["new", "--channel", "phone", "--text", "Звонок: нет света"]);
    env.ok(&["new", "--channel", "phone", "--text", "Звонок: яма"]);
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    conn.execute(
        "UPDATE request SET number = '10000-000001' WHERE text = 'Звонок: яма'",
        [],
    )
    .unwrap();
    drop(conn);
    let broken = env.mcu().args(["list"]).output().unwrap();
    assert!(!broken.status.success(), "the row no longer reads");

    let repaired = env.json(&["repair"]);
    assert_eq!(repaired["moved"].as_array().unwrap().len(), 1, "{repaired}");
    let listed = env.json(&["list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["text"], "Звонок: нет света");
    // Listed again, nothing more moved.
    let again = env.json(&["repair"]);
    assert_eq!(again["moved"].as_array().unwrap().len(), 0);
    assert_eq!(again["quarantined"].as_array().unwrap().len(), 1);
}

/// What a spreadsheet would run or a terminal would obey: the text a hostile citizen sends.
const HOSTILE: &str = "=HYPERLINK(\"http://x\") \x1b]52;c;aGk=\x07 \x1b[2J \u{202e}evil \u{9b}31m";

/// One cell of any CSV or XLSX output: no control character but a newline, no bidi control,
/// and nothing a spreadsheet would take for a formula (`=`, `+`, `-`, `@` first, even after
/// spaces) unless it is a plain number or starts with the `'` that makes it text.
fn assert_safe_cell(where_: &str, cell: &str) {
    assert!(
        !cell.chars().any(|c| c.is_control() && c != '\n'),
        "{where_}: control character in {cell:?}"
    );
    assert!(
        !cell.chars().any(|c| matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )),
        "{where_}: bidi control in {cell:?}"
    );
    let plain_number = cell.parse::<f64>().is_ok_and(f64::is_finite)
        && cell
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '.'));
    assert!(
        plain_number
            || !cell
                .trim_start()
                .starts_with(['=', '+', '-', '@', '\t', '\r']),
        "{where_}: formula not neutralised in {cell:?}"
    );
}

/// Every cell of a CSV text is safe; how many cells began with the neutralising `'`.
fn assert_safe_csv(where_: &str, text: &str) -> usize {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut guarded = 0;
    for rec in r.records() {
        for cell in rec.unwrap().iter() {
            assert_safe_cell(where_, cell);
            guarded += usize::from(cell.starts_with('\'') && cell.contains("=HYPERLINK"));
        }
    }
    guarded
}

/// #16 item 7: every CSV and XLSX output cleans control characters and neutralises formulas.
#[test]
fn every_csv_and_xlsx_output_is_cleaned_and_defused() {
    use calamine::{Data, Reader, Xlsx, open_workbook};
    let env = Env::new();
    env.ok(&[
        "new",
        "--text",
        HOSTILE,
        "--citizen",
        &format!("{HOSTILE} \u{202e}"),
        "--address",
        &format!("\t {HOSTILE}"),
    ]);
    // Text, citizen and address each carry a formula; `list --csv` and the report have no
    // citizen column.
    for (args, formulas) in [
        (&["export", "-o", "csv"][..], 3),
        (&["list", "-o", "csv"][..], 3),
        (&["show", "1", "-o", "csv"][..], 3),
        (&["list", "--csv"][..], 2),
    ] {
        let out = env.ok(args);
        assert_eq!(
            assert_safe_csv(&format!("{args:?}"), &out),
            formulas,
            "{args:?}: {out}"
        );
    }
    let from = (Utc::now() - Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    let requests = env.ok(&["report", "--from", &from, "--format", "csv", "--requests"]);
    assert_eq!(
        assert_safe_csv("report --requests", &requests),
        2,
        "{requests}"
    );
    let summary = env.ok(&["report", "--from", &from, "--format", "csv"]);
    assert_safe_csv("report", &summary);

    let xlsx = env.path("report.xlsx");
    env.ok(&[
        "report",
        "--from",
        &from,
        "--format",
        "xlsx",
        "--out",
        xlsx.to_str().unwrap(),
    ]);
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let mut guarded = 0;
    for sheet in wb.sheet_names() {
        for row in wb.worksheet_range(&sheet).unwrap().rows() {
            for cell in row {
                if let Data::String(s) = cell {
                    assert_safe_cell(&format!("xlsx {sheet}"), s);
                    guarded += usize::from(s.starts_with('\'') && s.contains("=HYPERLINK"));
                }
            }
        }
    }
    assert!(
        guarded >= 2,
        "text and address in the requests sheet: {guarded}"
    );
}

/// #16 item 10: the console (also `mcu` alone, and the demo's) without a terminal is refused
/// with the reason, not a panic with a backtrace. The test's stdin and stdout are no terminal.
#[test]
fn the_console_without_a_terminal_says_so() {
    let env = Env::new();
    for args in [&["console"][..], &[], &["demo", "--for", "1"]] {
        let err = env.refused(args);
        assert!(err.contains("консоли нужен терминал"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// #16 item 10: an import file as other tools write it — with a byte-order mark — imports; a
/// line that is not UTF-8, or has half a coordinate pair, is refused by its line number and
/// nothing of the file is written.
#[test]
fn import_takes_a_bom_and_names_the_line_of_bad_bytes_and_half_coordinates() {
    let env = Env::new();
    let good = r#"{"text":"Нет света","received_at":"2026-11-03T08:00:00Z"}"#;
    let file = env.path("in.jsonl");
    std::fs::write(&file, format!("\u{feff}{good}\r\n{good}\r\n")).unwrap();
    let out = env.ok(&["import", file.to_str().unwrap()]);
    assert!(out.contains("импортировано 2"), "{out}");

    let mut bytes = format!("{good}\n").into_bytes();
    bytes.extend(b"{\"text\":\"\xff\xfe\",\"received_at\":\"2026-11-03T08:00:00Z\"}\n");
    std::fs::write(&file, &bytes).unwrap();
    let e = env.refused(&["import", file.to_str().unwrap()]);
    assert!(e.contains("строка 2") && e.contains("UTF-8"), "{e}");

    for half in [r#""lat":45.0"#, r#""lon":39.0"#] {
        let line = format!(r#"{{"text":"x","received_at":"2026-11-03T08:00:00Z",{half}}}"#);
        std::fs::write(&file, format!("{good}\n{good}\n{line}\n")).unwrap();
        let e = env.refused(&["import", file.to_str().unwrap()]);
        assert!(e.contains("строка 3") && e.contains("`lat`"), "{half}: {e}");
    }
    assert_eq!(env.json(&["list"]).as_array().unwrap().len(), 2);
}

#[test]
fn a_reply_that_waits_holds_the_request_for_the_citizen() {
    let env = Env::new();
    let r = env.json(&[
        "new",
        "--text",
        "Звонок: не горит фонарь",
        "--topic",
        "urban",
    ]);
    let n = r[0]["number"].as_str().unwrap().to_string();
    env.ok(&[
        "reply",
        &n,
        "--text",
        "Уточните, какой номер опоры?",
        "--wait",
    ]);
    let shown = env.json(&["show", &n]);
    assert_eq!(shown["status"], "waiting_citizen");
    assert!(shown["waiting"]["since"].is_string(), "{shown}");
    assert_eq!(shown["clock_paused"], true, "the clock holds: {shown}");
    let listed = env.json(&["list", "--status", "waiting_citizen"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let text = env.ok(&["show", &n, "-o", "table"]);
    assert!(text.contains("Ждём ответа заявителя с"), "{text}");
    // A plain reply answers without waiting: the question is over.
    env.ok(&["reply", &n, "--text", "Спасибо, нашли по адресу."]);
    let shown = env.json(&["show", &n]);
    assert_eq!(shown["status"], "answered");
    assert!(shown.get("waiting").is_none(), "{shown}");
}
