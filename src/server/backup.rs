//! `mcu serve backup`: a consistent copy of the server's SQLite store while it serves. SQLite's
//! online backup reads one snapshot (in WAL mode the server's writers carry on meanwhile), and
//! the copy is checked and renamed into place only when whole, so a backup file is never half
//! a store. PostgreSQL has its own tools for this (`pg_dump`, point-in-time recovery).

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Never overwrite: the file there may be the only good backup.
    #[error("{0} already exists")]
    Exists(PathBuf),
    /// Not the server's store (a console's file, another program's database, no file).
    #[error("{0} is not a server store")]
    NotServerStore(PathBuf),
    #[error("the copy failed its check: {0}")]
    Check(String),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What was copied.
#[derive(Debug, Clone, Copy)]
pub struct Copied {
    pub bytes: u64,
    pub requests: i64,
}

/// Copies the server store at `src` to `out`.
pub fn sqlite(src: &Path, out: &Path) -> Result<Copied, BackupError> {
    if out.exists() {
        return Err(BackupError::Exists(out.to_path_buf()));
    }
    // Read-write without create: a mistyped path is an error, not a new empty database.
    let from = Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|_| BackupError::NotServerStore(src.to_path_buf()))?;
    from.busy_timeout(Duration::from_secs(5))?;
    let is_store: bool = from
        .query_row(
            "SELECT count(*) = 2 FROM sqlite_master WHERE name IN ('sync_scope', 'request_doc')",
            [],
            |r| r.get(0),
        )
        .map_err(|_| BackupError::NotServerStore(src.to_path_buf()))?;
    if !is_store {
        return Err(BackupError::NotServerStore(src.to_path_buf()));
    }
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let copied = copy(&from, &partial);
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    let requests = copied?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, out)?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename itself survives a power cut only once the directory is on disk.
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(Copied {
        bytes: std::fs::metadata(out)?.len(),
        requests,
    })
}

/// The whole store into `dest` in one snapshot, then checked: the number of requests it holds.
fn copy(from: &Connection, dest: &Path) -> Result<i64, BackupError> {
    let mut to = Connection::open(dest)?;
    {
        let backup = Backup::new(from, &mut to)?;
        // All pages in one step: one read snapshot, which the server's writers don't restart
        // in WAL mode. Busy only while another connection holds a lock SQLite can't read past.
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::More | StepResult::Busy | StepResult::Locked => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                // StepResult is non-exhaustive.
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
    let check: String = to.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(BackupError::Check(check));
    }
    let requests = to.query_row("SELECT count(*) FROM request_doc", [], |r| r.get(0))?;
    // Folds the copy's own log into the file so it is one self-contained file.
    let _: String = to.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    Ok(requests)
}
