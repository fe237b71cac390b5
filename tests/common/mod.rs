//! Shared pieces of the gateway tests: a store environment, gateway options, waiting.

#![allow(dead_code)]

pub mod cli_env;

use chrono::Duration as ChronoDuration;
use mcu_desk::channels::gateway::GatewayOptions;
use mcu_desk::channels::gateway::{self, GatewayEvent};
use mcu_desk::channels::telegram::Telegram;
use mcu_desk::demo::sim::{SimOptions, Simulator};
use mcu_desk::domain::{Catalog, ClockPolicy};
use mcu_desk::store::Env;
use mcu_desk::store::Store;
use mcu_desk::store::ingest::{ClosedPolicy, IngestRules};
use mcu_desk::templates::BotTexts;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

pub fn env() -> Env {
    Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(chrono::Utc::now),
    }
}

pub fn options(files: Option<std::path::PathBuf>) -> GatewayOptions {
    GatewayOptions {
        rules: IngestRules {
            join_window: ChronoDuration::hours(24),
            closed_policy: ClosedPolicy::Reopen,
            reopen_window: ChronoDuration::days(7),
            texts: BotTexts::shipped("ru"),
            status_words: |s| s.as_str(),
            acknowledge: true,
            incidents: None,
            topics: Default::default(),
            departments: Default::default(),
            department_mail: Default::default(),
        },
        lease_ttl: Duration::from_secs(15),
        waiting_every: Duration::from_millis(50),
        escalation_chat: None,
        escalation_at_risk: false,
        feedback_after: None,
        idle_poll: Duration::from_millis(50),
        per_chat_interval: Duration::from_secs(1),
        global_interval: Duration::from_millis(5),
        files_dir: files,
        max_file_bytes: 20 * 1024 * 1024,
    }
}

pub fn count(db: &std::path::Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Waits for `cond`, checking every 50 ms, up to `limit`.
pub async fn until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub struct Rig {
    pub _dir: tempfile::TempDir,
    pub db: PathBuf,
    pub sim: Simulator,
    pub store: Store,
    pub stop: watch::Sender<bool>,
    pub gw: JoinHandle<Result<(), gateway::GatewayError>>,
    pub events: mpsc::UnboundedReceiver<GatewayEvent>,
}

impl Rig {
    /// A simulator that produces nothing by itself; tests inject what they need.
    pub async fn quiet() -> Rig {
        Rig::start(
            SimOptions {
                per_minute: 0.0,
                burst: 0,
                ..SimOptions::default()
            },
            Duration::from_secs(2),
        )
        .await
    }

    /// The simulator with `opts`, a store on a temp file, and the real gateway running.
    pub async fn start(opts: SimOptions, send_timeout: Duration) -> Rig {
        Rig::start_with(opts, send_timeout, env()).await
    }

    /// As `start`, with the store's rules and clock from `env`.
    pub async fn start_with(opts: SimOptions, send_timeout: Duration, env: Env) -> Rig {
        Rig::start_full(opts, send_timeout, env, options(None)).await
    }

    /// As `start_with`, with the gateway's options (its files go to the rig's folder).
    pub async fn start_full(
        opts: SimOptions,
        send_timeout: Duration,
        env: Env,
        mut gateway: GatewayOptions,
    ) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("mcu.sqlite3");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim = Simulator::start(listener, opts).await.unwrap();
        let store = Store::open(&db, env).await.unwrap();
        let tg = Arc::new(
            Telegram::new(
                &sim.api_url(),
                sim.token(),
                Duration::from_secs(1),
                send_timeout,
            )
            .unwrap(),
        );
        let (tx, events) = mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        gateway.files_dir = Some(dir.path().join("files"));
        let gw = tokio::spawn(gateway::run(store.clone(), tg, gateway, tx, stop_rx));
        Rig {
            _dir: dir,
            db,
            sim,
            store,
            stop,
            gw,
            events,
        }
    }

    pub async fn finish(self) {
        let _ = self.stop.send(true);
        self.gw.await.unwrap().unwrap();
        self.sim.shutdown().await;
    }

    pub fn bot_messages(&self, chat: i64) -> Vec<(i64, String)> {
        self.sim
            .sent()
            .chats
            .get(&chat.to_string())
            .map(|v| v.iter().map(|m| (m.message_id, m.text.clone())).collect())
            .unwrap_or_default()
    }

    pub async fn bot_said(&self, chat: i64, needle: &str) -> i64 {
        let mut found = None;
        until(Duration::from_secs(20), needle, || {
            found = self
                .bot_messages(chat)
                .into_iter()
                .find(|(_, t)| t.contains(needle))
                .map(|(id, _)| id);
            found.is_some()
        })
        .await;
        found.unwrap()
    }

    /// `update`, a citizen's first message in `chat`, taken in and acknowledged (in either
    /// language): the number of the request it made.
    #[allow(dead_code)]
    pub async fn new_request(&self, chat: i64, update: serde_json::Value) -> String {
        self.sim.inject_raw(update);
        until(Duration::from_secs(10), "the acknowledgement", || {
            !self.bot_messages(chat).is_empty()
        })
        .await;
        let sql = format!("SELECT count(*) FROM request WHERE chat_ref = '{chat}'");
        until(Duration::from_secs(10), "the request", || {
            count(&self.db, &sql) == 1
        })
        .await;
        rusqlite::Connection::open(&self.db)
            .unwrap()
            .query_row(
                "SELECT number FROM request WHERE chat_ref = ?1",
                [chat.to_string()],
                |r| r.get(0),
            )
            .unwrap()
    }
}

