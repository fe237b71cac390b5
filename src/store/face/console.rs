//! The operator's side of the store: actions, the inbox, one request's thread, the shift
//! lead's dashboard and alerts, the handover and the alarms an operator clears — what the
//! console and the CLI ask for while working requests.

use chrono::{DateTime, Utc};

use super::super::alarms::{self, Alarm};
use super::super::handover::{self, ShiftNote};
use super::super::rows::ms;
use super::super::{
    Applied, Cursor, Detail, Filter, Page, Sort, Store, StoreError, alerts, bulk, dashboard, db,
    read,
};
use crate::domain::mutation::Mutation;
use crate::domain::{Request, RequestNumber};

impl Store {
    /// Applies one action through `domain::apply` in its own transaction, with its audit lines,
    /// search words, outbox parts and (in team mode) journal row; a repeat of an action already
    /// taken changes nothing (`Applied::changed` is false).
    pub async fn apply(&self, m: Mutation) -> Result<Applied, StoreError> {
        self.call(move |c, env| db::apply(c, env, &m)).await
    }

    /// Applies a whole import all-or-nothing: the numbers of the requests it created and how
    /// many creations were already stored (skipped); on failure, the position in `batch`
    /// that was refused.
    pub async fn apply_batch(
        &self,
        batch: Vec<Mutation>,
    ) -> Result<(Vec<RequestNumber>, usize), (usize, StoreError)> {
        let env = self.env.clone();
        match self
            .conn
            .call(move |c| Ok::<_, StoreError>(db::apply_batch(c, &env, &batch)))
            .await
        {
            Ok(r) => r,
            Err(e) => Err((0, e.into())),
        }
    }

    /// Streams an import into one transaction (`store::bulk`): the chunks `rx` brings are
    /// applied as they come and committed only when `Chunk::End` arrives.
    pub async fn import(
        &self,
        rx: std::sync::mpsc::Receiver<bulk::Chunk>,
    ) -> Result<bulk::Imported, bulk::ImportFailed> {
        let env = self.env.clone();
        match self
            .conn
            .call(move |c| Ok::<_, StoreError>(bulk::import(c, &env, rx)))
            .await
        {
            Ok(r) => r,
            Err(e) => Err(bulk::ImportFailed::Store(e.into())),
        }
    }

    /// The request a number (`2026-000123`), a number's unambiguous tail (`123`) or an id names.
    pub async fn resolve(&self, key: &str) -> Result<Request, StoreError> {
        let key = key.to_string();
        self.call(move |c, _| read::resolve(c, &key).map(|(_, r)| r))
            .await
    }

    /// The request `key` names (as `resolve`) with its messages, notes and audit lines.
    pub async fn detail(&self, key: &str) -> Result<Detail, StoreError> {
        let key = key.to_string();
        self.call(move |c, _| read::detail(c, &key)).await
    }

    /// The shift lead's dashboard as of now, read on the store's read-only connection: its tens
    /// of milliseconds never hold the writer's thread.
    pub async fn dashboard(&self) -> Result<dashboard::Board, StoreError> {
        let now = self.now();
        self.read_call(move |c, env| dashboard::board(c, now, env.policy.calendar.tz()))
            .await
    }

    /// Clock crossings in `(from, to]` (store/alerts.rs).
    pub async fn alerts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        rules: alerts::AlertRules,
    ) -> Result<Vec<alerts::Crossing>, StoreError> {
        self.call(move |c, _| alerts::crossings(c, from, to, &rules))
            .await
    }

    /// One page of the requests `filter` matches, in `sort` order, after `after`; the cursor of
    /// the next page when there is one.
    pub async fn inbox(
        &self,
        filter: Filter,
        sort: Sort,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let now = self.now();
        self.call(move |c, _| read::inbox(c, &filter, sort, after, limit, now))
            .await
    }

    /// Open requests by time left, and the notes on open requests since `since`, oldest first:
    /// what the next shift is handed.
    pub async fn handover(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(Vec<Request>, Vec<ShiftNote>), StoreError> {
        self.call(move |c, _| handover::handover(c, since, now))
            .await
    }

    /// Every alarm no operator has cleared yet, oldest first.
    /// The server says this console is a department account's: its queue and alerts follow
    /// the department's clock from now on (`store::department_view`).
    pub async fn mark_department_view(&self) -> Result<usize, StoreError> {
        self.call(|c, _| super::super::department_view::mark(c))
            .await
    }

    pub async fn open_alarms(&self) -> Result<Vec<Alarm>, StoreError> {
        self.call(|c, _| alarms::open_alarms(c)).await
    }

    /// The open alarms, cleared as they are read: shown once, to this operator.
    pub async fn take_alarms(&self) -> Result<Vec<Alarm>, StoreError> {
        let now = ms(self.now());
        self.call(move |c, _| {
            let open = alarms::open_alarms(c)?;
            alarms::clear_all_alarms(c, now)?;
            Ok(open)
        })
        .await
    }

    /// Clears every open alarm (an operator has seen them); the alarms open afterwards.
    pub async fn clear_alarms(&self) -> Result<Vec<Alarm>, StoreError> {
        let now = ms(self.now());
        self.call(move |c, _| {
            alarms::clear_all_alarms(c, now)?;
            alarms::open_alarms(c)
        })
        .await
    }
}
