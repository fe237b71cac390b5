//! Triage in the store: the model this file suggests with, and each open untagged request's
//! suggestion, kept up to date as the request is written (every request row passes
//! `rows::write_request`, so intake, a pull, an import and an operator's action alike). The model itself is loaded on
//! the store's own thread and lives there (a thread-local: one store, one thread), so scoring
//! needs no lock and nothing outside the store sees it. Training runs on a blocking thread,
//! never on the store's or the console's: the store reads the labels, hands them over, and
//! installs the trained model when it comes back.

use std::cell::RefCell;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::StoreError;
use super::memo::Memo;
use super::rows::{Cached, ms};
use crate::domain::{Catalog, Request};
use crate::triage::{self, Example, Method, Model, Settings, Suggestion};

thread_local! {
    /// The model of the store whose thread this is; None until the store is opened.
    static ACTIVE: RefCell<Option<Arc<Model>>> = const { RefCell::new(None) };
    /// `[triage]` of the program that opened the store (`Store::configure_triage`).
    static SETTINGS: RefCell<Settings> = RefCell::new(Settings::default());
}

pub fn configure(settings: Settings) {
    SETTINGS.with(|s| *s.borrow_mut() = settings);
}

/// The model's own action on a request just taken in, when `[triage] auto_apply_above` is set
/// and the suggested department is at least that likely: the topic (and the department where
/// the history routes it elsewhere than the catalog), as mutations whose actor names the model,
/// its version and the probability, so the audit trail says who decided. Out of scope is never
/// applied: declining is an operator's reply. `id` makes a redelivered message's repeat the same
/// mutation.
pub fn auto_apply(
    r: &Request,
    catalog: &Catalog,
    id: impl Fn(&str) -> uuid::Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<crate::domain::Mutation> {
    use crate::domain::{Mutation, Op};
    let Some(threshold) = SETTINGS.with(|s| s.borrow().auto_apply_above) else {
        return vec![];
    };
    let Some(model) = active() else {
        return vec![];
    };
    if r.topic.is_some() || model.method == Method::Keywords {
        return vec![];
    }
    let Some(s) = model.suggest(&r.text) else {
        return vec![];
    };
    if s.department_probability < threshold || s.topic == "out_of_scope" {
        return vec![];
    }
    let actor = triage::model_actor(&s);
    let follows = catalog.topic(&s.topic).and_then(|t| t.department.clone());
    let mut out = vec![Mutation {
        id: id("triage-topic"),
        ..Mutation::new(
            r.id,
            &actor,
            now,
            Op::SetTopic {
                topic: Some(s.topic.clone()),
                department_follows: true,
            },
        )
    }];
    if s.department.is_some() && s.department != follows {
        out.push(Mutation {
            id: id("triage-department"),
            ..Mutation::new(
                r.id,
                &actor,
                now,
                Op::SetDepartment {
                    department: s.department.clone(),
                },
            )
        });
    }
    out
}

/// What `mcu triage status` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub version: String,
    pub method: Method,
    pub labels: usize,
    /// When it was trained; None for the keyword hints, which are never stored.
    pub trained_at: Option<chrono::DateTime<chrono::Utc>>,
    pub train_ms: Option<u64>,
    /// Labels this file holds now (a retrain is due when these are `retrain_every` more).
    pub labels_now: usize,
}

/// Loads the stored model (or the catalog's keyword hints when there is none, or it is of an
/// older format) as this thread's.
pub fn load(conn: &Connection, catalog: &Catalog) -> Result<(), StoreError> {
    let stored: Option<Vec<u8>> = conn
        .row(
            "SELECT model FROM triage_model WHERE id = 1 AND format = ?1",
            [triage::FORMAT],
            |r| r.get(0),
        )
        .optional()?;
    let model = stored
        .and_then(|b| match Model::from_bytes(&b) {
            Ok(m) => Some(m),
            Err(e) => {
                // A model is only ever a cache of the history: retrain rather than fail.
                tracing::warn!(error = %e, "the stored triage model is set aside");
                None
            }
        })
        .unwrap_or_else(|| triage::train(&[], catalog, Method::Keywords));
    ACTIVE.with(|a| *a.borrow_mut() = Some(Arc::new(model)));
    Ok(())
}

fn active() -> Option<Arc<Model>> {
    ACTIVE.with(|a| a.borrow().clone())
}

