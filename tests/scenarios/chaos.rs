//! Scenario 25, compressed: network chaos with consoles killed and paused. Four consoles work
//! through a proxy that delays, cuts and drops answers, and now and then partitions the
//! network (every connection refused) for a second or two; meanwhile their `mcu` processes
//! are SIGKILLed or SIGSTOPped at random. Then the network heals: every console must converge
//! within 30 s, and the checker (I1–I5) must find nothing.
//!
//! CI runs one seeded run of a few seconds per store; the long run is
//! `MCU_CHAOS_RUNS=20 MCU_CHAOS_SECS=120 cargo test --release --test scenarios chaos`
//! (a seed per run is printed; `MCU_SCENARIO_SEED` replays the first).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::kill::Rng;
use crate::proxy::{self, Fault};
use crate::support::{Backend, Console, Env};

const CONSOLES: usize = 4;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Chaos {
    /// Every connection refused while set.
    partitioned: AtomicBool,
    /// Off once healed: the proxy forwards faithfully.
    faulty: AtomicBool,
    faults: AtomicUsize,
}

/// The chaos proxy: partitions when set, else a fault in two connections of five.
fn proxy(upstream: String, seed: u64, chaos: Arc<Chaos>) -> String {
    proxy::spawn(upstream, seed, move |rng| {
        if !chaos.faulty.load(Ordering::Relaxed) {
            return Fault::None;
        }
        let fault = if chaos.partitioned.load(Ordering::Relaxed) {
            Fault::Refused
        } else {
            match rng.below(5) {
                0 => Fault::Slow(Duration::from_millis(rng.below(150))),
                1 => Fault::CutBefore,
                2 => Fault::AnswerLost,
                _ => Fault::None,
            }
        };
        if fault != Fault::None {
            chaos.faults.fetch_add(1, Ordering::Relaxed);
        }
        fault
    })
    .0
}

/// One action by `c` as its own process, killed or paused now and then.
fn act(c: &Console, rng: &mut Rng, args: &[&str]) {
    let mut child = c
        .cmd(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    match rng.below(10) {
        0 => {
            std::thread::sleep(Duration::from_millis(rng.below(80)));
            let _ = child.kill();
        }
        1 => {
            std::thread::sleep(Duration::from_millis(rng.below(40)));
            let pid = child.id().to_string();
            let _ = std::process::Command::new("kill")
                .args(["-STOP", &pid])
                .status();
            std::thread::sleep(Duration::from_millis(300 + rng.below(1200)));
            let _ = std::process::Command::new("kill")
                .args(["-CONT", &pid])
                .status();
        }
        _ => {}
    }
    let _ = child.wait();
}

fn one_run(backend: Backend, seed: u64, secs: u64) {
    let env = Env::new(backend);
    let tokens: Vec<String> = (0..CONSOLES)
        .map(|i| env.add_user(&format!("op{i}"), "operator"))
        .collect();
    let server = env.serve();
    let chaos = Arc::new(Chaos {
        partitioned: AtomicBool::new(false),
        faulty: AtomicBool::new(true),
        faults: AtomicUsize::new(0),
    });
    let upstream = server.base.trim_start_matches("http://").to_string();
    let via = proxy(upstream, seed, chaos.clone());
    // A request everyone works on, made and synced before the chaos.
    let first = env.console(&server, "c0.sqlite3", "op0", &tokens[0]);
    let shared = first.new_request("Общее обращение: все консоли правят его");
    first.sync_quiet();
    let until = Instant::now() + Duration::from_secs(secs);
    let partitions = {
        let chaos = chaos.clone();
        let mut rng = Rng::new(seed ^ 0x5eed);
        std::thread::spawn(move || {
            while Instant::now() < until {
                std::thread::sleep(Duration::from_millis(500 + rng.below(1500)));
                chaos.partitioned.store(true, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(300 + rng.below(1500)));
                chaos.partitioned.store(false, Ordering::Relaxed);
            }
        })
    };
    let workers: Vec<_> = (0..CONSOLES)
        .map(|i| {
            let mut c = env.console(
                &server,
                &format!("c{i}.sqlite3"),
                &format!("op{i}"),
                &tokens[i],
            );
            c.base = via.clone();
            let shared = shared.clone();
            let mut rng = Rng::new(seed.wrapping_add(i as u64 + 1));
            std::thread::spawn(move || {
                // Everyone knows the shared request before working on it.
                while c.run(&["sync"]).status.code() != Some(0) {
                    std::thread::sleep(Duration::from_millis(100));
                }
                let mut n = 0;
                while Instant::now() < until {
                    let tag = format!("c{i}t{}", rng.below(8));
                    let op = if rng.below(3) == 0 {
                        "--remove"
                    } else {
                        "--add"
                    };
                    act(&c, &mut rng, &["tag", &shared, op, &tag]);
                    if rng.below(6) == 0 {
                        act(
                            &c,
                            &mut rng,
                            &["new", "--text", &format!("Консоль {i}, обращение {n}")],
                        );
                    }
                    n += 1;
                }
                c
            })
        })
        .collect();
    let consoles: Vec<Console> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    partitions.join().unwrap();

    // Healed: the proxy is faithful from now on. Every console converges within 30 s.
    chaos.faulty.store(false, Ordering::Relaxed);
    chaos.partitioned.store(false, Ordering::Relaxed);
    let healed = Instant::now();
    for c in &consoles {
        c.sync_quiet();
    }
    for c in &consoles {
        c.sync_quiet();
    }
    let converged = healed.elapsed();
    let faults = chaos.faults.load(Ordering::Relaxed);
    eprintln!(
        "scenario 25 ({backend:?}, seed {seed}): {secs} s of chaos, {faults} faults; converged {converged:?} after the heal"
    );
    assert!(faults > 0, "no fault was injected");
    assert!(converged < Duration::from_secs(30), "{converged:?}");
    let files: Vec<&std::path::Path> = consoles.iter().map(|c| c.db.as_path()).collect();
    env.check(&files);
}

fn runs(backend: Backend) {
    let mut seeds = Rng::from_env("scenario 25");
    let (n, secs) = (
        env_number("MCU_CHAOS_RUNS", 1),
        env_number("MCU_CHAOS_SECS", 6),
    );
    for _ in 0..n {
        let seed = seeds.next();
        one_run(backend, seed, secs);
    }
}

#[test]
fn network_chaos_with_killed_and_paused_consoles_converges_on_sqlite() {
    runs(Backend::Sqlite);
}

#[test]
fn network_chaos_with_killed_and_paused_consoles_converges_on_postgres() {
    runs(Backend::Postgres);
}
