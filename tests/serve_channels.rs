//! `mcu serve --channels telegram,vk,platform`: one server works all three channels against the
//! simulator (the bot, the VK community, the feedback platform). A citizen's request from each
//! is registered once and acknowledged through its own channel, a console sees all three, a
//! reply to the VK one reaches VK once, and `/metrics` shows each channel up. Every number a
//! citizen is told, or an operator is printed, is the server's (#15 item 1), on both stores.

mod common;

use serde_json::Value;
use std::time::Duration;

const SCOPE: &str = "krasnodar";

use common::{mcu_in as mcu, team_console as console, until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_works_telegram_vk_and_the_platform_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("server.sqlite3").display());
    three_channels(db, dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_works_telegram_vk_and_the_platform_on_postgres() {
    let db = mcu_desk::testkit::pg_cluster::PgCluster::shared()
        .fresh_database()
        .await
        .expect("a fresh PostgreSQL database");
    three_channels(db, tempfile::tempdir().unwrap()).await;
}

/// A number as the server gives it, never a console's provisional one (`2026-9000NN`).
fn is_final(number: &str) -> bool {
    number
        .split_once('-')
        .and_then(|(_, seq)| seq.parse::<u32>().ok())
        .is_some_and(|seq| seq > 0 && seq < 900_000)
}

async fn three_channels(db: String, dir: tempfile::TempDir) {
    let d = dir.path();
    let sim =
        common::three_channels_setup(d, SCOPE, "[clocks]\nfirst_response_hours = 0.002\n").await;
    let token = common::add_account(d, &db, "anna", "operator");
    let account = |name: &str, role: &str| common::add_account(d, &db, name, role);
    let lead = account("boris", "lead");
    account("ivan", "operator");

    sim.inject_text(1001, "Нет горячей воды в доме 5 по ул. Мира");
    let mut g = mcu_desk::demo::corpus::Generator::new(7);
    let filed = sim.platform().file(&mut g, chrono::Utc::now());

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
    // VK's long poll starts from the moment its server is asked for: the citizen writes once
    // the community's gateway listens (what was written before is for a backfill to find).
    until(Duration::from_secs(30), "the VK gateway", || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("lease channel=vk"))
    })
    .await;
    sim.vk_polled(1).await;
    sim.vk_inject_text(2002, "Яма на дороге у школы №5");
    let mut listed = Value::Null;
    until(
        Duration::from_secs(40),
        "three requests at the console",
        || {
            console(d, &base, &token, &["sync"]);
            listed = console(d, &base, &token, &["list"]);
            listed.as_array().is_some_and(|l| l.len() >= 3)
        },
    )
    .await;
    let mut channels: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["channel"].as_str().unwrap().to_owned())
        .collect();
    channels.sort();
    assert_eq!(channels, ["pos", "telegram", "vk"], "{listed}");

    // Each citizen is acknowledged through the channel they wrote from, once.
    until(Duration::from_secs(30), "the acknowledgements", || {
        let s = sim.sent();
        s.chats.get("1001").is_some_and(|m| m.len() == 1)
            && s.vk.values().flatten().count() == 1
            && s.platform.len() == 1
    })
    .await;
    assert_eq!(sim.sent().platform[0].service_request_id, filed.to_string());

    // Each acknowledgement names the number the operators see.
    let number_on = |channel: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["channel"] == channel)
            .and_then(|r| r["number"].as_str())
            .unwrap()
            .to_owned()
    };
    let sent = sim.sent();
    let tg_number = number_on("telegram");
    for (channel, text) in [
        ("telegram", sent.chats["1001"][0].text.clone()),
        (
            "vk",
            sent.vk.values().flatten().next().unwrap().text.clone(),
        ),
        ("pos", sent.platform[0].description.clone()),
    ] {
        let number = number_on(channel);
        assert!(is_final(&number), "{channel}: {number}");
        assert!(
            text.contains(&number),
            "{channel}: the acknowledgement names {number}: {text}"
        );
    }
    // The platform's page is no chat: nothing asks the citizen to reply or to send /status.
    let platform_ack = &sent.platform[0].description;
    assert!(
        !platform_ack.contains("/status") && !platform_ack.contains("ответьте"),
        "{platform_ack}"
    );
    // And the bot finds it when the citizen asks.
    sim.inject_text(1001, &format!("/status {tg_number}"));
    until(Duration::from_secs(30), "the status answer", || {
        sim.sent().chats["1001"].len() == 2
    })
    .await;
    let status = sim.sent().chats["1001"][1].text.clone();
    assert!(status.contains(&tg_number), "{status}");
    assert!(!status.contains("не найден"), "{status}");

    // The first-response target here is 7 s: forwarded without a reply, the platform's request
    // is late on the citizen's clock, whatever the department's (#15 item 2).
    let pos_number = number_on("pos");
    console(
        d,
        &base,
        &token,
        &["forward", &pos_number, "--department", "city_economy"],
    );
    until(
        Duration::from_secs(30),
        "the forwarded request late",
        || {
            console(d, &base, &token, &["list", "--breached"])
                .as_array()
                .is_some_and(|l| l.iter().any(|r| r["number"] == pos_number.as_str()))
        },
    )
    .await;

    // An operator taking a call in team mode is told the server's number too.
    let made = console(
        d,
        &base,
        &token,
        &[
            "new",
            "--channel",
            "phone",
            "--text",
            "Звонок: не вывезли мусор",
        ],
    );
    let phoned = made[0]["number"].as_str().unwrap_or_default().to_owned();
    assert!(is_final(&phoned), "{made}");
    let again = console(d, &base, &token, &["show", &phoned]);
    assert_eq!(again["text"], "Звонок: не вывезли мусор", "{again}");

    let vk_number = number_on("vk");
    let reply = "Бригада выехала, яму засыплют до вечера";
    console(d, &base, &token, &["reply", &vk_number, "--text", reply]);
    console(d, &base, &token, &["sync"]);
    until(Duration::from_secs(30), "the reply on VK", || {
        sim.sent()
            .vk
            .values()
            .flatten()
            .any(|m| serde_json::to_string(m).unwrap().contains(reply))
    })
    .await;

    // Delivered: the VK citizen's first response counts from then, on every console.
    until(Duration::from_secs(30), "the VK reply counted", || {
        console(d, &base, &token, &["sync"]);
        console(d, &base, &token, &["show", &vk_number])["first_response_at"].is_string()
    })
    .await;

    // A citizen who blocked the bot never gets the reply: it is not counted, and the request
    // shows in the undelivered queue (#15 item 3).
    sim.block(1001, true);
    console(
        d,
        &base,
        &token,
        &["reply", &tg_number, "--text", "Мастер придёт завтра"],
    );
    let mut undelivered = Value::Null;
    until(Duration::from_secs(30), "the undelivered reply", || {
        console(d, &base, &token, &["sync"]);
        undelivered = console(d, &base, &token, &["list", "--undelivered"]);
        undelivered.as_array().is_some_and(|l| !l.is_empty())
    })
    .await;
    assert_eq!(
        undelivered[0]["number"],
        tg_number.as_str(),
        "{undelivered}"
    );
    assert_eq!(undelivered[0]["reply_delivery"], "failed", "{undelivered}");
    assert_eq!(undelivered[0]["first_response_at"], Value::Null);
    assert_eq!(undelivered[0]["clock"], "first_response");

    // Every team console sees the server's channels, the failed send included, and who is on
    // shift; a lead marks an operator off, an operator can't mark the lead (#15 item 7).
    let team = console(d, &base, &token, &["shift"]);
    for ch in ["telegram", "vk", "pos"] {
        let h = team["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["channel"] == ch)
            .unwrap_or_else(|| panic!("{ch} in {team}"));
        assert_eq!(h["up"], true, "{team}");
    }
    let tg = team["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["channel"] == "telegram")
        .unwrap();
    assert!(
        tg["failed"].as_u64() >= Some(1),
        "the blocked bot's send: {team}"
    );
    let staff: Vec<(&str, bool)> = team["staff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["user"].as_str().unwrap(),
                s["on_shift"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        staff,
        [("anna", true), ("boris", true), ("ivan", true)],
        "{team}"
    );
    console(d, &base, &lead, &["shift", "off", "ivan"]);
    let refused = mcu(d, "console.toml")
        .arg("--db")
        .arg(d.join("anna.sqlite3"))
        .env("MCU_SERVER_URL", &base)
        .env("MCU_SERVER_TOKEN", &token)
        .args(["shift", "off", "boris"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(3), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("старший смены"),
        "{refused:?}"
    );
    let team = console(d, &base, &token, &["shift"]);
    let ivan = team["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["user"] == "ivan")
        .unwrap();
    assert_eq!(ivan["on_shift"], false, "{team}");
    assert_eq!(ivan["marked_by"], "boris", "{team}");
    let boris = &team["staff"].as_array().unwrap()[1];
    assert_eq!(boris["on_shift"], true, "{team}");

    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for ch in ["telegram", "vk", "platform"] {
        assert!(
            metrics.contains(&format!("mcu_channel_up{{channel=\"{ch}\"}} 1")),
            "{ch} up in /metrics:\n{metrics}"
        );
    }
}
