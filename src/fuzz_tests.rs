//! The short fuzz run of every outside-input parser (`testkit::fuzz`; the long one is
//! `cargo bench --bench fuzz`), and the inputs it once found.

use serde_json::json;

use crate::testkit::fuzz::TARGETS;

fn cases() -> u32 {
    std::env::var("MCU_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64)
}

#[test]
fn no_parser_panics_on_generated_input() {
    let failed: Vec<String> = TARGETS
        .iter()
        .filter_map(|(name, run)| run(cases()).err().map(|e| format!("{name}: {e}")))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// Found by `telegram_updates`: the largest update id wrapped the cursor (a panic in debug, a
/// cursor that fetches everything again for good in release).
#[test]
fn the_largest_update_id_does_not_wrap_the_cursor() {
    let body = json!({"ok": true, "result": [{"update_id": i64::MAX}]}).to_string();
    let batch = crate::channels::telegram::parse::batch(&body).unwrap();
    assert_eq!(batch.next_cursor, Some(i64::MAX.to_string()));
}
