//! The server's side of department accounts (#21): a department's pull carries only the
//! requests forwarded to it, without the citizen unless the city allows, and its push only
//! its answers, notes and returns on those. Enforced here, on every page and every action,
//! so a console (or a hand-made client) with a department's token reaches nothing else.

use std::collections::HashMap;

use serde::Deserialize;
use uuid::Uuid;

use super::{Principal, ServerError, ServerTx, request_doc};
use crate::domain::Request;
use crate::domain::department::{may_push, reaches, without_citizen};
use crate::domain::mutation::Op;
use crate::domain::request::{Note, NoteKind};
use crate::wire::sync::{Entity, PatchOp};

fn departments(who: &Principal) -> &[String] {
    who.departments.as_ref().map_or(&[], |d| &d.departments)
}

fn show_citizen(who: &Principal) -> bool {
    who.departments.as_ref().is_some_and(|d| d.show_citizen)
}

/// The request as this department account is shown it.
pub fn as_seen(who: &Principal, r: Request) -> Request {
    if show_citizen(who) {
        r
    } else {
        without_citizen(r)
    }
}

/// Why the department may not do this, if it may not: an operator's action, or a request
/// that is not (or no longer) forwarded to it.
pub fn refusal(who: &Principal, stored: Option<&Request>, op: &Op) -> Option<String> {
    if !may_push(op) {
        return Some(format!(
            "a department account records answers, notes and returns, not `{}`",
            op.name()
        ));
    }
    match stored {
        Some(r) if reaches(departments(who), r) => None,
        _ => Some("this request is not forwarded to your department".into()),
    }
}

#[derive(Deserialize)]
struct Pulled {
    request: Request,
    version: i64,
}

#[derive(Deserialize)]
struct Filed {
    request_id: Uuid,
}

/// A page of changes as the department may see it: its requests (a forwarded request that
/// is not, or stopped being, its own goes as a bare deletion, so its console drops it if it
/// had it), their notes, and their messages only where the city shows the citizen. Audit
/// lines stay with the operators.
pub fn pull_patch(
    tx: &mut dyn ServerTx,
    who: &Principal,
    patch: Vec<PatchOp>,
) -> Result<Vec<PatchOp>, ServerError> {
    let theirs_now = |r: &Request| reaches(departments(who), r);
    // What a request is now decides its rows too, whatever the page's order.
    let mut theirs: HashMap<Uuid, bool> = HashMap::new();
    for op in &patch {
        if let PatchOp::Put {
            entity: Entity::Request,
            value,
            ..
        } = op
            && let Ok(p) = value.parse::<Pulled>()
        {
            theirs.insert(p.request.id, theirs_now(&p.request));
        }
    }
    let mut out = Vec::with_capacity(patch.len());
    for op in patch {
        match op {
            PatchOp::Put {
                entity: Entity::Request,
                id,
                value,
            } => match value.parse::<Pulled>() {
                Ok(p) if theirs_now(&p.request) => {
                    let seen = as_seen(who, p.request);
                    let text = serde_json::to_string(&seen)
                        .map_err(|e| ServerError::Corrupt(format!("request {id}: {e}")))?;
                    out.push(PatchOp::Put {
                        entity: Entity::Request,
                        id,
                        value: request_doc(&text, p.version)?,
                    });
                }
                // Only a request that was ever forwarded can have been the department's:
                // the rest are never named to it, not even by id.
                Ok(p) if p.request.department_clock.is_none() => {}
                _ => out.push(PatchOp::Del {
                    entity: Entity::Request,
                    id,
                }),
            },
            PatchOp::Put {
                entity: Entity::Event,
                ..
            } => {}
            PatchOp::Put {
                entity: Entity::Message,
                ..
            } if !show_citizen(who) => {}
            PatchOp::Put { entity, id, value } => {
                let Ok(Filed { request_id }) = value.parse::<Filed>() else {
                    continue;
                };
                if entity == Entity::Note
                    && !value.parse::<Note>().is_ok_and(|n| note_shown(who, &n))
                {
                    continue;
                }
                let visible = match theirs.get(&request_id) {
                    Some(v) => *v,
                    None => {
                        let v = tx
                            .load_request(request_id)?
                            .is_some_and(|d| theirs_now(&d.request));
                        theirs.insert(request_id, v);
                        v
                    }
                };
                if visible {
                    out.push(PatchOp::Put { entity, id, value });
                }
            }
            del @ PatchOp::Del { .. } => out.push(del),
        }
    }
    Ok(out)
}

/// The forward, answers and returns are the department's business; the operators' own
/// notes may name the citizen («позвонила заявителю…»), so they go only where the city shows
/// the citizen, or when the department wrote them.
fn note_shown(who: &Principal, note: &Note) -> bool {
    note.kind != NoteKind::Internal || show_citizen(who) || note.author == who.user
}
