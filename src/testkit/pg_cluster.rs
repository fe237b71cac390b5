//! A throw-away PostgreSQL cluster for tests, built from the machine's own `initdb`/`pg_ctl`
//! (Debian's `postgresql` package): nothing is downloaded, so it works offline and in CI.
//!
//! One cluster per test process ([`PgCluster::shared`]) because `initdb` costs a second or two;
//! each test takes its own database from it ([`PgCluster::fresh_database`]), so tests stay
//! isolated and may run in parallel. The server listens only on a Unix socket inside its own
//! temporary directory, so concurrent test processes never meet.
//!
//! There is deliberately no "skip when PostgreSQL is missing": a test that silently passes
//! without a database proves nothing, so [`PgCluster::shared`] panics with how to install it.

use std::ffi::OsString;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio_postgres::NoTls;

/// What to tell a developer or CI machine that has no usable PostgreSQL.
const INSTALL_HINT: &str = "install PostgreSQL: apt-get install -y postgresql \
     (or set MCU_PG_BIN to the directory holding initdb and pg_ctl)";

/// A running PostgreSQL cluster in a temporary directory. Dropping it (or the test process
/// ending, for the [`shared`](PgCluster::shared) one) stops the server and removes the directory.
pub struct PgCluster {
    /// The temporary directory: `data/` (the cluster), `postgres.log`, and the Unix socket.
    dir: PathBuf,
    port: u16,
    superuser: String,
    startup: Duration,
    /// Kept to stop and start the server again ([`restart`](PgCluster::restart)).
    bindir: PathBuf,
    as_postgres: bool,
    durable: bool,
    /// Stops the server and removes `dir` when we go away; see [`Watchdog`].
    _watchdog: Watchdog,
}

