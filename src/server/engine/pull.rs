//! A console's pull (docs/sync-protocol.md §5): the changes since its cookie, a page at a
//! time, each entity once with its current document, read in one snapshot; a department
//! account's page filtered by `department`. Apart from the push rules in `engine.rs`.

use super::{Principal, Role, ServerError, ServerTx, Transactional, department};
use crate::wire::limits::{PULL_PAGE, PULL_PAGE_MAX};
use crate::wire::sync::{Cookie, Entity, PatchOp, PullRequest, PullResponse, SCHEMA_VERSION};

/// Changes since the client's cookie, read in one snapshot (the caller's transaction), with
/// the client's last mutation id from the same snapshot.
pub fn pull(
    tx: &mut dyn ServerTx,
    who: &Principal,
    req: &PullRequest,
    max: usize,
) -> Result<PullResponse, ServerError> {
    if req.schema_version != SCHEMA_VERSION {
        return Err(ServerError::Schema(req.schema_version));
    }
    let (head, epoch) = tx.scope(&req.scope_id)?;
    if let Some(c) = tx.read_client(req.client_id)?
        && (c.user != who.user || c.scope_id != req.scope_id)
    {
        return Err(ServerError::Forbidden(req.client_id));
    }
    // Another epoch (a restored server) or no cookie: everything again, from the start.
    let (reset, from) = match req.cookie {
        Some(c) if c.epoch == epoch && c.seq <= head => (false, c.seq),
        _ => (true, 0),
    };
    let limit = req.limit.unwrap_or(PULL_PAGE).clamp(1, max);
    let mut page = tx.changes_since(&req.scope_id, from, limit)?;
    // A page never ends inside a mutation: each one logs its request first (`write`), so the
    // page runs on up to the next request entry. Cut earlier, a console would show half an
    // action (a reply without its event) until the next page.
    while page.len() >= limit {
        let after = page.last().map_or(from, |c| c.0);
        let tail = tx.changes_since(&req.scope_id, after, 64)?;
        let upto = tail
            .iter()
            .position(|c| c.1 == Entity::Request)
            .unwrap_or(tail.len());
        let whole = upto < tail.len() || tail.len() < 64;
        page.extend(tail.into_iter().take(upto));
        if whole {
            break;
        }
    }
    let last = page.last().map_or(from, |c| c.0);
    let more = !tx.changes_since(&req.scope_id, last, 1)?.is_empty();
    let seq = if more { last } else { head };
    // Each entity once, where it first appears; its document is the current one anyway.
    let mut seen = std::collections::HashSet::new();
    let mut order = vec![];
    let mut wanted: std::collections::BTreeMap<Entity, Vec<String>> = Default::default();
    for (_, entity, id) in &page {
        if seen.insert((*entity, id.as_str())) {
            order.push((*entity, id));
            wanted.entry(*entity).or_default().push(id.clone());
        }
    }
    // Behind the compaction horizon a row may come without the change that logged its request
    // (that one was superseded, and is now later in the log): the request travels with it, so
    // a console that doesn't have it yet never drops the row.
    let mut owners = vec![];
    if from < tx.compacted_to(&req.scope_id)? {
        for (entity, ids) in &wanted {
            if *entity != Entity::Request {
                owners.extend(tx.parents(*entity, ids)?);
            }
        }
        let listed: std::collections::HashSet<&str> = wanted
            .get(&Entity::Request)
            .map(|ids| ids.iter().map(String::as_str).collect())
            .unwrap_or_default();
        owners.retain(|id| !listed.contains(id.as_str()));
        owners.sort();
        owners.dedup();
    }
    let mut docs = std::collections::HashMap::with_capacity(order.len());
    for (entity, ids) in wanted {
        for (id, value) in tx.docs(entity, &ids)? {
            docs.insert((entity, id), value);
        }
    }
    let owner_docs = if owners.is_empty() {
        vec![]
    } else {
        tx.docs(Entity::Request, &owners)?
    };
    let patch = owner_docs
        .into_iter()
        .map(|(id, value)| PatchOp::Put {
            entity: Entity::Request,
            id,
            value,
        })
        .chain(
            order
                .into_iter()
                .map(|(entity, id)| match docs.remove(&(entity, id.clone())) {
                    Some(value) => PatchOp::Put {
                        entity,
                        id: id.clone(),
                        value,
                    },
                    None => PatchOp::Del {
                        entity,
                        id: id.clone(),
                    },
                }),
        )
        .collect();
    let patch = if who.role == Role::Department {
        department::pull_patch(tx, who, patch)?
    } else {
        patch
    };
    Ok(PullResponse {
        cookie: Cookie { epoch, seq },
        last_mutation_id: tx.last_mutation_id(req.client_id)?,
        reset,
        patch,
        more,
    })
}

pub fn pull_page<S: Transactional>(
    store: &S,
    who: &Principal,
    req: &PullRequest,
) -> Result<PullResponse, ServerError> {
    store.in_snapshot(|tx| pull(tx, who, req, PULL_PAGE_MAX))
}
