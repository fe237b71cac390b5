//! Candidate incidents through the real binary: open requests from several citizens about one
//! thing at one house (written every way) or within the radius are one group; one citizen twice
//! counts once; two citizens, another topic, or another house are not a group.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

mod common;

use common::ok_on as ok;

fn line(i: i64, citizen: &str, text: &str, place: Value) -> String {
    let mut v = json!({
        "text": text,
        "citizen": citizen,
        "received_at": (Utc::now() - Duration::hours(10 - i)).to_rfc3339(),
        "external_id": format!("t{i}"),
    });
    if let (Some(o), Value::Object(p)) = (v.as_object_mut(), place) {
        o.extend(p);
    }
    v.to_string()
}

/// The burst pipe at one house (three citizens, one twice), a bin there, two citizens at
/// another house, and three without light by coordinates.
fn the_morning() -> Vec<String> {
    vec![
        // One house, three citizens, written three ways; the first writes twice.
        line(
            0,
            "Анна",
            "Прорвало трубу, вода заливает двор",
            json!({"address": "ул. Красная, 122"}),
        ),
        line(
            1,
            "Борис",
            "Во дворе прорвало трубу, вода течёт",
            json!({"address": "Красная ул 122"}),
        ),
        line(
            2,
            "Вера",
            "Прорвало трубу на красной улице, д. 122, вода",
            json!({}),
        ),
        line(
            3,
            "Анна",
            "Вода всё ещё течёт из трубы, прорвало",
            json!({"address": "ул. Красная, 122"}),
        ),
        // Same house, another reason.
        line(
            4,
            "Глеб",
            "Не вывозят мусор, контейнеры переполнены",
            json!({"address": "ул. Красная, 122"}),
        ),
        // Another house: only two citizens.
        line(
            5,
            "Дина",
            "Прорвало трубу, вода в подвале",
            json!({"address": "ул. Северная, 7"}),
        ),
        line(
            6,
            "Ефим",
            "В подвале вода, прорвало трубу",
            json!({"address": "ул. Северная, 7"}),
        ),
        // Coordinates within 300 m of each other, three citizens.
        line(
            7,
            "Жанна",
            "Нет света, отключили электричество",
            json!({"lat": 45.0400, "lon": 38.9800}),
        ),
        line(
            8,
            "Зоя",
            "Отключили электричество, света нет",
            json!({"lat": 45.0410, "lon": 38.9805}),
        ),
        line(
            9,
            "Иван",
            "Света нет, электричество отключили",
            json!({"lat": 45.0415, "lon": 38.9790}),
        ),
    ]
}

#[test]
fn reports_of_one_burst_pipe_from_three_citizens_are_one_candidate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("config.toml"), "").unwrap();
    std::fs::write(d.join("new.jsonl"), the_morning().join("\n")).unwrap();
    ok(d, &["import", d.join("new.jsonl").to_str().unwrap()]);
    let groups: Value = serde_json::from_str(&ok(d, &["incidents", "-o", "json"])).unwrap();
    let groups = groups.as_array().unwrap();
    assert_eq!(groups.len(), 2, "{groups:#?}");
    let pipe = &groups[0];
    assert_eq!(pipe["place"], "ул:красн:122");
    assert_eq!(pipe["citizens"], 3);
    assert_eq!(pipe["topic"], "utilities");
    assert_eq!(pipe["candidate"], true);
    assert_eq!(pipe["members"].as_array().unwrap().len(), 4);
    let light = &groups[1];
    assert_eq!(light["citizens"], 3);
    assert_eq!(light["members"].as_array().unwrap().len(), 3);
    // Once the pipe's requests are closed, only the light is left.
    for n in pipe["members"].as_array().unwrap() {
        ok(d, &["close", n.as_str().unwrap(), "--reason", "resolved"]);
    }
    let groups: Value = serde_json::from_str(&ok(d, &["incidents", "-o", "json"])).unwrap();
    assert_eq!(groups.as_array().unwrap().len(), 1);
    let table = ok(d, &["incidents"]);
    assert!(table.contains("3 заявителей"), "{table}");
}

fn json_of(d: &std::path::Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(d, args)).unwrap()
}

