//! A citizen's photo on a team console that does not share the server's disk, as the operator
//! meets it: a real `mcu serve --channels telegram` fetches the photo into its `files_dir`, and
//! a console in a private tmux session (160×48, so the card has room) shows it. The server
//! keeps its files under a relative path from its own working directory, so the path the
//! request names leads nowhere from the console's: what a console on another machine sees.

mod common;
#[path = "common/tmux.rs"]
mod tmux;

use std::time::Duration;

use common::{ServeGuard, console_of, mcu_in, spawn_serve, until};
use tmux::Tmux;

const SCOPE: &str = "krasnodar";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_console_elsewhere_shows_the_citizens_photo() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (server_dir, console_dir) = (d.join("server"), d.join("console"));
    std::fs::create_dir_all(&server_dir).unwrap();
    std::fs::create_dir_all(&console_dir).unwrap();
    // The viewer `o` starts: a copy, so the test can see what it was given.
    let opened = d.join("opened");
    std::fs::create_dir_all(&opened).unwrap();
    let sim = common::quiet_sim().await;
    let db = format!("sqlite:{}", d.join("server.sqlite3").display());
    std::fs::write(
        d.join("server.toml"),
        format!(
            "[server]\nscope = \"{SCOPE}\"\n\
             [channels.telegram]\ntoken = \"{}\"\napi_url = \"{}\"\npoll_timeout_secs = 1\n\
             [gateway]\nfiles_dir = \"srv-files\"\n\
             [store]\npath = \"{}\"\n",
            sim.token(),
            sim.api_url(),
            d.join("server-files.sqlite3").display()
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("console.toml"),
        format!(
            "[server]\nscope = \"{SCOPE}\"\n[operator]\nname = \"anna\"\n\
             [ui]\nopen_command = \"cp -t {}\"\n",
            opened.display()
        ),
    )
    .unwrap();
    let anna = common::add_account(d, &db, "anna", "operator");
    sim.inject_photo(7001, Some("Яма во дворе дома 5, вот фото"));
    let log = d.join("serve.log");
    let (child, _stdout, base) = spawn_serve(
        mcu_in(d, "server.toml")
            .current_dir(&server_dir)
            .args(["--db", &db, "serve", "--listen", "127.0.0.1:0"])
            .args(["--channels", "telegram", "--no-seed"]),
        &log,
    );
    let _serve = ServeGuard { child, log };
    let cli = |args: &[&str]| console_of(d, ("console.toml", "cli.sqlite3"), &base, &anna, args);
    let mut on_server = String::new();
    until(Duration::from_secs(40), "the photo fetched", || {
        cli(&["sync"]);
        let listed = cli(&["list"]);
        let Some(number) = listed[0]["number"].as_str() else {
            return false;
        };
        let shown = cli(&["show", number]);
        on_server = shown["attachments"][0]["local_path"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        shown["attachments"][0]["state"] == "stored"
    })
    .await;
    assert!(
        on_server.starts_with("srv-files/") && !console_dir.join(&on_server).exists(),
        "a path that leads nowhere from the console: {on_server}"
    );

    let tmux = Tmux {
        socket: d.join("tmux.sock"),
    };
    let bin = env!("CARGO_BIN_EXE_mcu").to_string();
    let command: Vec<String> = vec![
        "sh".into(),
        "-c".into(),
        format!("cd '{}' && exec \"$0\" \"$@\"", console_dir.display()),
        "env".into(),
        "-i".into(),
        format!("HOME={}", d.display()),
        "PATH=/usr/local/bin:/usr/bin:/bin".into(),
        "LANG=C.UTF-8".into(),
        "TERM=tmux-256color".into(),
        format!("MCU_SERVER_URL={base}"),
        format!("MCU_SERVER_TOKEN={anna}"),
        bin,
        "--config".into(),
        d.join("console.toml").display().to_string(),
        "--db".into(),
        d.join("anna.sqlite3").display().to_string(),
        "console".into(),
    ];
    tmux.start("anna", &command);
    let s = tmux.wait_for("anna", "the photo in the card", |s| {
        s.chars().filter(|c| matches!(c, '▀' | '▄')).count() > 200
    });
    assert!(s.contains("Яма во дворе"), "{s}");
    assert!(!s.contains("фото не показать"), "{s}");
    // `o` hands the viewer the same bytes the citizen sent.
    tmux.keys("anna", &["o"]);
    until(
        Duration::from_secs(20),
        "the viewer given the photo",
        || std::fs::read_dir(&opened).is_ok_and(|r| r.count() == 1),
    )
    .await;
    let given = std::fs::read_dir(&opened)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(
        std::fs::read(given).unwrap(),
        std::fs::read(server_dir.join(&on_server)).unwrap()
    );
    // The console kept its copy in its own files folder.
    let kept = std::fs::read_dir(d.join(".local/share/mcu/files/from-server"))
        .map(|r| r.count())
        .unwrap_or(0);
    assert_eq!(kept, 1, "one photo kept");
}
