//! The local SQLite store. One thread owns the connection (tokio-rusqlite); everything else
//! asks it through the typed methods on `Store` (face/, one file per concern) and awaits the
//! answer, so neither the console nor the network ever blocks on disk, and no SQL leaves
//! this folder.

pub mod adopt;
pub mod alarms;
pub mod alerts;
pub mod analyze;
pub mod bulk;
mod chain;
pub mod citizen;
pub mod dashboard;
pub mod db;
mod delivery;
pub mod department_chat;
pub(crate) mod department_view;
mod detail;
pub mod escalation;
mod face;
pub mod feedback;
pub mod files;
mod forget;
pub mod handover;
pub mod incidents;
pub mod ingest;
pub mod lease;
mod memo;
mod merge;
pub mod meta;
pub mod mirror;
pub mod outbox;
mod placement;
pub mod places;
pub mod quarantine;
pub mod read;
pub mod reset;
pub mod rows;
pub mod schema;
mod search;
pub mod triage;
pub mod views;
pub mod waiting;

use chrono::{DateTime, Utc};
use std::path::Path;

pub use db::{Applied, Env, Now};
pub use face::SyncIdentity;
pub use read::{Assignee, Cursor, Detail, Filter, MemberRef, Page, Sort};

use crate::domain::Rejection;

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
    /// The file, for the read-only connection below.
    path: std::sync::Arc<std::path::PathBuf>,
    /// A second connection, read-only, owned by a thread of its own and opened at first use:
    /// long reads (the dashboard's refresh, 40–80 ms at 1,000,000 requests) run there, so the
    /// writer's thread stays free for the card an operator asked for meanwhile.
    reader: std::sync::Arc<tokio::sync::OnceCell<tokio_rusqlite::Connection>>,
}

impl Store {
    /// Opens (creating and migrating as needed) the file at `path`, its connection owned by
    /// a thread of its own from here on.
    pub async fn open(path: &Path, env: Env) -> Result<Store, StoreError> {
        Store::open_instrumented(path, env, |_| {}).await
    }

    /// `open`, with `instrument` run once on the fresh connection before its thread owns it:
    /// for benchmarks that install SQLite's statement profiler. It gets no later access, so
    /// it is no door to the store.
    pub async fn open_instrumented(
        path: &Path,
        env: Env,
        instrument: fn(&rusqlite::Connection),
    ) -> Result<Store, StoreError> {
        let path = std::sync::Arc::new(path.to_path_buf());
        let file = path.clone();
        // Opening (and migrating) happens on a blocking thread, then the connection moves to its
        // owner thread for good.
        let conn = tokio::task::spawn_blocking(move || db::open(&file).inspect(instrument))
            .await
            .map_err(|_| StoreError::Closed)??;
        let store = Store {
            conn: tokio_rusqlite::Connection::from(conn),
            env: std::sync::Arc::new(env),
            path,
            reader: Default::default(),
        };
        // The model lives on the store's thread from here on (`store::triage`).
        store.call(|c, env| triage::load(c, &env.catalog)).await?;
        Ok(store)
    }

    pub fn env(&self) -> &Env {
        &self.env
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.env.now)()
    }

    /// Runs `f` on the store's thread: the one door to the connection, for the typed methods
    /// in `face/` and nothing outside the store.
    pub(in crate::store) async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection, &Env) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let env = self.env.clone();
        Ok(self.conn.call(move |c| f(c, &env)).await?)
    }

    /// Runs `f` on the read-only connection's thread (see `reader`), opening it the first time.
    /// What it reads is what was committed when it starts; it can write nothing.
    pub(in crate::store) async fn read_call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection, &Env) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let reader = self
            .reader
            .get_or_try_init(|| {
                let path = self.path.clone();
                async move {
                    let conn = tokio::task::spawn_blocking(move || db::open_reader(&path))
                        .await
                        .map_err(|_| StoreError::Closed)??;
                    Ok::<_, StoreError>(tokio_rusqlite::Connection::from(conn))
                }
            })
            .await?;
        let env = self.env.clone();
        Ok(reader.call(move |c| f(c, &env)).await?)
    }
}

#[cfg(test)]
mod bulk_tests;
#[cfg(test)]
mod citizen_tests;
#[cfg(test)]
mod department_chat_tests;
#[cfg(test)]
mod incidents_tests;
#[cfg(test)]
mod ingest_tests;
#[cfg(test)]
mod search_tests;
#[cfg(test)]
pub(crate) mod test_intake;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod triage_tests;
#[cfg(test)]
mod views_tests;
