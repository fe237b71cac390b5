//! What the scenarios share: a temp dir with a config, `mcu serve` as a real process on
//! SQLite or on a fresh PostgreSQL database, consoles as real `mcu` commands on their own
//! files, and the checker run against the server's own store.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output};

use mcu_desk::server::pg::PgStore;
use mcu_desk::server::sqlite::SqliteStore;
use mcu_desk::testkit::checker::{self, Summary};
use mcu_desk::testkit::contract::SCOPE;
use mcu_desk::testkit::pg_cluster::PgCluster;

pub const BIN: &str = env!("CARGO_BIN_EXE_mcu");

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A temp dir with an empty config and the server's database.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub backend: Backend,
    /// The fresh PostgreSQL database, for `Backend::Postgres`.
    pg_url: Option<String>,
}

impl Env {
    pub fn new(backend: Backend) -> Env {
        match backend {
            Backend::Sqlite => Env::on(backend, None),
            Backend::Postgres => Env::on(backend, Some(PgCluster::shared())),
        }
    }

    /// On a database of `cluster`, for a scenario that stops and starts its own PostgreSQL.
    pub fn on_cluster(cluster: &PgCluster) -> Env {
        Env::on(Backend::Postgres, Some(cluster))
    }

    fn on(backend: Backend, cluster: Option<&PgCluster>) -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.toml"), "").unwrap();
        let pg_url = cluster.map(|cluster| {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(cluster.fresh_database())
                .expect("a fresh PostgreSQL database")
        });
        Env {
            dir,
            backend,
            pg_url,
        }
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    pub fn db_url(&self) -> String {
        self.pg_url
            .clone()
            .unwrap_or_else(|| format!("sqlite:{}", self.path("server.sqlite3").display()))
    }

    /// `mcu` with this env's config and `--db`, and none of the test's own `MCU_` variables.
    pub fn mcu(&self, db: &str) -> Command {
        let mut c = Command::new(BIN);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("MCU_")) {
            c.env_remove(k);
        }
        c.arg("--config")
            .arg(self.path("config.toml"))
            .args(["--db", db]);
        c
    }

    /// `mcu user add`: the token it printed.
    pub fn add_user(&self, name: &str, role: &str) -> String {
        let out = self
            .mcu(&self.db_url())
            .args(["user", "add", name, "--role", role])
            // The account reaches the consoles' scope.
            .env("MCU_SERVER_SCOPE", SCOPE)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// `mcu serve` on a free port, once it says where it listens.
    pub fn serve(&self) -> Server {
        self.serve_with(&[])
    }

    /// `mcu serve` with more arguments.
    pub fn serve_with(&self, more: &[&str]) -> Server {
        self.serve_at("127.0.0.1:0", more)
    }

    /// `mcu serve` on `listen` (a fixed port: a server restarted where its consoles look).
    pub fn serve_at(&self, listen: &str, more: &[&str]) -> Server {
        let log = self.path("serve.log");
        let (child, stdout, base) = crate::common::spawn_serve(
            self.mcu(&self.db_url())
                .args(["serve", "--listen", listen, "--seed-db"])
                .arg(self.path("seed.sqlite3"))
                .args(more)
                // The scope its copy for new consoles follows, as the consoles' own.
                .env("MCU_SERVER_SCOPE", SCOPE),
            &log,
        );
        Server {
            base,
            child,
            _stdout: stdout,
            log,
        }
    }

    /// A console of `user` on its own file against `server`.
    pub fn console(&self, server: &Server, file: &str, user: &str, token: &str) -> Console {
        Console {
            db: self.path(file),
            config: self.path("config.toml"),
            base: server.base.clone(),
            user: user.to_owned(),
            token: token.to_owned(),
        }
    }

    /// The checker against the server's store, opened here beside the running server.
    pub fn check(&self, consoles: &[&Path]) -> Summary {
        match self.backend {
            Backend::Sqlite => {
                let store = SqliteStore::open(&self.path("server.sqlite3")).unwrap();
                checker::assert_all(&store, SCOPE, consoles)
            }
            Backend::Postgres => {
                // The store drives its connection with `block_on`: call this from a plain
                // test thread, not from inside a runtime.
                let rt = tokio::runtime::Runtime::new().unwrap();
                let store = rt.block_on(PgStore::connect(&self.db_url())).unwrap();
                checker::assert_all(&store, SCOPE, consoles)
            }
        }
    }
}

/// The running server; killed when dropped, its log printed if the test failed.
pub struct Server {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    pub base: String,
    log: PathBuf,
}

impl Server {
    /// What the server has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
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

/// One operator's console: `mcu` on its file, in team mode with the operator's token.
#[derive(Clone)]
pub struct Console {
    pub db: PathBuf,
    pub config: PathBuf,
    pub base: String,
    pub user: String,
    pub token: String,
}

impl Console {
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("MCU_")) {
            c.env_remove(k);
        }
        c.arg("--config")
            .arg(&self.config)
            .arg("--db")
            .arg(&self.db)
            .env("MCU_SERVER_URL", &self.base)
            .env("MCU_SERVER_TOKEN", &self.token)
            .env("MCU_SERVER_SCOPE", SCOPE)
            // The name the console writes into its own audit is the account's, as in real use.
            .env("MCU_OPERATOR_NAME", &self.user)
            .args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs and asserts exit 0; stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "mcu {args:?}: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `mcu sync` until it has nothing to send and nothing waits.
    pub fn sync_quiet(&self) {
        let mut rounds = Vec::new();
        for _ in 0..10 {
            let out: serde_json::Value =
                serde_json::from_str(&self.ok(&["sync", "-o", "json"])).unwrap();
            if out["pending"] == 0 && out["pushed"] == 0 && out["pulled"] == 0 {
                return;
            }
            rounds.push(out);
        }
        panic!(
            "{} still syncing after 10 rounds: {rounds:?}",
            self.db.display()
        );
    }

    /// `mcu new` in JSON: the request's number, or its id while the server has not numbered it
    /// (offline: no provisional number is printed); the CLI takes either.
    pub fn new_request(&self, text: &str) -> String {
        let v: serde_json::Value =
            serde_json::from_str(&self.ok(&["new", "--text", text, "-o", "json"])).unwrap();
        v[0]["number"]
            .as_str()
            .or_else(|| v[0]["id"].as_str())
            .unwrap()
            .to_owned()
    }

    /// The request as `mcu show -o json` prints it.
    pub fn show(&self, number: &str) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["show", number, "-o", "json"])).unwrap()
    }
}

/// The tags a request shows, sorted.
pub fn tags(shown: &serde_json::Value) -> Vec<String> {
    let mut t: Vec<String> = shown["tags"]
        .as_array()
        .unwrap_or_else(|| panic!("tags in {shown}"))
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    t.sort();
    t
}

/// The notes' bodies a request shows, sorted.
pub fn notes(shown: &serde_json::Value) -> Vec<String> {
    let mut n: Vec<String> = shown["notes"]
        .as_array()
        .unwrap_or_else(|| panic!("notes in {shown}"))
        .iter()
        .map(|n| n["body"].as_str().unwrap().to_owned())
        .collect();
    n.sort();
    n
}

/// A SQLite file put back from its backup, as an administrator does: the file and its
/// WAL and shared-memory files gone, the copy in its place.
pub fn put_back(db: &Path, backup: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.to_path_buf().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(&p);
    }
    std::fs::copy(backup, db).unwrap();
}
