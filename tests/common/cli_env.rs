//! The real binary on a fresh file with its own config, for tests of the command line: what
//! it prints, and a refusal's one line and exit code.

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

pub struct CliEnv {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub config: PathBuf,
}

impl CliEnv {
    /// Operator `anna`, then `config`.
    pub fn new(config: &str) -> CliEnv {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("mcu.sqlite3");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, format!("[operator]\nname = \"anna\"\n{config}")).unwrap();
        CliEnv {
            db,
            config: path,
            dir,
        }
    }

    pub fn mcu(&self) -> Command {
        let mut c = Command::cargo_bin("mcu").unwrap();
        c.arg("--db")
            .arg(&self.db)
            .arg("--config")
            .arg(&self.config)
            .current_dir(self.dir.path());
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("MCU_")) {
            c.env_remove(k);
        }
        c
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.mcu().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "mcu {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut a = args.to_vec();
        a.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&a)).unwrap()
    }

    /// Exit 2 with one line on stderr: that line.
    pub fn refused(&self, args: &[&str]) -> String {
        let out = self.mcu().args(args).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "mcu {args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err:?}");
        err.trim_end().to_string()
    }
}
