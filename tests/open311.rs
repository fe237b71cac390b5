//! Open311 GeoReport v2 on a real `mcu serve`: an independent Python client (outside the
//! crate, stdlib + jsonschema) files requests and reads back status and our answers, every
//! JSON answer validated against the GeoReport v2 schemas in tests/open311/schemas; and from
//! Rust, what the client can't see: keys per route, rate and size limits, XML, public reads.

mod common;

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command};
use std::time::Duration;

use chrono::Utc;
use mcu_desk::domain::CloseReason;
use mcu_desk::domain::mutation::Op;
use mcu_desk::server::contract::{Client, operator};
use mcu_desk::sync::wire::{Entity, PatchOp, PullResponse, PushResponse, Verdict};
use serde_json::Value;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_mcu");

struct Env {
    dir: tempfile::TempDir,
    db: String,
}

impl Env {
    /// The contract client's scope, so an operator there sees what portals file.
    fn new(open311: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
        let env = Env { dir, db };
        env.config(open311);
        env
    }

    fn postgres(open311: &str) -> Env {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let db = rt
            .block_on(mcu_desk::server::pg_cluster::PgCluster::shared().fresh_database())
            .expect("a fresh PostgreSQL database");
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
            db,
        };
        env.config(open311);
        env
    }

    fn config(&self, open311: &str) {
        std::fs::write(
            self.dir.path().join("config.toml"),
            format!("[server]\nscope = \"krasnodar\"\n\n[open311]\n{open311}\n"),
        )
        .unwrap();
    }

    fn mcu(&self) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(["--db", &self.db]);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("MCU_")) {
            c.env_remove(k);
        }
        c
    }

    fn add_user(&self, name: &str, role: &str) -> String {
        let out = self
            .mcu()
            .args(["user", "add", name, "--role", role])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    async fn serve(&self) -> Server {
        let log = self.dir.path().join("serve.log");
        let (child, stdout, base) = common::spawn_serve(
            self.mcu()
                .args(["serve", "--listen", "127.0.0.1:0", "--no-seed"]),
            &log,
        );
        let server = Server {
            child,
            _stdout: stdout,
            base,
            log,
        };
        let health = http()
            .get(format!("{}/health", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status().as_u16(), 200);
        server
    }
}

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
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- mcu serve log ---\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// The Python client; its last stdout line is its JSON result.
fn python(args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/open311/client.py");
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 (with python3-jsonschema) runs the Open311 client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "client.py {args:?} failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap()
}

async fn push(server: &Server, token: &str, body: &impl serde::Serialize) -> (u16, Value) {
    let resp = http()
        .post(server.url("/v1/sync/push"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// The request ids by number, as an operator's console pulls them.
async fn pull_numbers(server: &Server, token: &str, c: &Client) -> Vec<(String, Uuid)> {
    let resp = http()
        .post(server.url("/v1/sync/pull"))
        .bearer_auth(token)
        .json(&c.pull_req(None, None))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let page: PullResponse = resp.json().await.unwrap();
    page.patch
        .iter()
        .filter_map(|p| match p {
            PatchOp::Put {
                entity: Entity::Request,
                id,
                value,
            } => {
                let doc = value.value();
                assert_eq!(doc["request"]["channel"], "open311");
                Some((
                    doc["request"]["number"].as_str()?.to_owned(),
                    id.parse().ok()?,
                ))
            }
            _ => None,
        })
        .collect()
}

async fn portal_round_trip(env: Env) {
    let key = env.add_user("portal", "integration");
    let anna = env.add_user("anna", "operator");
    let list = env
        .mcu()
        .args(["user", "list", "-o", "json"])
        .output()
        .unwrap();
    let accounts: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(accounts[1]["name"], "portal");
    assert_eq!(accounts[1]["role"], "integration");
    let server = env.serve().await;

    let filed = tokio::task::spawn_blocking({
        let base = server.base.clone();
        let key = key.clone();
        move || python(&[&base, &key, "submit"])
    })
    .await
    .unwrap();
    let ids: Vec<String> = serde_json::from_value(filed["ids"].clone()).unwrap();
    assert_eq!(ids.len(), 3, "{filed}");
    assert!(filed["checks"].as_u64().unwrap() > 40, "{filed}");

    // The operator sees the three (the retried POSTs made no more), answers the first and
    // closes the second.
    let mut console = Client::new(operator("anna"));
    let numbers = pull_numbers(&server, &anna, &console).await;
    assert_eq!(numbers.len(), 3, "{numbers:?}");
    let id_of = |n: &str| numbers.iter().find(|(m, _)| m == n).unwrap().1;
    let note = "Яма будет заделана до пятницы; бригада выезжает завтра.";
    let now = Utc::now();
    let reply = console.journal_at(
        id_of(&ids[0]),
        Op::Reply {
            message_id: Uuid::now_v7(),
            body: note.into(),
        },
        None,
        now,
    );
    let close = console.journal_at(
        id_of(&ids[1]),
        Op::Close {
            reason: CloseReason::Resolved,
        },
        None,
        now,
    );
    let (status, body) = push(&server, &anna, &console.push_req(vec![reply, close])).await;
    assert_eq!(status, 200, "{body}");
    let pushed: PushResponse = serde_json::from_value(body).unwrap();
    assert!(
        pushed.results.iter().all(|r| r.status == Verdict::Applied),
        "{pushed:?}"
    );

    let verified = tokio::task::spawn_blocking({
        let base = server.base.clone();
        let ids = ids.clone();
        move || python(&[&base, &key, "verify", &ids[0], &ids[1], note])
    })
    .await
    .unwrap();
    assert_eq!(
        verified["verified"],
        serde_json::json!(ids[..2]),
        "{verified}"
    );

    // The retried POSTs were counted as retries, not requests.
    let (_, _, text) = get(&server.url("/metrics")).await;
    for line in [
        "mcu_open311_submissions_total{key=\"portal\",outcome=\"created\"} 3",
        "mcu_open311_submissions_total{key=\"portal\",outcome=\"retry\"} 2",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}

#[tokio::test]
async fn a_portal_files_and_reads_back_through_python_on_sqlite() {
    portal_round_trip(Env::new("")).await;
}

#[test]
fn a_portal_files_and_reads_back_through_python_on_postgres() {
    let env = Env::postgres("");
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(portal_round_trip(env));
}

/// A minimal well-formedness check (no XML crate in the tree): one root, tags balanced and
/// properly nested, no raw `<` or stray `&` in text.
fn well_formed(xml: &str) -> Result<String, String> {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"utf-8\"?>")
        .ok_or("no XML declaration")?;
    let mut stack: Vec<&str> = vec![];
    let mut root = None;
    let mut rest = body;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>').ok_or("unclosed tag")?;
            let tag = &after[..end];
            rest = &after[end + 1..];
            let (closing, name) = match tag.strip_prefix('/') {
                Some(n) => (true, n),
                None => (false, tag.strip_suffix('/').unwrap_or(tag)),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("bad tag <{tag}>"));
            }
            if stack.is_empty() && root.is_some() {
                return Err("a second root".into());
            }
            if closing {
                if stack.pop() != Some(name) {
                    return Err(format!("</{name}> closes nothing open"));
                }
            } else {
                root.get_or_insert(name.to_owned());
                if !tag.ends_with('/') {
                    stack.push(name);
                }
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..end];
            if stack.is_empty() {
                return Err(format!("text outside the root: {text:?}"));
            }
            for (i, _) in text.match_indices('&') {
                let ent = &text[i..];
                if !["&lt;", "&gt;", "&amp;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| ent.starts_with(e))
                {
                    return Err(format!("a stray & in {text:?}"));
                }
            }
            if text
                .chars()
                .any(|c| c.is_control() && !"\n\r\t".contains(c))
            {
                return Err(format!("a control character in {text:?}"));
            }
            rest = &rest[end..];
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed {stack:?}"));
    }
    root.ok_or_else(|| "empty document".into())
}

async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = http().get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

async fn post_form(url: &str, form: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = http().post(url).form(form).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

fn error_code(body: &str) -> i64 {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v[0]["code"].as_i64().unwrap_or_else(|| panic!("{body}"))
}

#[tokio::test]
async fn keys_limits_hostile_input_and_xml() {
    let env = Env::new("rate_per_minute = 8\nmax_body_bytes = 2048");
    let key = env.add_user("portal", "integration");
    let other = env.add_user("app", "integration");
    let anna = env.add_user("anna", "operator");
    let server = env.serve().await;
    let requests = server.url("/open311/v2/requests.json");

    // The integration key opens no console route; an operator's token opens no Open311 one.
    let console = Client::new(operator("portal"));
    let (status, body) = push(&server, &key, &console.push_req(vec![])).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let (status, _, body) = get(&format!("{requests}?api_key={anna}")).await;
    assert_eq!((status, error_code(&body)), (403, 403), "{body}");

    // A body over the limit: 413 in the spec's shape, before the key is even looked at.
    let huge = "я".repeat(4000);
    let (status, _, body) = post_form(
        &requests,
        &[
            ("api_key", &key),
            ("service_code", "roads"),
            ("description", &huge),
        ],
    )
    .await;
    assert_eq!((status, error_code(&body)), (413, 413), "{body}");

    // Hostile text: escape sequences and bidi overrides are stripped, invalid UTF-8 in a
    // percent-escape is replaced, markup is escaped in XML. Nothing crashes.
    let resp = http()
        .post(server.url("/open311/v2/requests.xml"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "api_key={key}&service_code=roads&address_string=%FF%FE%1B%5B2J&description=\
             %3Cscript%3E%1B%5D0%3Bpwned%07%E2%80%AE%26amp"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let xml = resp.text().await.unwrap();
    assert_eq!(well_formed(&xml), Ok("service_requests".into()), "{xml}");
    let number = xml
        .split("<service_request_id>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    let (status, _, xml) =
        get(&server.url(&format!("/open311/v2/requests/{number}.xml?api_key={key}"))).await;
    assert_eq!(status, 200, "{xml}");
    assert_eq!(well_formed(&xml), Ok("service_requests".into()), "{xml}");
    assert!(
        xml.contains("<description>&lt;script&gt;]0;pwned&amp;amp</description>"),
        "{xml}"
    );
    // In the spec's field order.
    let head = format!(
        "<service_requests><request><service_request_id>{number}</service_request_id>\
         <status>open</status><status_notes/><service_name>Дороги</service_name>\
         <service_code>roads</service_code><description>"
    );
    assert!(xml.contains(&head), "{xml}");
    assert!(
        !xml.contains('\u{1b}') && !xml.contains('\u{202e}'),
        "{xml}"
    );

    // XML for every kind of answer, errors included.
    for (path, root) in [
        ("/open311/v2/discovery.xml", "discovery"),
        ("/open311/v2/services.xml", "services"),
        ("/open311/v2/services/roads.xml", "service_definition"),
        ("/open311/v2/services/nope.xml", "errors"),
        ("/open311/v2/requests.xml", "errors"),
    ] {
        let (_, headers, xml) = get(&server.url(path)).await;
        assert_eq!(headers["content-type"], "text/xml; charset=utf-8", "{path}");
        assert_eq!(well_formed(&xml), Ok(root.into()), "{path}: {xml}");
    }

    // Unknown routes and formats, wrong methods: Open311 errors with the right statuses.
    for (path, code) in [
        ("/open311/v2/requests.html", 404),
        ("/open311/v2/nothing.json", 404),
        ("/open311/v2/a/b/c.json", 404),
        ("/open311/v1/services.json", 404),
    ] {
        let (status, _, body) = get(&server.url(path)).await;
        assert_eq!(
            (status, error_code(&body)),
            (code, i64::from(code)),
            "{path}: {body}"
        );
    }
    let resp = http()
        .delete(server.url("/open311/v2/services.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);

    // The rate limit is per key: `portal` has used 2 of its 8 a minute (the 413 and the
    // operator's call counted none), so 6 more pass (7 if the bucket refilled one meanwhile:
    // one every 7.5 s) and then 429 with Retry-After; `app` is untouched.
    let with_key = format!("{requests}?api_key={key}");
    let mut passed = 0;
    let (headers, body) = loop {
        let (status, headers, body) = get(&with_key).await;
        match status {
            200 => passed += 1,
            429 => break (headers, body),
            other => panic!("{other}: {body}"),
        }
        assert!(passed <= 7, "no 429 after {passed} calls");
    };
    assert!(passed >= 6, "429 after only {passed} calls: {body}");
    assert_eq!(error_code(&body), 429, "{body}");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=8).contains(&wait), "Retry-After {wait}");
    let (status, _, body) = get(&format!("{requests}?api_key={other}")).await;
    assert_eq!(status, 200, "{body}");

    // `/metrics` counts answers per key and status, and submissions per key.
    let (_, _, text) = get(&server.url("/metrics")).await;
    for line in [
        "mcu_open311_requests_total{key=\"portal\",status=\"429\"} 1",
        "mcu_open311_requests_total{key=\"-\",status=\"413\"} 1",
        "mcu_open311_requests_total{key=\"-\",status=\"403\"} 1",
        "mcu_open311_requests_total{key=\"app\",status=\"200\"} 1",
        "mcu_open311_submissions_total{key=\"portal\",outcome=\"created\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }

    // The request log names the paths but never the keys that came in their queries.
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(log.contains("/open311/v2/requests.json"), "{log}");
    assert!(
        !log.contains(&key) && !log.contains(&anna),
        "a key in the log:\n{log}"
    );
}

#[tokio::test]
async fn public_reads_show_no_personal_data() {
    let env = Env::new("public_reads = true");
    let key = env.add_user("portal", "integration");
    let server = env.serve().await;
    let (status, _, body) = post_form(
        &server.url("/open311/v2/requests.json"),
        &[
            ("api_key", &key),
            ("service_code", "waste"),
            ("address_string", "ул. Северная, 310"),
            ("description", "Иван Петров, кв. 5: мусор не вывозят"),
            ("media_url", "https://portal.example/2.jpg"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let number = serde_json::from_str::<Value>(&body).unwrap()[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Without a key: the record, but not the citizen's words or photo.
    let (status, _, body) = get(&server.url(&format!("/open311/v2/requests/{number}.json"))).await;
    assert_eq!(status, 200, "{body}");
    let r = &serde_json::from_str::<Value>(&body).unwrap()[0];
    assert_eq!(r["address"], "ул. Северная, 310");
    assert!(
        r["description"].is_null() && r["media_url"].is_null(),
        "{r}"
    );
    // Filing still needs the key.
    let (status, _, body) = post_form(
        &server.url("/open311/v2/requests.json"),
        &[
            ("service_code", "waste"),
            ("address_string", "x"),
            ("description", "y"),
        ],
    )
    .await;
    assert_eq!((status, error_code(&body)), (401, 401), "{body}");
    // With the key: everything.
    let (_, _, body) =
        get(&server.url(&format!("/open311/v2/requests/{number}.json?api_key={key}"))).await;
    let r = &serde_json::from_str::<Value>(&body).unwrap()[0];
    assert_eq!(r["description"], "Иван Петров, кв. 5: мусор не вывозят");
    assert_eq!(r["media_url"], "https://portal.example/2.jpg");
}

/// Copies of one submission at once (a portal's retries racing its first try): one request.
async fn copies_at_once(env: Env) {
    let key = env.add_user("portal", "integration");
    let server = env.serve().await;
    let url = server.url("/open311/v2/requests.json");
    let posts: Vec<_> = (0..8)
        .map(|_| {
            let (url, key) = (url.clone(), key.clone());
            tokio::spawn(async move {
                let resp = http()
                    .post(&url)
                    .header("Idempotency-Key", "form-7")
                    .form(&[
                        ("api_key", key.as_str()),
                        ("service_code", "roads"),
                        ("address_string", "ул. Красная, 1"),
                        ("description", "Яма"),
                    ])
                    .send()
                    .await
                    .unwrap();
                (resp.status().as_u16(), resp.text().await.unwrap())
            })
        })
        .collect();
    let mut numbers = std::collections::BTreeSet::new();
    for p in posts {
        let (status, body) = p.await.unwrap();
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        numbers.insert(v[0]["service_request_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(numbers.len(), 1, "{numbers:?}");
    let (_, _, text) = get(&server.url("/metrics")).await;
    for line in [
        "mcu_open311_submissions_total{key=\"portal\",outcome=\"created\"} 1",
        "mcu_open311_submissions_total{key=\"portal\",outcome=\"retry\"} 7",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_at_once_make_one_request_on_sqlite() {
    copies_at_once(Env::new("")).await;
}

#[test]
fn copies_at_once_make_one_request_on_postgres() {
    let env = Env::postgres("");
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(copies_at_once(env));
}
