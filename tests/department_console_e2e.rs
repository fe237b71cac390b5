//! A department's own console as its dispatcher meets it (#21 items 1–2): a real `mcu serve`,
//! a lead forwarding two requests from the CLI, and the department account's console in a
//! private tmux session, worked only by keystrokes. It opens on the department's queue (only
//! its request, no citizen), refuses an operator's key with what to press, records the answer
//! with `a`, and the lead sees it arrive.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use common::{ServeGuard, console_of, mcu_in, spawn_serve, until};
use tmux::Tmux;

const SCOPE: &str = "krasnodar";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_answers_from_its_own_console() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = format!("sqlite:{}", d.join("server.sqlite3").display());
    let server = format!("[server]\nscope = \"{SCOPE}\"\n");
    std::fs::write(d.join("server.toml"), &server).unwrap();
    std::fs::write(
        d.join("console.toml"),
        format!("{server}[operator]\nname = \"anna\"\n"),
    )
    .unwrap();
    std::fs::write(
        d.join("economy.toml"),
        format!("{server}[operator]\nname = \"economy\"\n"),
    )
    .unwrap();
    let anna = common::add_account(d, &db, "anna", "lead");
    let added = mcu_in(d, "server.toml")
        .args([
            "--db",
            &db,
            "user",
            "add",
            "economy",
            "--role",
            "department",
        ])
        .args(["--department", "city_economy"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let economy = String::from_utf8(added.stdout).unwrap().trim().to_owned();
    let log = d.join("serve.log");
    let (child, _stdout, base) = spawn_serve(
        mcu_in(d, "server.toml").args([
            "--db",
            &db,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-seed",
        ]),
        &log,
    );
    let _serve = ServeGuard { child, log };
    let lead = |args: &[&str]| console_of(d, ("console.toml", "anna.sqlite3"), &base, &anna, args);
    for (text, phone) in [
        ("Прорвало трубу во дворе, вода в подвале", "+79161234567"),
        ("Яма на дороге у школы", "+79167654321"),
    ] {
        lead(&[
            "new",
            "--text",
            text,
            "--citizen",
            "Иван Петров",
            "--phone",
            phone,
        ]);
    }
    lead(&["sync"]);
    lead(&["forward", "2026-000001", "--department", "city_economy"]);
    lead(&["forward", "2026-000002", "--department", "transport_roads"]);
    lead(&["sync"]);

    let tmux = Tmux {
        socket: d.join("tmux.sock"),
    };
    let command: Vec<String> = vec![
        "env".into(),
        "-i".into(),
        format!("HOME={}", d.display()),
        "PATH=/usr/local/bin:/usr/bin:/bin".into(),
        "LANG=C.UTF-8".into(),
        "TERM=tmux-256color".into(),
        format!("MCU_SERVER_URL={base}"),
        format!("MCU_SERVER_TOKEN={economy}"),
        env!("CARGO_BIN_EXE_mcu").into(),
        "--config".into(),
        d.join("economy.toml").display().to_string(),
        "--db".into(),
        d.join("economy.sqlite3").display().to_string(),
        "console".into(),
    ];
    tmux.start("economy", &command);
    let s = tmux.wait_for("economy", "the department's queue", |s| {
        s.contains("ДЕПАРТАМЕНТ") && s.contains("Прорвало трубу")
    });
    assert!(!s.contains("Яма на дороге"), "another department's:\n{s}");
    assert!(
        !s.contains("Иван") && !s.contains("+7916"),
        "the citizen:\n{s}"
    );

    tmux.keys("economy", &["r"]);
    tmux.wait_for("economy", "an operator's key refused", |s| {
        s.contains("a — ответ") && s.contains("R — вернуть")
    });
    tmux.keys("economy", &["a"]);
    tmux.wait_for("economy", "the answer's editor", |s| {
        s.contains("Ответ департамента")
    });
    tmux.keys("economy", &["-l", "Бригада выехала, к 18:00 устраним"]);
    tmux.keys("economy", &["C-s"]);
    tmux.wait_for("economy", "the answer recorded", |s| {
        s.contains("ответ деп.")
    });

    until(
        Duration::from_secs(30),
        "the answer at the lead's console",
        || {
            lead(&["sync"]);
            let shown = lead(&["show", "2026-000001"]);
            shown["status"] == "in_work" && shown.to_string().contains("Бригада выехала")
        },
    )
    .await;
}
