//! The console's side of sync: push the journal, pull the server's changes, remember the
//! refusals for the operator. The client id belongs to the database file (`meta`), so a
//! copied or restored file is caught by the server's rules, not trusted.

use std::future::Future;

use crate::store::Store;
use crate::store::mirror::{self, Journaled, Rejected};
use crate::wire::sync::{
    Cookie, MutationResult, PullRequest, PullResponse, PushMutation, PushRequest, PushResponse,
    SCHEMA_VERSION, Verdict,
};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server can't be reached or answered 5xx: try again later, nothing is lost.
    #[error("server unavailable: {0}")]
    Unavailable(String),
    /// The server does not know this file's client id although it pushed before.
    #[error("the server does not know this console (client_unknown)")]
    ClientUnknown,
    /// The account only reads (`viewer`): the console's own actions can't be taken.
    #[error("this account is read-only")]
    ReadOnly,
    /// The account was disabled on the server (`mcu user disable`).
    #[error("this account is disabled")]
    Disabled,
    /// The account does not reach this scope (city) on the server.
    #[error("this account does not reach this scope")]
    OutOfScope,
    /// The console and the server speak different versions of the sync protocol: the older
    /// of the two must be updated (`present::skew`). `server` is the server's version when it
    /// said it. Nothing is lost: actions wait in the console's file.
    #[error("sync protocol versions differ: console {console}, server {server:?}")]
    Version {
        /// The console's version as the server read it.
        console: u32,
        server: Option<u32>,
    },
    /// A 4xx that retrying won't fix (a revoked token, another operator's file).
    #[error("refused by the server: {0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// How the console reaches a server: HTTP in real life, the engine itself in tests.
