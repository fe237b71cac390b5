//! `mcu serve` as its own process on a loopback port, as a city runs it, for the benches that
//! talk to it over HTTP; stopped (SIGTERM) when dropped.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

pub struct Serve {
    pub base: String,
    child: Child,
    _stdout: std::io::BufReader<ChildStdout>,
}

/// Runs `cmd` (an `mcu … serve --listen 127.0.0.1:0 …`) with its log in `log`, without the
/// bench's own `MCU_` settings, and waits for the address it prints.
pub fn spawn(mut cmd: Command, log: &Path) -> Serve {
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("MCU_")) {
        cmd.env_remove(k);
    }
    let mut child = cmd
        .env("MCU_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).expect("serve log"))
        .spawn()
        .expect("mcu serve");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("the address line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("mcu serve said {line:?}; log: {log}")
        })
        .to_owned();
    Serve {
        base,
        child,
        _stdout: stdout,
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Text in PostgreSQL `COPY`'s text format: backslash, newline, return and tab escaped.
pub fn copy_text(out: &mut Vec<u8>, text: &[u8]) {
    for &b in text {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.push(b),
        }
    }
}
