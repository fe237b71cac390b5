//! `--db` for `mcu serve` and `mcu user`: which server store, named as a URL, and opening it.

use std::fmt;
use std::path::PathBuf;

use super::engine::{ServerError, ServerTx, Transactional};
use super::sqlite::SqliteStore;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// `sqlite:PATH`, `sqlite://PATH` or a plain path.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`, kept whole for the driver (it parses the rest).
    Postgres(String),
}

impl DbUrl {
    pub fn parse(s: &str) -> Result<DbUrl, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty database URL: give sqlite:PATH or postgres://…".into());
        }
        if let Some(rest) = s.strip_prefix("sqlite:") {
            // `sqlite:///abs/path` and `sqlite://rel/path` as other tools write them.
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(format!("`{s}` names no file: give sqlite:PATH"));
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        // libpq's key=value form too: a Unix socket directory is easiest said as `host=/run/…`.
        if s.starts_with("postgres://") || s.starts_with("postgresql://") || s.starts_with("host=")
        {
            return Ok(DbUrl::Postgres(s.to_owned()));
        }
        // Anything else with a scheme is a typo or a store we don't have; a file named
        // `mysql://x` is far less likely than either. (`C:\x` has no `://`, so stays a path.)
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(format!(
                "unknown database URL scheme `{scheme}`: use sqlite:PATH or postgres://…"
            ));
        }
        Ok(DbUrl::Sqlite(PathBuf::from(s)))
    }
}

/// For logs: a PostgreSQL URL's password is replaced, the rest is shown.
impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbUrl::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            DbUrl::Postgres(u) => f.write_str(&redact_password(u)),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Whichever store the URL named. An enum rather than generics at the call sites because
/// `Transactional` (generic methods) can't be a trait object, and the CLI picks at run time.
pub enum ServerStore {
    Sqlite(SqliteStore),
    Postgres(crate::server::pg::PgStore),
}

/// Opens (and migrates) the store the URL names.
/// Call inside a tokio runtime: the PostgreSQL store keeps its handle to drive statements from
/// the blocking threads the rules run on.
pub async fn open(url: &DbUrl) -> Result<ServerStore, OpenError> {
    match url {
        DbUrl::Sqlite(path) => Ok(ServerStore::Sqlite(SqliteStore::open(path)?)),
        DbUrl::Postgres(u) => Ok(ServerStore::Postgres(
            crate::server::pg::PgStore::connect(u).await?,
        )),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] ServerError),
}

impl Transactional for ServerStore {
    fn in_tx<R>(
        &self,
        f: impl FnOnce(&mut dyn ServerTx) -> Result<R, ServerError>,
    ) -> Result<R, ServerError> {
        match self {
            ServerStore::Sqlite(s) => s.in_tx(f),
            ServerStore::Postgres(s) => s.in_tx(f),
        }
    }

    fn in_snapshot<R>(
        &self,
        f: impl FnOnce(&mut dyn ServerTx) -> Result<R, ServerError>,
    ) -> Result<R, ServerError> {
        match self {
            ServerStore::Sqlite(s) => s.in_snapshot(f),
            ServerStore::Postgres(s) => s.in_snapshot(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(s: &str) -> PathBuf {
        match DbUrl::parse(s) {
            Ok(DbUrl::Sqlite(p)) => p,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn sqlite_urls_and_plain_paths() {
        assert_eq!(
            sqlite("sqlite:/var/lib/mcu/server.sqlite3"),
            PathBuf::from("/var/lib/mcu/server.sqlite3")
        );
        assert_eq!(
            sqlite("sqlite:server.sqlite3"),
            PathBuf::from("server.sqlite3")
        );
        assert_eq!(sqlite("sqlite:///abs/x.db"), PathBuf::from("/abs/x.db"));
        assert_eq!(sqlite("sqlite://rel/x.db"), PathBuf::from("rel/x.db"));
        assert_eq!(
            sqlite("/tmp/server.sqlite3"),
            PathBuf::from("/tmp/server.sqlite3")
        );
        assert_eq!(sqlite("./data/s.db"), PathBuf::from("./data/s.db"));
        assert_eq!(
            sqlite(r"C:\mcu\server.db"),
            PathBuf::from(r"C:\mcu\server.db")
        );
        assert_eq!(sqlite("  sqlite:x.db \n"), PathBuf::from("x.db"));
    }

    #[test]
    fn postgres_urls_are_kept_whole() {
        for u in [
            "postgres://mcu:secret@db.local:5432/mcu",
            "postgresql://localhost/mcu?sslmode=require",
        ] {
            assert_eq!(DbUrl::parse(u), Ok(DbUrl::Postgres(u.into())));
        }
    }

    #[test]
    fn bad_urls_are_refused() {
        for u in ["", "   ", "sqlite:", "sqlite://", "mysql://x/y", "http://a"] {
            assert!(DbUrl::parse(u).is_err(), "{u:?} accepted");
        }
        let e = DbUrl::parse("mysql://x/y").unwrap_err();
        assert!(e.contains("`mysql`"), "{e}");
    }

    #[test]
    fn logs_never_show_a_password() {
        let shown = |u: &str| DbUrl::parse(u).unwrap().to_string();
        assert_eq!(
            shown("postgres://mcu:secret@db:5432/mcu?sslmode=require"),
            "postgres://mcu:***@db:5432/mcu?sslmode=require"
        );
        assert_eq!(shown("postgres://db/mcu"), "postgres://db/mcu");
        assert_eq!(shown("postgres://mcu@db/mcu"), "postgres://mcu@db/mcu");
        assert_eq!(shown("sqlite:/x/s.db"), "sqlite:/x/s.db");
    }
}
