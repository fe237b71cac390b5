//! Scenario 27: the console's disk fills during local writes and during a pull. Each `mcu`
//! runs under a file-size limit (`prlimit --fsize`, with SIGXFSZ ignored, so a write past it
//! fails with EFBIG as on a full disk). An action whose write fails says so and is not
//! journaled; the ones that said they were taken are; a pull that can't be written is taken
//! again later. With room again, everything converges and the checker passes.

use std::process::{Command, Output};

use crate::support::{Backend, Console, Env, tags};

/// `mcu` as `console` runs it, but unable to make any file larger than `limit` bytes.
fn cramped(console: &Console, limit: u64, args: &[&str]) -> Output {
    let inner = console.cmd(args);
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(r#"trap "" XFSZ; exec prlimit --fsize="$0" -- "$@""#)
        .arg(limit.to_string())
        .arg(inner.get_program())
        .args(inner.get_args());
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.output().unwrap()
}

fn size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn journaled_tags(db: &std::path::Path) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT json_extract(args, '$.op.args.tag') FROM pending_mutation WHERE name = 'tag' ORDER BY 1")
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn disk_fills(backend: Backend) {
    let env = Env::new(backend);
    let token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "operator");
    let server = env.serve();
    let anna = env.console(&server, "a.sqlite3", "anna", &token);
    let boris = env.console(&server, "b.sqlite3", "boris", &boris_token);
    let number = anna.new_request("Мусор: диск консоли заполнен");
    anna.sync_quiet();
    boris.sync_quiet();

    // Local writes with no room to grow.
    let wal = anna.db.with_extension("sqlite3-wal");
    let limit = size(&anna.db).max(size(&wal)) + 256 * 1024;
    let mut said_taken = vec![];
    let mut failed = 0;
    for i in 0..300 {
        let tag = format!("d{i:03}");
        let out = cramped(&anna, limit, &["tag", &number, "--add", &tag]);
        if out.status.success() {
            said_taken.push(tag);
        } else {
            failed += 1;
            assert_eq!(out.status.code(), Some(1), "{out:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("диск"), "{stderr}");
            if failed >= 3 {
                break;
            }
        }
    }
    eprintln!(
        "scenario 27 ({backend:?}): {} actions taken, {failed} refused for want of room",
        said_taken.len()
    );
    assert!(failed >= 3, "the limit never bit");
    // Whatever said it was taken is there; nothing else is.
    let journaled = journaled_tags(&anna.db);
    for t in &said_taken {
        assert!(
            journaled.contains(t),
            "{t} was said taken but is not journaled"
        );
    }

    // A pull with no room to write it (a colleague's long notes, megabytes of them): it fails
    // and the next round, with room, takes it.
    for i in 0..10 {
        boris.ok(&["tag", &number, "--add", &format!("b{i:02}")]);
    }
    let long = "Длинная заметка о ходе работ. ".repeat(600);
    for _ in 0..40 {
        boris.ok(&["note", &number, "--text", &long]);
    }
    boris.sync_quiet();
    let limit = size(&anna.db).max(size(&wal)) + 64 * 1024;
    let pulled = cramped(&anna, limit, &["sync"]);
    // A store failure, not refused input (exit 2), said in the operator's words.
    assert_eq!(pulled.status.code(), Some(1), "{pulled:?}");
    let stderr = String::from_utf8_lossy(&pulled.stderr);
    assert!(stderr.contains("диск"), "{stderr}");
    eprintln!(
        "scenario 27 ({backend:?}): the cramped pull exited {:?}: {}",
        pulled.status.code(),
        stderr.trim()
    );

    anna.sync_quiet();
    boris.sync_quiet();
    let shown = tags(&boris.show(&number));
    let mut expected: Vec<String> = said_taken.clone();
    expected.extend((0..10).map(|i| format!("b{i:02}")));
    expected.extend(
        journaled
            .iter()
            .filter(|t| !said_taken.contains(t))
            .cloned(),
    );
    expected.sort();
    expected.dedup();
    assert_eq!(shown, expected, "{backend:?}");
    assert_eq!(tags(&anna.show(&number)), expected);
    env.check(&[&anna.db, &boris.db]);
}

#[test]
fn the_consoles_disk_fills_during_writes_and_a_pull_on_sqlite() {
    disk_fills(Backend::Sqlite);
}

#[test]
fn the_consoles_disk_fills_during_writes_and_a_pull_on_postgres() {
    disk_fills(Backend::Postgres);
}
