//! The server's rules for push and pull, written once over `ServerTx`, which each backend
//! (SQLite, PostgreSQL) implements with plain SQL. One mutation is one transaction
//! (docs/sync-protocol.md §4): idempotent by the mutation's uuid, refused on a gap in client ids,
//! recorded as rejected (and moved past) when the domain or a conflict rule says no.

use chrono::{DateTime, Datelike, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::mutation::{Ctx, Op, Outcome};
use crate::domain::request::Event;
use crate::domain::{Catalog, ClockPolicy, RequestNumber};
use crate::wire::sync::{
    Doc, Entity, MutationResult, PushMutation, PushRequest, PushResponse, RequestDoc,
    SCHEMA_VERSION, Verdict,
};

mod backend;
mod department;
mod pull;
mod upkeep;
pub use backend::*;
pub use pull::{pull, pull_page};
pub use upkeep::{Repaired, compact, repair};

/// What the rules need besides storage.
pub struct Rules<'a> {
    pub catalog: &'a Catalog,
    pub policy: &'a ClockPolicy,
    /// Round-robin at intake (`server::assign`).
    pub assign: super::assign::AssignConfig,
}

fn json<T: serde::Serialize>(v: &T) -> Result<Value, ServerError> {
    serde_json::to_value(v).map_err(|e| ServerError::Corrupt(e.to_string()))
}

/// A request as a pull sends it: the stored document with its version, put together as text.
pub fn request_doc(doc: &str, version: i64) -> Result<Doc, ServerError> {
    Doc::from_text(format!("{{\"request\":{doc},\"version\":{version}}}"))
        .map_err(|e| ServerError::Corrupt(format!("request document: {e}")))
}

/// Checks the client before any mutation is looked at: known and the pusher's own, or new.
pub fn admit(
    tx: &mut dyn ServerTx,
    who: &Principal,
    req: &PushRequest,
    now: DateTime<Utc>,
) -> Result<ClientRow, ServerError> {
    if req.schema_version != SCHEMA_VERSION {
        return Err(ServerError::Schema(req.schema_version));
    }
    tx.scope(&req.scope_id)?;
    match tx.lock_client(req.client_id)? {
        Some(c) if c.user != who.user || c.scope_id != req.scope_id => {
            Err(ServerError::Forbidden(req.client_id))
        }
        Some(c) => Ok(c),
        None => {
            // A client that starts anywhere but at 1 has pushed to a server that forgot it.
            if req.mutations.first().is_some_and(|m| m.id > 1) {
                return Err(ServerError::ClientUnknown);
            }
            let c = ClientRow {
                client_id: req.client_id,
                scope_id: req.scope_id.clone(),
                user: who.user.clone(),
                last_mutation_id: 0,
            };
            tx.save_client(&c, now)?;
            Ok(c)
        }
    }
}

/// What one mutation did, for the push response; `None` means stop (a gap).
pub enum Step {
    Done(MutationResult),
    Gap { expected: i64 },
}

/// One mutation in its own transaction (the caller opens and commits it).
pub fn push_one(
    tx: &mut dyn ServerTx,
    rules: &Rules,
    who: &Principal,
    client_id: Uuid,
    pm: &PushMutation,
    now: DateTime<Utc>,
) -> Result<Step, ServerError> {
    let mut client = tx
        .lock_client(client_id)?
        .ok_or(ServerError::ClientUnknown)?;
    let uuid = pm.mutation.id;
    if pm.id <= client.last_mutation_id {
        // Already taken: answer as the first time (the client may have lost that answer).
        // An id already used by a *different* action means the console's file was restored
        // from a copy: answering "applied" would lose the action silently, so the console is
        // told to take a new id and push its journal again (deduplicated by uuid).
        return match tx.processed(uuid)? {
            Some(mut r) => {
                r.id = pm.id;
                Ok(Step::Done(r))
            }
            None => Err(ServerError::ClientUnknown),
        };
    }
    if pm.id > client.last_mutation_id + 1 {
        return Ok(Step::Gap {
            expected: client.last_mutation_id + 1,
        });
    }
    client.last_mutation_id = pm.id;
    // A journal pushed again under a new client id (a restored file): the effect is once.
    if let Some(mut earlier) = tx.processed(uuid)? {
        earlier.id = pm.id;
        tx.save_client(&client, now)?;
        return Ok(Step::Done(earlier));
    }
    let result = match decide(tx, rules, who, &client.scope_id, pm, now)? {
        Ok(()) => applied(pm.id, uuid),
        Err((rejection, current)) => {
            relog(tx, &client.scope_id, pm.mutation.request_id)?;
            let changed = match current {
                Some(_) => last_change(
                    tx,
                    pm.mutation.request_id,
                    refused_field(rejection.0, &rejection.1),
                )?,
                None => None,
            };
            let (changed_by, changed_at) = changed.unzip();
            MutationResult {
                id: pm.id,
                uuid,
                status: Verdict::Rejected,
                code: Some(rejection.0.to_string()),
                message: Some(rejection.1),
                current,
                changed_by,
                changed_at,
            }
        }
    };
    tx.record_processed(client_id, &result, now)?;
    tx.save_client(&client, now)?;
    Ok(Step::Done(result))
}

