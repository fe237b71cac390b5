//! The store's side of merged threads (`domain::merge`): where a citizen's message to a
//! merged request goes, which link a follow-up came through, and the merged requests whose
//! messages a card shows in one thread. All through the parent index, never a scan.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::StoreError;
use super::rows::{self, Cached, RawRequest};
use crate::domain::Request;
use crate::domain::mutation::merged_into;

/// A chain of merges is followed this far; merging into a link is refused, so a longer one
/// only comes from two offline merges meeting.
const MAX_LINKS: usize = 4;

/// The request a message placed on `rid` belongs on: `rid`'s own when it is no link, else the
/// request its thread was merged into (followed down a chain).
pub(crate) fn follow(tx: &Connection, rid: i64) -> Result<Option<(i64, Request)>, StoreError> {
    let Some((mut at, mut r)) = rows::load_by(tx, "rid", &rid.to_string())? else {
        return Ok(None);
    };
    let mut moved = false;
    for _ in 0..MAX_LINKS {
        let Some(next) = merged_into(&r) else { break };
        let Some((nrid, nr)) = rows::load_by(tx, "id", &next.to_string())? else {
            break;
        };
        (at, r, moved) = (nrid, nr, true);
    }
    Ok(moved.then_some((at, r)))
}

/// The merged request (a link into `target`, or into one of its links) that belongs to this
/// channel's chat: the one a follow-up from that chat came through.
pub(crate) fn link_of(
    tx: &Connection,
    target: Uuid,
    channel: &str,
    chat: &str,
) -> Result<Option<Request>, StoreError> {
    let mut frontier = vec![target];
    for _ in 0..MAX_LINKS {
        let mut next = vec![];
        for parent in &frontier {
            let hit: Option<i64> = tx
                .row(
                    "SELECT rid FROM request WHERE parent_id = ?1 AND close_reason = 'merged'
                     AND channel = ?2 AND chat_ref = ?3 ORDER BY rid DESC LIMIT 1",
                    params![parent.to_string(), channel, chat],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(rid) = hit {
                return Ok(rows::load_by(tx, "rid", &rid.to_string())?.map(|(_, r)| r));
            }
            next.extend(super::db::merged_children(tx, *parent)?);
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    Ok(None)
}

/// Every request merged into `id`, down the chain, oldest first: their threads are shown in
/// `id`'s card. Bounded like the duplicates list.
pub(crate) fn merged_requests(
    conn: &Connection,
    id: Uuid,
) -> Result<Vec<(i64, Request)>, StoreError> {
    let sql = format!(
        "SELECT {} FROM request WHERE parent_id = ?1 AND close_reason = 'merged' ORDER BY rid LIMIT 50",
        rows::REQUEST_COLUMNS
    );
    let mut out = vec![];
    let mut frontier = vec![id];
    for _ in 0..MAX_LINKS {
        let mut next = vec![];
        for parent in &frontier {
            let raws = conn
                .prepare_cached(&sql)?
                .query_map([parent.to_string()], RawRequest::from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            for raw in raws {
                let rid = raw.rid;
                let tags = rows::tags(conn, rid)?;
                let r = raw.into_request(tags)?;
                next.push(r.id);
                out.push((rid, r));
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    out.sort_by_key(|(rid, _)| *rid);
    Ok(out)
}