pub trait Transport: Send + Sync {
    fn push(
        &self,
        req: PushRequest,
    ) -> impl Future<Output = Result<PushResponse, SyncError>> + Send;
    fn pull(
        &self,
        req: PullRequest,
    ) -> impl Future<Output = Result<PullResponse, SyncError>> + Send;
    /// Downloads the server's copy of a console file for this scope into `dest`
    /// (`server::seed`); false when the server has none to give.
    fn seed(
        &self,
        _scope: &str,
        _dest: &std::path::Path,
    ) -> impl Future<Output = Result<bool, SyncError>> + Send {
        async { Ok(false) }
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// Requests in the server's copy this file started from (its first sync), if it did.
    pub from_copy: Option<i64>,
    pub pushed: usize,
    pub rejected: Vec<Rejected>,
    pub pulled: usize,
    pub pending: i64,
    /// The server turned out restored to an earlier point (store/reset.rs): this console sent
    /// its confirmed work again and dropped what the server no longer has.
    pub server_restored: bool,
}

const PUSH_PAGE: usize = 100;
/// The most one push body carries: half the server's default limit (8 MiB), so a batch of
/// long texts is sent in several bodies rather than refused whole, again and again.
pub const PUSH_BODY_MAX: usize = 4 * 1024 * 1024;

/// The head of `batch` that fits one body, as the wire carries it. An action that alone is
/// over the limit (journaled before texts were bounded) goes shrunk, for the server to refuse.
pub fn fit(batch: &[Journaled], base: i64) -> Vec<PushMutation> {
    let size = |m: &crate::domain::Mutation| serde_json::to_vec(m).map_or(usize::MAX, |v| v.len());
    let mut out = vec![];
    let mut total = 0;
    for j in batch {
        let mut mutation = j.mutation.clone();
        let mut bytes = size(&mutation);
        if bytes > PUSH_BODY_MAX {
            mutation = crate::domain::fields::shrink(&mutation);
            bytes = size(&mutation);
        }
        if !out.is_empty() && total + bytes > PUSH_BODY_MAX {
            break;
        }
        total += bytes;
        out.push(PushMutation {
            id: j.local_id - base,
            base_seq: j.base_seq,
            mutation,
        });
    }
    out
}
/// The `meta` key of how far the file has pulled.
pub use crate::store::meta::COOKIE;

/// Sends the journal, page by page, until what was waiting when it started is sent or the
/// server stops taking. Actions taken meanwhile wait for the next round: an operator who
/// keeps working must not keep the round from its pull.
pub async fn push_all<T: Transport>(
    store: &Store,
    t: &T,
    scope: &str,
) -> Result<(usize, Vec<Rejected>), SyncError> {
    let mut pushed = 0;
    let mut rejected = vec![];
    let mut rotated = false;
    let upto = store.last_journaled().await?;
    loop {
        let me = store.sync_identity().await?;
        let mut batch = store.unacked(PUSH_PAGE).await?;
        batch.retain(|j| j.local_id <= upto);
        if batch.is_empty() {
            return Ok((pushed, rejected));
        }
        let req = PushRequest {
            client_id: me.client_id,
            schema_version: SCHEMA_VERSION,
            scope_id: scope.to_string(),
            mutations: fit(&batch, me.base),
            fence: None,
        };
        let resp = match t.push(req).await {
            Err(SyncError::ClientUnknown) if !rotated => {
                rotated = true;
                store.rotate_client_id().await?;
                continue;
            }
            Err(SyncError::ReadOnly) => {
                // Refused for good: shown once and let go, so the pulls behind them go on.
                let refused = refuse_all(store, &batch).await?;
                pushed += refused.len();
                rejected.extend(refused);
                continue;
            }
            other => other?,
        };
        let at = store.now();
        let by_id: std::collections::HashMap<i64, &Journaled> =
            batch.iter().map(|j| (j.local_id - me.base, j)).collect();
        let mut settled = 0;
        let results: Vec<MutationResult> = resp.results;
        let mut newly_rejected = vec![];
        for r in &results {
            let Some(j) = by_id.get(&r.id) else { continue };
            if r.status == Verdict::Rejected {
                newly_rejected.push(Rejected {
                    mutation_uuid: j.mutation.id,
                    request_id: j.mutation.request_id,
                    number: None,
                    code: r.code.clone().unwrap_or_else(|| "rejected".into()),
                    message: r.message.clone().unwrap_or_default(),
                    current: r.current.clone(),
                    draft: draft(&j.mutation.op),
                    changed_by: r.changed_by.clone(),
                    changed_at: r.changed_at,
                });
            }
            settled += 1;
        }
        let acked: Vec<i64> = results
            .iter()
            .filter_map(|r| by_id.get(&r.id).map(|j| j.local_id))
            .collect();
        let to_store = newly_rejected.clone();
        let refused: Vec<crate::domain::Op> = results
            .iter()
            .filter(|r| r.status == Verdict::Rejected)
            .filter_map(|r| by_id.get(&r.id).map(|j| j.mutation.op.clone()))
            .collect();
        store.settle_push(acked, to_store, refused, at).await?;
        pushed += settled;
        rejected.extend(newly_rejected);
        if settled == 0 {
            // A gap or nothing taken: stop rather than spin; the next round tries again.
            return Ok((pushed, rejected));
        }
    }
}

/// What of a refused action the operator would otherwise lose: a reply's text.
fn draft(op: &crate::domain::Op) -> Option<String> {
    match op {
        crate::domain::Op::Reply { body, .. } => Some(body.clone()),
        _ => None,
    }
}

async fn refuse_all(store: &Store, batch: &[Journaled]) -> Result<Vec<Rejected>, SyncError> {
    let refused: Vec<(i64, Rejected)> = batch
        .iter()
        .map(|j| {
            (
                j.local_id,
                Rejected {
                    mutation_uuid: j.mutation.id,
                    request_id: j.mutation.request_id,
                    number: None,
                    code: "read_only".into(),
                    message: "read-only account: the server takes no changes from it".into(),
                    current: None,
                    draft: draft(&j.mutation.op),
                    changed_by: None,
                    changed_at: None,
                },
            )
        })
        .collect();
    let out = refused.iter().map(|(_, r)| r.clone()).collect();
    store.refuse_journaled(refused, store.now()).await?;
    Ok(out)
}

/// Changes per page asked for while catching up (the server's largest page): fewer round
/// trips, and a request changed several times within one page comes once.
const CATCH_UP_PAGE: usize = crate::wire::limits::PULL_PAGE_MAX;

/// Pulls until the server has nothing more, writing each page over the local rows. While a
/// page is written the next one is already asked for and parsed, so a long catch-up keeps
/// the server, the parsing and the console's disk busy at the same time.
pub async fn pull_all<T: Transport>(store: &Store, t: &T, scope: &str) -> Result<usize, SyncError> {
    let me = store.sync_identity().await?;
    // The first page at the server's everyday size; only a console that turns out to be
    // behind asks for large ones.
    let ask = |cookie: Option<Cookie>, limit: Option<usize>| PullRequest {
        client_id: me.client_id,
        schema_version: SCHEMA_VERSION,
        scope_id: scope.to_string(),
        cookie,
        limit,
    };
    let ask = &ask;
    let fetch = |cookie: Option<Cookie>, limit: Option<usize>| async move {
        let page = t.pull(ask(cookie, limit)).await?;
        let n = page.patch.len();
        let patch = page.patch;
        // Parsing is CPU work of its own, kept off the store's thread and the runtime's.
        let pulled = tokio::task::spawn_blocking(move || mirror::parse_patch(&patch))
            .await
            .map_err(|e| SyncError::Unavailable(e.to_string()))??;
        // Journal rows up to this one the server has taken (read in the page's snapshot).
        let taken = me.base + page.last_mutation_id;
        Ok::<_, SyncError>((page.cookie, page.more, n, pulled, taken, page.reset))
    };
    let cookie: Option<Cookie> = store
        .sync_cookie()
        .await?
        .and_then(|s| serde_json::from_str(&s).ok());
    // `reset` on a first pull is only the start of the history; after one it means the server
    // was restored to an earlier point.
    let followed = cookie.is_some();
    let mut current = fetch(cookie, None).await?;
    let mut total = 0;
    loop {
        let (cookie, more, n, pulled, taken, reset) = current;
        total += n;
        let step = mirror::Step {
            cookie: serde_json::to_string(&cookie).unwrap_or_default(),
            taken,
            reset: reset && followed,
            last: !more,
        };
        let write = store.write_pulled(pulled, step);
        if !more {
            write.await?;
            return Ok(total);
        }
        // The next page is asked for with this page's cookie; should writing this one fail,
        // that answer is dropped and the stored cookie still says where to resume.
        let (written, fetched) = tokio::join!(write, fetch(Some(cookie), Some(CATCH_UP_PAGE)));
        written?;
        current = fetched?;
    }
}

/// One round: push, then pull (so the pull already carries the server's answer to the push).
pub async fn sync_once<T: Transport>(
    store: &Store,
    t: &T,
    scope: &str,
) -> Result<Report, SyncError> {
    let (pushed, rejected) = push_all(store, t, scope).await?;
    let from_copy = start_from_copy(store, t, scope).await?;
    let resets = || store.server_resets();
    let before = resets().await?;
    let pulled = pull_all(store, t, scope).await?;
    let server_restored = resets().await? != before;
    let pending = store.pending_count().await?;
    Ok(Report {
        from_copy,
        pushed,
        rejected,
        pulled,
        pending,
        server_restored,
    })
}

/// A file that has never pulled and holds nothing of its own starts from the server's copy
/// of a console file, when the server has one: seconds instead of writing the scope's whole
/// history row by row. Anything short of a good copy leaves the file as it was, to pull
/// everything as it would have anyway.
async fn start_from_copy<T: Transport>(
    store: &Store,
    t: &T,
    scope: &str,
) -> Result<Option<i64>, SyncError> {
    let Some(dir) = store.adoptable_dir().await? else {
        return Ok(None);
    };
    // Beside the file: the copy is as large as the file will be, and a temporary
    // directory may be a small RAM disk.
    let tmp = match tempfile::Builder::new()
        .prefix(".seed-download-")
        .tempfile_in(&dir)
    {
        Ok(t) => t.into_temp_path(),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "no room for the server's copy");
            return Ok(None);
        }
    };
    match t.seed(scope, &tmp).await {
        Ok(true) => {}
        Ok(false) => return Ok(None),
        Err(e) => {
            tracing::warn!(error = %e, "the server's copy could not be downloaded");
            return Ok(None);
        }
    }
    let path = tmp.to_path_buf();
    let adopted = store.adopt(path).await;
    drop(tmp);
    match adopted {
        Ok(Ok(n)) => {
            tracing::info!(requests = n, "started from the server's copy");
            Ok(Some(n))
        }
        Ok(Err(why)) => {
            tracing::info!(?why, "the server's copy was not taken");
            Ok(None)
        }
        Err(e) => {
            tracing::warn!(error = %e, "the server's copy could not be taken");
            Ok(None)
        }
    }
}

