//! Scenario 4: push answers lost after the server applied them, under load, through a real
//! network hop. Ten consoles — each a real `mcu` process per action — work through a TCP
//! proxy that forwards every request to `mcu serve` and, for one connection in three, drops
//! the server's answer and cuts the line. The consoles push again; the server recognises what
//! it already took. In the end every action is on the server once and the checker passes.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::kill::Rng;
use crate::proxy::{self, Fault};
use crate::support::{Backend, Env, tags};

const CONSOLES: usize = 10;
const EDITS: usize = 12;

fn answers_lost_under_load(backend: Backend) {
    let mut rng = Rng::from_env("scenario 4");
    let env = Arc::new(Env::new(backend));
    let tokens: Vec<String> = (0..CONSOLES)
        .map(|i| env.add_user(&format!("op{i}"), "operator"))
        .collect();
    let server = env.serve();
    let upstream = server.base.trim_start_matches("http://").to_string();
    let (via, dropped) = proxy::spawn(upstream, rng.next(), |rng| {
        if rng.below(3) == 0 {
            Fault::AnswerLost
        } else {
            Fault::None
        }
    });
    let workers: Vec<_> = (0..CONSOLES)
        .map(|i| {
            let mut c = env.console(
                &server,
                &format!("c{i}.sqlite3"),
                &format!("op{i}"),
                &tokens[i],
            );
            c.base = via.clone();
            std::thread::spawn(move || {
                let number = c.new_request(&format!("Обращение консоли {i}"));
                for e in 0..EDITS {
                    // A lost answer makes the command say the action waits; it never fails.
                    let out = c.run(&["tag", &number, "--add", &format!("t{e:02}")]);
                    assert!(
                        out.status.success() || out.status.code() == Some(4),
                        "{out:?}"
                    );
                }
                c
            })
        })
        .collect();
    let consoles: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let lost = dropped.load(Ordering::Relaxed);
    eprintln!(
        "scenario 4 ({backend:?}): {} actions, {lost} answers dropped",
        CONSOLES * (EDITS + 1)
    );
    assert!(lost > 0, "the proxy dropped nothing");

    // Straight to the server now: everything arrives once, every file ends as the server.
    let mut direct = vec![];
    for mut c in consoles {
        c.base = server.base.clone();
        c.sync_quiet();
        direct.push(c);
    }
    for c in &direct {
        c.sync_quiet();
    }
    let expected: Vec<String> = (0..EDITS).map(|e| format!("t{e:02}")).collect();
    let listed: serde_json::Value =
        serde_json::from_str(&direct[0].ok(&["list", "-o", "json"])).unwrap();
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), CONSOLES, "{listed}");
    for r in rows {
        let number = r["number"].as_str().unwrap();
        assert_eq!(tags(&direct[0].show(number)), expected, "{number}");
    }
    let files: Vec<&std::path::Path> = direct.iter().map(|c| c.db.as_path()).collect();
    let summary = env.check(&files);
    assert_eq!(
        summary.applied,
        CONSOLES * (EDITS + 1),
        "{backend:?}: {summary:?}"
    );
    assert_eq!(summary.rejected, 0, "{summary:?}");
}

#[test]
fn push_answers_lost_through_a_faulty_proxy_at_ten_consoles_on_sqlite() {
    answers_lost_under_load(Backend::Sqlite);
}

#[test]
fn push_answers_lost_through_a_faulty_proxy_at_ten_consoles_on_postgres() {
    answers_lost_under_load(Backend::Postgres);
}
