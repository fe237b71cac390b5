//! Candidate incidents through the real binary: open requests from several citizens about one
//! thing at one house (written every way) or within the radius are one group; one citizen twice
//! counts once; two citizens, another topic, or another house are not a group.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

mod common;

use common::ok_on as ok;

#[test]
fn reports_of_one_burst_pipe_from_three_citizens_are_one_candidate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("config.toml"), "").unwrap();
    let now = Utc::now();
    let line = |i: i64, citizen: &str, text: &str, place: Value| {
        let mut v = json!({
            "text": text,
            "citizen": citizen,
            "received_at": (now - Duration::hours(10 - i)).to_rfc3339(),
            "external_id": format!("t{i}"),
        });
        if let (Some(o), Value::Object(p)) = (v.as_object_mut(), place) {
            o.extend(p);
        }
        v.to_string()
    };
    let lines = [
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
    ];
    std::fs::write(d.join("new.jsonl"), lines.join("\n")).unwrap();
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
