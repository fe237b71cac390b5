//! The gate every `/v1` route passes: the bearer token names an account, its role decides the
//! routes it may reach (an integration key none here, a department account its sync only),
//! and its scopes go beside its `Principal` as a `Reach` every route asks before it names a
//! city.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, Backend, Server, blocking};
use crate::server::{accounts, engine};

pub(super) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// Puts the token's `Principal` into the request for the handlers, or answers 401.
pub(super) async fn require_token<S: Backend>(
    State(app): State<Server<S>>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(token) = bearer(req.headers()) else {
        return ApiError::unauthorized().into_response();
    };
    let a = app.clone();
    match blocking(move || accounts::gate(&a.store, &token)).await {
        // An integration's key is for Open311 only: a leaked portal key must not read the
        // consoles' whole store.
        Ok(Some((who, _))) if who.role == engine::Role::Integration => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            Some("an integration key opens only /open311/ routes".into()),
        )
        .into_response(),
        Ok(Some((_, access))) if access.disabled => ApiError::new(
            StatusCode::FORBIDDEN,
            "disabled",
            Some("this account is disabled".into()),
        )
        .into_response(),
        Ok(Some((mut who, access))) => {
            if who.role == engine::Role::Department {
                if !department_route(req.method(), req.uri().path()) {
                    return ApiError::new(
                        StatusCode::FORBIDDEN,
                        "forbidden",
                        Some("a department account only syncs the requests forwarded to it".into()),
                    )
                    .into_response();
                }
                who.departments = Some(engine::DepartmentReach {
                    departments: access.departments.clone(),
                    show_citizen: app.opts.show_citizen,
                });
            }
            app.seen(&who.user);
            let reach = if who.role == engine::Role::Admin {
                Reach::All
            } else {
                Reach::Only(access.scopes)
            };
            req.extensions_mut().insert(who);
            req.extensions_mut().insert(reach);
            next.run(req).await
        }
        Ok(None) => ApiError::unauthorized().into_response(),
        Err(e) => e.into_response(),
    }
}

/// What a department account's console needs: its requests (push, pull, poke), their files
/// (the route checks each is forwarded to it) and the team's status (the channels' health and
/// who is on shift). Not the seed file (every request of the city), nor presence (who looks
/// at which request), nor a lead's calls.
fn department_route(method: &axum::http::Method, path: &str) -> bool {
    matches!(path, "/v1/sync/push" | "/v1/sync/pull" | "/v1/sync/poke")
        || (matches!(path, "/v1/team" | "/v1/files") && method == axum::http::Method::GET)
}

/// The scopes (cities) a token's account reaches, put beside its `Principal` by the gate: every
/// route that names a scope asks it first, so an operator of one city neither reads nor
/// writes another's, and nobody makes a scope (or a `/metrics` label) by naming one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// An admin.
    All,
    Only(Vec<String>),
}

impl Reach {
    pub fn allows(&self, scope: &str) -> bool {
        match self {
            Reach::All => true,
            Reach::Only(s) => s.iter().any(|x| x == scope),
        }
    }

    /// 403 `forbidden_scope` when the account doesn't reach `scope`.
    pub fn refuse(&self, scope: &str) -> Option<Response> {
        if self.allows(scope) {
            return None;
        }
        Some(
            ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden_scope",
                Some("this account does not reach that scope".into()),
            )
            .into_response(),
        )
    }
}