impl PgCluster {
    /// The cluster every test in this process shares, started on first use.
    ///
    /// # Panics
    /// When the cluster can't start, with what failed and how to install PostgreSQL. A test
    /// needing PostgreSQL must fail on a machine without it, never pass by skipping itself.
    pub fn shared() -> &'static PgCluster {
        // A `static` is never dropped: the watchdog process, not `Drop`, stops this one when
        // the test process exits.
        static SHARED: OnceLock<PgCluster> = OnceLock::new();
        SHARED.get_or_init(|| match PgCluster::start() {
            Ok(cluster) => cluster,
            Err(e) => panic!("the PostgreSQL test cluster could not start: {e}\n{INSTALL_HINT}"),
        })
    }

    /// Creates and starts a new cluster. Takes a second or two (mostly `initdb`).
    pub fn start() -> Result<PgCluster, String> {
        PgCluster::start_with(false)
    }

    /// A cluster that keeps what it committed across [`restart`](PgCluster::restart):
    /// `synchronous_commit` on, so a commit's WAL is written before the commit answers (the
    /// default cluster skips that for speed, and a crash-like stop then loses the last commits,
    /// which a real server configured as PostgreSQL ships never does). `fsync` stays off: the
    /// machine itself never crashes here, only PostgreSQL.
    pub fn start_durable() -> Result<PgCluster, String> {
        PgCluster::start_with(true)
    }

    fn start_with(durable: bool) -> Result<PgCluster, String> {
        let began = Instant::now();
        let bindir = find_bindir()?;
        // PostgreSQL refuses to run as root (a compromised server would own the machine), and CI
        // runs tests as root. Then everything PostgreSQL touches is run as the `postgres` user
        // the Debian package creates, through `runuser` (util-linux, always present; `sudo`
        // often isn't), and the directory is handed to that user.
        let as_postgres = running_as_root()?;
        let superuser = if as_postgres {
            "postgres".to_owned()
        } else {
            current_user()?
        };
        let port = free_port()?;
        let dir = tempfile::Builder::new()
            .prefix("mcu-pg-")
            .tempdir()
            .map_err(|e| format!("creating a temporary directory: {e}"))?
            // The watchdog removes it: it may have to outlive this process by a moment.
            .keep();
        let runner = Runner {
            dir: dir.clone(),
            as_postgres,
        };
        // Spawned before anything else exists so that every later failure, and even a crash
        // of this process, still stops whatever got started and removes the directory.
        let watchdog = match Watchdog::spawn(&runner, &bindir.join("pg_ctl")) {
            Ok(w) => w,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let mut cluster = PgCluster {
            dir,
            port,
            superuser,
            startup: Duration::ZERO,
            bindir: bindir.clone(),
            as_postgres,
            durable,
            _watchdog: watchdog,
        };
        cluster.check_socket_path()?;
        if as_postgres {
            let mut chown = Command::new("chown");
            chown.arg("-R").arg("postgres:").arg(&cluster.dir);
            run(
                &mut chown,
                "chown -R postgres: (is there a `postgres` user?)",
            )?;
        }
        cluster.initdb(&runner, &bindir)?;
        cluster.pg_ctl_start(&runner, &bindir)?;
        cluster.startup = began.elapsed();
        Ok(cluster)
    }

    /// A tokio-postgres connection string for database `db` on this cluster.
    pub fn url(&self, db: &str) -> String {
        format!(
            "host={} port={} user={} dbname={db}",
            self.dir.display(),
            self.port,
            self.superuser
        )
    }

    /// Creates an empty database with a unique name and returns its connection string: each
    /// test gets its own, so tests sharing the cluster can't see each other's tables.
    pub async fn fresh_database(&self) -> Result<String, String> {
        let name = format!("t_{}", uuid::Uuid::now_v7().simple());
        let (client, connection) = tokio_postgres::connect(&self.url("postgres"), NoTls)
            .await
            .map_err(|e| {
                format!(
                    "connecting to the test cluster in {}: {e}",
                    self.dir.display()
                )
            })?;
        let connection = tokio::spawn(connection);
        let created = client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .map_err(|e| format!("CREATE DATABASE {name}: {e}"));
        // Closing the admin connection at once keeps `postgres` free of idle sessions.
        drop(client);
        let _ = connection.await;
        created.map(|()| self.url(&name))
    }

    /// Stops the server the way a crash would (`pg_ctl stop -m immediate`: every connection
    /// cut, no checkpoint, recovery on the next start) and starts it again on the same socket.
    /// For a test's own cluster only (the [`shared`](PgCluster::shared) one serves the tests
    /// running beside it), and one started [durable](PgCluster::start_durable) unless losing
    /// the last commits is the point.
    pub fn restart(&self) -> Result<(), String> {
        let runner = Runner {
            dir: self.dir.clone(),
            as_postgres: self.as_postgres,
        };
        let mut stop = runner.command(&self.bindir.join("pg_ctl"));
        stop.args(["stop", "-m", "immediate", "-w", "-D"])
            .arg(self.data_dir());
        run(&mut stop, "pg_ctl stop -m immediate")?;
        self.pg_ctl_start(&runner, &self.bindir)
    }

    /// How long [`start`](PgCluster::start) took.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// A client program of this cluster's version (`pg_dump`, `pg_restore`, `psql`) from its
    /// bin directory: a dump is read back by the tools of the server that made it.
    pub fn client(&self, program: &str) -> Command {
        Command::new(self.bindir.join(program))
    }

    /// The temporary directory holding the cluster, its log and its socket.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The socket path goes unquoted into `pg_ctl -o` (which passes it through a shell) and into
    /// the connection string, and a Unix socket path has a hard 107-byte limit: refuse early
    /// with a usable message rather than fail obscurely inside PostgreSQL.
    fn check_socket_path(&self) -> Result<(), String> {
        let dir = self.dir.to_string_lossy();
        let plain = dir
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
        let socket_len = dir.len() + format!("/.s.PGSQL.{}", self.port).len();
        if plain && socket_len <= 107 {
            Ok(())
        } else {
            Err(format!(
                "the temporary directory {dir} is not a short plain path usable for a Unix \
                 socket; set TMPDIR to e.g. /tmp"
            ))
        }
    }

    fn initdb(&self, runner: &Runner, bindir: &Path) -> Result<(), String> {
        // C.UTF-8 rather than C: PostgreSQL's lower()/upper()/ILIKE on Cyrillic need a UTF-8
        // ctype, and C.UTF-8 sorts like C on every glibc. Plain C is the fallback for systems
        // without it.
        let mut last_error = String::new();
        for locale in ["C.UTF-8", "C"] {
            let mut cmd = runner.command(&bindir.join("initdb"));
            cmd.arg("-D")
                .arg(self.data_dir())
                .arg("--auth=trust")
                .arg("--encoding=UTF8")
                .arg(format!("--locale={locale}"))
                .arg(format!("--username={}", self.superuser))
                // Durability is worthless for a throw-away cluster; skipping fsync saves seconds.
                .arg("--no-sync");
            match run(&mut cmd, "initdb") {
                Ok(()) => return Ok(()),
                Err(e) => {
                    last_error = e;
                    // initdb removes what it created on failure; this covers the rest.
                    let _ = std::fs::remove_dir_all(self.data_dir());
                }
            }
        }
        Err(if runner.as_postgres {
            format!(
                "{last_error}\n(running as root, so as the postgres user: it must be able to \
                 reach {}; set TMPDIR to e.g. /tmp otherwise)",
                self.dir.display()
            )
        } else {
            last_error
        })
    }

    fn pg_ctl_start(&self, runner: &Runner, bindir: &Path) -> Result<(), String> {
        // Unix socket only, in our own directory: no TCP port to collide with other test
        // processes or a system PostgreSQL. The port number merely names the socket file.
        // Durability settings off: nothing here must survive a crash.
        let options = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -c fsync=off \
             -c synchronous_commit={} -c full_page_writes=off -p {}",
            self.dir.display(),
            if self.durable { "on" } else { "off" },
            self.port
        );
        let log = self.dir.join("postgres.log");
        let mut cmd = runner.command(&bindir.join("pg_ctl"));
        cmd.arg("-w")
            .arg("-D")
            .arg(self.data_dir())
            // Without -l the server inherits pg_ctl's stdout, which is our capture pipe: reading
            // pg_ctl's output would then wait for the server to exit, i.e. forever.
            .arg("-l")
            .arg(&log)
            .arg("-o")
            .arg(options)
            .arg("start");
        run(&mut cmd, "pg_ctl start").map_err(|e| {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            format!("{e}\npostgres.log:\n{}", tail.join("\n"))
        })
    }
}

