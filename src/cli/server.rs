//! `mcu serve` (and `serve backup`) and `mcu repair --server`: the team server's edge. Its
//! accounts (`mcu user`) are in `server/users.rs`. `--db` names the server's store (not the
//! console's file), so it has no default from the config.

use anyhow::Context;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

use crate::config::Config;

mod users;
pub use users::user;

use super::args::Format;
use super::{Refused, gateway};
use crate::domain::{Catalog, ClockPolicy};
use crate::server::engine::Transactional;
use crate::server::http;
use crate::server::url::{self, DbUrl, OpenError, ServerStore};

fn english() -> bool {
    super::ENGLISH.load(std::sync::atomic::Ordering::Relaxed)
}

/// The operator's language for messages the CLI localizes.
fn say(en: String, ru: String) -> String {
    if english() { en } else { ru }
}

async fn open_store(db: Option<&Path>) -> anyhow::Result<(DbUrl, ServerStore)> {
    let Some(db) = db else {
        return Err(Refused(say(
            "give --db: the server's store, sqlite:PATH or postgres://…".into(),
            "укажите --db: хранилище сервера, sqlite:ПУТЬ или postgres://…".into(),
        ))
        .into());
    };
    let text = db.to_str().ok_or_else(|| {
        Refused(say(
            format!("--db {}: not UTF-8", db.display()),
            format!("--db {}: не UTF-8", db.display()),
        ))
    })?;
    let url = DbUrl::parse(text).map_err(Refused)?;
    let store = match url::open(&url).await {
        Ok(s) => s,
        Err(OpenError::Store(e)) => {
            return Err(anyhow::Error::from(e).context(format!("cannot open {url}")));
        }
    };
    Ok((url, store))
}

/// Logs to stderr: a server has no screen to protect, and service managers collect stderr.
fn init_stderr_logging() {
    let asked = std::env::var("MCU_LOG").unwrap_or_default();
    let mut filter =
        tracing_subscriber::EnvFilter::try_from_env("MCU_LOG").unwrap_or_else(|_| "info".into());
    // PostgreSQL's notices (`relation "schema_version" already exists, skipping` at every
    // start) are the first lines an admin reads in the journal, and they are no news; kept
    // when MCU_LOG names tokio_postgres itself.
    if !asked.contains("tokio_postgres")
        && let Ok(quiet) = "tokio_postgres=warn".parse()
    {
        filter = filter.add_directive(quiet);
    }
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in journald or a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .try_init();
}

/// `mcu serve --channels …`: which gateways this server runs, and how.
pub struct Gateways {
    pub channels: Vec<String>,
    pub db: Option<PathBuf>,
    pub lease_secs: f64,
    /// The new consoles' file (`server::seed`): `None` keeps none, `Some(None)` the default
    /// place.
    pub seed: Option<Option<PathBuf>>,
    /// The store was restored from a backup: new epochs before anything else (`--after-restore`).
    pub after_restore: bool,
    /// `--compact-every-secs`; 0: never.
    pub compact_every_secs: f64,
}

/// Compacts the change log every `every` until `stop`: the log then stays as long as the
/// store has rows. A failed round is logged and tried again at the next.
fn compactor(
    store: Arc<ServerStore>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let s = store.clone();
            match tokio::task::spawn_blocking(move || crate::server::engine::compact(&*s)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(gone)) => tracing::info!(gone, "change log compacted"),
                Ok(Err(e)) => tracing::warn!(error = %e, "change log compaction"),
                Err(e) => tracing::warn!(error = %e, "change log compaction"),
            }
        }
    })
}

/// One `mcu serve` per SQLite store: two would race on the seed file and both poll the
/// channels from one file, which a lease between replicas on PostgreSQL is for. A lock beside
/// the file, held while the server runs; the operating system lets it go with the process,
/// even one killed.
fn only_server(url: &DbUrl) -> anyhow::Result<Option<std::fs::File>> {
    let DbUrl::Sqlite(path) = url else {
        return Ok(None);
    };
    let mut lock = path.clone().into_os_string();
    lock.push(".serve-lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .with_context(|| format!("cannot open {}", Path::new(&lock).display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(Refused(say(
            format!(
                "another `mcu serve` already works {}: one server per SQLite store (several replicas need PostgreSQL)",
                path.display()
            ),
            format!(
                "этот файл {} уже обслуживает другой `mcu serve`: один сервер на базу SQLite (несколько реплик — на PostgreSQL)",
                path.display()
            ),
        ))
        .into()),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(anyhow::Error::from(e).context(format!("cannot lock {}", Path::new(&lock).display())))
        }
    }
}

