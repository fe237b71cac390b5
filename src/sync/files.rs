//! The console's side of `/v1/files` (server/files.rs): in team mode the server's gateway
//! fetches what citizens attach, so an attachment's path is a path on the server. A console on
//! another machine asks the server for the bytes once and keeps them in its own cache, so the
//! card's photo and the `o` key work at every desk.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::client::SyncError;

/// A file of a request, as the console knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// The request's number (the server finds it within the console's scope).
    pub number: String,
    /// The attachment's place in the request's list, from 0.
    pub n: usize,
    /// Where the gateway that fetched it keeps it.
    pub path: String,
}

/// Why a file could not be had: the console says it in the operator's language, and knows
/// which of these pass by themselves (worth asking again) and which do not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The server could not be reached, or answered with a failure of its own.
    Unreachable(String),
    /// The server's gateway has not fetched it from the channel yet.
    NotStored,
    /// Another replica's gateway fetched it; this server's disk does not hold it.
    Elsewhere,
    /// The request is not in this account's reach.
    Forbidden,
    /// No such request or file on the server.
    NotFound,
    TooLarge,
    /// This machine could not keep it (a full disk, a read-only cache).
    Disk(String),
}

impl FetchError {
    /// Worth asking again in a while without the operator doing anything.
    pub fn passes(&self) -> bool {
        matches!(self, FetchError::Unreachable(_) | FetchError::NotStored)
    }

    fn from_answer(status: u16, code: &str, message: &str) -> FetchError {
        match code {
            "not_stored" => FetchError::NotStored,
            "elsewhere" => FetchError::Elsewhere,
            "forbidden" | "forbidden_scope" => FetchError::Forbidden,
            "not_found" => FetchError::NotFound,
            "too_large" => FetchError::TooLarge,
            _ => FetchError::Unreachable(format!(
                "{status} {} {}",
                crate::sanitize::line(code),
                crate::sanitize::line(message)
            )),
        }
    }
}

/// A bound on one download: a citizen's file is at most 20 MB (Telegram), and the server
/// refuses larger ones anyway.
const MAX_BYTES: usize = 64 * 1024 * 1024;

/// How much the cache keeps. An operator who opens every photo of a 1,000-request day fetches
/// a few hundred MB; without a bound a year of shifts would fill the disk. The files least
/// recently shown go first, down to three quarters of this.
const CACHE_BYTES: u64 = 512 * 1024 * 1024;

#[derive(Clone)]
pub struct FileLink {
    http: reqwest::Client,
    base: String,
    token: String,
    scope: String,
    cache: PathBuf,
}

