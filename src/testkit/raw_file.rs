//! A console file driven on the test's own thread, without the store's owner thread: for tests
//! that seed thousands of requests synchronously and then check the store's answers against an
//! independent count in plain SQL. Here, in the rig, so the console's and sync's tests never
//! hold a `rusqlite` connection themselves.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::path::Path;

use crate::domain::Request;
use crate::domain::mutation::Mutation;
use crate::store::dashboard::{Board, board};
use crate::store::{Applied, Env, Filter, Sort, StoreError, db, read};

pub struct RawFile {
    conn: rusqlite::Connection,
}

impl RawFile {
    pub fn open(path: &Path) -> RawFile {
        RawFile {
            conn: db::open(path).expect("a console file opens"),
        }
    }

    pub fn apply(&mut self, env: &Env, m: &Mutation) -> Result<Applied, StoreError> {
        db::apply(&mut self.conn, env, m)
    }

    /// The inbox as the console asks for it, up to `limit` rows.
    pub fn inbox(&self, f: &Filter, sort: Sort, limit: usize, now: DateTime<Utc>) -> Vec<Request> {
        read::inbox(&self.conn, f, sort, None, limit, now)
            .expect("the inbox reads")
            .rows
    }

    pub fn board(&self, now: DateTime<Utc>, tz: Tz) -> Board {
        board(&self.conn, now, tz).expect("the dashboard reads")
    }

    /// Requests received in `[from, to)`, counted in SQL: the independent count.
    pub fn received_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> u32 {
        self.conn
            .query_row(
                "SELECT count(*) FROM request WHERE received_at >= ?1 AND received_at < ?2",
                [from.timestamp_millis(), to.timestamp_millis()],
                |r| r.get(0),
            )
            .expect("a count")
    }
}

/// A consistent copy of a SQLite file (the server's, in restore drills), as `VACUUM INTO` makes it.
pub fn sqlite_backup(from: &Path, to: &Path) {
    rusqlite::Connection::open(from)
        .expect("the file opens")
        .execute("VACUUM INTO ?1", [to.to_str().expect("a UTF-8 path")])
        .expect("the copy is written");
}
