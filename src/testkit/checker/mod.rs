//! The checker (docs/sync-protocol.md §9): once a scenario has quiesced (faults healed,
//! every console synced until nothing waits), compares the server's store with every console
//! file and reports each way they break I1–I5, saying exactly what differs. In the test rig
//! so the scenario tests in `tests/` run the same checks as the unit tests.
//!
//! - I1 no loss: every action in a console's journal (acked or not) is processed on the server
//!   (or, from a read-only account, refused to its operator), and each the server refused is
//!   kept for that console's operator.
//! - I2 no duplicates: each note and audit event is logged once on the server (a message again
//!   only when its delivery state moves), and is one row on the server and in each mirror.
//! - I3 convergence: each console has pushed everything, pulled up to the server's head, and
//!   holds the server's requests (every field, tags and version), messages, notes and audit
//!   events, times included.
//! - I4 domain: along the server's audit of each request, every status change is one the
//!   state machine allows from the status it left, assignments chain (each starts from the
//!   assignee before it), and both end where the request is.
//! - I5 storage: `PRAGMA integrity_check` is ok on every console file (and a SQLite server's),
//!   and the server's invariant queries (`server::invariants`) return no rows.

mod read;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use uuid::Uuid;

use crate::domain::Status;
use crate::server::engine::Transactional;
use crate::wire::sync::Verdict;
pub use read::{ConsoleState, EventRow, Mirror, ServerState};

/// What was checked, so a test can also assert the scenario did something.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub consoles: usize,
    /// Actions journaled by the consoles (each counted once per file that holds it).
    pub journaled: usize,
    /// Of the journaled actions, how many the server applied and refused (each once).
    pub applied: usize,
    pub rejected: usize,
    pub requests: usize,
    pub notes: usize,
    pub messages: usize,
    pub events: usize,
    pub head: i64,
}

