//! Round-robin assignment at intake (`[assign] mode = "round_robin"`): a new request goes to
//! the next operator on shift in the scope, skipping those already holding `max_open` open
//! requests. Decided on the server, in the transaction that stores the request, so two
//! replicas or two gateways never hand one request to two people, and every console sees the
//! assignment as an ordinary `assign` by `auto`.
//!
//! Each operator's open count is kept beside the shift marks (one small document per scope
//! and operator, updated whenever a request's assignee or openness changes), so choosing costs
//! a few document reads, not a scan of the scope's requests.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::engine::{Role, ServerError, ServerTx};
use crate::domain::Request;
use crate::domain::mutation::{Mutation, Op};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignMode {
    /// A lead assigns, or an operator claims.
    #[default]
    Manual,
    RoundRobin,
}

/// `[assign]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AssignConfig {
    pub mode: AssignMode,
    /// An operator with this many open requests is skipped; 0: no limit.
    pub max_open: u32,
}

/// Who made an automatic assignment, in the audit.
pub const ACTOR: &str = "auto";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Load {
    open: i64,
}

fn load_kind(scope: &str) -> String {
    format!("assign_load:{scope}")
}

fn holder(r: &Request) -> Option<&str> {
    r.status
        .is_open()
        .then_some(r.assignee.as_deref())
        .flatten()
}

/// Keeps the open counts when a request's holder changes (assigned, released, closed,
/// reopened).
pub fn track(
    tx: &mut dyn ServerTx,
    scope: &str,
    before: Option<&Request>,
    after: &Request,
) -> Result<(), ServerError> {
    let (old, new) = (before.and_then(holder), holder(after));
    if old == new {
        return Ok(());
    }
    for (user, delta) in [(old, -1), (new, 1)] {
        let Some(user) = user else { continue };
        let kind = load_kind(scope);
        let mut load: Load = tx
            .gw_get(&kind, user)?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        // Requests held before the count began are not in it: never below zero.
        load.open = (load.open + delta).max(0);
        let doc = serde_json::to_value(&load).map_err(|e| ServerError::Corrupt(e.to_string()))?;
        tx.gw_put(&kind, user, &doc)?;
    }
    Ok(())
}

/// The assignment of a request just stored, when round-robin is on and someone is free.
pub fn next(
    tx: &mut dyn ServerTx,
    cfg: &AssignConfig,
    scope: &str,
    r: &Request,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Mutation>, ServerError> {
    if cfg.mode != AssignMode::RoundRobin
        || r.assignee.is_some()
        || !r.status.is_open()
        || r.is_incident
        || r.incident_id.is_some()
    {
        return Ok(None);
    }
    let shifts = tx.gw_list(&format!("shift:{scope}"))?;
    let off: std::collections::HashSet<String> = shifts
        .into_iter()
        .filter(|(_, v)| v.get("on_shift").and_then(|b| b.as_bool()) == Some(false))
        .map(|(user, _)| user)
        .collect();
    let loads: std::collections::HashMap<String, i64> = tx
        .gw_list(&load_kind(scope))?
        .into_iter()
        .filter_map(|(user, v)| Some((user, serde_json::from_value::<Load>(v).ok()?.open)))
        .collect();
    let mut operators: Vec<String> = tx
        .accounts()?
        .into_iter()
        .filter(|a| a.role == Role::Operator && !a.disabled)
        .filter(|a| a.scopes.iter().any(|s| s == scope))
        .filter(|a| !off.contains(&a.name))
        .filter(|a| {
            cfg.max_open == 0 || loads.get(&a.name).copied().unwrap_or(0) < i64::from(cfg.max_open)
        })
        .map(|a| a.name)
        .collect();
    operators.sort();
    let last = tx
        .gw_get("assign_cursor", scope)?
        .and_then(|v| v.as_str().map(str::to_string));
    // The first after the last one given a request, around the circle.
    let Some(chosen) = last
        .and_then(|l| operators.iter().find(|o| **o > l).cloned())
        .or_else(|| operators.first().cloned())
    else {
        return Ok(None);
    };
    tx.gw_put(
        "assign_cursor",
        scope,
        &serde_json::Value::String(chosen.clone()),
    )?;
    let op = Op::Assign {
        assignee: Some(chosen),
    };
    Ok(Some(Mutation {
        id: derived(r.id),
        ..Mutation::new(r.id, ACTOR, now, op)
    }))
}

fn derived(request: Uuid) -> Uuid {
    crate::domain::ids::named(&[b"mcu-auto-assign:", request.as_bytes()])
}
