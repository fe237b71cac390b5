//! A console and a server of different sync protocol versions, end to end: the real `mcu`
//! against a real `mcu serve`, with a proxy between them that rewrites the version the console
//! sends (`"schema_version":1` to 2, or to 0), standing in for a console built from a newer or
//! an older release than its server. The console must say which side to update, and keep its
//! actions until it can sync (#20).

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;

use common::{ServeGuard, add_account, mcu_in, spawn_serve};
use mcu_desk::wire::sync::SCHEMA_VERSION;

/// A proxy to `upstream` that replaces `from` by `to` (the same length, so `Content-Length`
/// holds) in what consoles send; answers pass through untouched. Its `http://` address.
fn rewriting_proxy(upstream: String, from: String, to: String) -> String {
    assert_eq!(from.len(), to.len());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let Ok(mut server) = TcpStream::connect(&upstream) else {
                return;
            };
            let (mut back_from, mut back_to) =
                (server.try_clone().unwrap(), client.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut back_from, &mut back_to);
            });
            let (from, to) = (from.clone(), to.clone());
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = match client.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    // Requests here are small JSON written at once: the pattern is never cut.
                    let text = String::from_utf8_lossy(&buf[..n]).replace(&from, &to);
                    if server.write_all(text.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

/// The operator's console against `url`: exit code, stdout, stderr.
fn console(dir: &Path, url: &str, token: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = mcu_in(dir, "console.toml")
        .arg("--db")
        .arg(dir.join("anna.sqlite3"))
        .env("MCU_SERVER_URL", url)
        .env("MCU_SERVER_TOKEN", token)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_console_newer_or_older_than_its_server_is_told_which_to_update() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    std::fs::write(dir.join("server.toml"), "[server]\nscope = \"city\"\n").unwrap();
    std::fs::write(
        dir.join("console.toml"),
        "[server]\nscope = \"city\"\n[operator]\nname = \"anna\"\n",
    )
    .unwrap();
    let db = format!("sqlite:{}", dir.join("server.sqlite3").display());
    let token = add_account(dir, &db, "anna", "operator");
    let log = dir.join("serve.log");
    let (child, _stdout, base) = spawn_serve(
        mcu_in(dir, "server.toml").args([
            "--db",
            &db,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-seed",
        ]),
        &log,
    );
    let _server = ServeGuard { child, log };
    let upstream = base.trim_start_matches("http://").to_owned();
    let sent = format!("\"schema_version\":{SCHEMA_VERSION}");

    // A console of the next release: the server is the older one.
    let newer = rewriting_proxy(
        upstream.clone(),
        sent.clone(),
        format!("\"schema_version\":{}", SCHEMA_VERSION + 1),
    );
    let (code, _, said) = console(dir, &newer, &token, &["new", "--text", "Не горит фонарь"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("сервер старше этой консоли"), "{said}");
    assert!(said.contains("обновите mcu на сервере"), "{said}");
    assert!(said.contains("действия ждут в этой консоли"), "{said}");
    let (code, _, said) = console(dir, &newer, &token, &["sync"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("сервер старше этой консоли"), "{said}");

    // A console of the release before: it is the older one.
    let older = rewriting_proxy(
        upstream,
        sent,
        format!("\"schema_version\":{}", SCHEMA_VERSION - 1),
    );
    let (code, _, said) = console(dir, &older, &token, &["sync"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("эта консоль старше сервера"), "{said}");
    assert!(
        said.contains("обновите mcu на этом рабочем месте"),
        "{said}"
    );

    // Updated (no proxy in the way): the action that waited reaches the server, once.
    let (code, out, said) = console(dir, &base, &token, &["sync", "-o", "json"]);
    assert_eq!(code, Some(0), "{said}");
    let round: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&round["pushed"], &round["pending"]),
        (&1.into(), &0.into()),
        "{round}"
    );
    let (_, listed, _) = console(dir, &base, &token, &["list", "-o", "json"]);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["text"], "Не горит фонарь", "{listed}");
}
