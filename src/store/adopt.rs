//! A new console starting from the server's copy of a console file (`server::seed`): taken
//! only while this file holds nothing of its own, and only from the same schema.

use rusqlite::{Connection, OptionalExtension};
use std::path::Path;

use super::StoreError;
use super::meta::{COOKIE, set_meta};

/// Whether this file has never pulled and holds no requests or actions of its own: all it
/// could lose by being replaced is its identity, which `adopt` keeps.
pub fn fresh(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT NOT EXISTS(SELECT 1 FROM request) AND NOT EXISTS(SELECT 1 FROM pending_mutation)
           AND NOT EXISTS(SELECT 1 FROM meta WHERE key = ?1)",
        [COOKIE],
        |r| r.get(0),
    )?)
}

/// Why a copy was not taken (the console then pulls everything, as without one).
#[derive(Debug, PartialEq)]
pub enum Declined {
    NotFresh,
    OtherSchema { ours: i64, theirs: i64 },
    NoCookie,
}

/// Replaces this file's content with the copy at `src`, keeping this file's own `meta` rows
/// (its client identity) and taking the copy's cookie. Returns how many requests it holds.
pub fn adopt(conn: &mut Connection, src: &Path) -> Result<Result<i64, Declined>, StoreError> {
    if !fresh(conn)? {
        return Ok(Err(Declined::NotFresh));
    }
    let copy =
        Connection::open(src).map_err(|e| StoreError::Open(format!("the server's copy: {e}")))?;
    let version = |c: &Connection| -> Result<i64, StoreError> {
        Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?)
    };
    let (ours, theirs) = (version(conn)?, version(&copy)?);
    if ours != theirs {
        return Ok(Err(Declined::OtherSchema { ours, theirs }));
    }
    let has_cookie: Option<String> = copy
        .query_row("SELECT value FROM meta WHERE key = ?1", [COOKIE], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| StoreError::Corrupt(format!("the server's copy: {e}")))?;
    if has_cookie.is_none() {
        return Ok(Err(Declined::NoCookie));
    }
    let mine: Vec<(String, String)> = {
        let mut st = conn.prepare("SELECT key, value FROM meta")?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    // Through WAL the copy would be written twice (log, then checkpoint) and leave a log as
    // large as the file; with a rollback journal it is written once. Another program with the
    // file open keeps it in WAL: then the log is emptied afterwards.
    let mode: String = conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    let copied = rusqlite::backup::Backup::new(&copy, conn)
        .and_then(|b| b.run_to_completion(1 << 16, std::time::Duration::ZERO, None));
    let back: rusqlite::Result<String> =
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0));
    copied?;
    back?;
    if mode == "wal" {
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    let tx = conn.transaction()?;
    // The server's follower has its own identity in the copy; this console keeps its own.
    tx.execute("DELETE FROM meta WHERE key != ?1", [COOKIE])?;
    for (k, v) in &mine {
        set_meta(&tx, k, v)?;
    }
    let requests: i64 = tx.query_row("SELECT count(*) FROM request", [], |r| r.get(0))?;
    tx.commit()?;
    Ok(Ok(requests))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mutation::{Mutation, NewRequest, Op};
    use crate::domain::request::Channel;
    use crate::domain::{Catalog, ClockPolicy};
    use crate::store::{Env, db, meta as keys};

    fn env(journal: bool) -> Env {
        Env {
            catalog: Catalog::krasnodar(),
            policy: ClockPolicy::default(),
            journal,
            now: std::sync::Arc::new(chrono::Utc::now),
        }
    }

    fn create(conn: &mut Connection, env: &Env, text: &str) {
        let new = NewRequest::new(Channel::Telegram, text, chrono::Utc::now());
        let m = Mutation::new(
            uuid::Uuid::now_v7(),
            "anna",
            chrono::Utc::now(),
            Op::Create(Box::new(new)),
        );
        db::apply(conn, env, &m).unwrap();
    }

    /// A copy as the server's follower leaves it: two requests, a cookie, its own identity.
    fn copy(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("copy.sqlite3");
        let mut c = db::open(&path).unwrap();
        let e = env(false);
        create(&mut c, &e, "Нет горячей воды");
        create(&mut c, &e, "Яма на дороге");
        keys::set_meta(
            &c,
            COOKIE,
            r#"{"epoch":"01a229b2-5459-744c-bb19-347fbf3140c1","seq":7}"#,
        )
        .unwrap();
        keys::set_meta(&c, "sync_client_id", "the-follower").unwrap();
        path
    }

    fn meta(c: &Connection, key: &str) -> Option<String> {
        keys::meta(c, key).unwrap()
    }

    #[test]
    fn a_fresh_file_takes_the_copy_and_keeps_its_identity() {
        let dir = tempfile::tempdir().unwrap();
        let src = copy(dir.path());
        let mut mine = db::open(&dir.path().join("mine.sqlite3")).unwrap();
        keys::set_meta(&mine, "sync_client_id", "boris-console").unwrap();
        assert_eq!(adopt(&mut mine, &src).unwrap(), Ok(2));
        assert_eq!(
            meta(&mine, "sync_client_id").as_deref(),
            Some("boris-console")
        );
        assert!(meta(&mine, COOKIE).is_some_and(|c| c.contains("\"seq\":7")));
        let mode: String = mine
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal", "back in the console's journal mode");
        let log = std::fs::metadata(dir.path().join("mine.sqlite3-wal")).map_or(0, |m| m.len());
        assert!(log < 64 * 1024, "no copy left in the log: {log} bytes");
        // The search index came with the copy: no rebuild needed.
        let f = crate::store::Filter {
            text: Some("дороги".into()),
            ..Default::default()
        };
        let page = crate::store::read::inbox(
            &mine,
            &f,
            crate::store::Sort::Received,
            None,
            10,
            chrono::Utc::now(),
        )
        .unwrap();
        assert_eq!(page.rows.len(), 1);
    }

    #[test]
    fn a_file_with_work_of_its_own_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let src = copy(dir.path());
        let mut mine = db::open(&dir.path().join("mine.sqlite3")).unwrap();
        // A call registered before the first sync: journaled, not yet sent.
        create(&mut mine, &env(true), "Звонок: не горит фонарь");
        assert_eq!(adopt(&mut mine, &src).unwrap(), Err(Declined::NotFresh));
        let n: i64 = mine
            .query_row("SELECT count(*) FROM request", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        assert!(meta(&mine, COOKIE).is_none());
    }

    #[test]
    fn a_copy_of_another_schema_or_without_a_cookie_is_declined() {
        let dir = tempfile::tempdir().unwrap();
        let src = copy(dir.path());
        let mut mine = db::open(&dir.path().join("mine.sqlite3")).unwrap();
        let ours: i64 = mine
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        Connection::open(&src)
            .unwrap()
            .pragma_update(None, "user_version", ours + 1)
            .unwrap();
        assert_eq!(
            adopt(&mut mine, &src).unwrap(),
            Err(Declined::OtherSchema {
                ours,
                theirs: ours + 1
            })
        );
        let elsewhere = dir.path().join("other");
        std::fs::create_dir_all(&elsewhere).unwrap();
        let other = copy(&elsewhere);
        Connection::open(&other)
            .unwrap()
            .execute("DELETE FROM meta WHERE key = ?1", [COOKIE])
            .unwrap();
        assert_eq!(adopt(&mut mine, &other).unwrap(), Err(Declined::NoCookie));
        assert!(fresh(&mine).unwrap(), "nothing was written");
    }
}
