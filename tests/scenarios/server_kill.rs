//! Scenario 5: the server killed between its commit and its answer. A console works in team
//! mode, every action pushed as its command ends, while `mcu serve` is SIGKILLed at random
//! moments and started again on the same address. Answers are lost after commits; the console
//! pushes again and the server recognises what it already has. In the end the server holds
//! each action exactly once, and the checker (I1–I5) passes.
//!
//! Then the database under a running server: PostgreSQL stopped as a crash would stop it and
//! started again, over and over, while the console pushes. The server's connections die
//! mid-transaction; it answers those pushes with an error, takes fresh connections once the
//! database is back, and the console's retries land once each. That test starts a cluster of
//! its own, since the shared one serves the tests running beside it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::kill::Rng;
use mcu_desk::testkit::pg_cluster::PgCluster;

use crate::support::{Backend, Console, Env, tags};

const EDITS: usize = 120;

fn killed_mid_push(backend: Backend) {
    let mut rng = Rng::from_env("scenario 5");
    let env = Arc::new(Env::new(backend));
    let token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "operator");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let listen = format!("127.0.0.1:{port}");
    let server = Arc::new(Mutex::new(Some(env.serve_at(&listen, &[]))));
    let anna = {
        let s = server.lock().unwrap();
        env.console(s.as_ref().unwrap(), "a.sqlite3", "anna", &token)
    };
    let number = anna.new_request("Прорыв трубы: правки под падающим сервером");

    // The killer: the server dies at random moments and comes back where it was.
    let done = Arc::new(AtomicBool::new(false));
    let kills = Arc::new(AtomicUsize::new(0));
    let killer = {
        let (server, done, kills, env, listen) = (
            server.clone(),
            done.clone(),
            kills.clone(),
            env.clone(),
            listen.clone(),
        );
        let pauses: Vec<u64> = (0..200).map(|_| 50 + rng.below(400)).collect();
        std::thread::spawn(move || {
            for pause in pauses {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(pause));
                // Dropping the handle SIGKILLs it.
                drop(server.lock().unwrap().take());
                kills.fetch_add(1, Ordering::Relaxed);
                let restarted = env.serve_at(&listen, &[]);
                *server.lock().unwrap() = Some(restarted);
            }
        })
    };
    for i in 0..EDITS {
        edit(&anna, &number, i);
    }
    done.store(true, Ordering::Relaxed);
    killer.join().unwrap();
    let kills = kills.load(Ordering::Relaxed);
    eprintln!("scenario 5 ({backend:?}): {EDITS} edits, the server killed {kills} times");
    assert!(kills >= 3, "the server was killed only {kills} times");

    // The server stays up now: everything arrives once.
    anna.sync_quiet();
    let boris = {
        let s = server.lock().unwrap();
        env.console(s.as_ref().unwrap(), "b.sqlite3", "boris", &boris_token)
    };
    every_edit_arrives_once(&env, &anna, &boris, EDITS);
}

/// Edit `i`: the tag `t{i:03}`. In team mode each command pushes before it answers; with the
/// server (or its database) down it says the action waits and exits 0 all the same.
fn edit(anna: &Console, number: &str, i: usize) -> std::process::Output {
    let tag = format!("t{i:03}");
    let out = anna.run(&["tag", number, "--add", &tag]);
    assert!(
        out.status.success() || out.status.code() == Some(4),
        "edit {i}: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// With the server up for good: `anna`'s edits all reach it, once, `boris` (a console started
/// afterwards) holds every tag, and the checker passes.
fn every_edit_arrives_once(env: &Env, anna: &Console, boris: &Console, edits: usize) {
    anna.sync_quiet();
    boris.sync_quiet();
    let listed: serde_json::Value =
        serde_json::from_str(&boris.ok(&["list", "-o", "json"])).unwrap();
    let on_server = listed[0]["number"].as_str().unwrap().to_owned();
    let expected: Vec<String> = (0..edits).map(|i| format!("t{i:03}")).collect();
    assert_eq!(tags(&boris.show(&on_server)), expected, "{:?}", env.backend);
    let summary = env.check(&[&anna.db, &boris.db]);
    assert_eq!(summary.applied, edits + 1, "{:?}: {summary:?}", env.backend);
    assert_eq!(summary.rejected, 0, "{summary:?}");
}

#[test]
fn the_server_killed_between_commit_and_answer_on_sqlite() {
    killed_mid_push(Backend::Sqlite);
}

#[test]
fn the_server_killed_between_commit_and_answer_on_postgres() {
    killed_mid_push(Backend::Postgres);
}

#[test]
fn postgres_restarted_under_a_running_server_loses_and_doubles_nothing() {
    const PG_EDITS: usize = 80;
    let mut rng = Rng::from_env("scenario 5, PostgreSQL restarted");
    let cluster =
        Arc::new(PgCluster::start_durable().expect("a PostgreSQL cluster of this test's own"));
    let env = Env::on_cluster(&cluster);
    let token = env.add_user("anna", "operator");
    let boris_token = env.add_user("boris", "operator");
    let server = env.serve();
    let anna = env.console(&server, "a.sqlite3", "anna", &token);
    let number = anna.new_request("Прорыв трубы: правки, пока база перезапускается");

    let done = Arc::new(AtomicBool::new(false));
    let restarts = Arc::new(AtomicUsize::new(0));
    let restarter = {
        let (cluster, done, restarts) = (cluster.clone(), done.clone(), restarts.clone());
        let pauses: Vec<u64> = (0..200).map(|_| 100 + rng.below(500)).collect();
        std::thread::spawn(move || {
            for pause in pauses {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(pause));
                cluster.restart().expect("PostgreSQL restarts");
                restarts.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let mut waited = 0;
    for i in 0..PG_EDITS {
        let out = edit(&anna, &number, i);
        // The action is kept and the command says the server can't be reached.
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            said.is_empty() || said.contains("сервер недоступен"),
            "edit {i}: {said}"
        );
        waited += usize::from(!said.is_empty());
    }
    done.store(true, Ordering::Relaxed);
    restarter.join().unwrap();
    let restarts = restarts.load(Ordering::Relaxed);
    eprintln!(
        "scenario 5 (PostgreSQL restarted): {PG_EDITS} edits, {restarts} restarts, \
         {waited} pushes left waiting"
    );
    assert!(restarts >= 3, "PostgreSQL restarted only {restarts} times");

    let boris = env.console(&server, "b.sqlite3", "boris", &boris_token);
    every_edit_arrives_once(&env, &anna, &boris, PG_EDITS);
}
