//! `mcu serve --channels telegram,vk,platform`: one server works all three channels against the
//! simulator (the bot, the VK community, the feedback platform). A citizen's request from each
//! is registered once and acknowledged through its own channel, a console sees all three, a
//! reply to the VK one reaches VK once, and `/metrics` shows each channel up.

mod common;

use mcu_desk::demo::sim::{SimOptions, Simulator};
use serde_json::Value;
use std::time::Duration;

const SCOPE: &str = "krasnodar";

use common::{mcu_in as mcu, team_console as console, until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_works_telegram_vk_and_the_platform() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = Simulator::start(
        listener,
        SimOptions {
            per_minute: 0.0,
            burst: 0,
            ..SimOptions::default()
        },
    )
    .await
    .unwrap();
    std::fs::write(
        d.join("server.toml"),
        format!(
            "[server]\nscope = \"{SCOPE}\"\n\
             [channels.telegram]\ntoken = \"{}\"\napi_url = \"{}\"\npoll_timeout_secs = 1\n\
             [channels.vk]\ntoken = \"{}\"\ngroup_id = {}\napi_url = \"{}\"\nwait_secs = 1\n\
             [channels.platform]\nurl = \"{}\"\napi_key = \"{}\"\npoll_secs = 5\npublish = \"updates\"\n\
             [gateway]\nfiles_dir = \"{}\"\n",
            sim.token(),
            sim.api_url(),
            sim.vk_token(),
            sim.vk_group_id(),
            sim.vk_api_url(),
            sim.platform_url(),
            sim.platform_key(),
            d.join("files").display()
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("console.toml"),
        format!("[server]\nscope = \"{SCOPE}\"\n[operator]\nname = \"anna\"\n"),
    )
    .unwrap();
    let db = format!("sqlite:{}", d.join("server.sqlite3").display());
    let add = mcu(d, "server.toml")
        .args(["--db", &db, "user", "add", "anna", "--role", "operator"])
        .output()
        .unwrap();
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let token = String::from_utf8(add.stdout).unwrap().trim().to_owned();

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
    let _guard = Stop {
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

    let vk_number = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["channel"] == "vk")
        .and_then(|r| r["number"].as_str())
        .unwrap()
        .to_owned();
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

/// The server, stopped when the test ends; its log shown if the test failed.
struct Stop {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- serve log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}
