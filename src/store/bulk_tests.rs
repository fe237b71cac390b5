//! A streamed import on a real file: all or nothing across chunks, and no WAL left behind.

use chrono::{DateTime, TimeZone, Utc};
use std::sync::Arc;
use std::sync::mpsc::sync_channel;
use uuid::Uuid;

use super::bulk::{self, Chunk, ImportFailed, Imported};
use super::*;
use crate::domain::mutation::{Mutation, NewRequest, Op};
use crate::domain::request::Channel;
use crate::domain::{Catalog, ClockPolicy};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 7, 0, 0).unwrap()
}

fn env() -> Env {
    Env {
        catalog: Catalog::krasnodar(),
        policy: ClockPolicy::default(),
        journal: false,
        now: Arc::new(t0),
    }
}

/// Line `no` of an import: a request with its own external id, or one naming no topic we know.
fn line(no: usize, topic: Option<&str>) -> (usize, Mutation) {
    let new = NewRequest {
        external_id: Some(format!("ext-{no}")),
        topic: topic.map(str::to_string),
        ..NewRequest::new(Channel::Manual, "Нет света в подъезде", t0())
    };
    let m = Mutation::new(Uuid::now_v7(), "anna", t0(), Op::Create(Box::new(new)));
    (no, m)
}

fn count(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM request", [], |r| r.get(0))
        .unwrap()
}

/// Sends `chunks` (then `End` when `end`) from another thread, as `mcu import`'s reader does.
fn feed(chunks: Vec<Vec<(usize, Mutation)>>, end: bool) -> std::sync::mpsc::Receiver<Chunk> {
    let (tx, rx) = sync_channel(1);
    std::thread::spawn(move || {
        for c in chunks {
            if tx.send(Chunk::Rows(c)).is_err() {
                return;
            }
        }
        if end {
            let _ = tx.send(Chunk::End);
        }
    });
    rx
}

#[test]
fn a_streamed_import_is_all_or_nothing_across_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = db::open(&dir.path().join("t.sqlite3")).unwrap();
    let env = env();
    let chunks = |bad: Option<usize>| -> Vec<Vec<(usize, Mutation)>> {
        (0..3)
            .map(|c| {
                (1..=100)
                    .map(|i| {
                        let no = c * 100 + i;
                        line(no, (Some(no) == bad).then_some("ufo"))
                    })
                    .collect()
            })
            .collect()
    };

    // Refused in the last chunk: the first two chunks, already written, go too.
    match bulk::import(&mut conn, &env, feed(chunks(Some(250)), true)) {
        Err(ImportFailed::Line(250, e)) => assert!(e.is_bad_input(), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(count(&conn), 0);

    // The reader gave up (a bad line it found) after two chunks: nothing either.
    let mut two = chunks(None);
    two.truncate(2);
    assert!(matches!(
        bulk::import(&mut conn, &env, feed(two, false)),
        Err(ImportFailed::Abandoned)
    ));
    assert_eq!(count(&conn), 0);

    let done = bulk::import(&mut conn, &env, feed(chunks(None), true)).unwrap();
    assert_eq!(
        done,
        Imported {
            created: 300,
            skipped: 0
        }
    );
    assert_eq!(count(&conn), 300);
    // Again: every line already stored, skipped.
    let again = bulk::import(&mut conn, &env, feed(chunks(None), true)).unwrap();
    assert_eq!((again.created, again.skipped), (0, 300));
}

#[test]
fn an_import_leaves_no_wal_and_open_truncates_a_big_one_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite3");
    let wal = dir.path().join("t.sqlite3-wal");
    let wal_len = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let mut conn = db::open(&path).unwrap();
    let env = env();
    let rows = (1..=500).map(|no| line(no, None)).collect();
    bulk::import(&mut conn, &env, feed(vec![rows], true)).unwrap();
    assert_eq!(wal_len(), 0, "the import's WAL was truncated");

    // A WAL over the limit, as an older mcu or a crash leaves it: kept open by a second
    // connection so closing does not clean it up, then a fresh open truncates it.
    let holder = db::open(&path).unwrap();
    holder
        .execute_batch("PRAGMA wal_autocheckpoint = 0")
        .unwrap();
    let blob = vec![b'x'; 1 << 20];
    holder.execute_batch("CREATE TABLE filler(b BLOB)").unwrap();
    holder.execute_batch("BEGIN").unwrap();
    for _ in 0..(bulk::BIG_WAL_BYTES >> 20) + 8 {
        holder
            .execute("INSERT INTO filler VALUES (?1)", [&blob])
            .unwrap();
    }
    holder.execute_batch("COMMIT").unwrap();
    assert!(wal_len() > bulk::BIG_WAL_BYTES, "{}", wal_len());
    drop(conn);
    let reopened = db::open(&path).unwrap();
    assert_eq!(wal_len(), 0, "open truncated the big WAL");
    assert_eq!(count(&reopened), 500);
    drop(holder);
}
