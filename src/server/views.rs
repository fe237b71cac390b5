//! Views a shift lead shares with the team (`/v1/team/views`), which every console of the
//! scope then shows beside its operator's own. Kept as shifts are (server/team.rs): one small
//! document per (scope, view name) beside the gateways' shared state, not a change consoles
//! pull; they reach the consoles with `GET /v1/team`. Only a lead (or an admin) shares and
//! takes back; the server checks the name and the size, the consoles the filter's words (they
//! know the catalog they list with).

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::engine::{Principal, Role, ServerError, Transactional};
use super::http::{Backend, Reach, Server};
use super::team::{TeamError, check_scope, error, run};
use crate::domain::views::{self, MAX_VIEWS, SavedView, ViewError};
use crate::wire::team::{ViewShare, ViewUnshare};

fn kind(scope: &str) -> String {
    format!("view:{scope}")
}

/// A lead's call; anyone else is told why not.
fn lead_only(who: &Principal) -> Result<(), TeamError> {
    match who.role {
        Role::Lead | Role::Admin => Ok(()),
        Role::Operator => Err(TeamError::Forbidden(
            "only a shift lead shares views with the team or takes them back".into(),
        )),
        Role::Viewer => Err(TeamError::ReadOnly),
        Role::Gateway | Role::Integration | Role::Department => {
            Err(TeamError::Forbidden("not a member of the team".into()))
        }
    }
}

/// The scope's shared views, in the order they were first shared.
pub fn shared<S: Transactional>(store: &S, scope: &str) -> Result<Vec<SavedView>, TeamError> {
    check_scope(scope)?;
    let docs = store.in_snapshot(|tx| tx.gw_list(&kind(scope)))?;
    // A document this program cannot read is left out, not an outage of the whole team call.
    let list = docs
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_value(v).ok())
        .collect();
    Ok(views::sorted(list))
}

/// `who` shares `share.view` with the scope, or shares it again changed (it keeps its place).
pub fn share<S: Transactional>(
    store: &S,
    who: &Principal,
    share: &ViewShare,
    now: DateTime<Utc>,
) -> Result<SavedView, TeamError> {
    check_scope(&share.scope_id)?;
    lead_only(who)?;
    let mut view = views::check(&share.view, &[]).map_err(|e| TeamError::Bad(e.to_string()))?;
    let kind = kind(&share.scope_id);
    let kept = store.in_tx(|tx| {
        let key = views::key(&view.name);
        let old: Option<SavedView> = tx
            .gw_get(&kind, &key)?
            .and_then(|v| serde_json::from_value(v).ok());
        if old.is_none() && tx.gw_list(&kind)?.len() >= MAX_VIEWS {
            return Ok(Err(ViewError::TooMany));
        }
        view.shared_by = Some(who.user.clone());
        view.since = old.map_or(now, |o| o.since);
        let doc = serde_json::to_value(&view).map_err(|e| ServerError::Corrupt(e.to_string()))?;
        tx.gw_put(&kind, &key, &doc)?;
        Ok(Ok(view))
    })?;
    kept.map_err(|e| TeamError::Bad(e.to_string()))
}

/// `who` takes the view back from the scope: the view as it was shared.
pub fn unshare<S: Transactional>(
    store: &S,
    who: &Principal,
    req: &ViewUnshare,
) -> Result<SavedView, TeamError> {
    check_scope(&req.scope_id)?;
    lead_only(who)?;
    let kind = kind(&req.scope_id);
    let key = views::key(&req.name);
    let old = store.in_tx(|tx| {
        let old = tx.gw_get(&kind, &key)?;
        if old.is_some() {
            tx.gw_del(&kind, &key)?;
        }
        Ok(old)
    })?;
    old.and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| {
            TeamError::NotFound(format!(
                "the team has no view named `{}`",
                crate::sanitize::line(&req.name)
            ))
        })
}

pub(super) async fn share_route<S: Backend>(
    State(app): State<Server<S>>,
    Extension(who): Extension<Principal>,
    Extension(reach): Extension<Reach>,
    body: Bytes,
) -> Response {
    let req: ViewShare = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return error(TeamError::Bad(format!("request body: {e}"))),
    };
    if let Some(r) = reach.refuse(&req.scope_id) {
        return r;
    }
    let a = app.clone();
    match run(move || share(&a.store, &who, &req, Utc::now())).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(r) => r,
    }
}

pub(super) async fn unshare_route<S: Backend>(
    State(app): State<Server<S>>,
    Extension(who): Extension<Principal>,
    Extension(reach): Extension<Reach>,
    body: Bytes,
) -> Response {
    let req: ViewUnshare = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return error(TeamError::Bad(format!("request body: {e}"))),
    };
    if let Some(r) = reach.refuse(&req.scope_id) {
        return r;
    }
    let a = app.clone();
    match run(move || unshare(&a.store, &who, &req)).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(r) => r,
    }
}
