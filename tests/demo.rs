//! `mcu demo --headless` as a newcomer runs it: requests arrive and are acknowledged, and a
//! reply typed in another shell reaches the (simulated) citizen exactly once.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// `mcu reply` as an operator types it in another shell; asserts it was taken.
fn reply_from_another_shell(config: &Path, db: &Path, number: &str, text: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_mcu"))
        .arg("--config")
        .arg(config)
        .args(["reply", number, "--text", text, "--db"])
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Until the reply's outbox row is `sent` (the gateway runs in another process).
fn wait_sent(db: &Path, body: &str) {
    let c = rusqlite::Connection::open(db).unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let state: String = c
            .query_row("SELECT state FROM outbox WHERE body = ?1", [body], |r| {
                r.get(0)
            })
            .unwrap();
        if state == "sent" {
            return;
        }
        assert!(Instant::now() < until, "reply stuck in {state}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn headless_demo_delivers_a_reply_from_another_shell_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite3");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[operator]\nname = \"anna\"\n").unwrap();
    let mut demo = Command::new(env!("CARGO_BIN_EXE_mcu"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "demo",
            "--headless",
            "--per-minute",
            "30",
            "--burst",
            "3",
            "--db",
        ])
        .arg(&db)
        .env_remove("MCU_DB")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel::<String>();
    let stdout = demo.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let next = || {
        lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("demo output")
    };
    let first = next();
    let api = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the simulator's address is printed")
        .to_string();
    let number = loop {
        let line = next();
        if let Some(rest) = line.split("новое обращение ").nth(1) {
            break rest.split(':').next().unwrap().to_string();
        }
    };
    // The acknowledgement with the number reaches the citizen.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sent = |api: &str| -> serde_json::Value {
        rt.block_on(async {
            reqwest::get(format!("{api}/_sim/sent"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    };
    let texts_with = |log: &serde_json::Value, needle: &str| -> usize {
        log["chats"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|v| v.as_array().unwrap())
            .filter(|m| m["text"].as_str().unwrap().contains(needle))
            .count()
    };
    let wait_for = |needle: &str| {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let log = sent(&api);
            if texts_with(&log, needle) > 0 {
                return log;
            }
            assert!(
                Instant::now() < until,
                "`{needle}` never reached the citizen"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    wait_for(&number);

    let reply = format!("Ответ оператора по обращению {number}: бригада выехала");
    reply_from_another_shell(&config, &db, &number, &reply);
    wait_for(&reply);
    // Once its outbox row is `sent`, the sender never touches it again: one copy is final.
    wait_sent(&db, &reply);
    assert_eq!(
        texts_with(&sent(&api), &reply),
        1,
        "the reply arrives exactly once"
    );
    demo.kill().unwrap();
    demo.wait().unwrap();
}

#[test]
fn the_token_never_appears_in_output_or_logs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gw.sqlite3");
    let config = dir.path().join("config.toml");
    // Nothing listens on the discard port: every poll fails with a connection error whose
    // text would carry the URL, and with it the token.
    std::fs::write(
        &config,
        "[channels.telegram]\ntoken = \"424242:VERYSECRETTOKEN\"\napi_url = \"http://127.0.0.1:9\"\npoll_timeout_secs = 1\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mcu"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "gateway",
            "--for",
            "3",
            "--db",
        ])
        .arg(&db)
        .env("MCU_LOG", "debug")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("poll failed") || stdout.contains("повтор"),
        "the failure is reported: {stdout}"
    );
    let log = std::fs::read_to_string(dir.path().join("mcu.log")).unwrap();
    assert!(log.contains("gateway"), "the log is written");
    for text in [stdout.as_ref(), &String::from_utf8_lossy(&out.stderr), &log] {
        assert!(!text.contains("VERYSECRETTOKEN"), "token leaked: {text}");
    }
}

/// `mcu demo --channels telegram,vk,open311`: the simulator plays the bot, the community and
/// the feedback platform; requests from each are registered and acknowledged through the
/// channel they came from, and an operator's reply to a platform request reaches it once.
#[test]
fn the_demo_runs_all_three_channels_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite3");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[operator]\nname = \"anna\"\n").unwrap();
    let mut demo = Command::new(env!("CARGO_BIN_EXE_mcu"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "demo",
            "--headless",
            "--channels",
            "telegram,vk,open311",
            "--per-minute",
            "60",
            "--burst",
            "9",
            "--db",
        ])
        .arg(&db)
        .env_remove("MCU_DB")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(demo.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let api = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the simulator's address is printed")
        .to_string();
    // The rest of the output keeps flowing while the test looks at the simulator.
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sent = || -> serde_json::Value {
        rt.block_on(async {
            reqwest::get(format!("{api}/_sim/sent"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        })
    };
    let until = Instant::now() + Duration::from_secs(60);
    let log = loop {
        let log = sent();
        let tg = log["chats"].as_object().is_some_and(|c| !c.is_empty());
        let vk = log["vk"].as_object().is_some_and(|c| !c.is_empty());
        let platform = log["platform"].as_array().is_some_and(|p| !p.is_empty());
        if tg && vk && platform {
            break log;
        }
        assert!(
            Instant::now() < until,
            "not every channel acknowledged: {log}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let ack = log["platform"][0]["description"].as_str().unwrap();
    assert!(ack.contains("зарегистрировано под номером"), "{ack}");

    let c = rusqlite::Connection::open(&db).unwrap();
    let number: String = c
        .query_row(
            "SELECT number FROM request WHERE channel = 'pos' ORDER BY rid LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let reply = format!("Ответ по обращению {number}: яму засыплют до пятницы");
    reply_from_another_shell(&config, &db, &number, &reply);
    wait_sent(&db, &reply);
    let taken = sent()["platform"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["description"] == reply.as_str())
        .count();
    assert_eq!(taken, 1, "the platform took the reply once");
    demo.kill().unwrap();
    demo.wait().unwrap();
}
