//! The whole product as an operator meets it: `mcu demo` runs in a real pseudo-terminal (a
//! private tmux server), and the test works it only by keystrokes, reading the screen back
//! with `capture-pane`. It waits for simulated citizens' requests, claims one, sets its topic
//! and department, replies with a ready template, and checks that the fake Telegram received
//! exactly that reply.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use mcu_desk::domain::Catalog;

const TMUX: &str = "tmux";
const SESSION: &str = "mcu";
/// Wide enough for the inbox and the detail side by side, tall enough that the detail's
/// message history (acknowledgement, the reply) is not cut off at the bottom.
const WIDTH: u16 = 200;
const HEIGHT: u16 = 60;
const OPERATOR: &str = "tester";
/// Generous: a cold debug binary on a loaded 2-core machine; a healthy run needs seconds.
const DEADLINE: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

/// A tmux server of its own (its socket lives in the test's temporary directory), so the test
/// never sees or disturbs the user's sessions. Dropping it kills the server and with it
/// `mcu demo`, also when an assertion failed halfway.
struct Tmux {
    socket: PathBuf,
    config: PathBuf,
}

impl Tmux {
    fn start(dir: &Path, command: &[String]) -> Tmux {
        let config = dir.join("tmux.conf");
        // remain-on-exit keeps a dead pane around, so its last screen (an error message, the
        // terminal given back after quitting) can still be read. It is in the server's config
        // rather than set after `new-session` because a demo failing at once would otherwise
        // take the pane with it before the option is set.
        std::fs::write(
            &config,
            format!("set -g remain-on-exit on\nset -g default-size {WIDTH}x{HEIGHT}\n"),
        )
        .unwrap();
        let tmux = Tmux {
            socket: dir.join("tmux.sock"),
            config,
        };
        let (w, h) = (WIDTH.to_string(), HEIGHT.to_string());
        let mut args = vec!["new-session", "-d", "-s", SESSION, "-x", &w, "-y", &h, "--"];
        args.extend(command.iter().map(String::as_str));
        let out = tmux.run(&args);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(TMUX)
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg(&self.config)
            .args(args)
            // Cyrillic both ways (typed into pickers, read back from the screen) needs the
            // tmux client to believe in UTF-8 whatever the caller's locale is.
            .env("LC_ALL", "C.UTF-8")
            // Run from inside someone's tmux, this would otherwise point at their server.
            .env_remove("TMUX")
            .output()
            .unwrap_or_else(|e| panic!("cannot run tmux (install it to run this test): {e}"))
    }

    /// Keys by tmux name: `c`, `Enter`, `Tab`, `C-s`.
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success(), "send-keys {keys:?}");
    }

    /// Text typed as is, character by character (no key-name lookup).
    fn type_text(&self, text: &str) {
        let out = self.run(&["send-keys", "-t", SESSION, "-l", text]);
        assert!(out.status.success(), "send-keys -l {text}");
    }

    fn screen(&self) -> String {
        self.capture(&[])
    }

    /// The screen with the scrollback above it.
    fn screen_and_history(&self) -> String {
        self.capture(&["-S", "-"])
    }

    fn capture(&self, extra: &[&str]) -> String {
        let mut args = vec!["capture-pane", "-p", "-t", SESSION];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Whether the program in the pane has gone (its terminal closed).
    fn pane_dead(&self) -> bool {
        let out = self.run(&["display-message", "-p", "-t", SESSION, "#{pane_dead}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// Polls the screen until `pred` holds and returns that screen. A demo that died is
    /// reported at once, with what it left on the screen.
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        poll(what, || {
            let screen = self.screen();
            if pred(&screen) {
                return Ok(screen);
            }
            if self.pane_dead() {
                // With the history: tmux's "Pane is dead" line may have scrolled the first
                // line of an error message off the screen.
                panic!(
                    "mcu demo ended while waiting for {what}; screen:\n{}",
                    self.screen_and_history()
                );
            }
            Err(screen)
        })
    }
}

/// Calls `probe` every `POLL` until it gives a value. On timeout it panics with what the
/// probe last saw (a screen, the simulator's log) instead of a bare "timed out".
fn poll<T>(what: &str, probe: impl FnMut() -> Result<T, String>) -> T {
    poll_within(what, DEADLINE, probe)
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// `2026-000123` at the start of `s`.
fn number_at(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let ok = b.len() >= 11
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..11].iter().all(u8::is_ascii_digit);
    ok.then(|| &s[..11])
}

/// The number in the detail pane's title (`┌ 2026-000001 ───`): the selected request.
fn selected_number(screen: &str) -> Option<String> {
    screen
        .lines()
        .find_map(|l| l.split_once("┌ ").and_then(|(_, rest)| number_at(rest)))
        .map(str::to_string)
}

/// The inbox row of request `number`.
fn inbox_row<'a>(screen: &'a str, number: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.starts_with(number))
}