/// Keeps `r`'s suggestion in step with it: scored while it is open and has no topic, gone
/// once it has one or is closed. Nothing happens on a thread with no model (a migration).
pub(crate) fn refresh(tx: &Connection, rid: i64, r: &Request) -> Result<(), StoreError> {
    let Some(model) = active() else {
        return Ok(());
    };
    let suggestion = (r.topic.is_none() && r.status.is_open())
        .then(|| suggest(&model, &r.text))
        .flatten();
    write(tx, rid, suggestion.as_ref())
}

/// The model the memo's texts were scored by, and the memo.
type Scored = (Option<Arc<Model>>, Memo<Option<Suggestion>>);

thread_local! {
    /// Texts scored by which model: intake rewrites a request's row as it is created and
    /// acknowledged and as each of the citizen's next messages joins it, and scoring the same
    /// text again was a tenth of intake.
    static SCORED: RefCell<Scored> = RefCell::new((None, Memo::new(4096)));
}

/// `model.suggest(text)`, remembered (a pure function of the two).
fn suggest(model: &Arc<Model>, text: &str) -> Option<Suggestion> {
    SCORED.with(|scored| {
        let (by, memo) = &mut *scored.borrow_mut();
        if !by.as_ref().is_some_and(|m| Arc::ptr_eq(m, model)) {
            memo.clear();
            *by = Some(model.clone());
        }
        memo.get(text, |t| model.suggest(t))
    })
}

fn write(tx: &Connection, rid: i64, s: Option<&Suggestion>) -> Result<(), StoreError> {
    match s {
        Some(s) => {
            let top =
                serde_json::to_string(&s.top).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            tx.exec(
                "INSERT INTO triage_suggestion(request_rid, version, topic, probability, department,
                     department_probability, top) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(request_rid) DO UPDATE SET version = excluded.version,
                     topic = excluded.topic, probability = excluded.probability,
                     department = excluded.department,
                     department_probability = excluded.department_probability, top = excluded.top",
                params![rid, s.model_version, s.topic, s.probability, s.department, s.department_probability, top],
            )?;
        }
        None => {
            tx.exec(
                "DELETE FROM triage_suggestion WHERE request_rid = ?1",
                [rid],
            )?;
        }
    }
    Ok(())
}

/// The stored suggestion for request `rid`.
pub fn get(conn: &Connection, rid: i64) -> Result<Option<Suggestion>, StoreError> {
    let row = conn
        .row(
            "SELECT version, topic, probability, department, department_probability, top
             FROM triage_suggestion WHERE request_rid = ?1",
            [rid],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, f64>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, f64>(4)?,
                    r.get::<_, String>(5)?,
                ))
            },
        )
        .optional()?;
    Ok(row.map(
        |(version, topic, probability, department, q, top)| Suggestion {
            topic,
            probability,
            department,
            department_probability: q,
            model_version: version,
            // Written by this module from a list; an unreadable one only loses the alternatives.
            top: serde_json::from_str(&top).unwrap_or_default(),
        },
    ))
}

/// Which requests are labels: closed with a topic, out of scope included, duplicates and spam
/// left out (their topic says nothing of their text).
const LABELLED: &str = "status = 'closed' AND topic IS NOT NULL
    AND COALESCE(close_reason, '') NOT IN ('duplicate', 'spam')";

/// The most labels a model learns from: the newest, by when they were closed. A city's last
/// weeks say more about its requests than years back, and a console that imported a million
/// closed requests must not hold them all in memory to train (on 2,000 real appeals the model
/// is within a point of its best; 20,000 trains in a few seconds).
pub const MAX_LABELS: usize = 20_000;

/// Labels this file holds: the final topic (and department) of closed requests ([`LABELLED`]),
/// the newest [`MAX_LABELS`] of them. In a fixed order, so that the same history always
/// trains the same model.
pub fn labels(conn: &Connection) -> Result<Vec<Example>, StoreError> {
    newest_labels(conn, MAX_LABELS)
}

