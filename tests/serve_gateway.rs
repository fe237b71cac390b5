//! Scenario 21 (docs/sync-protocol.md): two `mcu serve --channels telegram` on one store share a
//! bot through the server's lease. The leader is frozen (SIGSTOP) past its lease, the other
//! takes over, then the old one wakes (SIGCONT) and must write nothing: every citizen's
//! message is stored once, every reply reaches the chat once, and the cursor never goes back.
//! On PostgreSQL only: one SQLite store takes one server (a second is refused, tests/serve.rs),
//! and the lease's rules themselves run on both stores in the contract suite.

mod common;

use mcu_desk::demo::sim::Simulator;
use serde_json::Value;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mcu");
const SCOPE: &str = "krasnodar";

fn clean(c: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("MCU_")) {
        c.env_remove(k);
    }
    c
}

struct Serve {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    base: String,
    log: PathBuf,
}

impl Serve {
    fn start(dir: &Path, db: &str, name: &str) -> Serve {
        let log = dir.join(format!("{name}.log"));
        let (child, stdout, base) = common::spawn_serve(
            clean(&mut Command::new(BIN))
                .arg("--config")
                .arg(dir.join("server.toml"))
                .args(["--db", db, "serve", "--listen", "127.0.0.1:0"])
                .args(["--channels", "telegram", "--lease-secs", "2"])
                .arg("--gateway-db")
                .arg(dir.join(format!("gateway-{name}.sqlite3")))
                // Not what this test is about: one moving part less while a server is frozen.
                .arg("--no-seed"),
            &log,
        );
        Serve {
            child,
            _stdout: stdout,
            base,
            log,
        }
    }

    fn log(&self) -> String {
        read(&self.log)
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        // It may have exited already (stopped by the test): nothing to wake then.
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- {}:\n{}", self.log.display(), self.log());
        }
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

use common::until;

/// The operator's console: its own file, on whichever server is up.
use common::team_console as console;

/// Pushes and pulls until the console has the requests the citizens opened.
async fn sync_until(dir: &Path, base: &str, token: &str, n: usize) -> Vec<String> {
    let mut numbers = vec![];
    until(
        Duration::from_secs(20),
        "the requests at the console",
        || {
            console(dir, base, token, &["sync"]);
            let list = console(dir, base, token, &["list"]);
            numbers = list
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["number"].as_str().map(str::to_string))
                .collect();
            numbers.len() >= n
        },
    )
    .await;
    numbers
}

fn texts(sim: &Simulator, chat: i64) -> Vec<String> {
    sim.sent()
        .chats
        .get(&chat.to_string())
        .map(|v| v.iter().map(|m| m.text.clone()).collect())
        .unwrap_or_default()
}