/// A port nobody listens on right now, for the simulator. Fixing it up front (rather than
/// reading the address the demo prints before the screen opens) keeps the test simple; a
/// clash is unlikely and shows up as the demo's own "cannot listen" error.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An environment with nothing of the user's in it: no config, no `MCU_*`, no data dir.
fn clean_env(home: &Path) -> Vec<(String, String)> {
    let home = home.display().to_string();
    vec![
        ("HOME".into(), home.clone()),
        ("XDG_CONFIG_HOME".into(), format!("{home}/.config")),
        ("XDG_DATA_HOME".into(), format!("{home}/.local/share")),
        ("XDG_CACHE_HOME".into(), format!("{home}/.cache")),
        ("XDG_STATE_HOME".into(), format!("{home}/.local/state")),
        ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
        ("LANG".into(), "C.UTF-8".into()),
        // What tmux emulates; crossterm speaks plain ANSI either way.
        ("TERM".into(), "tmux-256color".into()),
    ]
}

#[test]
fn operator_claims_tags_and_replies_by_keystrokes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mcu.sqlite3");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("[operator]\nname = \"{OPERATOR}\"\n")).unwrap();
    let env = clean_env(dir.path());
    let port = free_port();
    let api = format!("http://127.0.0.1:{port}");

    // tmux 3.3a here does not always reap the pane's process: in a good share of runs, even
    // of a plain `sh -c 'sleep 1; exit 3'`, the pane stays dead with no `pane_dead_status`
    // and the process a zombie. So the exit status comes from a shell that waits for `mcu`
    // and writes it down.
    let status_file = dir.path().join("exit-status");
    let mut command: Vec<String> = [
        "sh",
        "-c",
        r#"status="$1"; shift; "$@"; echo $? > "$status""#,
        "sh",
    ]
    .map(String::from)
    .to_vec();
    command.push(status_file.display().to_string());
    command.extend(["env".to_string(), "-i".to_string()]);
    command.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
    command.extend(
        [
            env!("CARGO_BIN_EXE_mcu"),
            "--config",
            &config.display().to_string(),
            "demo",
            "--db",
            &db.display().to_string(),
            "--sim-listen",
            &format!("127.0.0.1:{port}"),
            // A few requests at once, then a steady trickle: the inbox keeps changing under
            // the operator, as it does on a real shift.
            "--burst",
            "3",
            "--per-minute",
            "12",
        ]
        .map(String::from),
    );
    let started = Instant::now();
    let tmux = Tmux::start(dir.path(), &command);

    let catalog = Catalog::krasnodar();
    let topic = catalog.topic("roads").unwrap();
    let topic_department = catalog
        .department(topic.department.as_deref().unwrap())
        .unwrap();
    let department = catalog.department("city_economy").unwrap();
    // Choosing a department other than the topic's own shows that the department picker
    // really changed it, not the topic.
    assert_ne!(topic_department.id, department.id);

    // Requests arrive; the first row is selected and shown in the detail.
    let screen = tmux.wait_for("a request in the inbox and its detail", |s| {
        selected_number(s).is_some_and(|n| inbox_row(s, &n).is_some())
    });
    let number = selected_number(&screen).unwrap();

    // Claim. New requests may arrive and re-sort the inbox; the selection follows the
    // request, so the detail still shows `number`.
    tmux.keys(&["c"]);
    let selected = |s: &str| selected_number(s).as_deref() == Some(number.as_str());
    let row_has = |s: &str, words: &[&str]| {
        inbox_row(s, &number).is_some_and(|r| words.iter().all(|w| r.contains(w)))
    };
    tmux.wait_for("the claim", |s| {
        selected(s)
            && s.contains(&format!("исполнитель: {OPERATOR}"))
            && row_has(s, &[OPERATOR, "в работе"])
    });

    // Topic: the picker filters as one types (Cyrillic), Enter chooses.
    tmux.keys(&["t"]);
    tmux.wait_for("the topic picker", |s| s.contains("Тема · печатайте"));
    tmux.type_text("дорог");
    tmux.wait_for("the topic picker filtered", |s| {
        s.contains("> дорог▏") && s.contains(&format!("│ {} ", topic.name))
    });
    tmux.keys(&["Enter"]);
    // The department follows the topic.
    tmux.wait_for("the topic in the detail", |s| {
        selected(s)
            && s.contains(&format!("{} → {}", topic.name, topic_department.name))
            && row_has(s, &[&topic.name])
    });

    // Department: a different one than the topic brought along.
    tmux.keys(&["d"]);
    tmux.wait_for("the department picker", |s| {
        s.contains("Департамент · печатайте")
    });
    tmux.type_text("тэк");
    tmux.wait_for("the department picker filtered", |s| {
        s.contains("> тэк▏") && s.contains(&format!("│ {} ", department.name))
    });
    tmux.keys(&["Enter"]);
    tmux.wait_for("the department in the detail", |s| {
        selected(s) && s.contains(&format!("{} → {}", topic.name, department.name))
    });

    // Reply with the "passed to the department" template: `::dep` + Tab expands it, and the
    // preview fills in the number and the department just chosen.
    let template = mcu_desk::templates::replies()
        .into_iter()
        .find(|t| t.shortcut == "dep")
        .expect("the shipped `dep` reply template");
    let expected = mcu_desk::templates::render(
        &template.text,
        &[("number", &number), ("department", &department.name)],
    );
    assert!(
        !expected.contains('{'),
        "the `dep` template gained a variable this test does not fill: {expected}"
    );
    tmux.keys(&["r"]);
    tmux.wait_for("the reply composer", |s| {
        s.contains(&format!("Ответ заявителю · {number}"))
    });
    tmux.type_text("::dep");
    tmux.keys(&["Tab"]);
    // The preview wraps, so only its beginning is looked for verbatim.
    let preview_start: String = expected.chars().take(60).collect();
    tmux.wait_for("the template in the preview", |s| {
        s.contains("Заявитель увидит:") && s.contains(&preview_start)
    });
    tmux.keys(&["C-s"]);
    // The composer closes; the reply shows in the history once the gateway delivered it.
    // The row (status) and the detail (history) load separately, so both are waited for.
    tmux.wait_for("the reply delivered, in the detail", |s| {
        !s.contains("Ответ заявителю ·")
            && selected(s)
            && s.contains(&format!("→ {OPERATOR} [доставлено]: "))
            && row_has(s, &["отвечено"])
    });

    // `mcu show` reads the same database: everything the keystrokes did is stored.
    let shown = show_json(&env, &config, &db, &number);
    assert_eq!(shown["number"], number.as_str());
    assert_eq!(shown["topic"], topic.id.as_str());
    assert_eq!(shown["department"], department.id.as_str());
    assert_eq!(shown["assignee"], OPERATOR);
    assert_eq!(shown["status"], "answered");
    let chat = telegram_chat(&shown);

    // The fake Telegram got the reply, in that chat, rendered, once.
    let copies = copies_at_simulator(&api, &chat, &expected, DEADLINE);
    assert_eq!(copies, 1, "the reply arrived more than once");

    // `q` quits cleanly and gives the terminal back: the lines printed before the screen
    // opened are visible again.
    tmux.keys(&["q"]);
    let status = poll("mcu demo to exit after q", || {
        // Complete once the shell wrote the number and its newline.
        let written = std::fs::read_to_string(&status_file).unwrap_or_default();
        match written.strip_suffix('\n') {
            Some(code) => Ok(code.parse::<i32>().unwrap()),
            None => Err(tmux.screen()),
        }
    });
    assert_eq!(
        status,
        0,
        "mcu demo's exit status; screen:\n{}",
        tmux.screen()
    );
    // The status can be written before tmux has drawn the last output, hence a poll. When
    // tmux notices the dead pane it writes a line under the last row, which may scroll the
    // top line into the history, hence the history.
    poll("the terminal given back after quitting", || {
        let screen = tmux.screen_and_history();
        if screen.contains(&format!("{api} — что отправлено")) {
            Ok(())
        } else {
            Err(screen)
        }
    });
    eprintln!("console e2e took {:.1?}", started.elapsed());
}

