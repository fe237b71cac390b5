//! One answer to a mass incident through `mcu serve --channels telegram,vk,platform`: three
//! citizens report one burst pipe on the bot, in the VK community and on the feedback
//! platform; a team console confirms the group and answers it once; each citizen gets their
//! own message with their own request number on their own channel, and the VK citizen who
//! blocked the community is the one member listed undelivered on the incident's card, on
//! both server stores.

mod common;

use mcu_desk::demo::corpus::SampleRequest;
use serde_json::Value;
use std::time::Duration;

use common::{mcu_in as mcu, team_console as console, until};

const SCOPE: &str = "krasnodar";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_answer_to_an_incident_reaches_each_channel_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
    one_answer(db, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_answer_to_an_incident_reaches_each_channel_on_postgres() {
    let db = mcu_desk::testkit::pg_cluster::PgCluster::shared()
        .fresh_database()
        .await
        .expect("a fresh PostgreSQL database");
    one_answer(db, tempfile::tempdir().unwrap()).await;
}

const ANSWER: &str = "По обращению {number}: аварийная бригада выехала";

fn answered(number: &str) -> String {
    ANSWER.replace("{number}", number)
}

async fn one_answer(db: String, dir: tempfile::TempDir) {
    let d = dir.path();
    let sim = common::three_channels_setup(d, SCOPE, "").await;
    let token = common::add_account(d, &db, "anna", "operator");

    sim.inject_text(
        1001,
        "Прорвало трубу у дома ул. Красная, 122, вода хлещет на дорогу",
    );
    let filed = sim.platform().file_sample(
        SampleRequest {
            text: "Прорвало трубу во дворе, вода хлещет уже час".into(),
            topic: "utilities",
            department: None,
            citizen: "Мария Петрова".into(),
            address: Some("ул. Красная, 122".into()),
            lat: None,
            lon: None,
            has_photo: false,
        },
        chrono::Utc::now(),
    );
    let log = d.join("serve.log");
    let (child, _stdout, base) = common::spawn_serve(
        mcu(d, "server.toml")
            .args(["--db", &db, "serve", "--listen", "127.0.0.1:0"])
            .args(["--channels", "telegram,vk,platform", "--no-seed"]),
        &log,
    );
    let _guard = common::ServeGuard {
        child,
        log: log.clone(),
    };
    until(Duration::from_secs(30), "the VK gateway", || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("lease channel=vk"))
    })
    .await;
    sim.vk_polled(1).await;
    sim.vk_inject_text(
        2002,
        "Красная ул 122 — прорвало трубу, вода хлещет по двору",
    );

    let mut listed = Value::Null;
    until(Duration::from_secs(40), "three requests", || {
        console(d, &base, &token, &["sync"]);
        listed = console(d, &base, &token, &["list"]);
        listed.as_array().is_some_and(|l| l.len() >= 3)
    })
    .await;
    let number_on = |channel: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["channel"] == channel)
            .and_then(|r| r["number"].as_str())
            .unwrap_or_else(|| panic!("{channel} in {listed}"))
            .to_owned()
    };
    let (tg, vk, pos) = (number_on("telegram"), number_on("vk"), number_on("pos"));
    // The VK citizen is named (`users.get`), not a profile link.
    let vk_row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["channel"] == "vk")
        .unwrap();
    assert_eq!(vk_row["citizen"], "Марина Попова", "{vk_row}");
    // The platform's category is the topic (`service_code` = the catalog's id).
    let pos_row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["channel"] == "pos")
        .unwrap();
    assert_eq!(pos_row["topic"], "utilities", "{pos_row}");
    // The acknowledgements go first, so what each citizen gets next is the answer.
    until(Duration::from_secs(30), "the acknowledgements", || {
        let s = sim.sent();
        s.chats.get("1001").is_some_and(|m| m.len() == 1)
            && s.vk.values().flatten().count() == 1
            && s.platform.len() == 1
    })
    .await;
    for number in [&tg, &vk, &pos] {
        console(d, &base, &token, &["tag", number, "--topic", "utilities"]);
    }

    let groups = console(d, &base, &token, &["incidents"]);
    let candidate = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["candidate"] == true)
        .unwrap_or_else(|| panic!("a candidate group: {groups}"));
    let mut members: Vec<&str> = candidate["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    members.sort();
    let mut ours = vec![tg.as_str(), vk.as_str(), pos.as_str()];
    ours.sort();
    assert_eq!(members, ours, "{groups}");
    console(
        d,
        &base,
        &token,
        &[
            "incident",
            "confirm",
            &tg,
            "--title",
            "Прорыв трубы, Красная 122",
        ],
    );
    let groups = console(d, &base, &token, &["incidents"]);
    let incident = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["candidate"] == false)
        .and_then(|g| g["number"].as_str())
        .unwrap_or_else(|| panic!("the confirmed incident: {groups}"))
        .to_owned();

    sim.vk_block(2002, true);
    console(
        d,
        &base,
        &token,
        &["incident", "reply", &incident, "--text", ANSWER],
    );
    console(d, &base, &token, &["sync"]);

    until(Duration::from_secs(30), "the answer on Telegram", || {
        sim.sent()
            .chats
            .get("1001")
            .is_some_and(|m| m.iter().any(|m| m.text == answered(&tg)))
    })
    .await;
    until(
        Duration::from_secs(40),
        "the answer on the platform",
        || {
            sim.sent().platform.iter().any(|u| {
                u.service_request_id == filed.to_string() && u.description.contains(&answered(&pos))
            })
        },
    )
    .await;
    let mut card = Value::Null;
    until(Duration::from_secs(30), "the VK member undelivered", || {
        console(d, &base, &token, &["sync"]);
        card = console(d, &base, &token, &["show", &incident]);
        card["members"]
            .as_array()
            .is_some_and(|ms| ms.iter().any(|m| m["reply"] == "failed"))
    })
    .await;
    let mut states: Vec<(String, Value)> = card["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["channel"].as_str().unwrap().to_owned(),
                m["reply"].clone(),
            )
        })
        .collect();
    states.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        states,
        vec![
            ("pos".to_owned(), Value::Null),
            ("telegram".to_owned(), Value::Null),
            ("vk".to_owned(), Value::from("failed")),
        ],
        "delivered answers leave no pending state; the blocked community's failed: {card}"
    );
    // Each answer went once, and never to the citizen who blocked the community.
    let sent = sim.sent();
    assert_eq!(
        sent.chats["1001"]
            .iter()
            .filter(|m| m.text.contains("бригада"))
            .count(),
        1
    );
    assert!(
        !sent
            .vk
            .values()
            .flatten()
            .any(|m| serde_json::to_string(m).unwrap().contains("бригада"))
    );
    // The undelivered queue names the VK member for an operator to reach another way.
    let undelivered = console(d, &base, &token, &["list", "--undelivered"]);
    let numbers: Vec<&str> = undelivered
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, [vk.as_str()], "{undelivered}");
}
