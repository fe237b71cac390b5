//! The inbox, a Maildir the city's mail server (or fetchmail, getmail) delivers into: each
//! mail a file in `new/`. We read `new/` and move a mail to `cur/` only once the store has
//! committed what it said (the file names ride in the channel's cursor, committed with the
//! batch): a crash before the commit leaves the mail in `new/` to be read again, one after it
//! leaves it recorded (its Message-ID is the event's id, so a second reading is a duplicate).

use std::io::Read;
use std::path::{Path, PathBuf};

/// The most mails one poll reads: a backlog goes through in a few batches.
pub const PER_POLL: usize = 50;

/// One mail waiting in `new/`: its file name and bytes (`Err`: why it could not be read).
pub struct Waiting {
    pub name: String,
    pub raw: Result<Vec<u8>, String>,
}

/// The file names of a cursor (one a line).
pub fn handled(cursor: Option<&str>) -> Vec<String> {
    cursor
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Moves the mails the store has taken from `new/` to `cur/`, marked seen (`:2,S`); a name
/// no longer in `new/` was moved before.
pub fn settle(dir: &Path, names: &[String]) -> std::io::Result<()> {
    // A Maildir not made yet (no mail ever came) is made here rather than warned about.
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    for name in names {
        // A name is ours (from the cursor), yet keep it a plain file name.
        if name.contains('/') || name.starts_with('.') {
            continue;
        }
        let from = dir.join("new").join(name);
        if !from.exists() {
            continue;
        }
        let to = dir.join("cur").join(format!("{name}:2,S"));
        std::fs::rename(&from, &to)?;
    }
    Ok(())
}

/// Up to `PER_POLL` mails in `new/`, oldest first (Maildir names start with the delivery
/// time); `Err` when the Maildir is not there.
pub fn waiting(dir: &Path, max_bytes: usize) -> Result<Vec<Waiting>, String> {
    let new = dir.join("new");
    let entries = std::fs::read_dir(&new).map_err(|e| format!("{}: {e}", new.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
        .filter_map(|e| e.file_name().into_string().ok())
        // A name with a line break cannot ride in the cursor (one name a line): no mail
        // server makes one, so it is left where it is.
        .filter(|n| !n.starts_with('.') && !n.contains(['\n', '\r']))
        .collect();
    names.sort();
    names.truncate(PER_POLL);
    Ok(names
        .into_iter()
        .map(|name| {
            let raw = read_capped(&new.join(&name), max_bytes);
            Waiting { name, raw }
        })
        .collect())
}

/// Where a mail read earlier is now: still in `new/` (not yet settled), or in `cur/` under its
/// name with the flags a reader added (`:2,S`). `None` for a name that is not a plain file name.
pub fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return None;
    }
    let new = dir.join("new").join(name);
    if new.is_file() {
        return Some(new);
    }
    let flagged = format!("{name}:");
    std::fs::read_dir(dir.join("cur"))
        .ok()?
        .filter_map(|e| e.ok())
        .find(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n == name || n.starts_with(&flagged))
        })
        .map(|e| e.path())
}

/// The file, or why not; a file over `max` is not read whole (a hostile mail could be huge).
pub fn read_capped(path: &Path, max: usize) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut raw = vec![];
    file.take(max as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| e.to_string())?;
    if raw.len() > max {
        return Err(format!("larger than {} MB", max / 1024 / 1024));
    }
    Ok(raw)
}

/// Puts one mail into the Maildir the way a mail server does (written in `tmp/`, then renamed
/// into `new/`, so a reader never sees half of it): `mcu mail-in` and the tests.
pub fn deliver(dir: &Path, raw: &[u8]) -> std::io::Result<PathBuf> {
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let name = format!(
        "{}.M{}P{}R{}.mcu",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    );
    let tmp = dir.join("tmp").join(&name);
    std::fs::write(&tmp, raw)?;
    let new = dir.join("new").join(&name);
    std::fs::rename(&tmp, &new)?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mail_is_found_in_new_or_flagged_in_cur_and_never_outside_the_maildir() {
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("Maildir");
        let name = deliver(&md, b"Subject: x\r\n\r\ny\r\n")
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(find(&md, &name), Some(md.join("new").join(&name)));
        settle(&md, std::slice::from_ref(&name)).unwrap();
        assert_eq!(
            find(&md, &name),
            Some(md.join("cur").join(format!("{name}:2,S")))
        );
        std::fs::write(dir.path().join("secret"), b"x").unwrap();
        for hostile in ["../secret", "../../secret", ".", "", "cur/x"] {
            assert_eq!(find(&md, hostile), None, "{hostile}");
        }
        assert_eq!(find(&md, "no-such-mail"), None);
    }
}
