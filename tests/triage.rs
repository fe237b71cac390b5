//! Triage through the real binary: labelled history imported from an old system trains at
//! once, a new request then carries its suggestion in `show -o json` and `list --suggested`,
//! and `mcu triage eval` scores files and names a bad line. Texts come from the demo corpus
//! (generated), never from real appeals.

use serde_json::Value;

mod common;

use common::{mcu_on as mcu, ok_on as ok};

#[test]
fn imported_history_trains_at_once_and_new_requests_carry_the_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("config.toml"), "").unwrap();
    std::fs::write(d.join("old.jsonl"), common::labelled_history(1, 320)).unwrap();
    let status: Value = serde_json::from_str(&ok(d, &["triage", "status", "-o", "json"])).unwrap();
    assert_eq!(status["method"], "keywords");
    let out = ok(d, &["import", d.join("old.jsonl").to_str().unwrap()]);
    assert!(out.contains("обучены на 320"), "{out}");
    let status: Value = serde_json::from_str(&ok(d, &["triage", "status", "-o", "json"])).unwrap();
    assert_eq!(status["method"], "svm");
    assert_eq!(status["labels"], 320);
    let new: Value = serde_json::from_str(&ok(
        d,
        &[
            "new",
            "--text",
            "Переполнены мусорные контейнеры, мусор не вывозят неделю",
            "-o",
            "json",
        ],
    ))
    .unwrap();
    let number = new[0]["number"].as_str().unwrap().to_string();
    let shown: Value = serde_json::from_str(&ok(d, &["show", &number, "-o", "json"])).unwrap();
    let s = &shown["suggestion"];
    assert_eq!(s["topic"], "waste", "{shown}");
    assert_eq!(s["department"], "city_economy");
    assert_eq!(s["model_version"], status["version"]);
    assert_eq!(s["top"].as_array().unwrap().len(), 3);
    assert!(s["probability"].as_f64().unwrap() > 0.5, "{s}");
    let listed: Value =
        serde_json::from_str(&ok(d, &["list", "--suggested", "waste", "-o", "json"])).unwrap();
    let numbers: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["number"].as_str())
        .collect();
    assert_eq!(numbers, [number.as_str()]);
    // Tagged by hand, it is no longer a suggestion.
    ok(d, &["tag", &number, "--topic", "urban"]);
    let shown: Value = serde_json::from_str(&ok(d, &["show", &number, "-o", "json"])).unwrap();
    assert!(shown.get("suggestion").is_none(), "{shown}");
}

#[test]
fn eval_scores_a_test_file_and_refuses_a_bad_line_by_its_number() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("config.toml"), "").unwrap();
    std::fs::write(d.join("train.jsonl"), common::labelled_history(2, 400)).unwrap();
    std::fs::write(d.join("test.jsonl"), common::labelled_history(3, 100)).unwrap();
    let report: Value = serde_json::from_str(&ok(
        d,
        &[
            "triage",
            "eval",
            "--train",
            d.join("train.jsonl").to_str().unwrap(),
            "--test",
            d.join("test.jsonl").to_str().unwrap(),
            "-o",
            "json",
        ],
    ))
    .unwrap();
    assert_eq!(report["train"], 400);
    assert_eq!(report["test"], 100);
    assert_eq!(report["method"], "svm");
    assert_eq!(report["coverage"].as_array().unwrap().len(), 5);
    let accuracy = report["topic"]["accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.8 && accuracy <= 1.0, "{report}");
    assert!(report["predict_us_p99"].as_f64().unwrap() > 0.0);
    std::fs::write(
        d.join("bad.jsonl"),
        "{\"text\":\"яма\",\"topic\":\"roads\"}\n{\"text\":\"x\",\"topic\":\"potholes\"}\n",
    )
    .unwrap();
    let out = mcu(d)
        .args(["triage", "eval", "--train"])
        .arg(d.join("bad.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2") && err.contains("potholes"), "{err}");
}