pub async fn serve(
    db: Option<&Path>,
    listen: SocketAddr,
    config: &Config,
    catalog: Catalog,
    policy: ClockPolicy,
    gateways: Gateways,
) -> anyhow::Result<()> {
    init_stderr_logging();
    let known = gateway::CHANNELS.join(", ");
    for (i, ch) in gateways.channels.iter().enumerate() {
        if !gateway::CHANNELS.contains(&ch.as_str()) {
            return Err(Refused(say(
                format!("--channels {ch}: this server runs {known}"),
                format!("--channels {ch}: этот сервер ведёт каналы {known}"),
            ))
            .into());
        }
        if gateways.channels[..i].contains(ch) {
            return Err(Refused(say(
                format!("--channels: `{ch}` twice"),
                format!("--channels: `{ch}` дважды"),
            ))
            .into());
        }
    }
    if gateways.db.is_some() && gateways.channels.len() > 1 {
        return Err(Refused(say(
            "--gateway-db: one file per channel; with several, each takes its default place".into(),
            "--gateway-db: у каждого канала свой файл; при нескольких каналах файлы по умолчанию"
                .into(),
        ))
        .into());
    }
    let compact_every = gateways.compact_every_secs;
    if !(compact_every.is_finite() && (0.0..=7.0 * 86_400.0).contains(&compact_every)) {
        return Err(Refused(say(
            format!("--compact-every-secs {compact_every}: 0 (never) to 604800 (a week)"),
            format!("--compact-every-secs {compact_every}: от 0 (никогда) до 604800 (неделя)"),
        ))
        .into());
    }
    if !(gateways.lease_secs.is_finite() && (1.0..=3600.0).contains(&gateways.lease_secs)) {
        return Err(Refused(say(
            format!("--lease-secs {}: 1 to 3600", gateways.lease_secs),
            format!("--lease-secs {}: от 1 до 3600", gateways.lease_secs),
        ))
        .into());
    }
    let (url, store) = open_store(db).await?;
    // Held until the server stops.
    let _only = only_server(&url)?;
    let store = Arc::new(store);
    if gateways.after_restore {
        // Before the seed file checks its epoch and before any console is served: each one's
        // next pull is then a reset (store/reset.rs), however far the server runs meanwhile.
        let s = store.clone();
        let scopes = tokio::task::spawn_blocking(move || s.in_tx(|tx| tx.new_epochs())).await??;
        tracing::warn!(
            scopes,
            "restored from a backup: every scope has a new epoch"
        );
    }
    // Handlers in place before anyone can learn the address: a stop signal sent right after
    // the first line is then a graceful shutdown, not the default kill.
    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    // The first stdout line, in English in every language: scripts and tests read the port
    // from it (`--listen 127.0.0.1:0`).
    println!("listening on http://{addr}");
    tracing::info!(%addr, db = %url, "serving");
    let (stop_tx, stop) = watch::channel(false);
    let kick = Arc::new(Notify::new());
    let mut running = vec![];
    // Each gateway's sync loop waits on its own bell; a change in the store rings them all.
    let mut bells = vec![];
    for ch in &gateways.channels {
        let path = gateways
            .db
            .clone()
            .unwrap_or_else(|| gateway_db(&url, config, ch));
        let bell = Arc::new(Notify::new());
        bells.push(bell.clone());
        running.push(
            gateway::start(
                gateway::Setup {
                    channel: ch,
                    server: store.clone(),
                    path,
                    config,
                    catalog: catalog.clone(),
                    policy: policy.clone(),
                    lease: Duration::from_secs_f64(gateways.lease_secs),
                    kick: bell,
                },
                stop.clone(),
            )
            .await?,
        );
    }
    let fan_out = {
        let kick = kick.clone();
        tokio::spawn(async move {
            loop {
                kick.notified().await;
                for b in &bells {
                    b.notify_one();
                }
            }
        })
    };
    let seed = match &gateways.seed {
        None => None,
        Some(path) => {
            let path = path
                .clone()
                .unwrap_or_else(|| beside_store(&url, config, "seed.sqlite3"));
            Some(start_seed(store.clone(), path, config, &catalog, &policy, stop.clone()).await?)
        }
    };
    let opts = http::ServeOptions {
        on_change: Some(kick),
        channels: running.iter().map(|r| r.metrics.clone()).collect(),
        seed,
        open311: crate::server::open311::Open311Options::new(
            config.open311.clone(),
            config.server.scope.clone(),
        ),
        assign: config.assign,
        show_citizen: config.departments.show_citizen,
        files_dir: Some(config.files_dir()),
        ..http::ServeOptions::default()
    };
    let compacting = (compact_every > 0.0).then(|| {
        compactor(
            store.clone(),
            Duration::from_secs_f64(compact_every),
            stop.clone(),
        )
    });
    let stopping = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    let served = http::serve(listener, store, catalog, policy, opts, stopping).await;
    fan_out.abort();
    if let Some(c) = compacting {
        c.abort();
    }
    for r in running {
        r.stop().await;
    }
    served.context("the server stopped")?;
    tracing::info!("stopped");
    Ok(())
}

/// The gateway's working file: beside a SQLite store, else in the console's data directory.
fn gateway_db(url: &DbUrl, config: &Config, channel: &str) -> PathBuf {
    beside_store(url, config, &format!("gateway-{channel}.sqlite3"))
}