/// Runs the PostgreSQL binaries, as the `postgres` user when we are root.
struct Runner {
    dir: PathBuf,
    as_postgres: bool,
}

impl Runner {
    fn command(&self, program: &Path) -> Command {
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        // The test's working directory (a checkout under /root, say) may be unreadable for the
        // postgres user, and initdb/pg_ctl complain when they can't resolve it.
        cmd.current_dir(&self.dir);
        cmd
    }

    /// The command line (program and arguments) of [`command`](Runner::command), for `sh`.
    fn argv(&self, program: &Path) -> Vec<OsString> {
        let mut argv = Vec::new();
        if self.as_postgres {
            argv.extend(["runuser", "-u", "postgres", "--"].map(OsString::from));
        }
        argv.push(program.into());
        argv
    }
}

/// A small `sh` process that stops the server and removes the directory once this process is
/// gone, however it goes: normal exit, panic, `kill -9`.
///
/// Why: the shared cluster lives in a `static`, which Rust never drops, and a crashed test run
/// runs no destructors either; `pg_ctl` detaches the server (`setsid`), so it would outlive us.
/// Killing "stale" clusters at the next start is no answer, since other test processes may be
/// using theirs at that moment. So the watchdog blocks reading a pipe whose only writer is this
/// process (Rust opens pipes close-on-exec, so no other child inherits it): the kernel closes
/// it when we exit, the read returns, and the watchdog cleans up. No polling, no PID reuse.
struct Watchdog {
    child: Child,
    /// Never written; dropping it is the "we are gone" signal.
    pipe: Option<ChildStdin>,
}

impl Watchdog {
    fn spawn(runner: &Runner, pg_ctl: &Path) -> Result<Watchdog, String> {
        // Retried: if we died while initdb or `pg_ctl start` was still at work, they run on and
        // may add files during the first `rm -rf` or bring the server up after the first stop
        // (seen: "rm: cannot remove .../data/base/4: Directory not empty").
        const SCRIPT: &str = r#"read -r _ignored
dir=$1
shift
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    "$@"
    rm -rf -- "$dir"
    [ -e "$dir" ] || exit 0
    sleep 1
done"#;
        let mut stop = runner.argv(pg_ctl);
        stop.extend(["stop", "-m", "immediate", "-s", "-D"].map(OsString::from));
        stop.push(runner.dir.join("data").into());
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(SCRIPT)
            .arg("mcu-pg-watchdog")
            .arg(&runner.dir)
            .args(stop)
            .current_dir("/")
            .stdin(Stdio::piped())
            // Holding the test's stdout/stderr would keep e.g. `cargo test | tee` waiting.
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: Ctrl-C on `cargo test` must not kill the watchdog along with
            // the tests, or the (detached) server would be left running.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("starting the cleanup watchdog (sh): {e}"))?;
        let pipe = child.stdin.take();
        Ok(Watchdog { child, pipe })
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Closing the pipe lets the watchdog stop the server; waiting means the directory is
        // gone when a dropped `PgCluster` returns.
        drop(self.pipe.take());
        let _ = self.child.wait();
    }
}

/// Runs `cmd` to completion; an error names `what` and carries its output.
fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: could not run {:?}: {e}", cmd.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({status}):\n{}{}",
            String::from_utf8_lossy(&stderr),
            String::from_utf8_lossy(&stdout)
        ))
    }
}

