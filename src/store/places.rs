//! The place index: each request's address key (with a house) and grid cell, kept in its row
//! as it is written, indexed with the receipt time, so the requests near a new one in place and
//! time are a few index reads however many requests the file holds (`candidates_for`).

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use std::cell::RefCell;

use super::StoreError;
use super::memo::Memo;
use super::rows::Cached;
use crate::domain::Request;
use crate::incidents::{Idf, Report, Rules, Words, address_key, belongs, candidate};

/// A grid cell's side. The search looks as many cells around as the radius needs.
pub const CELL_M: f64 = 250.0;

/// Metres per degree of latitude.
const M_PER_DEG: f64 = 111_195.0;

/// The cell of a point: an equirectangular grid, the same within a city to a few metres.
pub fn cell(lat: f64, lon: f64) -> (i64, i64) {
    let x = lon * M_PER_DEG * lat.to_radians().cos() / CELL_M;
    let y = lat * M_PER_DEG / CELL_M;
    (x.floor() as i64, y.floor() as i64)
}

/// The columns a request's row carries for the index: its address key (a street without a
/// house never groups, so it is not indexed) and its cell.
pub fn columns(r: &Request) -> (Option<String>, Option<(i64, i64)>) {
    let loc = r.location.as_ref();
    let key = loc
        .and_then(|l| l.address.as_deref())
        .and_then(housed_key)
        .or_else(|| housed_key(&r.text))
        .flatten();
    let point = loc
        .and_then(|l| Some((l.lat?, l.lon?)))
        .filter(|(lat, lon)| lat.is_finite() && lon.is_finite())
        .map(|(lat, lon)| cell(lat, lon));
    (key, point)
}

thread_local! {
    /// Each text's key, remembered: a request's row is rewritten with each message that joins
    /// it, and its text does not change.
    static KEYS: RefCell<Memo<Option<Option<String>>>> = RefCell::new(Memo::new(4096));
}

/// A text's address key: `None` when it names no address, `Some(None)` when it names a street
/// without a house (which never groups, so it is not indexed).
fn housed_key(text: &str) -> Option<Option<String>> {
    KEYS.with(|keys| {
        keys.borrow_mut().get(text, |t| {
            address_key(t).map(|k| k.house.is_some().then(|| k.to_string()))
        })
    })
}

/// Places the open requests of a file written before the index.
pub fn backfill(conn: &Connection) -> Result<(), StoreError> {
    let tx = conn.unchecked_transaction()?;
    {
        let sql = format!(
            "SELECT {} FROM request WHERE status != 'closed'",
            super::rows::REQUEST_COLUMNS
        );
        let mut st = tx.prepare(&sql)?;
        let mut up = tx.prepare(
            "UPDATE request SET place_key = ?2, cell_x = ?3, cell_y = ?4 WHERE rid = ?1",
        )?;
        let raws = st
            .query_map([], super::rows::RawRequest::from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        for raw in raws {
            let rid = raw.rid;
            // A row that does not read is left for `mcu repair`; it is placed nowhere.
            let Ok(r) = raw.into_request(vec![]) else {
                continue;
            };
            let (key, cell) = columns(&r);
            up.execute(params![rid, key, cell.map(|c| c.0), cell.map(|c| c.1)])?;
        }
    }
    tx.commit()?;
    Ok(())
}

thread_local! {
    /// The words' rarity among the recent open requests, as last learnt on this store's
    /// thread (by `incidents::find` or here) and when.
    static IDF: std::cell::RefCell<Option<(DateTime<Utc>, Idf)>> = const { std::cell::RefCell::new(None) };
}

/// How long learnt word rarities serve before they are learnt again.
const IDF_FOR_MINUTES: i64 = 10;

pub(super) fn remember_idf(at: DateTime<Utc>, idf: Idf) {
    IDF.with(|c| *c.borrow_mut() = Some((at, idf)));
}

/// The words' rarity among the open requests of the last two windows: remembered, or learnt
/// again when older than `IDF_FOR_MINUTES`.
fn idf(conn: &Connection, rules: &Rules, now: DateTime<Utc>) -> Result<Idf, StoreError> {
    let fresh = IDF.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(at, _)| (now - *at).num_minutes().abs() < IDF_FOR_MINUTES)
            .map(|(_, idf)| idf.clone())
    });
    if let Some(idf) = fresh {
        return Ok(idf);
    }
    let window = Duration::milliseconds((rules.window_hours * 3_600_000.0) as i64);
    let mut st = conn.prepare_cached(
        "SELECT text FROM request WHERE received_at >= ?1 AND status != 'closed' AND is_incident = 0",
    )?;
    let docs: Vec<Words> = st
        .query_map([super::rows::ms(now - window - window)], |r| {
            r.get::<_, String>(0)
        })?
        .map(|t| t.map(|t| Words::of(&t)))
        .collect::<Result<_, _>>()?;
    let idf = Idf::learn(docs.iter());
    remember_idf(now, idf.clone());
    Ok(idf)
}

