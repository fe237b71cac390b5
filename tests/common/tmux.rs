//! A private tmux server for the end-to-end console tests: real consoles in sessions, worked
//! only by keystrokes and read back with `capture-pane`, as a user sees them.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Generous: cold debug binaries on a loaded 2-core machine; a healthy run needs seconds.
const DEADLINE: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);

/// A private tmux server (its socket in the test's directory): one session per console.
/// Dropping it kills the server and the consoles with it.
pub struct Tmux {
    pub socket: PathBuf,
}

impl Tmux {
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            // Cyrillic on screen needs a client that believes in UTF-8, whatever the locale.
            .env("LC_ALL", "C.UTF-8")
            .env_remove("TMUX")
            .output()
            .unwrap_or_else(|e| panic!("cannot run tmux (install it to run this test): {e}"))
    }

    pub fn start(&self, session: &str, command: &[String]) {
        let mut args = vec![
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "160",
            "-y",
            "48",
            "--",
        ];
        args.extend(command.iter().map(String::as_str));
        let out = self.run(&args);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn keys(&self, session: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", session];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success(), "send-keys {keys:?}");
    }

    pub fn screen(&self, session: &str) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", session]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls `session`'s screen until `pred` holds; on timeout, panics with the last screen.
    pub fn wait_for(&self, session: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen(session);
            if pred(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "timed out after {DEADLINE:?} waiting for {what} on {session}'s screen:\n{screen}"
            );
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}
