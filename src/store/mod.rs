//! The local SQLite store. One thread owns the connection (tokio-rusqlite); everything else
//! sends it closures and awaits the answer, so neither the console nor the network ever blocks
//! on disk.

pub mod adopt;
pub mod alerts;
pub mod analyze;
pub mod dashboard;
pub mod db;
pub mod files;
pub mod handover;
pub mod ingest;
pub mod mirror;
pub mod outbox;
pub mod read;
pub mod reset;
pub mod rows;
pub mod schema;

use chrono::{DateTime, Utc};
use std::path::Path;

pub use db::{Applied, Env, Now};
pub use read::{Assignee, Cursor, Detail, Filter, Page, Sort};

use crate::domain::mutation::Mutation;
use crate::domain::{Rejection, RequestNumber};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Rejected(Rejection),
    #[error("no request `{0}`")]
    UnknownRequest(String),
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Open(String),
    #[error(
        "the database was written by a newer mcu (schema {found}, this program knows {ours}); upgrade mcu"
    )]
    TooNew { found: i64, ours: i64 },
    #[error("cannot upgrade the database schema: {0}")]
    Migration(String),
    #[error("the database is busy (locked by another program) — try again")]
    Busy,
    #[error("the database looks damaged: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("the database thread has stopped")]
    Closed,
    #[error("lease `{0}` was taken over by another gateway")]
    Fenced(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::*;
        match e.sqlite_error_code() {
            Some(DatabaseBusy | DatabaseLocked) => StoreError::Busy,
            Some(NotADatabase | DatabaseCorrupt) => StoreError::Corrupt(e.to_string()),
            _ => StoreError::Sqlite(e),
        }
    }
}

impl From<tokio_rusqlite::Error<StoreError>> for StoreError {
    fn from(e: tokio_rusqlite::Error<StoreError>) -> Self {
        match e {
            tokio_rusqlite::Error::Error(e) => e,
            _ => StoreError::Closed,
        }
    }
}

impl StoreError {
    /// Whether the caller's input was at fault (exit code 2 at the CLI) rather than the system.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            StoreError::Rejected(_) | StoreError::UnknownRequest(_) | StoreError::BadInput(_)
        )
    }
}

/// The handle everyone else uses. Cheap to clone; all clones talk to the same thread.
#[derive(Clone)]
pub struct Store {
    conn: tokio_rusqlite::Connection,
    env: std::sync::Arc<Env>,
}

impl Store {
    pub async fn open(path: &Path, env: Env) -> Result<Store, StoreError> {
        let path = path.to_path_buf();
        // Opening (and migrating) happens on a blocking thread, then the connection moves to its
        // owner thread for good.
        let conn = tokio::task::spawn_blocking(move || db::open(&path))
            .await
            .map_err(|_| StoreError::Closed)??;
        Ok(Store {
            conn: tokio_rusqlite::Connection::from(conn),
            env: std::sync::Arc::new(env),
        })
    }

    pub fn env(&self) -> &Env {
        &self.env
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.env.now)()
    }

    /// Runs `f` on the store's thread. For store-layer callers (the gateway, sync) that need a
    /// transaction of their own; the console uses the typed methods.
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection, &Env) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let env = self.env.clone();
        Ok(self.conn.call(move |c| f(c, &env)).await?)
    }

    pub async fn apply(&self, m: Mutation) -> Result<Applied, StoreError> {
        self.call(move |c, env| db::apply(c, env, &m)).await
    }

    /// All-or-nothing; on failure, the position in `batch` that was refused.
    pub async fn apply_batch(
        &self,
        batch: Vec<Mutation>,
    ) -> Result<(Vec<RequestNumber>, usize), (usize, StoreError)> {
        let env = self.env.clone();
        match self
            .conn
            .call(move |c| Ok::<_, StoreError>(db::apply_batch(c, &env, &batch)))
            .await
        {
            Ok(r) => r,
            Err(e) => Err((0, e.into())),
        }
    }

    pub async fn resolve(&self, key: &str) -> Result<crate::domain::Request, StoreError> {
        let key = key.to_string();
        self.call(move |c, _| read::resolve(c, &key).map(|(_, r)| r))
            .await
    }

    pub async fn detail(&self, key: &str) -> Result<Detail, StoreError> {
        let key = key.to_string();
        self.call(move |c, _| read::detail(c, &key)).await
    }

    /// The shift lead's dashboard as of now, on the store's thread.
    pub async fn dashboard(&self) -> Result<dashboard::Board, StoreError> {
        let now = self.now();
        self.call(move |c, env| dashboard::board(c, now, env.policy.calendar.tz()))
            .await
    }

    /// Clock crossings in `(from, to]` (store/alerts.rs).
    pub async fn alerts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        rules: alerts::AlertRules,
    ) -> Result<Vec<alerts::Crossing>, StoreError> {
        self.call(move |c, _| alerts::crossings(c, from, to, &rules))
            .await
    }

    pub async fn inbox(
        &self,
        filter: Filter,
        sort: Sort,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let now = self.now();
        self.call(move |c, _| read::inbox(c, &filter, sort, after, limit, now))
            .await
    }
}

#[cfg(test)]
mod ingest_tests;
#[cfg(test)]
mod tests;
