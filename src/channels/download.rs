//! A citizen's file that a channel hands over as a plain URL (VK's CDN, a platform's
//! `media_url`): fetched with a size cap, its name from the URL's last path segment.

use std::time::Duration;

use super::FileOutcome;

/// `gone` is what the operator reads when the source answers 404/410.
pub async fn by_url(http: &reqwest::Client, url: &str, max_bytes: u64, gone: &str) -> FileOutcome {
    let resp = match http.get(url).timeout(Duration::from_secs(120)).send().await {
        Ok(r) => r,
        Err(e) => return FileOutcome::RetryLater(e.without_url().to_string()),
    };
    match resp.status().as_u16() {
        200 => {}
        404 | 410 => return FileOutcome::Failed(gone.into()),
        s => return FileOutcome::RetryLater(format!("download answered HTTP {s}")),
    }
    if resp.content_length().is_some_and(|l| l > max_bytes) {
        return FileOutcome::TooLarge {
            size: resp.content_length(),
        };
    }
    let name = reqwest::Url::parse(url).ok().and_then(|u| {
        u.path_segments()
            .and_then(|mut s| s.next_back().map(str::to_string))
    });
    match resp.bytes().await {
        Ok(b) if b.len() as u64 > max_bytes => FileOutcome::TooLarge {
            size: Some(b.len() as u64),
        },
        Ok(b) => FileOutcome::Stored {
            bytes: b.to_vec(),
            name,
        },
        Err(e) => FileOutcome::RetryLater(e.without_url().to_string()),
    }
}
