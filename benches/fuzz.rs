//! The long fuzz run: every parser of outside input (`testkit::fuzz`) fed `MCU_FUZZ_CASES`
//! generated inputs (20,000 unless told otherwise), timed per parser. A failure prints the
//! shrunk input and exits 1. The unit tests run the same properties briefly on every CI run.

use std::time::Instant;

use mcu_desk::testkit::fuzz::TARGETS;

fn main() {
    // `cargo bench` passes `--bench`; a name among the other arguments picks parsers.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let cases: u32 = std::env::var("MCU_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let mut failed = 0;
    for (name, run) in TARGETS {
        if !only.is_empty() && !only.iter().any(|o| name.contains(o.as_str())) {
            continue;
        }
        let began = Instant::now();
        match run(cases) {
            Ok(()) => println!(
                "{name:<22} {cases} cases  {:>7.1} s  ok",
                began.elapsed().as_secs_f64()
            ),
            Err(e) => {
                failed += 1;
                println!(
                    "{name:<22} FAILED after {:.1} s: {e}",
                    began.elapsed().as_secs_f64()
                );
            }
        }
    }
    if failed > 0 {
        std::process::exit(1);
    }
}