/// Every broken invariant, one line each, prefixed with I1…I5.
#[derive(Debug, Clone, PartialEq)]
pub struct Violations(pub Vec<String>);

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} invariant violation(s):", self.0.len())?;
        for line in &self.0 {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

/// At most this many lines per kind of difference; the rest is counted.
const SHOWN: usize = 12;

struct Report {
    lines: Vec<String>,
}

impl Report {
    fn list(&mut self, prefix: &str, items: Vec<String>) {
        let n = items.len();
        for item in items.into_iter().take(SHOWN) {
            self.lines.push(format!("{prefix}: {item}"));
        }
        if n > SHOWN {
            self.lines
                .push(format!("{prefix}: … and {} more like these", n - SHOWN));
        }
    }
}

/// Runs every check; `Err` lists what broke. The consoles must not be written meanwhile.
pub fn check<S: Transactional>(
    server: &S,
    scope: &str,
    consoles: &[&Path],
) -> Result<Summary, Violations> {
    let mut report = Report { lines: vec![] };
    let mut files = vec![];
    for path in consoles {
        match read::console(path) {
            Ok(c) => files.push(c),
            Err(e) => report
                .lines
                .push(format!("I5 console {}: unreadable: {e}", path.display())),
        }
    }
    let uuids: Vec<Uuid> = files
        .iter()
        .flat_map(|c| c.journal.iter().map(|j| j.uuid))
        .collect();
    let state = match server.in_snapshot(|tx| read::server(tx, scope, &uuids)) {
        Ok(s) => s,
        Err(e) => {
            report.lines.push(format!("I5 server: unreadable: {e}"));
            return Err(Violations(report.lines));
        }
    };
    report.list("I5 server", state.violations.clone());
    report.list("I2 server", state.logged_twice.clone());
    domain(&state, &mut report);
    for c in &files {
        report.list(&format!("I5 console {}", c.name), c.integrity.clone());
        no_loss(c, &state, &mut report);
        converged(c, &state, &mut report);
    }
    if !report.lines.is_empty() {
        return Err(Violations(report.lines));
    }
    let verdicts = |v: Verdict| state.processed.values().filter(|r| r.status == v).count();
    Ok(Summary {
        consoles: files.len(),
        journaled: uuids.len(),
        applied: verdicts(Verdict::Applied),
        rejected: verdicts(Verdict::Rejected),
        requests: state.mirror.requests.len(),
        notes: state.mirror.notes.len(),
        messages: state.mirror.messages.len(),
        events: state.mirror.events.len(),
        head: state.head,
    })
}

/// `check`, panicking with the violations: for tests.
pub fn assert_all<S: Transactional>(server: &S, scope: &str, consoles: &[&Path]) -> Summary {
    match check(server, scope, consoles) {
        Ok(s) => s,
        Err(v) => panic!("the checker found {v}"),
    }
}

/// I1: nothing a console committed is missing on the server; refusals reach the operator.
fn no_loss(c: &ConsoleState, s: &ServerState, report: &mut Report) {
    let prefix = format!("I1 console {}", c.name);
    let missing = c
        .journal
        .iter()
        .filter(|j| !s.processed.contains_key(&j.uuid))
        // A read-only account's push is refused whole and recorded nowhere; its console lets
        // the actions go, refused for its operator.
        .filter(|j| c.rejections.get(&j.uuid).map(String::as_str) != Some("read_only"))
        .map(|j| {
            format!(
                "journal #{} {} ({}, {}) is not processed on the server",
                j.local_id,
                j.uuid,
                j.name,
                if j.acked { "acked" } else { "not acked" }
            )
        })
        .collect();
    report.list(&prefix, missing);
    let unseen = c
        .journal
        .iter()
        .filter_map(|j| Some((j, s.processed.get(&j.uuid)?)))
        .filter(|(j, r)| r.status == Verdict::Rejected && !c.rejections.contains_key(&j.uuid))
        .map(|(j, r)| {
            format!(
                "journal #{} {} ({}) was rejected ({}) but the refusal is not kept for the operator",
                j.local_id,
                j.uuid,
                j.name,
                r.code.as_deref().unwrap_or("?")
            )
        })
        .collect();
    report.list(&prefix, unseen);
}

/// I3: the console pushed everything, pulled up to the head, and shows what the server has.
fn converged(c: &ConsoleState, s: &ServerState, report: &mut Report) {
    let prefix = format!("I3 console {}", c.name);
    let waiting = c.journal.iter().filter(|j| !j.acked).count();
    if waiting > 0 {
        report.lines.push(format!(
            "{prefix}: not quiesced: {waiting} action(s) not acked"
        ));
    }
    match c.cookie {
        Some(k) if k.epoch == s.epoch && k.seq == s.head => {}
        other => report.lines.push(format!(
            "{prefix}: not quiesced: pulled up to {other:?}, the server is at seq {} of epoch {}",
            s.head, s.epoch
        )),
    }
    let (mine, theirs) = (&c.mirror, &s.mirror);
    let mut diffs = vec![];
    for (id, (want, version)) in &theirs.requests {
        match mine.requests.get(id) {
            None => diffs.push(format!("request {} ({id}) is missing", want.number)),
            Some((got, local_version)) => {
                for field in fields_that_differ(want, got) {
                    diffs.push(format!("request {} ({id}): {field}", want.number));
                }
                if local_version != version {
                    diffs.push(format!(
                        "request {} ({id}): server version {version:?}, console {local_version:?}",
                        want.number
                    ));
                }
            }
        }
    }
    for (id, (got, _)) in &mine.requests {
        if !theirs.requests.contains_key(id) {
            diffs.push(format!(
                "request {} ({id}) is on the console only",
                got.number
            ));
        }
    }
    report.list(&prefix, diffs);
    report.list(&prefix, map_diff("note", &theirs.notes, &mine.notes));
    report.list(
        &prefix,
        map_diff("message", &theirs.messages, &mine.messages),
    );
    report.list(&prefix, multiset_diff(&theirs.events, &mine.events));
}

/// "field: server …, console …" for each top-level field of the request that differs.
fn fields_that_differ(want: &crate::domain::Request, got: &crate::domain::Request) -> Vec<String> {
    if want == got {
        return vec![];
    }
    let (a, b) = (
        serde_json::to_value(want).unwrap_or_default(),
        serde_json::to_value(got).unwrap_or_default(),
    );
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return vec![format!("server {want:?}, console {got:?}")];
    };
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            format!(
                "{k}: server {}, console {}",
                a.get(k).unwrap_or(&serde_json::Value::Null),
                b.get(k).unwrap_or(&serde_json::Value::Null)
            )
        })
        .collect()
}

