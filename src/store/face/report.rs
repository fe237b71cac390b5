//! The reports' side of the store: the rows a report adds up and the pages an export
//! writes. The store reads; `report/` counts, judges and formats.

use chrono::{DateTime, Utc};

use super::super::{Env, Filter, Sort, Store, StoreError, read};
use crate::domain::Request;

/// Rows per page an export reads: a year of requests never sits in memory at once.
const EXPORT_PAGE: usize = 1000;

impl Store {
    /// Requests received in `[from, to)`, oldest first, without their tags.
    pub async fn received_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Request>, StoreError> {
        self.call(move |c, _| read::received(c, from, to)).await
    }

    /// The departments' returns (`Op::Return`) of requests received in `[from, to)`: the
    /// request and the department that gave it back, from the audit.
    pub async fn returns_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(uuid::Uuid, String)>, StoreError> {
        self.call(move |c, _| {
            use super::super::rows::ms;
            let mut st = c.prepare_cached(
                // CROSS JOIN keeps the period's requests outside: their events by the
                // request index, never a scan of every event.
                "SELECT r.id, e.old FROM request r CROSS JOIN event e ON e.request_rid = r.rid
                 WHERE e.field = 'returned' AND e.old IS NOT NULL
                   AND r.received_at >= ?1 AND r.received_at < ?2 ORDER BY e.seq",
            )?;
            let rows = st
                .query_map([ms(from), ms(to)], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(|(id, dep)| Ok((super::super::rows::parse("request id", &id)?, dep)))
                .collect()
        })
        .await
    }

    /// Every request `filter` matches as of `now`, in `sort` order, handed to `step` with
    /// `state` on the store's thread as the pages are read; the state back when all are
    /// through, or `step`'s first error (which ends the walk).
    pub async fn fold_requests<S, E>(
        &self,
        filter: Filter,
        sort: Sort,
        now: DateTime<Utc>,
        state: S,
        mut step: impl FnMut(&mut S, &Request, &Env) -> Result<(), E> + Send + 'static,
    ) -> Result<Result<S, E>, StoreError>
    where
        S: Send + 'static,
        E: Send + 'static,
    {
        self.call(move |c, env| {
            let mut state = state;
            let mut after = None;
            loop {
                let page = read::inbox(c, &filter, sort, after, EXPORT_PAGE, now)?;
                for r in &page.rows {
                    if let Err(e) = step(&mut state, r, env) {
                        return Ok(Err(e));
                    }
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => return Ok(Ok(state)),
                }
            }
        })
        .await
    }
}
