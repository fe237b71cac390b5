//! `mcu serve` as a real process on a free port: accounts made with `mcu user add`, the sync
//! endpoints over HTTP with bearer tokens, the poke stream, health, metrics, and a graceful
//! stop on SIGTERM.

mod common;

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command};
use std::time::{Duration, Instant};

use chrono::Utc;
use mcu_desk::domain::Channel;
use mcu_desk::domain::mutation::{NewRequest, Op};
use mcu_desk::testkit::contract::{Client, SCOPE, operator};
use mcu_desk::wire::sync::{Entity, PatchOp, PullResponse, PushMutation, PushResponse, Verdict};
use serde_json::Value;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_mcu");

/// A temp dir with a config and the server's database, and the `mcu` commands on them.
struct Env {
    dir: tempfile::TempDir,
    /// The server's store: a SQLite file in `dir`, or a fresh PostgreSQL database.
    db: Option<String>,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        Env { dir, db: None }
    }

    /// The server on a fresh database of this test process's PostgreSQL cluster.
    fn postgres() -> Env {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let url = rt
            .block_on(mcu_desk::testkit::pg_cluster::PgCluster::shared().fresh_database())
            .expect("a fresh PostgreSQL database");
        Env {
            db: Some(url),
            ..Env::new()
        }
    }

    fn db_file(&self) -> PathBuf {
        self.dir.path().join("server.sqlite3")
    }

    fn db_url(&self) -> String {
        self.db
            .clone()
            .unwrap_or_else(|| format!("sqlite:{}", self.db_file().display()))
    }

    fn mcu(&self, db: &str) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(["--db", db]);
        // The test's own environment must not leak into the config.
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("MCU_")) {
            c.env_remove(k);
        }
        c
    }

    /// `mcu user add`: returns the token it printed, the only line on stdout.
    fn add_user(&self, name: &str, role: &str) -> String {
        let out = self
            .mcu(&self.db_url())
            .args(["user", "add", name, "--role", role])
            // The account reaches the scope the tests push to.
            .env("MCU_SERVER_SCOPE", SCOPE)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "user add {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "one line on stdout: {stdout:?}");
        assert!(lines[0].starts_with("mcu_"), "{stdout:?}");
        lines[0].to_owned()
    }

    /// Starts `mcu serve` on a free port and waits for its address line.
    fn serve(&self) -> Server {
        let log = self.dir.path().join("serve.log");
        let (child, stdout, base) = common::spawn_serve(
            self.mcu(&self.db_url())
                .args(["serve", "--listen", "127.0.0.1:0", "--seed-db"])
                .arg(self.dir.path().join("seed.sqlite3")),
            &log,
        );
        Server {
            base,
            child,
            _stdout: stdout,
            log,
        }
    }
}

/// The running server; killed when dropped, its log printed if the test failed.
struct Server {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    base: String,
    log: PathBuf,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then the exit status within `limit`.
    fn terminate(&mut self, limit: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < limit,
                "still running {limit:?} after SIGTERM; log: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- mcu serve log ---\n{}", self.log_text());
        }
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A GET with no token, its body as JSON.
async fn get_json(url: &str) -> Value {
    http().get(url).send().await.unwrap().json().await.unwrap()
}

