//! Seeded bench databases, built once and kept under the target directory.

use std::path::{Path, PathBuf};

/// Where seeded files live: the shared release target when the bench runs with one, else
/// this checkout's.
pub fn data_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench-data")
}

/// The file named by `env_var` when set; else `<stem>.sqlite3` in `data_dir()`, built by
/// `build` unless a `.ready` mark says an earlier run finished it.
pub fn seeded(env_var: &str, stem: &str, build: impl FnOnce(&Path)) -> PathBuf {
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "{env_var}: no file {}", p.display());
        return p;
    }
    let dir = data_dir();
    std::fs::create_dir_all(&dir).expect("bench dir");
    let path = dir.join(format!("{stem}.sqlite3"));
    let ready = dir.join(format!("{stem}.ready"));
    if !ready.exists() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        build(&path);
        std::fs::write(&ready, b"ok").expect("mark ready");
    }
    path
}