impl FileLink {
    /// `cache`: a directory of this console's own, made on first use.
    pub fn new(
        base: &str,
        token: &str,
        scope: &str,
        cache: PathBuf,
    ) -> Result<FileLink, SyncError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            // Photos over a slow office link: generous, but a dead server still ends.
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| SyncError::Unavailable(e.to_string()))?;
        Ok(FileLink {
            http,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            scope: scope.to_string(),
            cache,
        })
    }

    /// The file on this machine: its own path where that exists here (the console runs beside
    /// the server), else the server's copy, downloaded once into the cache.
    pub async fn local(&self, f: &FileRef) -> Result<PathBuf, FetchError> {
        let own = PathBuf::from(&f.path);
        if own.is_file() {
            return Ok(own);
        }
        let cached = self.cache.join(cache_name(f));
        if cached.is_file() {
            // Shown again: the last to go when the cache is trimmed.
            let _ = std::fs::File::options()
                .append(true)
                .open(&cached)
                .and_then(|f| f.set_modified(std::time::SystemTime::now()));
            return Ok(cached);
        }
        let bytes = self.download(f).await?;
        let (cache, target) = (self.cache.clone(), cached.clone());
        tokio::task::spawn_blocking(move || {
            keep(&cache, &target, &bytes)?;
            trim(&cache, &target, CACHE_BYTES);
            Ok::<_, std::io::Error>(())
        })
        .await
        .map_err(|e| FetchError::Disk(e.to_string()))?
        .map_err(|e| FetchError::Disk(format!("{}: {e}", cached.display())))?;
        Ok(cached)
    }

    async fn download(&self, f: &FileRef) -> Result<Vec<u8>, FetchError> {
        let n = f.n.to_string();
        let mut resp = self
            .http
            .get(format!("{}/v1/files", self.base))
            .query(&[
                ("scope_id", self.scope.as_str()),
                ("number", f.number.as_str()),
                ("n", n.as_str()),
            ])
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| FetchError::Unreachable(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let body: serde_json::Value = resp.json().await.unwrap_or_default();
            let code = body["error"].as_str().unwrap_or_default();
            let message = body["message"].as_str().unwrap_or_default();
            return Err(FetchError::from_answer(status.as_u16(), code, message));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| FetchError::Unreachable(e.without_url().to_string()))?
        {
            if bytes.len() + chunk.len() > MAX_BYTES {
                return Err(FetchError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

/// The request's number and the file's place, then the gateway's file name, which keeps its
/// plain extension for the viewer (channels/gateway/fetch.rs). It came over the network, so
/// it is cleaned all the same.
fn cache_name(f: &FileRef) -> String {
    let plain = |s: &str, keep: &[char]| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || keep.contains(c))
            .take(120)
            .collect()
    };
    let base = Path::new(&f.path)
        .file_name()
        .map(|n| plain(&n.to_string_lossy(), &['.', '-', '_']))
        .unwrap_or_default();
    let base = base.trim_start_matches('.');
    let number = plain(&f.number, &['-']);
    if base.is_empty() {
        format!("{number}-{}.bin", f.n)
    } else {
        format!("{number}-{}-{base}", f.n)
    }
}

/// Written beside and renamed, so a half-written file is never taken for the photo.
fn keep(dir: &Path, target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.part"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, target)
}

/// Deletes the least recently shown files until the cache holds three quarters of `limit`,
/// when it holds more than `limit`; `just` (the file being shown) stays.
fn trim(dir: &Path, just: &Path, limit: u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| {
            let meta = e.metadata().ok().filter(|m| m.is_file())?;
            Some((meta.modified().ok()?, meta.len(), e.path()))
        })
        .collect();
    let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
    if total <= limit {
        return;
    }
    files.sort();
    for (_, len, path) in files {
        if total <= limit / 4 * 3 {
            break;
        }
        if path != just && std::fs::remove_file(&path).is_ok() {
            total = total.saturating_sub(len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &str) -> FileRef {
        FileRef {
            number: "2026-000042".into(),
            n: 1,
            path: path.into(),
        }
    }

    #[test]
    fn the_cache_lets_the_least_recently_shown_files_go_first() {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str, secs: u64| {
            let p = dir.path().join(name);
            std::fs::write(&p, [0u8; 100]).unwrap();
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000 + secs);
            std::fs::File::options()
                .append(true)
                .open(&p)
                .unwrap()
                .set_modified(t)
                .unwrap();
            p
        };
        let (old, mid, new) = (at("old.jpg", 1), at("mid.jpg", 2), at("new.jpg", 3));
        let part = dir.path().join(".new.jpg.part");
        std::fs::write(&part, [0u8; 100]).unwrap();
        // Under the limit: nothing goes.
        trim(dir.path(), &new, 300);
        assert!(old.exists() && mid.exists() && new.exists());
        // Over it: the oldest go until three quarters of it; the one being shown stays even
        // when it is the oldest, and a half-written file is not counted or touched.
        let shown = at("shown.jpg", 0);
        trim(dir.path(), &shown, 300);
        assert!(!old.exists() && !mid.exists(), "the two oldest gone");
        assert!(new.exists() && shown.exists() && part.exists());
    }

    #[test]
    fn the_servers_refusals_are_told_apart_and_only_the_passing_ones_are_asked_again() {
        let told = |code| FetchError::from_answer(404, code, "");
        assert_eq!(told("not_stored"), FetchError::NotStored);
        assert_eq!(told("elsewhere"), FetchError::Elsewhere);
        assert_eq!(told("forbidden_scope"), FetchError::Forbidden);
        assert_eq!(told("not_found"), FetchError::NotFound);
        assert!(told("not_stored").passes());
        assert!(!told("elsewhere").passes() && !told("forbidden").passes());
        // Anything else (a proxy's 502, the store's 503) is the server being away.
        let other = FetchError::from_answer(503, "storage\x1b[2J", "try again");
        assert!(other.passes());
        assert_eq!(
            other,
            FetchError::Unreachable("503 storage[2J try again".into())
        );
    }

    #[test]
    fn a_cached_file_keeps_the_gateways_name_and_nothing_that_climbs_out() {
        assert_eq!(
            cache_name(&at("/var/lib/mcu/files/AgADBAAD.jpg")),
            "2026-000042-1-AgADBAAD.jpg"
        );
        assert_eq!(cache_name(&at("/x/../..")), "2026-000042-1.bin");
        assert_eq!(cache_name(&at("/x/.hidden")), "2026-000042-1-hidden");
        assert_eq!(cache_name(&at("C:\\a\\b.png")), "2026-000042-1-Cab.png");
        assert_eq!(cache_name(&at("")), "2026-000042-1.bin");
        assert_eq!(cache_name(&at("/f/фото 1.jpg")), "2026-000042-1-1.jpg");
        let odd = FileRef {
            number: "../../etc".into(),
            ..at("/f/a.jpg")
        };
        assert_eq!(cache_name(&odd), "etc-1-a.jpg");
    }
}