/// Starts a prepared `mcu serve` (its stderr into `log`) and waits for the address it prints
/// first; the child, its stdout (kept open) and the base URL.
pub fn spawn_serve(
    cmd: &mut std::process::Command,
    log: &std::path::Path,
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStdout>,
    String,
) {
    use std::io::BufRead;
    let mut child = cmd
        .env("MCU_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let Some(base) = line.trim().strip_prefix("listening on ") else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "first line {line:?}; log: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    };
    let base = base.to_owned();
    (child, stdout, base)
}

/// `mcu` with `config` from `dir`, and none of the test's own `MCU_` variables.
#[allow(dead_code)]
pub fn mcu_in(dir: &std::path::Path, config: &str) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_mcu"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("MCU_")) {
        c.env_remove(k);
    }
    c.arg("--config").arg(dir.join(config));
    c
}

/// A team console (`console.toml`, `anna.sqlite3` in `dir`) against the server at `base`:
/// its answer to `args` in JSON.
#[allow(dead_code)]
pub fn team_console(
    dir: &std::path::Path,
    base: &str,
    token: &str,
    args: &[&str],
) -> serde_json::Value {
    console_of(dir, ("console.toml", "anna.sqlite3"), base, token, args)
}

/// As [`team_console`] for the console whose (config, file) in `dir` are `console`.
#[allow(dead_code)]
pub fn console_of(
    dir: &std::path::Path,
    console: (&str, &str),
    base: &str,
    token: &str,
    args: &[&str],
) -> serde_json::Value {
    let out = mcu_in(dir, console.0)
        .arg("--db")
        .arg(dir.join(console.1))
        .env("MCU_SERVER_URL", base)
        .env("MCU_SERVER_TOKEN", token)
        .args(args)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

/// A running `mcu serve --channels telegram` on `dir`'s `server.toml` and the store `db`.
#[allow(dead_code)]
pub struct Served {
    pub guard: ServeGuard,
    pub base: String,
    /// Kept open: the server writes to it.
    _stdout: std::io::BufReader<std::process::ChildStdout>,
}

/// Starts `mcu serve --channels telegram` (its log in `dir`/serve.log), stopped when dropped.
#[allow(dead_code)]
pub fn serve_telegram(dir: &std::path::Path, db: &str) -> Served {
    serve_channels(dir, db, "telegram")
}

/// As [`serve_telegram`], running the gateways of `channels` (`telegram,email`).
#[allow(dead_code)]
pub fn serve_channels(dir: &std::path::Path, db: &str, channels: &str) -> Served {
    let log = dir.join("serve.log");
    let (child, stdout, base) = spawn_serve(
        mcu_in(dir, "server.toml")
            .args(["--db", db, "serve", "--listen", "127.0.0.1:0"])
            .args(["--channels", channels, "--no-seed"]),
        &log,
    );
    Served {
        guard: ServeGuard { child, log },
        base,
        _stdout: stdout,
    }
}

/// Anna's console syncing until it lists `n` requests: `mcu list -o json`.
#[allow(dead_code)]
pub async fn listed(dir: &std::path::Path, base: &str, token: &str, n: usize) -> serde_json::Value {
    let mut listed = serde_json::Value::Null;
    until(Duration::from_secs(40), &format!("{n} requests"), || {
        team_console(dir, base, token, &["sync"]);
        listed = team_console(dir, base, token, &["list"]);
        listed.as_array().is_some_and(|l| l.len() == n)
    })
    .await;
    listed
}

/// The number of the request in `mcu list -o json`'s `listed` whose text has `text`.
#[allow(dead_code)]
pub fn number_with(listed: &serde_json::Value, text: &str) -> String {
    listed
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["text"].as_str().is_some_and(|t| t.contains(text)))
        .and_then(|r| r["number"].as_str())
        .unwrap_or_else(|| panic!("{text} in {listed}"))
        .to_owned()
}