/// The HTTP transport: JSON to `mcu serve` with the operator's token.
pub struct Http {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Http {
    pub fn new(base: &str, token: &str) -> Result<Http, SyncError> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()
            .map_err(|e| SyncError::Unavailable(e.to_string()))?;
        Ok(Http {
            client,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        })
    }

    async fn post<Q: serde::Serialize, A: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &Q,
    ) -> Result<A, SyncError> {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .map_err(|e| SyncError::Unavailable(e.without_url().to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return resp
                .json()
                .await
                .map_err(|e| SyncError::Unavailable(e.without_url().to_string()));
        }
        let text = resp.text().await.unwrap_or_default();
        Err(failure(status, text))
    }
}

/// A `schema` refusal's versions: this server's own fields, or an older server's words
/// ("this server speaks N"), which name only its own.
fn version_skew(text: &str) -> Option<SyncError> {
    let body: serde_json::Value = serde_json::from_str(text).ok()?;
    if body["error"] != "schema" {
        return None;
    }
    let number = |v: &serde_json::Value| v.as_u64().and_then(|n| u32::try_from(n).ok());
    let server = number(&body["server_version"]).or_else(|| {
        let message = body["message"].as_str()?;
        let (_, after) = message.split_once("this server speaks ")?;
        after
            .trim_end_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .ok()
    });
    Some(SyncError::Version {
        console: number(&body["client_version"]).unwrap_or(SCHEMA_VERSION),
        server,
    })
}

