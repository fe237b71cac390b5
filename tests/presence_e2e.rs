//! Presence as two operators meet it: a real `mcu serve` and two real consoles (anna's and
//! boris's files and tokens), each in a session of a private tmux server, worked only by
//! keystrokes and read back with `capture-pane`. Anna's open card shows on boris's screen,
//! her reply composer warns his, and her quitting clears both.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

#[path = "common/tmux.rs"]
mod tmux;

use tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_mcu");
const SCOPE: &str = "krasnodar";

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `mcu` with nothing of the caller's environment but what it is given.
fn mcu(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("HOME", dir)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .envs(env.iter().copied())
        .arg("--config")
        .arg(dir.join("config.toml"))
        .args(args);
    c
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn two_consoles_see_each_other_and_the_second_reply_is_warned() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("config.toml"), "").unwrap();
    let server_db = format!("sqlite:{}", d.join("server.sqlite3").display());
    let token = |name: &str| {
        ok(mcu(
            d,
            &[],
            &["--db", &server_db, "user", "add", name, "--scope", SCOPE],
        )
        .output()
        .unwrap())
        .trim()
        .to_string()
    };
    let (anna_token, boris_token) = (token("anna"), token("boris"));
    let mut child = mcu(
        d,
        &[],
        &["--db", &server_db, "serve", "--listen", "127.0.0.1:0"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _serve = Serve(child);
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    let team = |name: &'static str, token: &str| -> Vec<(String, String)> {
        vec![
            ("MCU_SERVER_URL".into(), base.clone()),
            ("MCU_SERVER_TOKEN".into(), token.into()),
            ("MCU_SERVER_SCOPE".into(), SCOPE.into()),
            ("MCU_OPERATOR_NAME".into(), name.into()),
        ]
    };
    // One request, registered at anna's console and sent to the server.
    let anna_env = team("anna", &anna_token);
    let borrowed: Vec<(&str, &str)> = anna_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let a_db = d.join("a.sqlite3").display().to_string();
    ok(mcu(
        d,
        &borrowed,
        &["--db", &a_db, "new", "--text", "Нет воды в доме"],
    )
    .output()
    .unwrap());
    ok(mcu(d, &borrowed, &["--db", &a_db, "sync"])
        .output()
        .unwrap());

    let tmux = Tmux {
        socket: d.join("tmux.sock"),
    };
    let console = |name: &'static str, token: &str| {
        let mut command: Vec<String> = vec!["env".into(), "-i".into()];
        command.extend([
            format!("HOME={}", d.display()),
            "PATH=/usr/local/bin:/usr/bin:/bin".into(),
            "LANG=C.UTF-8".into(),
            "TERM=tmux-256color".into(),
        ]);
        command.extend(
            team(name, token)
                .into_iter()
                .map(|(k, v)| format!("{k}={v}")),
        );
        command.extend([
            BIN.to_string(),
            "--config".into(),
            d.join("config.toml").display().to_string(),
            "--db".into(),
            d.join(format!("{name}.sqlite3")).display().to_string(),
            "console".into(),
        ]);
        tmux.start(name, &command);
    };
    console("boris", &boris_token);
    console("anna", &anna_token);

    // Both consoles have the request (the server's number) with its card open: each sees
    // the other looking at it, never itself.
    // The card's title: the server's number, not the provisional 900001.
    let card = |s: &str| {
        s.lines()
            .any(|l| l.contains("┌ ") && l.contains("-000001 "))
    };
    let s = tmux.wait_for("boris", "anna looking at the request", |s| {
        card(s) && s.contains("◉ Смотрит: anna")
    });
    assert!(!s.contains(": boris"), "boris sees himself:\n{s}");
    tmux.wait_for("anna", "boris looking at the request", |s| {
        card(s) && s.contains("◉ Смотрит: boris") && !s.contains(": anna")
    });

    // Anna starts a reply: boris's inbox row and card say so; when he starts one too, his
    // composer warns him, and hers warns her.
    tmux.keys("anna", &["r"]);
    tmux.wait_for("boris", "anna writing a reply", |s| {
        s.contains("✎ Пишет ответ: anna") && s.lines().any(|l| l.contains("✎ Нет воды"))
    });
    tmux.keys("boris", &["r"]);
    tmux.wait_for("boris", "the warning in boris's composer", |s| {
        s.contains("⚠ anna уже пишет ответ")
    });
    tmux.wait_for("anna", "the warning in anna's composer", |s| {
        s.contains("⚠ boris уже пишет ответ")
    });

    // Anna closes her composer and quits: boris's warning goes (her console's goodbye).
    tmux.keys("anna", &["Escape"]);
    tmux.wait_for("boris", "anna back to looking", |s| {
        !s.contains("уже пишет ответ")
    });
    tmux.keys("anna", &["q"]);
    tmux.keys("boris", &["Escape"]);
    tmux.wait_for("boris", "anna gone", |s| {
        card(s) && !s.contains("Смотрит") && !s.contains('✎')
    });
}