fn numbers(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_confirmed_incident_gathers_its_members_answers_them_once_and_closes_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("config.toml"), "").unwrap();
    std::fs::write(d.join("new.jsonl"), the_morning().join("\n")).unwrap();
    ok(d, &["import", d.join("new.jsonl").to_str().unwrap()]);
    let groups = json_of(d, &["incidents", "-o", "json"]);
    let pipe = numbers(&groups[0]["members"]);
    let light = numbers(&groups[1]["members"]);
    // Any member's number names the candidate.
    let confirmed = json_of(
        d,
        &[
            "incident",
            "confirm",
            &pipe[1],
            "--title",
            "Прорыв трубы, Красная 122",
            "-o",
            "json",
        ],
    );
    let inc = &confirmed[0];
    assert_eq!(inc["candidate"], false);
    assert_eq!(inc["status"], "new");
    assert_eq!(inc["title"], "Прорыв трубы, Красная 122");
    assert_eq!(numbers(&inc["members"]), pipe);
    let number = inc["number"].as_str().unwrap().to_string();
    // One incident and the light's candidate; the pipe's reports are no candidate any more.
    let groups = json_of(d, &["incidents", "-o", "json"]);
    assert_eq!(groups.as_array().unwrap().len(), 2, "{groups:#}");
    assert_eq!(groups[1]["candidate"], true);
    let member = json_of(d, &["show", &pipe[0], "-o", "json"]);
    assert_eq!(member["incident"]["number"], number.as_str());
    let shown = json_of(d, &["show", &number, "-o", "json"]);
    assert_eq!(shown["members"].as_array().unwrap().len(), 4);
    // A fourth citizen writes about the pipe: suggested for the incident, not a new group.
    std::fs::write(
        d.join("more.jsonl"),
        line(
            10,
            "Кира",
            "Прорвало трубу у дома, вода течёт по улице",
            json!({"address": "ул. Красная, 122"}),
        ),
    )
    .unwrap();
    ok(d, &["import", d.join("more.jsonl").to_str().unwrap()]);
    let groups = json_of(d, &["incidents", "-o", "json"]);
    let suggested = numbers(&groups[0]["suggested"]);
    assert_eq!(suggested.len(), 1, "{groups:#}");
    ok(d, &["incident", "add", &number, &suggested[0]]);
    ok(d, &["incident", "remove", &number, &pipe[3]]);
    let groups = json_of(d, &["incidents", "-o", "json"]);
    assert_eq!(groups[0]["members"].as_array().unwrap().len(), 4);
    assert!(groups[0].get("suggested").is_none());
    // One answer, each member's own number in it.
    ok(
        d,
        &[
            "incident",
            "reply",
            &number,
            "--text",
            "Ваше обращение {number}: аварийная бригада на месте",
        ],
    );
    for n in numbers(&groups[0]["members"]) {
        let shown = json_of(d, &["show", &n, "-o", "json"]);
        let last = shown["messages"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(
            last["body"],
            format!("Ваше обращение {n}: аварийная бригада на месте"),
            "{shown:#}"
        );
    }
    // The removed one got nothing.
    let removed = json_of(d, &["show", &pipe[3], "-o", "json"]);
    assert!(
        removed["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["direction"] != "out")
    );
    ok(
        d,
        &[
            "incident",
            "close",
            &number,
            "--reason",
            "resolved",
            "--text",
            "Устранено",
        ],
    );
    for n in numbers(&groups[0]["members"]) {
        let shown = json_of(d, &["show", &n, "-o", "json"]);
        assert_eq!(shown["status"], "closed", "{shown:#}");
    }
    assert_eq!(
        json_of(d, &["show", &pipe[3], "-o", "json"])["status"],
        "new"
    );
    // Dismissed, the light's group does not come back.
    ok(d, &["incident", "dismiss", &light[0]]);
    let groups = json_of(d, &["incidents", "-o", "json"]);
    assert!(groups.as_array().unwrap().is_empty(), "{groups:#}");
    let refused = common::mcu_on(d)
        .args(["incident", "dismiss", &light[0]])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("mcu incidents"));
}