/// A refusal by its status and body: what may be retried and what may not.
fn failure(status: reqwest::StatusCode, text: String) -> SyncError {
    if status == reqwest::StatusCode::BAD_REQUEST
        && let Some(skew) = version_skew(&text)
    {
        return skew;
    }
    if status == reqwest::StatusCode::CONFLICT && text.contains("client_unknown") {
        return SyncError::ClientUnknown;
    }
    if status == reqwest::StatusCode::FORBIDDEN && text.contains("read_only") {
        return SyncError::ReadOnly;
    }
    if status == reqwest::StatusCode::FORBIDDEN && text.contains("\"disabled\"") {
        return SyncError::Disabled;
    }
    if status == reqwest::StatusCode::FORBIDDEN && text.contains("forbidden_scope") {
        return SyncError::OutOfScope;
    }
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return SyncError::Unavailable(format!("{status}: {text}"));
    }
    SyncError::Refused(format!("{status}: {text}"))
}

impl Transport for Http {
    async fn push(&self, req: PushRequest) -> Result<PushResponse, SyncError> {
        self.post("/v1/sync/push", &req).await
    }

    async fn pull(&self, req: PullRequest) -> Result<PullResponse, SyncError> {
        self.post("/v1/sync/pull", &req).await
    }

    async fn seed(&self, scope: &str, dest: &std::path::Path) -> Result<bool, SyncError> {
        use tokio::io::AsyncWriteExt;
        let down = |e: reqwest::Error| SyncError::Unavailable(e.without_url().to_string());
        let mut resp = self
            .client
            .get(format!("{}/v1/seed", self.base))
            .query(&[("scope", scope)])
            .bearer_auth(&self.token)
            // A city's year is a gigabyte: the everyday 30 s would cut it on a slow link.
            .timeout(std::time::Duration::from_secs(3600))
            .send()
            .await
            .map_err(down)?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND
            || status == reqwest::StatusCode::SERVICE_UNAVAILABLE
        {
            return Ok(false);
        }
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            return Err(failure(status, text));
        }
        let expected = resp.content_length();
        let local = |e: std::io::Error| {
            SyncError::Store(crate::store::StoreError::Open(format!(
                "{}: {e}",
                dest.display()
            )))
        };
        let mut file = tokio::fs::File::create(dest).await.map_err(local)?;
        let mut got = 0u64;
        while let Some(chunk) = resp.chunk().await.map_err(down)? {
            got += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(local)?;
        }
        file.flush().await.map_err(local)?;
        if expected.is_some_and(|n| n != got) {
            return Err(SyncError::Unavailable(format!(
                "the server's copy was cut short ({got} of {} bytes)",
                expected.unwrap_or_default()
            )));
        }
        Ok(true)
    }
}

#[cfg(test)]
mod skew_tests {
    use super::*;

    /// #20: a `schema` refusal is a version skew with both versions, from this server's fields
    /// or an older server's words; other 400s stay refusals.
    #[test]
    fn a_schema_refusal_is_a_version_skew() {
        let bad = reqwest::StatusCode::BAD_REQUEST;
        let newer = failure(
            bad,
            r#"{"error":"schema","client_version":2,"server_version":1}"#.into(),
        );
        assert!(
            matches!(
                newer,
                SyncError::Version {
                    console: 2,
                    server: Some(1)
                }
            ),
            "{newer:?}"
        );
        let older = failure(
            bad,
            r#"{"error":"schema","message":"schema version 1 is not supported (this server speaks 3)"}"#
                .into(),
        );
        assert!(
            matches!(
                older,
                SyncError::Version {
                    console: SCHEMA_VERSION,
                    server: Some(3)
                }
            ),
            "{older:?}"
        );
        let other = failure(bad, r#"{"error":"bad_request","message":"x"}"#.into());
        assert!(matches!(other, SyncError::Refused(_)), "{other:?}");
    }
}
