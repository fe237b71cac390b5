//! What the Open311 tests share: a temp dir with a config and the server's store, `mcu`
//! commands on them, a running `mcu serve` (killed on drop, its log printed if the test
//! failed), and small HTTP helpers. Included by tests/open311.rs and tests/open311_limits.rs.
#![allow(dead_code)]

use std::io::BufReader;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command};
use std::time::Duration;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mcu");

pub struct Env {
    pub dir: tempfile::TempDir,
    pub db: String,
}

impl Env {
    /// The contract client's scope, so an operator there sees what portals file.
    pub fn new(open311: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
        let env = Env { dir, db };
        env.config(open311);
        env
    }

    pub fn postgres(open311: &str) -> Env {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let db = rt
            .block_on(mcu_desk::testkit::pg_cluster::PgCluster::shared().fresh_database())
            .expect("a fresh PostgreSQL database");
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
            db,
        };
        env.config(open311);
        env
    }

    pub fn config(&self, open311: &str) {
        std::fs::write(
            self.dir.path().join("config.toml"),
            format!("[server]\nscope = \"krasnodar\"\n\n[open311]\n{open311}\n"),
        )
        .unwrap();
    }

    pub fn mcu(&self) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--config")
            .arg(self.dir.path().join("config.toml"))
            .args(["--db", &self.db]);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("MCU_")) {
            c.env_remove(k);
        }
        c
    }

    pub fn add_user(&self, name: &str, role: &str) -> String {
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

    pub async fn serve(&self) -> Server {
        let log = self.dir.path().join("serve.log");
        let (child, stdout, base) = crate::common::spawn_serve(
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

pub struct Server {
    pub child: Child,
    pub _stdout: BufReader<ChildStdout>,
    pub base: String,
    pub log: PathBuf,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
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

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

pub async fn push(server: &Server, token: &str, body: &impl serde::Serialize) -> (u16, Value) {
    let resp = http()
        .post(server.url("/v1/sync/push"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

pub async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = http().get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

pub async fn post_form(
    url: &str,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = http().post(url).form(form).send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

pub fn error_code(body: &str) -> i64 {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    v[0]["code"].as_i64().unwrap_or_else(|| panic!("{body}"))
}
