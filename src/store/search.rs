//! Which requests a full-text search puts on the inbox's page. The inbox shows one page, so a
//! word in a third of a million requests must not cost reading all its matches: FTS5 is asked
//! for the newest 2,001 matches only. Up to 2,000 are all there are, handed to the inbox query
//! (looked up one by one and sorted). With more, the page's own matches are found by walking
//! the sort index in growing chunks, checking the newest rows against those matches and asking
//! FTS5 only about older rows the walk reaches. Either way the inbox query then reads at most a
//! few thousand rows, whatever the word (≤ 10 ms p99 at 1,000,000 requests).

use rusqlite::types::Value;
use rusqlite::{Connection, ToSql, params, params_from_iter};

use super::StoreError;
use super::read::{Cursor, Sort};

/// Up to this many matches are all handed over; more are sieved while walking the sort index.
/// Looking up a match costs about ten steps of the walk, so the two cost the same near
/// √(10 × page × requests) ≈ 2,300 matches at 1,000,000 requests.
const FEW_MATCHES: usize = 2_000;
/// The walk's first chunk of the sort index; each next one is twice as long, up to the last.
const FIRST_CHUNK: i64 = 1_024;
const LAST_CHUNK: i64 = 65_536;

/// The inbox's filters so far (SQL conditions on `request r` and their bound values), its
/// order, where the previous page ended, and how many rows it wants.
pub(super) struct Walk<'a> {
    pub conds: &'a [String],
    pub args: &'a [Box<dyn ToSql>],
    pub sort: Sort,
    pub after: Option<Cursor>,
    pub want: usize,
}

/// The rids the inbox query is to read for the FTS5 expression `expr`: every match when there
/// are few, else the page's matches in order (those the filters and cursor keep).
pub(super) fn rids(conn: &Connection, expr: &str, w: &Walk) -> Result<Vec<Value>, StoreError> {
    // The newest matches by rid: all of them when few; else what the walk's first chunks,
    // the newest rows, are checked against without asking FTS5 again (a prefix query costs
    // FTS5 about 2 ms each time it is asked, whatever the range).
    let newest: Vec<i64> = conn
        .prepare_cached(
            "SELECT rowid FROM request_fts WHERE request_fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2",
        )?
        .query_map(params![expr, FEW_MATCHES as i64 + 1], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if newest.len() <= FEW_MATCHES {
        return Ok(newest.into_iter().map(Value::from).collect());
    }
    walk(conn, expr, w, newest)
}

/// Walks the sort index from the cursor in growing chunks, keeping the rows that match:
/// `newest` holds every match from its smallest rid up, FTS5 is asked about older rows only.
fn walk(
    conn: &Connection,
    expr: &str,
    w: &Walk,
    newest: Vec<i64>,
) -> Result<Vec<Value>, StoreError> {
    let known_from = newest.iter().copied().min().unwrap_or(i64::MAX);
    let mut hits: rustc_hash::FxHashSet<i64> = newest.into_iter().collect();
    // The walk's own position starts past either end of the keys when no page came before.
    let (key_col, order, cmp, index, start) = match w.sort {
        Sort::TimeLeft => (
            "r.due_key",
            "r.due_key ASC, r.rid ASC",
            ">",
            "request_due",
            (i64::MIN, i64::MIN),
        ),
        Sort::Received => (
            "r.received_at",
            "r.received_at DESC, r.rid DESC",
            "<",
            "request_received",
            (i64::MAX, i64::MAX),
        ),
    };
    let n = w.args.len();
    let mut conds = w.conds.to_vec();
    conds.push(format!("({key_col}, r.rid) {cmp} (?{}, ?{})", n + 1, n + 2));
    let sql = format!(
        "SELECT r.rid, {key_col} FROM request r INDEXED BY {index} WHERE {} ORDER BY {order} LIMIT ?{}",
        conds.join(" AND "),
        n + 3
    );
    let mut chunk_st = conn.prepare_cached(&sql)?;
    let mut older_st = conn.prepare_cached(
        "SELECT rowid FROM request_fts WHERE request_fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3",
    )?;
    // Rids below `known_from` already asked about: from `asked_from` up to `known_from`.
    let mut asked_from = known_from;
    let mut at = w.after.map_or(start, |c| (c.key, c.rid));
    let mut size = FIRST_CHUNK;
    let mut found = Vec::with_capacity(w.want);
    loop {
        let mut bound: Vec<&dyn ToSql> = w.args.iter().map(|b| b.as_ref()).collect();
        bound.extend([&at.0 as &dyn ToSql, &at.1, &size]);
        let chunk: Vec<(i64, i64)> = chunk_st
            .query_map(params_from_iter(bound), |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let Some(&(last_rid, last_key)) = chunk.last() else {
            return Ok(found);
        };
        let lo = chunk.iter().map(|c| c.0).min().unwrap_or(last_rid);
        if lo < asked_from {
            for rid in older_st.query_map(params![expr, lo, asked_from - 1], |r| r.get(0))? {
                hits.insert(rid?);
            }
            asked_from = lo;
        }
        for (rid, _) in &chunk {
            if hits.contains(rid) {
                found.push(Value::from(*rid));
                if found.len() >= w.want {
                    return Ok(found);
                }
            }
        }
        if (chunk.len() as i64) < size {
            return Ok(found);
        }
        at = (last_key, last_rid);
        size = (size * 2).min(LAST_CHUNK);
    }
}
