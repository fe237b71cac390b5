//! The team as every console sees it (`/v1/team`): the channels this server works and how
//! they are doing, who is on shift, and the views shift leads shared (server/views.rs). A
//! shift lead marks operators on and off shift; an operator marks only themself.
//!
//! Shifts are kept in the store beside the gateways' shared state, one small document per
//! (scope, operator): unlike presence they must outlive a restart and be the same on every
//! replica, and unlike requests they are nobody's case history, so they are not changes the
//! consoles pull. Nobody marked is on shift: a team that does not keep shifts sees everyone
//! offered for assignment, as before.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::engine::{Principal, Role, ServerError, Transactional};
use super::http::{Backend, Reach, Server};
use crate::wire::team::{ShiftChange, StaffMember, TeamStatus};

/// Scope ids are short city names; this bounds what a client can make the server keep.
const MAX_SCOPE_LEN: usize = 100;

#[derive(Debug, Serialize, Deserialize)]
struct Mark {
    on_shift: bool,
    by: String,
    at: DateTime<Utc>,
}

/// Why a team call was refused, in the server's English (the console words it).
#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("{0}")]
    Bad(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("a view-only account changes nothing")]
    ReadOnly,
    /// What the call names is not there (a view nobody shared).
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] ServerError),
}

fn kind(scope: &str) -> String {
    format!("shift:{scope}")
}

pub(super) fn check_scope(scope: &str) -> Result<(), TeamError> {
    if scope.trim().is_empty() || scope.len() > MAX_SCOPE_LEN {
        return Err(TeamError::Bad(format!(
            "scope_id: 1 to {MAX_SCOPE_LEN} bytes"
        )));
    }
    Ok(())
}

/// Operators and leads of the server, sorted by name, each marked on or off shift in `scope`.
pub fn staff<S: Transactional>(store: &S, scope: &str) -> Result<Vec<StaffMember>, TeamError> {
    check_scope(scope)?;
    let staff = store.in_snapshot(|tx| {
        let marks: std::collections::HashMap<String, Mark> = tx
            .gw_list(&kind(scope))?
            .into_iter()
            // A document this program cannot read counts as never marked, not as an outage.
            .filter_map(|(user, v)| serde_json::from_value(v).ok().map(|m| (user, m)))
            .collect();
        let mut staff: Vec<StaffMember> = tx
            .accounts()?
            .into_iter()
            .filter(|a| matches!(a.role, Role::Operator | Role::Lead | Role::Admin))
            .map(|a| {
                let mark = marks.get(&a.name);
                StaffMember {
                    lead: a.role != Role::Operator,
                    on_shift: mark.is_none_or(|m| m.on_shift),
                    marked_by: mark.map(|m| m.by.clone()),
                    marked_at: mark.map(|m| m.at),
                    user: a.name,
                }
            })
            .collect();
        staff.sort_by(|a, b| a.user.cmp(&b.user));
        Ok(staff)
    })?;
    Ok(staff)
}

/// Marks `change.user` on or off shift as `who`: a lead (or admin) marks anyone, an operator
/// only themself, a viewer nobody.
pub fn set_shift<S: Transactional>(
    store: &S,
    who: &Principal,
    change: &ShiftChange,
    now: DateTime<Utc>,
) -> Result<StaffMember, TeamError> {
    check_scope(&change.scope_id)?;
    match who.role {
        Role::Lead | Role::Admin => {}
        Role::Operator if who.user == change.user => {}
        Role::Operator => {
            return Err(TeamError::Forbidden(
                "an operator marks only themself on or off shift; the others are a shift lead's"
                    .into(),
            ));
        }
        Role::Viewer => return Err(TeamError::ReadOnly),
        Role::Gateway | Role::Integration | Role::Department => {
            return Err(TeamError::Forbidden("not a member of the team".into()));
        }
    }
    let target = store.in_tx(|tx| {
        let Some(account) = tx.accounts()?.into_iter().find(|a| a.name == change.user) else {
            return Ok(None);
        };
        if !matches!(account.role, Role::Operator | Role::Lead | Role::Admin) {
            return Ok(None);
        }
        let mark = Mark {
            on_shift: change.on_shift,
            by: who.user.clone(),
            at: now,
        };
        let doc = serde_json::to_value(&mark).map_err(|e| ServerError::Corrupt(e.to_string()))?;
        tx.gw_put(&kind(&change.scope_id), &change.user, &doc)?;
        Ok(Some(StaffMember {
            user: account.name,
            lead: account.role != Role::Operator,
            on_shift: change.on_shift,
            marked_by: Some(mark.by),
            marked_at: Some(now),
        }))
    })?;
    target.ok_or_else(|| {
        TeamError::Bad(format!(
            "no operator or shift lead named `{}` on this server",
            crate::sanitize::line(&change.user)
        ))
    })
}