async fn post(url: &str, token: Option<&str>, body: &impl serde::Serialize) -> (u16, Value) {
    let mut req = http().post(url).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// A phone request registered and claimed by `c`, as two journaled mutations.
fn create_and_claim(c: &mut Client, text: &str) -> (Uuid, Vec<PushMutation>) {
    let id = Uuid::now_v7();
    let now = Utc::now();
    let create = c.journal_at(
        id,
        Op::Create(Box::new(NewRequest::new(Channel::Phone, text, now))),
        None,
        now,
    );
    let claim = c.journal_at(id, Op::Claim, None, now);
    (id, vec![create, claim])
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in {text}"))
}

#[tokio::test]
async fn accounts_push_pull_errors_health_and_metrics() {
    let env = Env::new();
    let anna_token = env.add_user("anna", "operator");
    let server = env.serve();
    // Accounts made while the server runs count at once (looked up per request).
    let boris_token = env.add_user("boris", "operator");
    let mut anna = Client::new(operator("anna"));
    let boris = Client::new(operator("boris"));
    let push_url = server.url("/v1/sync/push");
    let pull_url = server.url("/v1/sync/pull");

    // No token, an unknown one, a malformed header: 401 with a JSON error.
    let empty = anna.push_req(vec![]);
    for token in [None, Some("mcu_wrong")] {
        let (status, body) = post(&push_url, token, &empty).await;
        assert_eq!(status, 401, "{token:?}: {body}");
        assert_eq!(body["error"], "unauthorized");
    }
    let resp = http()
        .post(&pull_url)
        .header("Authorization", format!("Basic {anna_token}"))
        .json(&boris.pull_req(None, None))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);

    // Anna registers and claims; the server applies both.
    let (id, batch) = create_and_claim(&mut anna, "Прорвало трубу на Красной, 5");
    let (status, body) = post(&push_url, Some(&anna_token), &anna.push_req(batch)).await;
    assert_eq!(status, 200, "{body}");
    let pushed: PushResponse = serde_json::from_value(body).unwrap();
    assert_eq!(pushed.last_mutation_id, 2);
    assert!(
        pushed.results.iter().all(|r| r.status == Verdict::Applied),
        "{pushed:?}"
    );

    // Boris, on his own console, pulls it: claimed by anna (the token's name, not the
    // journal's claim).
    let (status, body) = post(&pull_url, Some(&boris_token), &boris.pull_req(None, None)).await;
    assert_eq!(status, 200, "{body}");
    let page: PullResponse = serde_json::from_value(body).unwrap();
    assert!(page.reset && !page.more);
    let doc = page
        .patch
        .iter()
        .find_map(|p| match p {
            PatchOp::Put {
                entity: Entity::Request,
                id: rid,
                value,
            } if *rid == id.to_string() => Some(value.value()),
            _ => None,
        })
        .expect("the request in boris's pull");
    assert_eq!(doc["request"]["assignee"], "anna");
    assert_eq!(doc["request"]["status"], "in_work");

    // Boris can't push under anna's console id.
    let stolen = Client {
        id: anna.id,
        next: 3,
        who: operator("boris"),
    };
    let (status, body) = post(&push_url, Some(&boris_token), &stolen.push_req(vec![])).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );

    // A console the server never saw, starting at id 5: it must re-register.
    let mut stranger = Client::new(operator("boris"));
    stranger.next = 5;
    let m = stranger.journal_at(id, Op::Tag { tag: "x".into() }, None, Utc::now());
    let (status, body) = post(&push_url, Some(&boris_token), &stranger.push_req(vec![m])).await;
    assert_eq!(status, 409);
    assert_eq!(body, serde_json::json!({ "error": "client_unknown" }));

    // A schema the server doesn't speak, and a body that isn't a push: 400.
    let mut old = boris.pull_req(None, None);
    old.schema_version = 999;
    let (status, body) = post(&pull_url, Some(&boris_token), &old).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("schema")),
        "{body}"
    );
    // Both versions, so the console can say which side to update (#20).
    let ours = mcu_desk::wire::sync::SCHEMA_VERSION;
    assert_eq!(
        (&body["client_version"], &body["server_version"]),
        (&serde_json::json!(999), &serde_json::json!(ours)),
        "{body}"
    );
    // A newer console's push this server can't even read (a kind of action it doesn't know)
    // is still told the versions differ, and so is an older console's.
    for (version, mutation) in [
        (
            ours + 1,
            serde_json::json!({"op": "teleport", "to": "Марс"}),
        ),
        (ours - 1, serde_json::json!({})),
    ] {
        let push = serde_json::json!({
            "client_id": Uuid::now_v7(),
            "schema_version": version,
            "scope_id": SCOPE,
            "mutations": [{"id": 1, "mutation": mutation}],
        });
        let (status, body) = post(&push_url, Some(&boris_token), &push).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("schema")),
            "{body}"
        );
        assert_eq!(body["client_version"], version, "{body}");
        assert_eq!(body["server_version"], ours, "{body}");
    }
    let (status, body) = post(&push_url, Some(&boris_token), &serde_json::json!({"x": 1})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("bad_request")),
        "{body}"
    );

    // A taken name is refused (exit 2, one line), and nothing changes.
    let out = env
        .mcu(&env.db_url())
        .args(["user", "add", "anna", "--role", "admin"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("anna"), "{err}");
    let list = env
        .mcu(&env.db_url())
        .args(["user", "list", "-o", "json"])
        .output()
        .unwrap();
    assert!(list.status.success());
    let accounts: Value = serde_json::from_slice(&list.stdout).unwrap();
    let roles: Vec<(&str, &str)> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap(), a["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("anna", "operator"), ("boris", "operator")]);
    assert!(!String::from_utf8_lossy(&list.stdout).contains("mcu_"));

    // Health, no token needed.
    let resp = http().get(server.url("/health")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let health = resp.json::<Value>().await.unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    // Where the file for new consoles is (null until its first pull ends).
    assert!(
        health["seed_seq"].is_i64() || health["seed_seq"].is_null(),
        "{health}"
    );
    assert!(health.get("seed_seq").is_some(), "{health}");

    // That file, for a scope the account doesn't reach: refused (#16 item 5); without a
    // token: nothing at all.
    let seed = |token: Option<&str>| {
        let mut req = http().get(server.url("/v1/seed?scope=another-city"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let resp = seed(Some(&anna_token)).await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "forbidden_scope"
    );
    // A scope it reaches other than the server's own: a file of its own (#20 item 5),
    // opened at the start because an account reaches it, a copy once it has caught up.
    let start = Instant::now();
    loop {
        let health = get_json(&server.url("/health")).await;
        if health["seed_seqs"][SCOPE].is_i64() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let resp = http()
        .get(server.url(&format!("/v1/seed?scope={SCOPE}")))
        .bearer_auth(&anna_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/vnd.sqlite3"
    );
    assert!(resp.bytes().await.unwrap().starts_with(b"SQLite format 3"));
    assert_eq!(seed(None).await.unwrap().status().as_u16(), 401);
    // An admin reaches every scope, but naming one nobody has written to makes nothing: no
    // copy, no file, no scope.
    let out = env
        .mcu(&env.db_url())
        .args(["user", "add", "root", "--role", "admin"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let root = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let resp = http()
        .get(server.url("/v1/seed?scope=nowhere"))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "no_seed");
    assert!(!env.dir.path().join("seed-nowhere.sqlite3").exists());
    let health = get_json(&server.url("/health")).await;
    assert!(health["seed_seqs"].get("nowhere").is_none(), "{health}");

    // Metrics, no token needed: counters and the scope's seq.
    let resp = http().get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.unwrap();
    assert!(metric(&text, "mcu_push_requests_total") >= 1.0, "{text}");
    assert_eq!(metric(&text, "mcu_mutations_applied_total"), 2.0, "{text}");
    assert!(metric(&text, "mcu_pull_requests_total") >= 1.0, "{text}");
    assert!(
        metric(&text, &format!("mcu_scope_seq{{scope=\"{SCOPE}\"}}")) >= 2.0,
        "{text}"
    );
    assert!(
        metric(&text, "mcu_last_push_timestamp_seconds") > 1.0e9,
        "{text}"
    );

    // Tokens are not kept in clear anywhere in the database files (WAL included), though
    // their hashes are: the scan does see what is stored.
    drop(server);
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(env.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("server.sqlite3")
        {
            stored.extend(std::fs::read(&path).unwrap());
        }
    }
    let contains = |needle: &str| stored.windows(needle.len()).any(|w| w == needle.as_bytes());
    for token in [&anna_token, &boris_token] {
        assert!(!contains(token), "a token is stored in clear");
        assert!(contains(&mcu_desk::server::accounts::hash_token(token)));
    }
}

/// Reads the stream up to the next `data:` line and parses it.
async fn next_event(resp: &mut reqwest::Response, buf: &mut String) -> Value {
    loop {
        if let Some(i) = buf.find('\n') {
            let line: String = buf.drain(..=i).collect();
            if let Some(data) = line.trim_end().strip_prefix("data:") {
                return serde_json::from_str(data.trim()).unwrap();
            }
            continue;
        }
        let chunk = resp.chunk().await.unwrap().expect("the stream ended");
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

#[tokio::test]
async fn a_push_pokes_subscribers_and_sigterm_stops_gracefully() {
    let env = Env::new();
    let anna_token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "lead");
    let mut server = env.serve();
    let poke = server.url(&format!("/v1/sync/poke?scope_id={SCOPE}"));

    let resp = http().get(&poke).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let resp = http()
        .get(server.url("/v1/sync/poke"))
        .bearer_auth(&boris_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);

    // Boris subscribes; the first event is the scope's seq now, so he is known to be
    // listening before anna pushes.
    let mut stream = reqwest::Client::new()
        .get(&poke)
        .bearer_auth(&boris_token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut buf = String::new();
    let first = next_event(&mut stream, &mut buf).await["seq"]
        .as_i64()
        .unwrap();

    let mut anna = Client::new(operator("anna"));
    let (_, batch) = create_and_claim(&mut anna, "Не горит фонарь");
    let (status, body) = post(
        &server.url("/v1/sync/push"),
        Some(&anna_token),
        &anna.push_req(batch),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let event = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            let e = next_event(&mut stream, &mut buf).await;
            if e["seq"].as_i64().unwrap() > first {
                return e;
            }
        }
    })
    .await
    .expect("a poke within 2 s of the push");
    assert!(event["seq"].as_i64().unwrap() > first);

    // A stop with a subscriber still connected: the stream is ended, the process exits 0.
    let status = server.terminate(Duration::from_secs(10));
    assert!(status.success(), "{status:?}; log: {}", server.log_text());
    let rest = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(rest.is_ok(), "the poke stream ended with the server");
    assert!(server.log_text().contains("shutting down"));
}

#[test]
fn refusals_for_the_server_store() {
    let env = Env::new();
    let refused = |db: &str, args: &[&str]| {
        let out = env.mcu(db).args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    };
    // A PostgreSQL server that isn't there: a clear error naming it, not a hang.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let out = env
        .mcu(&format!("postgres://mcu@127.0.0.1:{port}/mcu"))
        .args(["user", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open postgres://"));
    let e = refused("mysql://x/y", &["user", "list"]);
    assert!(e.contains("mysql"), "{e}");
    let e = refused(&env.db_url(), &["user", "add", "anna petrova"]);
    assert!(e.contains("anna petrova"), "{e}");
    // A plain path is a SQLite file too; the list starts empty.
    let db = env.db_file();
    let out = env
        .mcu(db.to_str().unwrap())
        .args(["user", "list"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
    assert!(Path::new(&db).exists());
}

/// A console: its own database file, configured for the server with the operator's token.
fn console(
    env: &Env,
    server: &Server,
    file: &str,
    token: &str,
) -> impl Fn(&[&str]) -> std::process::Output + use<> {
    let db = env.dir.path().join(file);
    let base = server.base.clone();
    let config = env.dir.path().join("config.toml");
    let token = token.to_owned();
    move |args: &[&str]| {
        let mut c = Command::new(BIN);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("MCU_")) {
            c.env_remove(k);
        }
        c.arg("--config")
            .arg(&config)
            .arg("--db")
            .arg(&db)
            .env("MCU_SERVER_URL", &base)
            .env("MCU_SERVER_TOKEN", &token)
            .env("MCU_SERVER_SCOPE", SCOPE)
            .args(args)
            .output()
            .unwrap()
    }
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Two consoles (two files) against one `mcu serve`: a claim on one is on the other after
/// one sync each; 100 edits made while the server is down arrive after it restarts.
fn two_consoles(env: Env) {
    let anna_token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "operator");
    let mut server = env.serve();
    let a = console(&env, &server, "a.sqlite3", &anna_token);
    let b = console(&env, &server, "b.sqlite3", &boris_token);
    // The operator on the phone is told the server's number, not a provisional one (#15 item 1).
    let created: Value =
        serde_json::from_str(&ok(a(&["new", "--text", "Звонок: нет воды", "-o", "json"]))).unwrap();
    let given = created[0]["number"].as_str().unwrap().to_owned();
    assert!(
        given.ends_with("000001") && !given.contains("9000"),
        "{created}"
    );
    ok(a(&["claim", &given]));
    let started = Instant::now();
    ok(a(&["sync"]));
    ok(b(&["sync"]));
    let seen = started.elapsed();
    let listed: Value = serde_json::from_str(&ok(b(&["list", "-o", "json"]))).unwrap();
    let row = &listed.as_array().unwrap()[0];
    assert_eq!(row["assignee"], "anna");
    let number = row["number"].as_str().unwrap().to_owned();
    assert!(number.ends_with("000001"), "the server's number: {number}");
    assert!(
        seen < Duration::from_secs(1),
        "A's claim reached B in {seen:?}"
    );

    let status = server.terminate(Duration::from_secs(10));
    assert!(status.success());
    for i in 0..100 {
        ok(a(&["tag", &number, "--add", &format!("t{i}")]));
    }
    assert_eq!(a(&["sync"]).status.code(), Some(4), "the server is down");
    // Offline, a new request is kept and its number is said to follow, not made up.
    let offline = a(&["new", "--text", "Звонок без связи", "-o", "json"]);
    let stderr = String::from_utf8_lossy(&offline.stderr).into_owned();
    let pending: Value = serde_json::from_str(&ok(offline)).unwrap();
    assert_eq!(pending[0]["number"], Value::Null, "{pending}");
    assert_eq!(pending[0]["number_pending"], true, "{pending}");
    assert!(stderr.contains("сервер недоступен"), "{stderr}");
    let table = ok(a(&["new", "--text", "Ещё звонок без связи"]));
    assert!(table.contains("номер после синхр."), "{table}");
    assert!(!table.contains("-9000"), "{table}");
    let server = env.serve();
    let a = console(&env, &server, "a.sqlite3", &anna_token);
    let b = console(&env, &server, "b.sqlite3", &boris_token);
    ok(a(&["sync"]));
    ok(b(&["sync"]));
    let shown: Value = serde_json::from_str(&ok(b(&["show", &number, "-o", "json"]))).unwrap();
    assert_eq!(shown["tags"].as_array().map(Vec::len), Some(100), "{shown}");
}

/// Issue #15 item 6: an action the server refuses fails the command that took it (exit 3), in
/// the operator's words, and comes off the console's file.
fn refused_from_the_command_line(env: Env) {
    let anna_token = env.add_user("anna", "operator");
    let wall_token = env.add_user("wall", "viewer");
    let server = env.serve();
    let a = console(&env, &server, "a.sqlite3", &anna_token);
    let w = console(&env, &server, "w.sqlite3", &wall_token);
    let created: Value =
        serde_json::from_str(&ok(a(&["new", "--text", "Звонок: нет воды", "-o", "json"]))).unwrap();
    let number = created[0]["number"].as_str().unwrap().to_owned();
    ok(w(&["sync"]));
    let refused = w(&["claim", &number]);
    assert_eq!(refused.status.code(), Some(3), "{refused:?}");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("сервер отказал") && said.contains("только для просмотра"),
        "{said}"
    );
    let shown: Value = serde_json::from_str(&ok(w(&["show", &number, "-o", "json"]))).unwrap();
    assert_eq!(shown["assignee"], Value::Null, "undone here: {shown}");
    assert_eq!(shown["status"], "new");
}

#[test]
fn a_refused_action_fails_its_command_on_sqlite() {
    refused_from_the_command_line(Env::new());
}

#[test]
fn a_refused_action_fails_its_command_on_postgres() {
    refused_from_the_command_line(Env::postgres());
}

#[test]
fn two_consoles_through_serve_on_sqlite() {
    two_consoles(Env::new());
}

#[test]
fn two_consoles_through_serve_on_postgres() {
    two_consoles(Env::postgres());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_consoles_poke_listener_rings_when_another_console_pushes() {
    let env = Env::new();
    let anna_token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "operator");
    let server = env.serve();
    let kick = std::sync::Arc::new(tokio::sync::Notify::new());
    let listener = tokio::spawn(mcu_desk::sync::runner::listen_pokes(
        server.base.clone(),
        boris_token,
        SCOPE.to_owned(),
        kick.clone(),
    ));
    // The stream opens with the scope's current seq: the listener is connected once it rings.
    tokio::time::timeout(Duration::from_secs(5), kick.notified())
        .await
        .expect("connected");
    let mut anna = Client::new(operator("anna"));
    let (_, batch) = create_and_claim(&mut anna, "Нет света во дворе");
    let (status, body) = post(
        &server.url("/v1/sync/push"),
        Some(&anna_token),
        &anna.push_req(batch),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    tokio::time::timeout(Duration::from_secs(2), kick.notified())
        .await
        .expect("anna's push rang boris's console within 2 s");
    listener.abort();
}

/// #16 item 10: a second `mcu serve` on the same SQLite store is refused, in words, and the
/// first keeps serving; once the first is gone, the store can be served again.
#[test]
fn a_second_server_on_one_sqlite_store_is_refused() {
    let env = Env::new();
    let mut first = env.serve();
    let mut second = env
        .mcu(&env.db_url())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = second.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = second.kill();
            panic!("a second server runs on the same store");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = second.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("уже обслуживает другой `mcu serve`"),
        "{out:?}"
    );
    assert!(
        first.child.try_wait().unwrap().is_none(),
        "the first still serves"
    );
    assert!(first.terminate(Duration::from_secs(20)).success());
    let again = env.serve();
    drop(again);
}

/// #16 item 1: a document in the server's store that no console can read (a request numbered
/// `10000-…`, stored before receipt times were bounded) is set aside by the new consoles'
/// file, which keeps following, and counted on `/metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_no_console_can_read_is_counted_on_metrics() {
    use mcu_desk::domain::mutation::{Ctx, Mutation};
    use mcu_desk::domain::{Catalog, ClockPolicy, RequestNumber, apply};
    use mcu_desk::server::engine::Transactional;
    use mcu_desk::wire::sync::RequestDoc;
    let env = Env::new();
    env.add_user("anna", "operator");
    {
        // The config's scope, the one the file follows.
        let scope = "city";
        let store = mcu_desk::server::sqlite::SqliteStore::open(&env.db_file()).unwrap();
        let (catalog, policy) = (Catalog::krasnodar(), ClockPolicy::default());
        let ctx = Ctx {
            catalog: &catalog,
            policy: &policy,
            now: Utc::now(),
            new_number: Some(RequestNumber { year: 2026, seq: 1 }),
        };
        let new = NewRequest::new(Channel::Phone, "Из старой версии", Utc::now());
        let m = Mutation::new(
            Uuid::now_v7(),
            "anna",
            Utc::now(),
            Op::Create(Box::new(new)),
        );
        let mut request = apply(None, &m, &ctx).unwrap().request;
        request.number = RequestNumber {
            year: 10000,
            seq: 1,
        };
        store
            .in_tx(|tx| {
                tx.scope(scope)?;
                let version = tx.bump_seq(scope, 1)?;
                tx.save_request(
                    scope,
                    &RequestDoc {
                        request: request.clone(),
                        version,
                        department_seq: 0,
                        assignee_seq: 0,
                    },
                )?;
                tx.log_change(scope, version, Entity::Request, &request.id.to_string())
            })
            .unwrap();
    }
    let server = env.serve();
    let start = Instant::now();
    loop {
        let text = http()
            .get(server.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.lines().any(|l| l == "mcu_seed_quarantined 1") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The file kept following: it has caught up.
    let health = get_json(&server.url("/health")).await;
    assert!(health["seed_seq"].as_i64() >= Some(1), "{health}");
    // The store repaired, the server still serving: the document is moved aside, once.
    let repair = |db: &str| {
        let out = env
            .mcu(db)
            .args(["repair", "--server", "-o", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let moved = repair(&env.db_url());
    assert_eq!(moved["moved"].as_array().map(Vec::len), Some(1), "{moved}");
    assert_eq!(moved["moved"][0]["scope"], "city");
    let again = repair(&env.db_url());
    assert_eq!(again["moved"].as_array().map(Vec::len), Some(0), "{again}");
}