/// `mcu` on `dir`'s `config.toml` and console file `t.sqlite3`.
#[allow(dead_code)]
pub fn mcu_on(dir: &std::path::Path) -> std::process::Command {
    let mut c = mcu_in(dir, "config.toml");
    c.arg("--db").arg(dir.join("t.sqlite3"));
    c
}

/// [`mcu_on`] with `args`, which must succeed: its stdout.
#[allow(dead_code)]
pub fn ok_on(dir: &std::path::Path, args: &[&str]) -> String {
    let out = mcu_on(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "mcu {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A quiet simulator, and in `dir` the server's `server.toml` for its three channels (the
/// bot, the VK community, the feedback platform) in `scope`, then `extra`, and a team
/// console's `console.toml` for anna.
#[allow(dead_code)]
pub async fn three_channels_setup(dir: &std::path::Path, scope: &str, extra: &str) -> Simulator {
    let sim = quiet_sim().await;
    let config = format!(
        "[server]\nscope = \"{scope}\"\n\
         [channels.telegram]\ntoken = \"{}\"\napi_url = \"{}\"\npoll_timeout_secs = 1\n\
         [channels.vk]\ntoken = \"{}\"\ngroup_id = {}\napi_url = \"{}\"\nwait_secs = 1\n\
         [channels.platform]\nurl = \"{}\"\napi_key = \"{}\"\npoll_secs = 5\npublish = \"updates\"\n\
         [gateway]\nfiles_dir = \"{}\"\n\
         [store]\npath = \"{}\"\n{extra}",
        sim.token(),
        sim.api_url(),
        sim.vk_token(),
        sim.vk_group_id(),
        sim.vk_api_url(),
        sim.platform_url(),
        sim.platform_key(),
        dir.join("files").display(),
        // The gateways' files go beside this path (a PostgreSQL store has no folder).
        dir.join("server-files.sqlite3").display()
    );
    std::fs::write(dir.join("server.toml"), config).unwrap();
    std::fs::write(
        dir.join("console.toml"),
        format!("[server]\nscope = \"{scope}\"\n[operator]\nname = \"anna\"\n"),
    )
    .unwrap();
    sim
}

/// A simulator that writes nothing by itself (all three channels); tests inject what they
/// need.
#[allow(dead_code)]
pub async fn quiet_sim() -> Simulator {
    Simulator::quiet().await.unwrap()
}

/// The VK adapter's settings for `sim`'s community: long polls of a second, a backfill over
/// the last hour, sends given up after `send_timeout`.
#[allow(dead_code)]
pub fn vk_settings(sim: &Simulator, send_timeout: Duration) -> mcu_desk::channels::vk::VkSettings {
    mcu_desk::channels::vk::VkSettings {
        api_url: sim.vk_api_url(),
        token: sim.vk_token().to_string(),
        group_id: sim.vk_group_id(),
        wait: Duration::from_secs(1),
        send_timeout,
        backfill: ChronoDuration::hours(1),
    }
}

/// `mcu user add NAME --role ROLE` on the server's store `db` (with `dir`'s `server.toml`):
/// the account's token.
#[allow(dead_code)]
pub fn add_account(dir: &std::path::Path, db: &str, name: &str, role: &str) -> String {
    let out = mcu_in(dir, "server.toml")
        .args(["--db", db, "user", "add", name, "--role", role])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A server, stopped when the test ends; its log shown if the test failed.
#[allow(dead_code)]
pub struct ServeGuard {
    pub child: std::process::Child,
    pub log: std::path::PathBuf,
}

impl Drop for ServeGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- serve log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

/// `n` closed, tagged requests as an old system's export, seeded.
#[allow(dead_code)]
pub fn labelled_history(seed: u64, n: usize) -> String {
    let mut g = mcu_desk::demo::corpus::Generator::new(seed);
    (0..n)
        .map(|i| {
            let s = g.next_request();
            serde_json::json!({
                "text": s.text,
                "received_at": format!("2026-10-{:02}T09:00:00Z", 1 + i % 28),
                "closed_at": format!("2026-10-{:02}T15:00:00Z", 1 + i % 28),
                "status": "closed",
                "closed_reason": if s.topic == "out_of_scope" { "out_of_scope" } else { "resolved" },
                "topic": s.topic,
                "department": s.department,
                "external_id": format!("old-{seed}-{i}"),
            })
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