/// A file of the server's own: beside a SQLite store, else in the console's data directory.
fn beside_store(url: &DbUrl, config: &Config, name: &str) -> PathBuf {
    match url {
        DbUrl::Sqlite(path) => path.with_file_name(name),
        DbUrl::Postgres(_) => config.db_path().with_file_name(name),
    }
}

/// Opens the new consoles' files and follows the store with them until `stop`: the server's
/// own scope's at `path`, and one beside it for every other scope an account reaches (a
/// region's server serves many cities; a scope asked for later gets its file then).
async fn start_seed(
    server: Arc<ServerStore>,
    path: PathBuf,
    config: &Config,
    catalog: &Catalog,
    policy: &ClockPolicy,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Arc<crate::server::seed::Seeds>> {
    use crate::server::seed::{FOLLOW_EVERY, Seeds};
    let env = crate::store::Env {
        catalog: catalog.clone(),
        policy: policy.clone(),
        journal: true,
        now: Arc::new(chrono::Utc::now),
    };
    let scopes = {
        let server = server.clone();
        tokio::task::spawn_blocking(move || crate::server::accounts::list(&server)).await??
    };
    let mut scopes: Vec<String> = scopes
        .into_iter()
        .filter(|a| !a.disabled)
        .flat_map(|a| a.scopes)
        .collect();
    scopes.sort();
    scopes.dedup();
    let shared = Arc::new(crate::server::local::Shared {
        store: server,
        catalog: catalog.clone(),
        policy: policy.clone(),
        assign: config.assign,
        down: false.into(),
    });
    let seeds = Seeds::new(
        shared,
        &config.server.scope,
        path.clone(),
        env,
        FOLLOW_EVERY,
        stop,
    );
    seeds
        .start_all(&scopes)
        .await
        .with_context(|| format!("the new consoles' file {}", path.display()))?;
    Ok(seeds)
}

/// Completes on SIGINT or SIGTERM (Ctrl-C elsewhere). Registered now, awaited later.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// `mcu repair --server`: the store's request documents no program can read, moved aside.
pub async fn repair(db: Option<&Path>, format: Format) -> anyhow::Result<()> {
    let (_, store) = open_store(db).await?;
    let moved = tokio::task::block_in_place(|| crate::server::engine::repair(&store))?;
    match format {
        Format::Json | Format::Jsonl => println!("{}", serde_json::json!({ "moved": moved })),
        _ => {
            println!(
                "{}",
                say(
                    format!("moved aside: {}", moved.len()),
                    format!("отложено: {}", moved.len()),
                )
            );
            for m in &moved {
                println!("{} {}: {}", m.scope, m.id, crate::sanitize::line(&m.reason));
            }
        }
    }
    Ok(())
}

/// `mcu serve backup --out FILE`: the SQLite store copied while the server runs; PostgreSQL is
/// backed up with its own tools, which the refusal names.
pub async fn backup(db: Option<&Path>, out: &Path) -> anyhow::Result<()> {
    use crate::server::backup::{self, BackupError};
    let Some(db) = db else {
        return Err(Refused(say(
            "give --db: the server's store, sqlite:PATH".into(),
            "укажите --db: хранилище сервера, sqlite:ПУТЬ".into(),
        ))
        .into());
    };
    let url = DbUrl::parse(&db.to_string_lossy()).map_err(Refused)?;
    let DbUrl::Sqlite(path) = url else {
        return Err(Refused(say(
            "PostgreSQL is backed up with its own tools: pg_dump --format=custom, or point-in-time recovery (docs/install.md, 9)".into(),
            "PostgreSQL копируют его собственными средствами: pg_dump --format=custom или восстановление на момент времени (docs/install.md, 9)".into(),
        ))
        .into());
    };
    let (src, dest) = (path.clone(), out.to_path_buf());
    let copied = tokio::task::spawn_blocking(move || backup::sqlite(&src, &dest)).await?;
    match copied {
        Ok(c) => {
            println!(
                "{}",
                say(
                    format!(
                        "backup written: {} ({} requests, {} KiB)",
                        out.display(),
                        c.requests,
                        c.bytes / 1024
                    ),
                    format!(
                        "копия записана: {} (обращений: {}, {} КиБ)",
                        out.display(),
                        c.requests,
                        c.bytes / 1024
                    ),
                )
            );
            Ok(())
        }
        Err(BackupError::Exists(p)) => Err(Refused(say(
            format!(
                "{} already exists: a backup never overwrites one",
                p.display()
            ),
            format!(
                "{} уже есть: копия никогда не записывается поверх",
                p.display()
            ),
        ))
        .into()),
        Err(BackupError::NotServerStore(p)) => Err(Refused(say(
            format!("{} is not a server store (mcu serve --db)", p.display()),
            format!("{} — не хранилище сервера (mcu serve --db)", p.display()),
        ))
        .into()),
        Err(e) => Err(anyhow::Error::from(e).context(format!("backup of {}", path.display()))),
    }
}