/// The newest `cap` labels by closing time (ties by id), in id order.
pub fn newest_labels(conn: &Connection, cap: usize) -> Result<Vec<Example>, StoreError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT text, topic, department FROM (
            SELECT id, text, topic, department FROM request WHERE {LABELLED}
            ORDER BY COALESCE(closed_at, 0) DESC, id DESC LIMIT ?1)
         ORDER BY id"
    ))?;
    let rows = st.query_map([cap as i64], |r| {
        Ok(Example {
            text: r.get(0)?,
            topic: r.get(1)?,
            department: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `labels`, split at `since` by when each request was closed.
pub fn labels_split(
    conn: &Connection,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<(Vec<Example>, Vec<Example>), StoreError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT text, topic, department, COALESCE(closed_at, 0) >= ?1 FROM request
         WHERE {LABELLED} ORDER BY id"
    ))?;
    let rows = st.query_map([ms(since)], |r| {
        Ok((
            Example {
                text: r.get(0)?,
                topic: r.get(1)?,
                department: r.get(2)?,
            },
            r.get::<_, bool>(3)?,
        ))
    })?;
    let (mut older, mut recent) = (Vec::new(), Vec::new());
    for row in rows {
        let (e, is_recent) = row?;
        if is_recent {
            recent.push(e);
        } else {
            older.push(e);
        }
    }
    Ok((older, recent))
}

pub fn count_labels(conn: &Connection) -> Result<usize, StoreError> {
    let n: i64 = conn.row(
        &format!("SELECT count(*) FROM request WHERE {LABELLED}"),
        [],
        |r| r.get(0),
    )?;
    Ok(n as usize)
}

/// Whether a retrain is due: the history has `retrain_every` labels more than the model
/// learnt from, or has crossed `min_history` (keyword hints give way to the city's own).
pub fn due(conn: &Connection, settings: &Settings) -> Result<Option<usize>, StoreError> {
    let Some(model) = active() else {
        return Ok(None);
    };
    let all = count_labels(conn)?;
    let now = all.min(MAX_LABELS);
    let wanted = Method::for_history(now, settings.min_history);
    let due = if model.method == Method::Keywords {
        wanted != Method::Keywords
    } else if all > MAX_LABELS {
        // A long history is learnt from its newest labels: due once enough closed since.
        let since: Option<i64> = conn
            .row(
                "SELECT trained_at FROM triage_model WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let fresh: i64 = conn.row(
            &format!("SELECT count(*) FROM request WHERE {LABELLED} AND closed_at > ?1"),
            [since.unwrap_or(0)],
            |r| r.get(0),
        )?;
        fresh as usize >= settings.retrain_every || wanted != model.method
    } else {
        now >= model.labels + settings.retrain_every
            || wanted != model.method && now != model.labels
    };
    Ok(due.then_some(now))
}

/// Makes `model` this file's: stored, loaded, and every open untagged request scored again.
pub fn install(
    conn: &mut Connection,
    model: Model,
    train_ms: u64,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    if model.method == Method::Keywords {
        tx.exec("DELETE FROM triage_model", [])?;
    } else {
        tx.exec(
            "INSERT INTO triage_model(id, version, method, format, labels, trained_at, train_ms, model)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT(id) DO UPDATE SET version = excluded.version, method = excluded.method,
                 format = excluded.format, labels = excluded.labels,
                 trained_at = excluded.trained_at, train_ms = excluded.train_ms, model = excluded.model",
            params![
                model.version,
                serde_json::to_value(model.method)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                triage::FORMAT,
                model.labels as i64,
                ms(at),
                train_ms as i64,
                model.to_bytes()
            ],
        )?;
    }
    let model = Arc::new(model);
    let open: Vec<(i64, String)> = {
        let mut st = tx.prepare_cached(
            "SELECT rid, text FROM request WHERE status <> 'closed' AND topic IS NULL",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    for (rid, text) in &open {
        write(&tx, *rid, model.suggest(text).as_ref())?;
    }
    tx.commit()?;
    ACTIVE.with(|a| *a.borrow_mut() = Some(model));
    Ok(open.len())
}

/// The model's description and what it was trained on.
pub fn status(conn: &Connection) -> Result<Option<Status>, StoreError> {
    let Some(model) = active() else {
        return Ok(None);
    };
    let stored: Option<(i64, i64)> = conn
        .row(
            "SELECT trained_at, train_ms FROM triage_model WHERE id = 1 AND version = ?1",
            [&model.version],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(Some(Status {
        version: model.version.clone(),
        method: model.method,
        labels: model.labels,
        trained_at: stored.and_then(|(t, _)| chrono::DateTime::from_timestamp_millis(t)),
        train_ms: stored.map(|(_, m)| m as u64),
        labels_now: count_labels(conn)?,
    }))
}
