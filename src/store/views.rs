//! Saved views in the console's file: each operator's own, by their name, and a copy of the
//! team's shared ones as the server last gave them, so a console lists them at once and an
//! operator offline keeps them. Only the text is kept (`domain::views::SavedView`); it is
//! parsed with the catalog when used, never here.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::rows::{Cached, ms};
use crate::domain::views::{self, MAX_VIEWS, SavedView, ViewError, ViewSort};

impl From<ViewSort> for super::Sort {
    fn from(s: ViewSort) -> Self {
        match s {
            ViewSort::TimeLeft => super::Sort::TimeLeft,
            ViewSort::Received => super::Sort::Received,
        }
    }
}

impl From<super::Sort> for ViewSort {
    fn from(s: super::Sort) -> Self {
        match s {
            super::Sort::TimeLeft => ViewSort::TimeLeft,
            super::Sort::Received => ViewSort::Received,
        }
    }
}

/// An operator's views and the team's, each in their numbering order (`views::sorted`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Views {
    pub own: Vec<SavedView>,
    pub shared: Vec<SavedView>,
}

/// A view kept: as stored (its name cleaned, its first `since`), and whether it replaced one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub view: SavedView,
    pub replaced: bool,
}

/// The team's copy has no owner.
const TEAM: &str = "";

pub fn list(conn: &Connection, owner: &str) -> Result<Views, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT shared, doc FROM saved_view WHERE (shared = 0 AND owner = ?1) OR shared = 1
         ORDER BY since, key",
    )?;
    let rows: Vec<(bool, String)> = st
        .query_map([owner], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut out = Views::default();
    for (shared, doc) in rows {
        // A view this program cannot read (a newer one's base view) is left out, not an error
        // that empties the list.
        match serde_json::from_str::<SavedView>(&doc) {
            Ok(v) if shared => out.shared.push(v),
            Ok(v) => out.own.push(v),
            Err(e) => tracing::warn!(error = %e, "a saved view does not read; left out"),
        }
    }
    Ok(out)
}

fn put(conn: &Connection, shared: bool, owner: &str, v: &SavedView) -> Result<(), StoreError> {
    let doc = serde_json::to_string(v).map_err(|e| StoreError::BadInput(e.to_string()))?;
    conn.exec(
        "INSERT INTO saved_view(shared, owner, key, since, doc) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(shared, owner, key) DO UPDATE SET since = excluded.since, doc = excluded.doc",
        params![shared, owner, views::key(&v.name), ms(v.since), doc],
    )?;
    Ok(())
}

fn get(
    conn: &Connection,
    shared: bool,
    owner: &str,
    name: &str,
) -> Result<Option<SavedView>, StoreError> {
    let doc: Option<String> = conn
        .row(
            "SELECT doc FROM saved_view WHERE shared = ?1 AND owner = ?2 AND key = ?3",
            params![shared, owner, views::key(name)],
            |r| r.get(0),
        )
        .optional()?;
    Ok(doc.and_then(|d| serde_json::from_str(&d).ok()))
}

fn remove(conn: &Connection, shared: bool, owner: &str, name: &str) -> Result<(), StoreError> {
    conn.exec(
        "DELETE FROM saved_view WHERE shared = ?1 AND owner = ?2 AND key = ?3",
        params![shared, owner, views::key(name)],
    )?;
    Ok(())
}

/// Keeps `view` as `owner`'s own, replacing theirs of the same name (which keeps its place in
/// the numbering). Refused: a bad name or filter, a name the team's views have, one too many.
pub fn save(
    conn: &mut Connection,
    owner: &str,
    view: &SavedView,
) -> Result<Result<Saved, ViewError>, StoreError> {
    let mut view = match views::check(view, &[]) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    view.shared_by = None;
    let tx = conn.transaction()?;
    if get(&tx, true, TEAM, &view.name)?.is_some() {
        return Ok(Err(ViewError::TeamHas(view.name)));
    }
    let old = get(&tx, false, owner, &view.name)?;
    if old.is_none() {
        let n: i64 = tx.row(
            "SELECT count(*) FROM saved_view WHERE shared = 0 AND owner = ?1",
            [owner],
            |r| r.get(0),
        )?;
        if n as usize >= MAX_VIEWS {
            return Ok(Err(ViewError::TooMany));
        }
    }
    if let Some(old) = &old {
        view.since = old.since;
    }
    put(&tx, false, owner, &view)?;
    tx.commit()?;
    Ok(Ok(Saved {
        view,
        replaced: old.is_some(),
    }))
}

/// Deletes `owner`'s own view `name`: the view deleted.
pub fn delete(
    conn: &mut Connection,
    owner: &str,
    name: &str,
) -> Result<Result<SavedView, ViewError>, StoreError> {
    let tx = conn.transaction()?;
    let Some(old) = get(&tx, false, owner, name)? else {
        return Ok(Err(ViewError::Unknown(views::clean_name(name))));
    };
    remove(&tx, false, owner, name)?;
    tx.commit()?;
    Ok(Ok(old))
}

/// The team's views as the server now has them, in place of the copy kept before.
pub fn set_shared(conn: &mut Connection, shared: &[SavedView]) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    tx.exec("DELETE FROM saved_view WHERE shared = 1", [])?;
    for v in shared {
        put(&tx, true, TEAM, v)?;
    }
    tx.commit()?;
    Ok(())
}

/// The server took `owner`'s view for the team (`view` as it keeps it): it is the team's now,
/// no longer theirs alone.
pub fn shared(conn: &mut Connection, owner: &str, view: &SavedView) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    remove(&tx, false, owner, &view.name)?;
    put(&tx, true, TEAM, view)?;
    tx.commit()?;
    Ok(())
}

/// The server no longer shares `name`: the lead who took it back keeps it as their own (the
/// newest of theirs), unless they have one of that name already. Their views after.
pub fn unshared(
    conn: &mut Connection,
    owner: &str,
    name: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Views, StoreError> {
    let tx = conn.transaction()?;
    if let Some(mut v) = get(&tx, true, TEAM, name)? {
        remove(&tx, true, TEAM, name)?;
        if get(&tx, false, owner, name)?.is_none() {
            v.shared_by = None;
            v.since = now;
            put(&tx, false, owner, &v)?;
        }
    }
    tx.commit()?;
    list(conn, owner)
}