/// The console that made a refused action shows its effect on the request until it pulls the
/// request again, and nothing else need change the request for that to happen: it is logged
/// again (same content, a new version) so every console's next pull brings it.
fn relog(tx: &mut dyn ServerTx, scope: &str, request_id: Uuid) -> Result<(), ServerError> {
    let Some(doc) = tx.load_request(request_id)? else {
        return Ok(());
    };
    let version = tx.bump_seq(scope, 1)?;
    tx.save_request(scope, &RequestDoc { version, ..doc })?;
    tx.log_change(scope, version, Entity::Request, &request_id.to_string())
}

fn applied(id: i64, uuid: Uuid) -> MutationResult {
    MutationResult {
        id,
        uuid,
        status: Verdict::Applied,
        code: None,
        message: None,
        current: None,
        changed_by: None,
        changed_at: None,
    }
}

/// The field of the request a refusal is about, as the audit trail names it; `None` for a
/// refusal about no value in particular. (A `stale_base` says which in its text, `decide`'s.)
fn refused_field(code: &str, text: &str) -> Option<&'static str> {
    match code {
        "already_claimed" | "not_assignee" => Some("assignee"),
        "stale_base" if text.starts_with("the department") => Some("department"),
        "stale_base" => Some("assignee"),
        "invalid_transition" => Some("status"),
        _ => None,
    }
}

/// Who last changed the request, and when by the server's clock, so a refused operator knows
/// whom to ask: the newest audit event on the refused field, else the newest of any. By field
/// first because a reply is followed within seconds by its channel's delivery event, and
/// "changed by telegram" would hide the colleague who holds the request. An event row that
/// doesn't parse is passed over: the refusal is worth more than this detail of it.
fn last_change(
    tx: &mut dyn ServerTx,
    request_id: Uuid,
    field: Option<&str>,
) -> Result<Option<(String, DateTime<Utc>)>, ServerError> {
    let events: Vec<Event> = tx
        .rows_of(Entity::Event, request_id)?
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect();
    // Stamped by the deciding clock, so the time orders them; the mutation's id (a v7 uuid)
    // breaks a tie within one millisecond.
    let newest = |on: Option<&str>| {
        events
            .iter()
            .filter(|e| on.is_none_or(|f| e.field == f))
            .max_by_key(|e| (e.at, e.mutation_id))
    };
    Ok(newest(field)
        .or_else(|| newest(None))
        .map(|e| (e.actor.clone(), e.at)))
}