/// The candidate group request `rid` forms with the open requests near it in place and time
/// (in no incident, not in a dismissed group): the members' ids, `rid`'s first; None when
/// fewer than `min_citizens` distinct citizens report it.
pub fn candidates_for(
    conn: &Connection,
    rid: i64,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<Option<Vec<uuid::Uuid>>, StoreError> {
    let Some((new, near)) = nearby(conn, rid, rules, now, false)? else {
        return Ok(None);
    };
    Ok(candidate(&new, near.iter().map(|(r, _)| r), rules))
}

/// Whether any incident has an open member. Most of the time none has: one read of the
/// members' index says so, and the intake of every new request is spared the neighbours'
/// search (and writes its row once, `ingest`).
pub fn any_open_incident(conn: &Connection) -> Result<bool, StoreError> {
    let any: Option<i64> = conn
        .row(
            "SELECT 1 FROM request WHERE incident_id IS NOT NULL AND status != 'closed' LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(any.is_some())
}

/// The open incident whose open members request `rid` belongs with (`incidents::belongs`):
/// its number, for the acknowledgement to say the problem is known.
pub fn known_incident(
    conn: &Connection,
    rid: i64,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    if !any_open_incident(conn)? {
        return Ok(None);
    }
    let Some((new, near)) = nearby(conn, rid, rules, now, true)? else {
        return Ok(None);
    };
    for (r, incident) in &near {
        let Some(incident) = incident.filter(|_| belongs(&new, r, rules)) else {
            continue;
        };
        let number: Option<String> = conn
            .row(
                "SELECT number FROM request WHERE id = ?1 AND is_incident = 1 AND status != 'closed'",
                [incident.to_string()],
                |row| row.get(0),
            )
            .optional()?;
        if number.is_some() {
            return Ok(number);
        }
    }
    Ok(None)
}

/// Request `rid` as the rule sees it and the open requests near it in place and time through
/// the index: those in no incident, or (`members`) those in one, each with its incident. Words
/// weighted by their rarity.
#[allow(clippy::type_complexity)]
fn nearby(
    conn: &Connection,
    rid: i64,
    rules: &Rules,
    now: DateTime<Utc>,
    members: bool,
) -> Result<Option<(Report, Vec<(Report, Option<uuid::Uuid>)>)>, StoreError> {
    let Some((mut new, _)) = report(conn, "r.rid = ?1", params![rid], false)?.pop() else {
        return Ok(None);
    };
    let (key, cell_xy, at) = conn
        .row(
            "SELECT place_key, cell_x, cell_y, received_at FROM request WHERE rid = ?1",
            [rid],
            |r| {
                let x: Option<i64> = r.get(1)?;
                let y: Option<i64> = r.get(2)?;
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    x.zip(y),
                    r.get::<_, i64>(3)?,
                ))
            },
        )
        .optional()?
        .unwrap_or((None, None, 0));
    let window = Duration::milliseconds((rules.window_hours * 3_600_000.0) as i64);
    let (from, to) = (
        at - window.num_milliseconds(),
        at + window.num_milliseconds(),
    );
    let mut near = Vec::new();
    if let Some(k) = &key {
        near.extend(report(
            conn,
            "r.place_key = ?1 AND r.received_at BETWEEN ?2 AND ?3",
            params![k, from, to],
            members,
        )?);
    }
    if let Some((x, y)) = cell_xy {
        let reach = (rules.radius_m / CELL_M).ceil() as i64 + 1;
        // One index range per column of cells: x fixed, y and time ranges.
        for dx in -reach..=reach {
            near.extend(report(
                conn,
                "r.cell_x = ?1 AND r.cell_y BETWEEN ?2 AND ?3 AND r.received_at BETWEEN ?4 AND ?5",
                params![x + dx, y - reach, y + reach, from, to],
                members,
            )?);
        }
    }
    near.sort_by_key(|(r, _)| r.id);
    near.dedup_by_key(|(r, _)| r.id);
    let idf = idf(conn, rules, now)?;
    new.words = std::mem::take(&mut new.words).weighted(&idf);
    for (r, _) in &mut near {
        r.words = std::mem::take(&mut r.words).weighted(&idf);
    }
    Ok(Some((new, near)))
}

/// Open requests not in a dismissed group matching `cond`, as the rule sees them, each with
/// its incident: those in no incident, or (`members`) those in one.
fn report(
    conn: &Connection,
    cond: &str,
    args: impl rusqlite::Params,
    members: bool,
) -> Result<Vec<(Report, Option<uuid::Uuid>)>, StoreError> {
    let sql = format!(
        "SELECT {}, r.incident_id FROM request r LEFT JOIN triage_suggestion s ON s.request_rid = r.rid
         WHERE {cond} AND r.status != 'closed' AND r.is_incident = 0 AND r.ungrouped = 0
           AND r.incident_id IS {}",
        super::incidents::REPORT_COLUMNS,
        if members { "NOT NULL" } else { "NULL" }
    );
    let mut st = conn.prepare_cached(&sql)?;
    let mut q = st.query(args)?;
    let mut out = Vec::new();
    while let Some(row) = q.next()? {
        let incident: Option<String> = row.get(10)?;
        if let Some(r) = super::incidents::report_from(row)? {
            out.push((r, incident.and_then(|i| uuid::Uuid::parse_str(&i).ok())));
        }
    }
    Ok(out)
}

/// How the search reads the index, for the benchmark to show.
pub fn plan(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for (what, sql) in [
        (
            "address",
            "EXPLAIN QUERY PLAN SELECT rid FROM request r WHERE r.place_key = 'ул:красн:1' AND r.received_at BETWEEN 0 AND 1 AND r.status != 'closed'",
        ),
        (
            "cells",
            "EXPLAIN QUERY PLAN SELECT rid FROM request r WHERE r.cell_x = 1 AND r.cell_y BETWEEN 0 AND 3 AND r.received_at BETWEEN 0 AND 1 AND r.status != 'closed'",
        ),
    ] {
        let mut st = conn.prepare(sql)?;
        let lines = st
            .query_map([], |r| r.get::<_, String>(3))?
            .collect::<Result<Vec<_>, _>>()?;
        out.push(format!("{what}: {}", lines.join("; ")));
    }
    Ok(out)
}
