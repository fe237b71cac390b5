//! `GET /v1/files`: the files a citizen (or a department) sent, for consoles on other machines.
//! The gateway inside `mcu serve` fetches them into its `files_dir`, and a request's
//! attachment names that path, which means nothing on an operator's own machine. This route
//! hands the bytes over to whoever may read the request: an operator or lead of its scope, or
//! a department account it is forwarded to.
//!
//! Only files inside this server's `files_dir` are served, whatever path a document names:
//! a path in a pushed document is data, not a permission. A file fetched by another replica's
//! gateway is on that replica's disk, and this one says so (`elsewhere`) instead of guessing.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::engine::{Principal, Role};
use super::http::{ApiError, Backend, Reach, Server};
use crate::domain::request::AttachmentState;

/// The largest file handed over: the channels' own limit is 20 MB (Telegram's getFile), so
/// anything bigger in the directory is not a citizen's file.
const MAX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Deserialize)]
struct FileQuery {
    scope_id: String,
    /// The request's number, as operators see it.
    number: String,
    /// The attachment's place in the request's list, from 0.
    n: usize,
}

pub(super) fn routes<S: Backend>() -> Router<Server<S>> {
    Router::new().route("/v1/files", get(file::<S>))
}

fn refusal(status: StatusCode, code: &'static str, message: &str) -> Response {
    ApiError::new(status, code, Some(message.into())).into_response()
}

async fn file<S: Backend>(
    State(app): State<Server<S>>,
    Extension(who): Extension<Principal>,
    Extension(reach): Extension<Reach>,
    Query(q): Query<FileQuery>,
) -> Response {
    if let Some(r) = reach.refuse(&q.scope_id) {
        return r;
    }
    let Some(dir) = app.opts.files_dir.clone() else {
        return refusal(
            StatusCode::NOT_FOUND,
            "elsewhere",
            "this server fetches no files (it runs no channel)",
        );
    };
    let a = app.clone();
    let (scope, number) = (q.scope_id.clone(), q.number.clone());
    let found = tokio::task::spawn_blocking(move || {
        a.store
            .in_snapshot(|tx| tx.request_by_number(&scope, &number))
    })
    .await;
    let request = match found {
        Ok(Ok(Some(r))) => r,
        Ok(Ok(None)) => {
            return refusal(
                StatusCode::NOT_FOUND,
                "not_found",
                "no request of that number",
            );
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "files");
            return refusal(StatusCode::SERVICE_UNAVAILABLE, "storage", "try again");
        }
        Err(e) => {
            tracing::error!(error = %e, "files");
            return refusal(StatusCode::INTERNAL_SERVER_ERROR, "internal", "try again");
        }
    };
    if who.role == Role::Department {
        let departments = who.departments.as_ref().map_or(&[][..], |d| &d.departments);
        if !crate::domain::department::reaches(departments, &request) {
            return refusal(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this request is not forwarded to your department",
            );
        }
    }
    let Some(attachment) = request.attachments.get(q.n) else {
        return refusal(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such file on the request",
        );
    };
    let path = match (&attachment.state, &attachment.local_path) {
        (AttachmentState::Stored, Some(p)) => PathBuf::from(p),
        _ => {
            return refusal(
                StatusCode::NOT_FOUND,
                "not_stored",
                "the file has not been fetched from its channel",
            );
        }
    };
    match tokio::task::spawn_blocking(move || read_within(&dir, &path)).await {
        Ok(Ok(bytes)) => {
            let mut resp = bytes.into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            // A fetched file never changes under its name: the console may keep it.
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=86400"),
            );
            resp
        }
        Ok(Err(Unserved::Elsewhere)) => refusal(
            StatusCode::NOT_FOUND,
            "elsewhere",
            "the file is not on this server's disk (another replica fetched it)",
        ),
        Ok(Err(Unserved::Outside)) => {
            tracing::warn!(number = %q.number, n = q.n, "a file path outside files_dir");
            refusal(
                StatusCode::FORBIDDEN,
                "forbidden",
                "that file is not one this server fetched",
            )
        }
        Ok(Err(Unserved::TooLarge)) => refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the file is larger than any channel sends",
        ),
        Err(e) => {
            tracing::error!(error = %e, "files");
            refusal(StatusCode::INTERNAL_SERVER_ERROR, "internal", "try again")
        }
    }
}

#[derive(Debug, PartialEq)]
enum Unserved {
    /// Not on this disk.
    Elsewhere,
    /// Resolves outside `files_dir` (`..`, a symlink, an absolute path elsewhere).
    Outside,
    TooLarge,
}

/// The file's bytes if it resolves inside `dir`, links and `..` followed first.
fn read_within(dir: &Path, path: &Path) -> Result<Vec<u8>, Unserved> {
    let Ok(dir) = dir.canonicalize() else {
        return Err(Unserved::Elsewhere);
    };
    let Ok(real) = path.canonicalize() else {
        return Err(Unserved::Elsewhere);
    };
    if !real.starts_with(&dir) || !real.is_file() {
        return Err(Unserved::Outside);
    }
    let size = std::fs::metadata(&real)
        .map_err(|_| Unserved::Elsewhere)?
        .len();
    if size > MAX_BYTES {
        return Err(Unserved::TooLarge);
    }
    std::fs::read(&real).map_err(|_| Unserved::Elsewhere)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_inside_the_directory_are_read() {
        let root = tempfile::tempdir().unwrap();
        let files = root.path().join("files");
        std::fs::create_dir(&files).unwrap();
        std::fs::write(files.join("a.jpg"), b"photo").unwrap();
        std::fs::write(root.path().join("secret"), b"token").unwrap();
        assert_eq!(read_within(&files, &files.join("a.jpg")).unwrap(), b"photo");
        assert_eq!(
            read_within(&files, &files.join("../secret")),
            Err(Unserved::Outside)
        );
        assert_eq!(
            read_within(&files, &root.path().join("secret")),
            Err(Unserved::Outside)
        );
        assert_eq!(read_within(&files, &files), Err(Unserved::Outside));
        assert_eq!(
            read_within(&files, &files.join("gone.jpg")),
            Err(Unserved::Elsewhere)
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.path().join("secret"), files.join("link.jpg")).unwrap();
            assert_eq!(
                read_within(&files, &files.join("link.jpg")),
                Err(Unserved::Outside)
            );
        }
    }
}
