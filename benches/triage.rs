//! Triage's time and size targets (#17), measured on generated appeals (the demo corpus; real
//! appeals never enter the repository): training on 2,000 and on 200,000 labels, a suggestion's
//! p50/p99, and the stored model's size. `MCU_TRIAGE_SIZES=2000,20000` picks other sizes.
//! Accuracy is not measured here: generated texts are far easier than citizens' own, so the
//! figures of accuracy come from `mcu triage eval` on real labelled appeals (docs/triage.md).

use std::time::Instant;

use mcu_desk::domain::Catalog;
use mcu_desk::testkit::sample::Generator;
use mcu_desk::triage::{Example, Method, train};

fn main() {
    let sizes: Vec<usize> = std::env::var("MCU_TRIAGE_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![2_000, 200_000]);
    let catalog = Catalog::krasnodar();
    let mut g = Generator::new(17);
    let probe: Vec<String> = (0..2_000).map(|_| g.next_request().text).collect();
    for n in sizes {
        let examples: Vec<Example> = (0..n)
            .map(|_| {
                let s = g.next_request();
                Example {
                    text: s.text,
                    topic: s.topic.to_string(),
                    department: s.department.map(str::to_string),
                }
            })
            .collect();
        let began = Instant::now();
        let model = train(&examples, &catalog, Method::Svm);
        let secs = began.elapsed().as_secs_f64();
        let size = model.to_bytes().len();
        let mut us: Vec<f64> = probe
            .iter()
            .map(|t| {
                let t0 = Instant::now();
                std::hint::black_box(model.suggest(t));
                t0.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        us.sort_by(f64::total_cmp);
        let at = |p: f64| us[((us.len() - 1) as f64 * p).round() as usize];
        println!(
            "{n:>7} labels: training {secs:>6.1} s, model {:>5.1} MB, a suggestion p50 {:>4.0} µs, p99 {:>4.0} µs",
            size as f64 / 1e6,
            at(0.5),
            at(0.99)
        );
    }
}
