//! Scenario 1: a console offline makes 1000 tag edits, each a real `mcu tag` process, and 20
//! of those processes are killed with SIGKILL at a random moment of their life (before,
//! inside or after their transaction). Then the console reconnects to a real `mcu serve`.
//! The server must hold exactly the edits whose local transaction committed — every one
//! that reported success, and none that did not commit.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::support::{Backend, Console, Env, tags};

const EDITS: usize = 1000;
const KILLS: usize = 20;

/// A small seeded generator: the seed is printed, and `MCU_SCENARIO_SEED` replays it.
pub struct Rng(u64);

impl Rng {
    pub fn from_env(name: &str) -> Rng {
        let seed = std::env::var("MCU_SCENARIO_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("{name}: MCU_SCENARIO_SEED={seed}");
        Rng(seed | 1)
    }

    /// A generator from a seed another one drew.
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Succeeded,
    Killed,
}

/// The tags whose edit is in the console's journal: the ones whose transaction committed.
fn committed(db: &std::path::Path) -> BTreeSet<String> {
    let c = Connection::open(db).unwrap();
    let mut st = c
        .prepare(
            "SELECT json_extract(args, '$.op.args.tag') FROM pending_mutation WHERE name = 'tag'",
        )
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn offline_edits_killed_at_random_arrive_exactly_as_committed() {
    let mut rng = Rng::from_env("scenario 1");
    let offline = Env::new(Backend::Sqlite);
    // Team mode with a server that is not there: every edit is journaled, nothing is sent.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let console = Console {
        db: offline.path("console.sqlite3"),
        config: offline.path("config.toml"),
        base: nowhere,
        user: "anna".into(),
        token: "mcu_nobody".into(),
    };
    let number = console.new_request("Яма во дворе, 1000 правок");

    let mut doomed: BTreeSet<usize> = BTreeSet::new();
    while doomed.len() < KILLS {
        // Not among the first few: those measure how long an edit lives.
        doomed.insert(10 + rng.below((EDITS - 10) as u64) as usize);
    }
    let mut life = Duration::ZERO;
    let mut lived = 0u32;
    let mut outcomes = Vec::with_capacity(EDITS);
    let started = Instant::now();
    for i in 0..EDITS {
        let tag = format!("t{i:04}");
        let began = Instant::now();
        let mut child = console
            .cmd(&["tag", &number, "--add", &tag])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if doomed.contains(&i) {
            // Anywhere in a typical edit's life, a little past its end included.
            let mean = life / lived.max(1);
            let at = mean.mul_f64(rng.below(1200) as f64 / 1000.0);
            std::thread::sleep(at.saturating_sub(began.elapsed()));
            let _ = child.kill();
        }
        let out = child.wait_with_output().unwrap();
        let outcome = if out.status.success() {
            if !doomed.contains(&i) {
                life += began.elapsed();
                lived += 1;
            }
            Outcome::Succeeded
        } else {
            assert!(
                doomed.contains(&i),
                "edit {i} failed without being killed: {:?} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            Outcome::Killed
        };
        outcomes.push((tag, outcome));
    }
    let edits_took = started.elapsed();

    let committed = committed(&console.db);
    let succeeded: BTreeSet<String> = outcomes
        .iter()
        .filter(|(_, o)| *o == Outcome::Succeeded)
        .map(|(t, _)| t.clone())
        .collect();
    let killed = outcomes.len() - succeeded.len();
    let survived = committed.difference(&succeeded).count();
    eprintln!(
        "scenario 1: {EDITS} edits in {edits_took:?}; {killed} killed before exiting, \
         {survived} of those had committed"
    );
    // Every edit that said so is in the file; the only others are killed ones that had
    // committed before the signal.
    assert!(succeeded.is_subset(&committed), "a reported edit is lost");
    assert!(
        committed.difference(&succeeded).all(|t| outcomes
            .iter()
            .any(|(tag, o)| tag == t && *o == Outcome::Killed)),
        "an edit is journaled that no process made"
    );
    assert!(killed > 0, "no process was killed before it exited");
    assert_eq!(
        tags(&console.show(&number)),
        committed.iter().cloned().collect::<Vec<_>>(),
        "the console shows exactly its committed edits"
    );

    // The same file, closed, reconnects to each backend's server in turn (a copy each: the
    // file's client id then first meets each server fresh).
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let env = Env::new(backend);
        let token = env.add_user("anna", "operator");
        let boris_token = env.add_user("boris", "operator");
        let server = env.serve();
        let mine = env.console(&server, "a.sqlite3", "anna", &token);
        std::fs::copy(&console.db, &mine.db).unwrap();
        mine.sync_quiet();
        let boris = env.console(&server, "b.sqlite3", "boris", &boris_token);
        boris.sync_quiet();
        // Boris pulled the server's copy: the server numbered it, so find it by text.
        let listed: serde_json::Value =
            serde_json::from_str(&boris.ok(&["list", "-o", "json"])).unwrap();
        let on_server = listed[0]["number"].as_str().unwrap().to_owned();
        assert_eq!(
            tags(&boris.show(&on_server)),
            committed.iter().cloned().collect::<Vec<_>>(),
            "{backend:?}: the server holds exactly the committed edits"
        );
        let summary = env.check(&[&mine.db, &boris.db]);
        assert_eq!(
            summary.applied,
            committed.len() + 1,
            "{backend:?}: {summary:?}"
        );
        assert_eq!(summary.rejected, 0, "{summary:?}");
    }
}