type Refusal = ((&'static str, String), Option<Value>);

/// Applies the mutation under the server's rules, or says why not (with the request as it
/// is, so the operator sees the current value).
fn decide(
    tx: &mut dyn ServerTx,
    rules: &Rules,
    who: &Principal,
    scope: &str,
    pm: &PushMutation,
    now: DateTime<Utc>,
) -> Result<Result<(), Refusal>, ServerError> {
    let mut m = pm.mutation.clone();
    // The token says who acts; a console cannot act in someone else's name. The one exception
    // is the server's own channel gateway applying the model's suggestion at intake
    // (`[triage] auto_apply_above`): the audit names the model, its version and how sure it
    // was, as it does in a standalone console.
    let models_own = who.role == Role::Gateway
        && crate::triage::is_model_actor(&m.actor)
        && matches!(m.op, Op::SetTopic { .. } | Op::SetDepartment { .. });
    if !models_own {
        m.actor = who.user.clone();
    }
    let stored = tx.load_request(m.request_id)?;
    if who.role == Role::Department
        && let Some(why) = department::refusal(who, stored.as_ref().map(|d| &d.request), &m.op)
    {
        return Ok(Err((("forbidden", why), None)));
    }
    let current = match &stored {
        Some(d) if who.role == Role::Department => {
            Some(json(&department::as_seen(who, d.request.clone()))?)
        }
        Some(d) => Some(json(&d.request)?),
        None => None,
    };
    let refuse = |code: &'static str, text: String| Ok(Err(((code, text), current.clone())));
    match &m.op {
        Op::CitizenMessage { .. }
        | Op::CitizenEdit { .. }
        | Op::Acknowledge { .. }
        | Op::Remind { .. }
        | Op::CloseUnanswered { .. }
        | Op::AskFeedback { .. }
        | Op::Feedback { .. }
        | Op::Escalate { .. }
        | Op::Delivery { .. }
        | Op::SetAttachment { .. }
        | Op::DepartmentFiles { .. }
            if who.role != Role::Gateway =>
        {
            return refuse(
                "forbidden",
                "only the server's channels record citizens' messages".into(),
            );
        }
        Op::DepartmentAnswer { attachments, .. }
            if !attachments.is_empty() && who.role != Role::Gateway =>
        {
            let why = "only the server's channels attach the files a department sent";
            return Ok(Err((("forbidden", why.into()), None)));
        }
        Op::Assign { .. } if who.role == Role::Operator => {
            return refuse(
                "forbidden",
                "an operator claims for themself; assigning is for a shift lead".into(),
            );
        }
        _ => {}
    }
    if let (Some(doc), Some(base)) = (&stored, pm.base_seq) {
        let department_changes = matches!(
            &m.op,
            Op::SetDepartment { .. }
                | Op::Forward {
                    department: Some(_),
                    ..
                }
                | Op::SetTopic {
                    department_follows: true,
                    ..
                }
        );
        // Re-routing is a human decision: an offline console must not silently undo it.
        if department_changes && doc.department_seq > base {
            return refuse(
                "stale_base",
                format!(
                    "the department was changed meanwhile (now: {})",
                    doc.request.department.as_deref().unwrap_or("—")
                ),
            );
        }
        if matches!(m.op, Op::Assign { .. }) && doc.assignee_seq > base {
            return refuse(
                "stale_base",
                format!(
                    "the assignee was changed meanwhile (now: {})",
                    doc.request.assignee.as_deref().unwrap_or("—")
                ),
            );
        }
    }
    let mut new_number = None;
    if let Op::Create(new) = &m.op
        && stored.is_none()
    {
        if let Some(ext) = &new.external_id
            && let Some(n) = tx.find_external(new.channel.as_str(), ext)?
        {
            return refuse(
                "already_exists",
                format!("{} request `{ext}` is already stored as {n}", new.channel),
            );
        }
        let year = new
            .received_at
            .with_timezone(&rules.policy.calendar.tz())
            .year();
        let seq = tx.next_number(scope, year)?;
        let seq = u32::try_from(seq)
            .map_err(|_| ServerError::Corrupt(format!("request counter {seq} for {year}")))?;
        new_number = Some(RequestNumber::new(year, seq));
    }
    if let Op::LinkDuplicate { parent_id } = &m.op
        && tx.load_request(*parent_id)?.is_none()
    {
        return refuse(
            "invalid",
            format!("request {parent_id} to link to does not exist"),
        );
    }
    // A merge into a request that is not there, or is itself a link (`domain::merge`): the
    // same refusal a console's store gives, so a chain is never made by two writers.
    if let Op::Merge { into } = &m.op {
        match tx.load_request(*into)? {
            None => {
                return refuse(
                    "invalid",
                    format!("request {into} to merge into does not exist"),
                );
            }
            Some(d) if crate::domain::mutation::merged_into(&d.request).is_some() => {
                return refuse(
                    "invalid",
                    format!(
                        "{} is itself merged into another request: merge into that one",
                        d.request.number
                    ),
                );
            }
            Some(_) => {}
        }
    }
    if let Op::JoinIncident { incident_id } = &m.op
        && !tx
            .load_request(*incident_id)?
            .is_some_and(|d| d.request.is_incident)
    {
        return refuse("invalid", format!("incident {incident_id} does not exist"));
    }
    let ctx = Ctx {
        catalog: rules.catalog,
        policy: rules.policy,
        now,
        new_number,
    };
    let out = match crate::domain::apply(stored.as_ref().map(|d| &d.request), &m, &ctx) {
        Ok(out) => out,
        Err(r) => return refuse(r.code(), r.to_string()),
    };
    let created = (stored.is_none() && matches!(m.op, Op::Create(_))).then(|| out.request.clone());
    write(tx, scope, stored, out)?;
    // A new request goes to the next operator on shift, in the same transaction.
    if let Some(r) = created
        && let Some(assign) = super::assign::next(tx, &rules.assign, scope, &r, now)?
    {
        let ctx = Ctx {
            new_number: None,
            ..ctx
        };
        // Refused only if the request cannot be assigned at all; it stays in the queue.
        if let Ok(out) = crate::domain::apply(Some(&r), &assign, &ctx) {
            let doc = tx.load_request(r.id)?;
            write(tx, scope, doc, out)?;
        }
    }
    Ok(Ok(()))
}

/// One mutation that comes from no console's journal (an Open311 submission), under the same
/// rules as a pushed one (`decide`), in the caller's transaction. No client row and no
/// processed-mutation record: the caller deduplicates by the request's external id.
/// `Err((code, text))` when the rules refuse it.
pub fn apply_direct(
    tx: &mut dyn ServerTx,
    rules: &Rules,
    who: &Principal,
    scope: &str,
    m: &crate::domain::mutation::Mutation,
    now: DateTime<Utc>,
) -> Result<Result<(), (&'static str, String)>, ServerError> {
    tx.scope(scope)?;
    let pm = PushMutation {
        id: 0,
        base_seq: None,
        mutation: m.clone(),
    };
    Ok(decide(tx, rules, who, scope, &pm, now)?.map_err(|(refusal, _)| refusal))
}

/// The outcome's rows, each with its own seq in the change log: the request first, so a
/// console that first hears of it in this change has its row before the messages, notes and
/// events it files under it, even when a pull's page ends between them.
fn write(
    tx: &mut dyn ServerTx,
    scope: &str,
    before: Option<RequestDoc>,
    out: Outcome,
) -> Result<(), ServerError> {
    let rows = 1 + out.messages.len() + out.notes.len() + out.events.len();
    let last = tx.bump_seq(scope, rows as i64)?;
    let version = last - rows as i64 + 1;
    let (department_seq, assignee_seq) = before
        .as_ref()
        .map_or((0, 0), |d| (d.department_seq, d.assignee_seq));
    let old = before.as_ref().map(|d| &d.request);
    super::assign::track(tx, scope, old, &out.request)?;
    let doc = RequestDoc {
        department_seq: if old.map(|r| &r.department) != Some(&out.request.department) {
            version
        } else {
            department_seq
        },
        assignee_seq: if old.map(|r| &r.assignee) != Some(&out.request.assignee) {
            version
        } else {
            assignee_seq
        },
        version,
        request: out.request,
    };
    let rid = doc.request.id;
    tx.save_request(scope, &doc)?;
    tx.log_change(scope, version, Entity::Request, &rid.to_string())?;
    let mut seq = version;
    for m in &out.messages {
        seq += 1;
        let id = m.id.to_string();
        let mut value = json(m)?;
        // The gateway may have sent its own acknowledgement before pushing the action that
        // records it: the message starts in the state its send already reached.
        if let Some(state) = super::fence::early_delivery(tx, &id)? {
            value["delivery"] = Value::String(state);
        }
        tx.append(scope, Entity::Message, &id, rid, &value)?;
        tx.log_change(scope, seq, Entity::Message, &id)?;
    }
    for n in &out.notes {
        seq += 1;
        let id = n.id.to_string();
        tx.append(scope, Entity::Note, &id, rid, &json(n)?)?;
        tx.log_change(scope, seq, Entity::Note, &id)?;
    }
    for (i, e) in out.events.iter().enumerate() {
        seq += 1;
        let id = format!("{}:{i}", e.mutation_id);
        tx.append(scope, Entity::Event, &id, rid, &json(e)?)?;
        tx.log_change(scope, seq, Entity::Event, &id)?;
    }
    debug_assert_eq!(seq, last);
    Ok(())
}

/// A store that runs closures in transactions: what the push and pull drivers below need.
/// Sync on purpose: the rules run on a blocking thread, one transaction at a time per call.
pub trait Transactional {
    /// A read-write transaction, committed when `f` returns Ok.
    fn in_tx<R>(
        &self,
        f: impl FnOnce(&mut dyn ServerTx) -> Result<R, ServerError>,
    ) -> Result<R, ServerError>;
    /// One consistent snapshot for reading.
    fn in_snapshot<R>(
        &self,
        f: impl FnOnce(&mut dyn ServerTx) -> Result<R, ServerError>,
    ) -> Result<R, ServerError>;
}

/// The server's store shared by the HTTP handlers and the gateway inside `mcu serve`.
impl<T: Transactional> Transactional for std::sync::Arc<T> {
    fn in_tx<R>(
        &self,
        f: impl FnOnce(&mut dyn ServerTx) -> Result<R, ServerError>,
    ) -> Result<R, ServerError> {
        self.as_ref().in_tx(f)
    }

    fn in_snapshot<R>(
        &self,
        f: impl FnOnce(&mut dyn ServerTx) -> Result<R, ServerError>,
    ) -> Result<R, ServerError> {
        self.as_ref().in_snapshot(f)
    }
}

/// A whole push: the client checked once, then each mutation in its own transaction, so a
/// failure of the store half-way keeps what was committed and the client resumes after it.
pub fn push<S: Transactional>(
    store: &S,
    rules: &Rules,
    who: &Principal,
    req: &PushRequest,
    now: DateTime<Utc>,
) -> Result<PushResponse, ServerError> {
    // An integration's key changes requests only through Open311 (`apply_direct`).
    if matches!(who.role, Role::Viewer | Role::Integration) {
        return Err(ServerError::ReadOnly(who.user.clone()));
    }
    let fence = match (who.role, &req.fence) {
        (Role::Gateway, None) => return Err(ServerError::Fenced("(none given)".into())),
        (Role::Gateway, Some(f)) => Some(f),
        // A console carries no lease; one that sends a fence gains nothing by it.
        _ => None,
    };
    store.in_tx(|tx| admit(tx, who, req, now))?;
    let mut steps = vec![];
    for pm in &req.mutations {
        let step = match store.in_tx(|tx| {
            // Checked in the mutation's own transaction: a lease lost a moment ago counts.
            if let Some(f) = fence {
                super::fence::check(tx, f, now)?;
            }
            push_one(tx, rules, who, req.client_id, pm, now)
        }) {
            Err(ServerError::Unstorable(why)) => {
                tracing::warn!(mutation = %pm.mutation.id, error = %why, "an action the store can't keep, refused");
                store.in_tx(|tx| refuse_unstorable(tx, req.client_id, pm, now))?
            }
            other => other?,
        };
        let gap = matches!(step, Step::Gap { .. });
        steps.push(step);
        if gap {
            break;
        }
    }
    let last = store.in_snapshot(|tx| tx.last_mutation_id(req.client_id))?;
    Ok(answer(last, steps))
}

/// Records the refusal of an action the store could not keep, in a transaction of its own
/// (the failed one was rolled back), so the client's queue moves past it.
fn refuse_unstorable(
    tx: &mut dyn ServerTx,
    client_id: Uuid,
    pm: &PushMutation,
    now: DateTime<Utc>,
) -> Result<Step, ServerError> {
    let mut client = tx
        .lock_client(client_id)?
        .ok_or(ServerError::ClientUnknown)?;
    if pm.id != client.last_mutation_id + 1 {
        return Ok(Step::Gap {
            expected: client.last_mutation_id + 1,
        });
    }
    client.last_mutation_id = pm.id;
    let result = MutationResult {
        id: pm.id,
        uuid: pm.mutation.id,
        status: Verdict::Rejected,
        code: Some("unstorable".into()),
        message: Some("the server can't store this action".into()),
        current: None,
        changed_by: None,
        changed_at: None,
    };
    tx.record_processed(client_id, &result, now)?;
    tx.save_client(&client, now)?;
    Ok(Step::Done(result))
}

/// Folds the per-mutation steps of one push into its answer.
pub fn answer(last_mutation_id: i64, steps: Vec<Step>) -> PushResponse {
    let mut results = vec![];
    let mut gap_expected = None;
    for s in steps {
        match s {
            Step::Done(r) => results.push(r),
            Step::Gap { expected } => {
                gap_expected = Some(expected);
                break;
            }
        }
    }
    PushResponse {
        last_mutation_id,
        results,
        gap_expected,
    }
}
