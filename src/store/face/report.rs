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