#[derive(Deserialize)]
struct TeamQuery {
    scope_id: String,
}

/// `GET /v1/team`, `POST /v1/team/shift`, `POST /v1/team/views` and
/// `/v1/team/views/unshare`. The caller adds the token check.
pub(super) fn routes<S: Backend>() -> Router<Server<S>> {
    Router::new()
        .route("/v1/team", get(team::<S>))
        .route("/v1/team/shift", post(shift::<S>))
        .route("/v1/team/views", post(super::views::share_route::<S>))
        .route(
            "/v1/team/views/unshare",
            post(super::views::unshare_route::<S>),
        )
}

pub(super) fn error(e: TeamError) -> Response {
    let (status, code) = match &e {
        TeamError::Bad(_) => (StatusCode::BAD_REQUEST, "bad_request"),
        TeamError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        TeamError::ReadOnly => (StatusCode::FORBIDDEN, "read_only"),
        TeamError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        TeamError::Store(_) => {
            tracing::error!(error = %e, "team");
            (StatusCode::SERVICE_UNAVAILABLE, "storage")
        }
    };
    // The store's own words stay in the log.
    let message = match &e {
        TeamError::Store(_) => "the server's store is unavailable".to_string(),
        other => other.to_string(),
    };
    (
        status,
        axum::Json(serde_json::json!({ "error": code, "message": message })),
    )
        .into_response()
}

pub(super) async fn run<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, TeamError> + Send + 'static,
) -> Result<R, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(error),
        Err(e) => Err(error(ServerError::Storage(e.to_string()).into())),
    }
}

async fn team<S: Backend>(
    State(app): State<Server<S>>,
    Extension(who): Extension<Principal>,
    Extension(reach): Extension<Reach>,
    Query(q): Query<TeamQuery>,
) -> Response {
    if let Some(r) = reach.refuse(&q.scope_id) {
        return r;
    }
    let a = app.clone();
    let scope = q.scope_id.clone();
    let (staff, views) = match run(move || {
        Ok((
            staff(&a.store, &scope)?,
            super::views::shared(&a.store, &scope)?,
        ))
    })
    .await
    {
        Ok(s) => s,
        Err(r) => return r,
    };
    let channels = app
        .opts
        .channels
        .iter()
        .filter(|m| m.scope == q.scope_id)
        .map(|m| m.health())
        .collect();
    let me = crate::wire::team::Me {
        role: who.role.as_str().to_string(),
        departments: who.departments.map(|d| d.departments).unwrap_or_default(),
    };
    axum::Json(TeamStatus {
        channels,
        staff,
        views,
        me: Some(me),
    })
    .into_response()
}

async fn shift<S: Backend>(
    State(app): State<Server<S>>,
    Extension(who): Extension<Principal>,
    Extension(reach): Extension<Reach>,
    body: Bytes,
) -> Response {
    let change: ShiftChange = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return error(TeamError::Bad(format!("request body: {e}"))),
    };
    if let Some(r) = reach.refuse(&change.scope_id) {
        return r;
    }
    let a = app.clone();
    match run(move || set_shift(&a.store, &who, &change, Utc::now())).await {
        Ok(member) => axum::Json(member).into_response(),
        Err(r) => r,
    }
}
