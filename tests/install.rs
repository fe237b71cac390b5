//! What a city's IT department installs beside the binary (docs/install.md): `mcu --version`
//! names the build, `mcu completions` gives scripts the shells load, `mcu man` gives pages
//! `man` shows. Run through the real binary and, where the machine has them, the real tools.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mcu");

fn mcu(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "mcu {args:?}: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The commit git says HEAD is, when this is a git checkout with git at hand.
fn head() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short=9", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn the_version_names_the_commit_it_was_built_from() {
    let said = mcu(&["--version"]);
    let expected = format!("mcu {} ", env!("CARGO_PKG_VERSION"));
    assert!(said.starts_with(expected.trim_end()), "{said}");
    match head() {
        // `(commit date)`: the build and this checkout agree (cargo rebuilds on a new commit).
        Some(commit) => assert!(
            said.starts_with(&format!("{expected}({commit} 20")),
            "{said}"
        ),
        // A build from a tarball says the version alone.
        None => assert_eq!(said.trim(), expected.trim_end(), "{said}"),
    }
}

#[test]
fn bash_loads_the_completions_and_completes_commands_and_flags() {
    let script = mcu(&["completions", "bash"]);
    assert!(script.contains("complete -F _mcu"), "{script}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mcu.bash");
    std::fs::write(&file, &script).unwrap();
    // Bash itself: the script loads, registers `mcu`, and completes `mcu s` and `mcu serve --l`.
    let probe = format!(
        "source {}; complete -p mcu; \
         COMP_WORDS=(mcu s); COMP_CWORD=1; _mcu mcu s mcu; echo \"words: ${{COMPREPLY[*]}}\"; \
         COMP_WORDS=(mcu serve --l); COMP_CWORD=2; _mcu mcu --l serve; echo \"flags: ${{COMPREPLY[*]}}\"",
        file.display()
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &probe])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("-F _mcu mcu"), "{said}");
    let words = said.lines().find(|l| l.starts_with("words:")).unwrap();
    assert!(words.contains("serve") && words.contains("sync"), "{said}");
    assert!(!words.contains("list"), "{said}");
    let flags = said.lines().find(|l| l.starts_with("flags:")).unwrap();
    assert!(
        flags.contains("--listen") && flags.contains("--lease-secs"),
        "{said}"
    );
}

#[test]
fn zsh_and_fish_get_their_own_scripts() {
    let zsh = mcu(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef mcu"), "{zsh}");
    let fish = mcu(&["completions", "fish"]);
    assert!(fish.contains("complete -c mcu"), "{fish}");
    assert!(fish.contains("-l after-restore"), "{fish}");
    // An unknown shell is refused as bad input.
    let out = Command::new(BIN)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_man_pages_render_in_man() {
    let page = mcu(&["man"]);
    assert!(page.contains(".TH mcu 1"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    mcu(&["man", "--dir", dir.path().to_str().unwrap()]);
    for name in [
        "mcu.1",
        "mcu-serve.1",
        "mcu-serve-backup.1",
        "mcu-user-add.1",
    ] {
        assert!(dir.path().join(name).exists(), "{name}");
    }
    // `man -l` formats the page as an installed one would be.
    let out = Command::new("man")
        .arg("-l")
        .arg(dir.path().join("mcu-serve.1"))
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("man (apt-get install man-db)");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(shown.contains("--after-restore"), "{shown}");
    assert!(shown.contains("backup"), "{shown}");
}
