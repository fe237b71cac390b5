//! Several mutations of one request decided in memory one after another and its row written
//! once. Intake creates a request, lets triage set its topic and acknowledges it in one go:
//! writing the row (ten indexes, its tags, its triage suggestion) after each step was the
//! largest part of the store's work per new request. Each step still keeps what it alone
//! wrote, in order: its audit events, messages and outbox rows, notes and journal entry, so
//! the file ends up exactly as if each had been applied on its own (`db::apply_with`).

use rusqlite::Connection;

use super::StoreError;
use super::db::{self, Applied, Env, Reindex};
use super::rows;
use crate::domain::mutation::{Mutation, Outcome};

use crate::domain::{Rejection, Request};

pub(crate) struct Chain {
    /// The request as the steps so far leave it; None before a creation.
    current: Option<Request>,
    /// The request's row as the file holds it: None when the chain creates it.
    stored: Option<i64>,
    steps: Vec<(Mutation, Outcome, Option<Request>)>,
}

impl Chain {
    /// A chain on request `id` as the file holds it (or none yet).
    pub(crate) fn load(tx: &Connection, id: uuid::Uuid) -> Result<Chain, StoreError> {
        let found = rows::load_by(tx, "id", &id.to_string())?;
        Ok(Chain {
            stored: found.as_ref().map(|(rid, _)| *rid),
            current: found.map(|(_, r)| r),
            steps: vec![],
        })
    }

    /// A chain on a request the caller has just read (`rid`, `r`).
    pub(crate) fn loaded(rid: i64, r: Request) -> Chain {
        Chain {
            current: Some(r),
            stored: Some(rid),
            steps: vec![],
        }
    }

    /// Decides `m` over the request as the steps so far leave it. A mutation already in the
    /// journal (by id) changes nothing, as `db::apply_with` would say.
    pub(crate) fn push(
        &mut self,
        tx: &Connection,
        env: &Env,
        m: Mutation,
    ) -> Result<&Request, StoreError> {
        if let Some(r) = &self.current
            && r.id != m.request_id
        {
            return Err(StoreError::Corrupt(format!(
                "a chain on {} given a mutation of {}",
                r.id, m.request_id
            )));
        }
        if db::already_applied(tx, env, &m)? {
            return self
                .current
                .as_ref()
                .ok_or(StoreError::Rejected(Rejection::NotFound));
        }
        let out = db::decide(tx, env, &m, self.current.as_ref())?;
        let before = self.current.replace(out.request.clone());
        self.steps.push((m, out, before));
        self.current
            .as_ref()
            .ok_or(StoreError::Rejected(Rejection::NotFound))
    }

    /// The request as the steps so far leave it.
    pub(crate) fn request(&self) -> Option<&Request> {
        self.current.as_ref()
    }

    /// Writes the row once and each step's own rows in order; the request's rid and the
    /// last step's outcome (every step's events).
    pub(crate) fn write(
        self,
        tx: &Connection,
        env: &Env,
        later: &mut Reindex,
    ) -> Result<(i64, Applied), StoreError> {
        let Some(request) = self.current else {
            return Err(StoreError::Rejected(Rejection::NotFound));
        };
        if self.steps.is_empty() {
            let rid = match self.stored {
                Some(rid) => rid,
                None => return Err(StoreError::Rejected(Rejection::NotFound)),
            };
            let applied = Applied {
                request,
                changed: false,
                events: vec![],
            };
            return Ok((rid, applied));
        }
        let created = self.stored.is_none();
        let rid = rows::write_request(tx, &request)?;
        let mut events = Vec::new();
        let mut words = false;
        for (m, out, before) in &self.steps {
            db::record(tx, env, rid, m, out, before.as_ref())?;
            words |= !out.messages.is_empty() || !out.notes.is_empty();
            events.extend(out.events.iter().cloned());
        }
        db::index_later(later, tx, rid, &request, created, words)?;
        for (m, _, _) in &self.steps {
            db::relay_down(tx, env, m, later, 0)?;
        }
        Ok((
            rid,
            Applied {
                request,
                changed: true,
                events,
            },
        ))
    }
}