/// `poll` with a deadline of its own (a staged incident takes a minute to form).
fn poll_within<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        match probe() {
            Ok(v) => return v,
            Err(seen) => assert!(
                start.elapsed() < limit,
                "timed out after {limit:?} waiting for {what}; last seen:\n{seen}"
            ),
        }
        std::thread::sleep(POLL);
    }
}

/// The demo's staged burst pipe, worked only by keystrokes: `m` shows the group forming, `c`
/// makes it one incident, `Enter` shows it, `r` answers it once — and every member's citizen
/// gets the answer with their own request's number at the fake Telegram.
#[test]
fn a_burst_pipe_becomes_one_incident_answered_once_by_keystrokes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mcu.sqlite3");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("[operator]\nname = \"{OPERATOR}\"\n")).unwrap();
    let env = clean_env(dir.path());
    let port = free_port();
    let api = format!("http://127.0.0.1:{port}");
    let mut command: Vec<String> = vec!["env".into(), "-i".into()];
    command.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
    command.extend(
        [
            env!("CARGO_BIN_EXE_mcu"),
            "--config",
            &config.display().to_string(),
            "demo",
            "--db",
            &db.display().to_string(),
            "--sim-listen",
            &format!("127.0.0.1:{port}"),
            // Only the staged incident writes: its group is the one to find.
            "--burst",
            "0",
            "--per-minute",
            "0",
        ]
        .map(String::from),
    );
    let tmux = Tmux::start(dir.path(), &command);
    tmux.wait_for("the inbox", |s| s.contains("1:Мои"));
    // The first report comes 20 s in and one every 3–10 s after: look with `m` until three
    // citizens make a group.
    poll_within("a candidate group", Duration::from_secs(150), || {
        tmux.keys(&["m"]);
        std::thread::sleep(Duration::from_millis(700));
        let s = tmux.screen();
        if s.contains("◇ возможная группа") {
            return Ok(());
        }
        tmux.keys(&["Escape"]);
        std::thread::sleep(Duration::from_secs(2));
        Err(s)
    });
    tmux.keys(&["c"]);
    let s = tmux.wait_for("the incident confirmed", |s| s.contains("◆ 2026-"));
    let incident = s
        .lines()
        .find_map(|l| l.split_once("◆ ").and_then(|(_, r)| number_at(r)))
        .unwrap()
        .to_string();
    tmux.keys(&["Enter"]);
    tmux.wait_for("the incident's card with its members", |s| {
        selected_number(s).as_deref() == Some(incident.as_str())
            && s.contains("◆ Массовый инцидент · обращений:")
    });
    tmux.keys(&["r"]);
    tmux.wait_for("the composer for every member", |s| s.contains("Ответ"));
    tmux.type_text("Бригада выехала, обращение {number}");
    tmux.keys(&["C-s"]);

    // Every member's citizen got the answer with their own number, once.
    let members: Vec<String> = show_json(&env, &config, &db, &incident)["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["number"].as_str().unwrap().to_string())
        .collect();
    assert!(members.len() >= 3, "{members:?}");
    for number in &members {
        let chat = telegram_chat(&show_json(&env, &config, &db, number));
        let expected = format!("Бригада выехала, обращение {number}");
        let copies = copies_at_simulator(&api, &chat, &expected, Duration::from_secs(60));
        assert_eq!(copies, 1, "{number}: the answer arrived more than once");
    }
    tmux.keys(&["q"]);
}