fn map_diff<T: PartialEq + fmt::Debug>(
    what: &str,
    server: &BTreeMap<Uuid, T>,
    console: &BTreeMap<Uuid, T>,
) -> Vec<String> {
    let mut out = vec![];
    for (id, want) in server {
        match console.get(id) {
            None => out.push(format!("{what} {id} is missing: {want:?}")),
            Some(got) if got != want => {
                out.push(format!("{what} {id}: server {want:?}, console {got:?}"))
            }
            Some(_) => {}
        }
    }
    for (id, got) in console {
        if !server.contains_key(id) {
            out.push(format!("{what} {id} is on the console only: {got:?}"));
        }
    }
    out
}

/// Both sorted: what only the server has, what only the console has.
fn multiset_diff(server: &[EventRow], console: &[EventRow]) -> Vec<String> {
    let (mut i, mut j, mut out) = (0, 0, vec![]);
    while i < server.len() || j < console.len() {
        match (server.get(i), console.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), b) if b.is_none_or(|b| a < b) => {
                out.push(format!("audit event missing: {}", show_event(a)));
                i += 1;
            }
            (_, Some(b)) => {
                out.push(format!(
                    "audit event on the console only: {}",
                    show_event(b)
                ));
                j += 1;
            }
            (Some(_), None) | (None, None) => break,
        }
    }
    out
}

fn show_event(e: &EventRow) -> String {
    format!(
        "request {} mutation {} by {} at {}: {} {:?} → {:?}",
        e.request, e.mutation, e.actor, e.at, e.field, e.old, e.new
    )
}

/// I4 along the server's audit, in the order it was logged.
fn domain(s: &ServerState, report: &mut Report) {
    let mut out = vec![];
    for (rid, events) in &s.history {
        let Some((request, _)) = s.mirror.requests.get(rid) else {
            continue;
        };
        let mut status: Option<Status> = None;
        // A request is created without an assignee.
        let mut assignee: Option<String> = None;
        for e in events {
            let at = format!("request {} mutation {}", request.number, e.mutation);
            match e.field.as_str() {
                "status" => {
                    let parse = |v: &Option<String>| v.as_deref().and_then(|s| s.parse().ok());
                    let (Some(from), Some(to)) = (parse(&e.old), parse(&e.new)) else {
                        out.push(format!(
                            "{at}: unreadable status change {:?} → {:?}",
                            e.old, e.new
                        ));
                        continue;
                    };
                    if status.is_some_and(|s| s != from) {
                        out.push(format!(
                            "{at}: status changed from {from} but it was {}",
                            status.map_or("?", Status::as_str)
                        ));
                    }
                    if from == to || !from.can_become(to) {
                        out.push(format!("{at}: status {from} → {to} is not allowed"));
                    }
                    status = Some(to);
                }
                "assignee" => {
                    if e.old != assignee {
                        out.push(format!(
                            "{at}: assignee changed from {:?} but it was {assignee:?}",
                            e.old
                        ));
                    }
                    if e.old == e.new {
                        out.push(format!("{at}: assignee {:?} → itself", e.new));
                    }
                    assignee = e.new.clone();
                }
                _ => {}
            }
        }
        if status.is_some_and(|s| s != request.status) {
            out.push(format!(
                "request {}: the audit ends at status {}, the request is {}",
                request.number,
                status.map_or("?", Status::as_str),
                request.status
            ));
        }
        if assignee != request.assignee {
            out.push(format!(
                "request {}: the audit ends with assignee {assignee:?}, the request has {:?}",
                request.number, request.assignee
            ));
        }
    }
    report.list("I4 server", out);
}