/// The directory with `initdb`, `pg_ctl` and `postgres`.
fn find_bindir() -> Result<PathBuf, String> {
    let has_initdb = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("MCU_PG_BIN") {
        let dir = PathBuf::from(dir);
        return if has_initdb(&dir) {
            Ok(dir)
        } else {
            Err(format!(
                "MCU_PG_BIN={} holds no initdb and pg_ctl",
                dir.display()
            ))
        };
    }
    // pg_config alone isn't enough: libpq-dev's copy answers /usr/bin, which has no server
    // binaries on Debian; hence the check and the fallback.
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_initdb(&dir) {
            return Ok(dir);
        }
    }
    // Debian installs each major version side by side and puts none of them on PATH.
    let mut versions: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version = name
                .split('.')
                .map(str::parse)
                .collect::<Result<Vec<u32>, _>>()
                .ok()?;
            let bin = entry.path().join("bin");
            has_initdb(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        "no PostgreSQL server binaries: initdb is neither in `pg_config --bindir` nor under \
         /usr/lib/postgresql/*/bin"
            .to_owned()
    })
}

/// Whether the effective user is root, without a libc dependency: the kernel's
/// `/proc/self/status` (real, effective, saved, fs uids), else `id -u`.
fn running_as_root() -> Result<bool, String> {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(uids) = status.lines().find_map(|l| l.strip_prefix("Uid:"))
        && let Some(effective) = uids.split_whitespace().nth(1)
    {
        return Ok(effective == "0");
    }
    let out = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| format!("finding the user id (id -u): {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// The current user's name: initdb's superuser when not root (trust authentication only checks
/// that the role exists, and we create exactly this one).
fn current_user() -> Result<String, String> {
    let name = Command::new("id")
        .arg("-un")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_default();
    // It goes unquoted into the connection string.
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        Ok(name)
    } else {
        Err(format!(
            "cannot use the current user name {name:?} as the database superuser"
        ))
    }
}

/// A port number no other process on this machine holds right now. PostgreSQL listens only on
/// a Unix socket here, so the number just names the socket file (`.s.PGSQL.<port>`) inside our
/// own directory; taking one the kernel hands out keeps it unique anyway.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("picking a port number: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn connect(url: &str) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(url, NoTls)
            .await
            .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
        tokio::spawn(connection);
        client
    }

    async fn has_table(client: &tokio_postgres::Client, table: &str) -> bool {
        let row = client
            .query_one("SELECT to_regclass($1)::text", &[&table])
            .await
            .unwrap();
        row.get::<_, Option<String>>(0).is_some()
    }

    #[tokio::test]
    async fn fresh_databases_are_isolated_from_each_other() {
        let cluster = PgCluster::shared();
        eprintln!(
            "PostgreSQL test cluster started in {:?}",
            cluster.startup_time()
        );
        let url_a = cluster.fresh_database().await.unwrap();
        let url_b = cluster.fresh_database().await.unwrap();
        assert_ne!(url_a, url_b);
        let a = connect(&url_a).await;
        let b = connect(&url_b).await;

        a.batch_execute("CREATE TABLE probe (id uuid PRIMARY KEY, body text NOT NULL)")
            .await
            .unwrap();
        assert!(has_table(&a, "probe").await);
        assert!(
            !has_table(&b, "probe").await,
            "a table leaked into another fresh database"
        );

        // Requests are in Russian: case folding must work on Cyrillic (the C.UTF-8 locale).
        let lower: String = b
            .query_one("SELECT lower('ЯМА НА ДОРОГЕ')", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(lower, "яма на дороге");
    }

    #[tokio::test]
    async fn a_deadpool_pool_serves_a_fresh_database() {
        use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

        let url = PgCluster::shared().fresh_database().await.unwrap();
        let config: tokio_postgres::Config = url.parse().unwrap();
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager).max_size(4).build().unwrap();

        let writer = pool.get().await.unwrap();
        writer
            .batch_execute("CREATE TABLE notes (n int); INSERT INTO notes VALUES (1), (2), (3)")
            .await
            .unwrap();
        // A second connection at the same time sees the committed rows.
        let reader = pool.get().await.unwrap();
        let sum: i64 = reader
            .query_one("SELECT sum(n) FROM notes", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(sum, 6);
        assert_eq!(pool.status().size, 2);
    }

    #[tokio::test]
    async fn a_dropped_cluster_is_stopped_and_its_directory_removed() {
        let cluster = PgCluster::start().unwrap_or_else(|e| panic!("{e}\n{INSTALL_HINT}"));
        let url = cluster.url("postgres");
        let dir = cluster.dir().to_owned();
        let client = connect(&url).await;
        client.batch_execute("SELECT 1").await.unwrap();
        drop(client);

        drop(cluster);
        assert!(!dir.exists(), "{} survived the cluster", dir.display());
        assert!(tokio_postgres::connect(&url, NoTls).await.is_err());
    }
}