/// `mcu show NUMBER -o json` on the demo's database, as a script would read it.
fn show_json(
    env: &[(String, String)],
    config: &Path,
    db: &Path,
    number: &str,
) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_mcu"))
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .arg("--config")
        .arg(config)
        .args(["show", number, "-o", "json", "--db"])
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The Telegram chat of a shown request: its requests are keyed `chat:message`.
fn telegram_chat(shown: &serde_json::Value) -> String {
    shown["external_id"]
        .as_str()
        .and_then(|e| e.split_once(':'))
        .map(|(chat, _)| chat.to_string())
        .unwrap_or_else(|| panic!("no Telegram chat in {shown:#}"))
}

/// How many times the fake Telegram at `api` sent `expected` to `chat`, once it has at all.
fn copies_at_simulator(api: &str, chat: &str, expected: &str, limit: Duration) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The simulator is local; a proxy from the environment must not get in between.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    poll_within("the text at the simulator", limit, || {
        let log: serde_json::Value = rt.block_on(async {
            http.get(format!("{api}/_sim/sent"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        let n = log["chats"][chat].as_array().map_or(0, |msgs| {
            msgs.iter().filter(|m| m["text"] == expected).count()
        });
        if n > 0 {
            Ok(n)
        } else {
            Err(format!("`{expected}` not in chat {chat}: {log:#}"))
        }
    })
}
