//! The server's one shape of error answer (JSON with an `error` code and, for people, a
//! `message`), and how the store's errors map onto statuses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::server::engine::ServerError;
use crate::wire::sync::SCHEMA_VERSION;

/// An error answer: always JSON with an `error` code; `message` for people when there is more
/// to say.
#[derive(Debug)]
pub(in crate::server) struct ApiError {
    status: StatusCode,
    code: &'static str,
    pub(super) message: Option<String>,
    /// More fields of the body, for the client to act on (the versions of a `schema` refusal).
    extra: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ApiError {
    pub(in crate::server) fn new(
        status: StatusCode,
        code: &'static str,
        message: Option<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            message,
            extra: None,
        }
    }

    pub(super) fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            Some("missing or unknown token: send Authorization: Bearer <token>".into()),
        )
    }

    pub(super) fn bad_request(message: String) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", Some(message))
    }
}

impl From<ServerError> for ApiError {
    fn from(e: ServerError) -> ApiError {
        let message = Some(e.to_string());
        match e {
            // Both versions, so the console can say which side to update.
            ServerError::Schema(v) => ApiError {
                extra: json!({ "client_version": v, "server_version": SCHEMA_VERSION })
                    .as_object()
                    .cloned(),
                ..ApiError::new(StatusCode::BAD_REQUEST, "schema", message)
            },
            ServerError::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            ServerError::Fenced(_) => ApiError::new(StatusCode::CONFLICT, "fenced", message),
            ServerError::ReadOnly(_) => ApiError::new(StatusCode::FORBIDDEN, "read_only", message),
            // The client re-registers and re-pushes (docs/sync-protocol.md §4).
            ServerError::ClientUnknown => {
                ApiError::new(StatusCode::CONFLICT, "client_unknown", None)
            }
            // Temporary as far as the client can tell: it retries with backoff. The store's
            // own words (table names, SQL, values) stay in the server's log.
            ServerError::Storage(_) => {
                tracing::error!(error = %e, "store");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage", None)
            }
            ServerError::Corrupt(_) => {
                tracing::error!(error = %e, "store");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "corrupt", None)
            }
            // A push turns these into refusals; elsewhere (a pull) it is the store's fault.
            ServerError::Unstorable(_) => {
                tracing::error!(error = %e, "store");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage", None)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.code });
        if let Some(m) = self.message {
            body["message"] = m.into();
        }
        for (k, v) in self.extra.into_iter().flatten() {
            body[k] = v;
        }
        let mut resp = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_map_to_statuses() {
        let s = |e: ServerError| ApiError::from(e).status;
        assert_eq!(s(ServerError::Schema(9)), StatusCode::BAD_REQUEST);
        assert_eq!(
            s(ServerError::Forbidden(uuid::Uuid::nil())),
            StatusCode::FORBIDDEN
        );
        assert_eq!(s(ServerError::ClientUnknown), StatusCode::CONFLICT);
        assert_eq!(
            s(ServerError::Storage("x".into())),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            s(ServerError::Corrupt("x".into())),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
