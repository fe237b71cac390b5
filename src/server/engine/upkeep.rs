//! The server store's upkeep, outside any console's push or pull: compacting the change log
//! and moving aside request documents no program can read (`mcu repair --server`).

use super::{ServerError, Transactional};

/// Compacts the change log of every scope (`ServerTx::compact_log`), one transaction each.
/// Returns how many logged changes went.
pub fn compact<S: Transactional>(store: &S) -> Result<usize, ServerError> {
    let scopes = store.in_snapshot(|tx| tx.scope_seqs())?;
    let mut gone = 0;
    for (scope, _) in scopes {
        gone += store.in_tx(|tx| tx.compact_log(&scope))?;
    }
    Ok(gone)
}

/// A request document the server holds but no program can read (stored before a bound
/// existed), moved out of the store: kept in `gateway_state` (kind `quarantine:SCOPE`) with
/// why, and removed with its rows and their logged changes. The log is compacted first, so
/// what goes is at or below the horizon and the log's invariants hold.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Repaired {
    pub scope: String,
    pub id: String,
    pub reason: String,
}

pub fn repair<S: Transactional>(store: &S) -> Result<Vec<Repaired>, ServerError> {
    let scopes = store.in_snapshot(|tx| tx.scope_seqs())?;
    let mut out = vec![];
    for (scope, _) in scopes {
        let moved = store.in_tx(|tx| {
            tx.compact_log(&scope)?;
            let mut moved = vec![];
            for (id, text) in tx.request_texts(&scope)? {
                let Err(e) = serde_json::from_str::<crate::domain::Request>(&text) else {
                    continue;
                };
                let kept = serde_json::json!({ "reason": e.to_string(), "doc": text });
                tx.gw_put(&format!("quarantine:{scope}"), &id, &kept)?;
                tx.drop_request(&scope, &id)?;
                moved.push(Repaired {
                    scope: scope.clone(),
                    id,
                    reason: e.to_string(),
                });
            }
            Ok(moved)
        })?;
        out.extend(moved);
    }
    Ok(out)
}