async fn split_brain(db: String, dir: tempfile::TempDir) {
    let sim = common::quiet_sim().await;
    let d = dir.path();
    std::fs::write(
        d.join("server.toml"),
        format!(
            "[server]\nscope = \"{SCOPE}\"\n[channels.telegram]\ntoken = \"{}\"\napi_url = \"{}\"\npoll_timeout_secs = 2\n[gateway]\nfiles_dir = \"{}\"\n",
            sim.token(),
            sim.api_url(),
            d.join("files").display()
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("console.toml"),
        format!("[server]\nscope = \"{SCOPE}\"\n[operator]\nname = \"anna\"\n"),
    )
    .unwrap();
    let add = clean(&mut Command::new(BIN))
        .arg("--config")
        .arg(d.join("server.toml"))
        .args(["--db", &db, "user", "add", "anna", "--role", "operator"])
        .output()
        .unwrap();
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let token = String::from_utf8(add.stdout).unwrap().trim().to_owned();

    let a = Serve::start(d, &db, "a");
    until(
        Duration::from_secs(20),
        "server a to take the lease",
        || a.log().contains("gateway took the lease"),
    )
    .await;
    let b = Serve::start(d, &db, "b");
    until(Duration::from_secs(60), "server b to stand by", || {
        b.log().contains("standing by")
    })
    .await;

    // Five citizens write while a leads; the bot acknowledges each once.
    let first: Vec<i64> = (1..=5).collect();
    for chat in &first {
        sim.inject_text(*chat, &format!("Яма на дороге у дома {chat}"));
    }
    until(Duration::from_secs(60), "acknowledgements from a", || {
        first.iter().all(|c| texts(&sim, *c).len() == 1)
    })
    .await;
    let numbers = sync_until(d, &a.base, &token, 5).await;
    for n in &numbers {
        console(d, &a.base, &token, &["claim", n]);
        console(
            d,
            &a.base,
            &token,
            &["reply", n, "--text", &format!("Ответ по {n}")],
        );
    }
    console(d, &a.base, &token, &["sync"]);
    until(Duration::from_secs(60), "replies through a", || {
        first.iter().all(|c| texts(&sim, *c).len() == 2)
    })
    .await;

    // a freezes once it has recorded its sends: frozen inside that write, it would hold its
    // store locks while asleep (PostgreSQL ends such a session after a while; SQLite can't).
    let a_url = format!("{}/metrics", a.base);
    let sent = "mcu_outbox_parts_total{channel=\"telegram\",state=\"sent\"} 10";
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reqwest::get(&a_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .contains(sent)
    {
        assert!(Instant::now() < deadline, "a never recorded its 10 sends");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // ...and once what those sends decided (each reply delivered: the citizen's clock stops)
    // is in the store, the last write that follows a send.
    until(
        Duration::from_secs(30),
        "a's deliveries in the store",
        || {
            console(d, &a.base, &token, &["sync"]);
            console(d, &a.base, &token, &["list"])
                .as_array()
                .is_some_and(|l| l.len() == 5 && l.iter().all(|r| r["reply_delivery"].is_null()))
        },
    )
    .await;
    a.signal("-STOP");
    until(
        Duration::from_secs(20),
        "server b to take the lease",
        || b.log().contains("gateway took the lease"),
    )
    .await;
    let second: Vec<i64> = (6..=10).collect();
    for chat in &second {
        sim.inject_text(*chat, &format!("Не горит фонарь у дома {chat}"));
    }
    // A citizen of the first wave writes again: joined to their open request, not a new one.
    sim.inject_text(1, "Яма стала глубже");
    until(Duration::from_secs(60), "acknowledgements from b", || {
        second.iter().all(|c| texts(&sim, *c).len() == 1)
    })
    .await;
    let numbers = sync_until(d, &b.base, &token, 10).await;
    assert_eq!(numbers.len(), 10, "ten requests, none twice: {numbers:?}");
    for n in &numbers {
        console(d, &b.base, &token, &["claim", n]);
        console(
            d,
            &b.base,
            &token,
            &["reply", n, "--text", &format!("Второй ответ по {n}")],
        );
    }
    console(d, &b.base, &token, &["sync"]);

    // a wakes with its old epoch: it must notice and stop, writing nothing.
    a.signal("-CONT");
    until(Duration::from_secs(60), "server a to step down", || {
        let log = a.log();
        log.contains("another gateway took over") || log.contains("lease lost")
    })
    .await;
    let all: Vec<i64> = (1..=10).collect();
    until(
        Duration::from_secs(30),
        "every second reply through b",
        || {
            all.iter().all(|c| {
                texts(&sim, *c)
                    .iter()
                    .any(|t| t.starts_with("Второй ответ"))
            })
        },
    )
    .await;

    // A reply counts once the channel has it: every console learns each one was delivered.
    until(
        Duration::from_secs(30),
        "every delivery on the console",
        || {
            console(d, &b.base, &token, &["sync"]);
            console(d, &b.base, &token, &["list", "--limit", "100"])
                .as_array()
                .is_some_and(|l| l.len() == 10 && l.iter().all(|r| r["reply_delivery"].is_null()))
        },
    )
    .await;

    // Each message reached its chat once: the acknowledgement, each reply.
    for chat in &all {
        let t = texts(&sim, *chat);
        let mut unique = t.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            t.len(),
            "chat {chat} got a message twice: {t:?}"
        );
        let expected = if *chat <= 5 { 3 } else { 2 };
        assert_eq!(t.len(), expected, "chat {chat}: {t:?}");
    }
    // Every citizen message is stored once, on the right request.
    console(d, &b.base, &token, &["sync"]);
    let shown = console(d, &b.base, &token, &["show", &numbers[0]]);
    let in_msgs = |v: &Value| {
        v["messages"]
            .as_array()
            .map(|m| m.iter().filter(|x| x["direction"] == "in").count())
            .unwrap_or(0)
    };
    let total_in: usize = numbers
        .iter()
        .map(|n| in_msgs(&console(d, &b.base, &token, &["show", n])))
        .sum();
    assert!(shown.is_object(), "{shown}");
    // A first message is its request's text; the one follow-up is a message, stored once.
    assert_eq!(total_in, 1, "the follow-up, once");
    assert!(
        b.log().contains("gateway took the lease") && !b.log().contains("ERROR"),
        "b worked without alarms"
    );
    // /metrics says who works the channel and how its sends ended.
    let metrics = |base: &str| {
        let url = format!("{base}/metrics");
        async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
    };
    let mb = metrics(&b.base).await;
    assert!(
        mb.contains("mcu_channel_up{channel=\"telegram\"} 1"),
        "{mb}"
    );
    let sent_by_b = mb
        .lines()
        .find_map(|l| {
            l.strip_prefix("mcu_outbox_parts_total{channel=\"telegram\",state=\"sent\"} ")
        })
        .and_then(|v| v.parse::<u64>().ok());
    assert_eq!(sent_by_b, Some(15), "5 + 10 acknowledgements... {mb}");
    let ma = metrics(&a.base).await;
    assert!(
        ma.contains("mcu_channel_up{channel=\"telegram\"} 0"),
        "{ma}"
    );

    // I1–I5 over the store, the operator's file and the leader's working file, once b has
    // stopped (a clean stop: its last sends recorded, its lease given back).
    console(d, &b.base, &token, &["sync"]);
    b.signal("-TERM");
    let mut b = b;
    let _ = b.child.wait();
    let url = mcu_desk::server::url::DbUrl::parse(&db).unwrap();
    let store = mcu_desk::server::url::open(&url).await.unwrap();
    let files = [d.join("anna.sqlite3"), d.join("gateway-b.sqlite3")];
    let summary = tokio::task::spawn_blocking(move || {
        let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
        mcu_desk::testkit::checker::assert_all(&store, SCOPE, &paths)
    })
    .await
    .unwrap();
    assert_eq!(summary.requests, 10, "{summary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_leader_is_fenced_on_postgres() {
    let db = mcu_desk::testkit::pg_cluster::PgCluster::shared()
        .fresh_database()
        .await
        .expect("a fresh PostgreSQL database");
    split_brain(db, tempfile::tempdir().unwrap()).await;
}
