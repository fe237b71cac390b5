//! The work behind `POST requests` and the two reads, once `mod.rs` has admitted the call:
//! a submission goes through the engine's rules like every other change (`apply_direct`),
//! and reads run in one snapshot of the store.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use serde_json::Value;

use super::format::{self, O311Error};
use super::{Call, O, blocking, query, submit};
use crate::domain::mutation::{Mutation, Op};
use crate::domain::request::Channel;
use crate::server::engine::{self, Rules, ServerError};
use crate::server::http::Backend;

pub(super) async fn create<S: Backend>(o: &O<S>, call: &Call) -> Result<Response, O311Error> {
    let Some(who) = call.who.clone() else {
        return Err(O311Error::new(StatusCode::UNAUTHORIZED, "нужен ключ API"));
    };
    let now = Utc::now();
    // A header that isn't ASCII becomes a value `submit` refuses, not one it ignores.
    let idempotency = call
        .headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or("\u{0}").to_string());
    let sub = submit::parse(
        &call.params,
        &o.app.catalog,
        &who.user,
        idempotency.as_deref(),
        now,
    )?;
    let app = o.app.clone();
    let user = who.user.clone();
    let (number, created) = blocking(move || {
        let rules = Rules {
            catalog: &app.catalog,
            policy: &app.policy,
            assign: app.opts.assign,
        };
        let scope = &app.opts.open311.scope;
        let ids = sub.external_ids;
        let keyed = idempotency.is_some();
        let same = |r: &crate::domain::Request, new: &crate::domain::mutation::NewRequest| {
            r.text == new.text.trim() && r.topic == new.topic && r.location == new.location
        };
        let taken = |tx: &mut dyn engine::ServerTx| -> Result<Option<String>, ServerError> {
            for ext in &ids {
                if let Some(n) = tx.find_external(Channel::Open311.as_str(), ext)? {
                    return Ok(Some(n));
                }
            }
            Ok(None)
        };
        let first = app.store.in_tx(|tx| {
            // A retry of a submission already taken: its number again, nothing new. A key
            // given again with another report is the portal's mistake, never a silent drop.
            if let Some(n) = taken(tx)? {
                if keyed
                    && let Some(r) = tx.request_by_number(scope, &n)?
                    && !same(&r, &sub.new)
                {
                    return Ok(Err(("idempotency_mismatch", String::new())));
                }
                return Ok(Ok((n, false)));
            }
            let id = uuid::Uuid::now_v7();
            let m = Mutation::new(id, &who.user, now, Op::Create(Box::new(sub.new)));
            match engine::apply_direct(tx, &rules, &who, scope, &m, now)? {
                Ok(()) => tx
                    .load_request(id)?
                    .map(|d| Ok((d.request.number.to_string(), true)))
                    .ok_or_else(|| ServerError::Corrupt(format!("request {id} just created"))),
                Err(refusal) => Ok(Err(refusal)),
            }
        });
        // Two copies of one submission at once (PostgreSQL runs them side by side): the first
        // commits between the second's look and its insert, which the rules then refuse
        // (`already_exists`) or the unique external id stops. The answer is the first's number.
        let lost_race = matches!(
            &first,
            Err(ServerError::Storage(_)) | Ok(Err(("already_exists", _)))
        );
        if lost_race && let Some(n) = app.store.in_snapshot(|tx| taken(tx))? {
            return Ok(Ok((n, false)));
        }
        first
    })
    .await?
    .map_err(|(code, text)| {
        tracing::warn!(code, %text, "open311: submission refused");
        if code == "idempotency_mismatch" {
            return O311Error::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Idempotency-Key уже использован для другого обращения",
            );
        }
        O311Error::bad(format!("обращение не принято: {code}"))
    })?;
    o.app.opts.open311.metrics.submitted(&user, created);
    let v = serde_json::json!([{
        "service_request_id": number,
        "service_notice": o.app.opts.open311.config.service_notice,
        "account_id": null,
    }]);
    Ok(format::reply(
        call.fmt,
        StatusCode::OK,
        "service_requests",
        "request",
        &v,
    ))
}

/// What Open311 may show: requests filed through it (they all carry an external id; one
/// imported under the channel's name without one is not a portal's), and to a key not in
/// `read_all` only those its own account filed.
fn visible(r: &crate::domain::Request, owner: Option<&str>) -> bool {
    r.channel == Channel::Open311
        && r.external_id.is_some()
        && owner.is_none_or(|o| r.channel_ref.chat.as_deref() == Some(o))
}

/// One record, with our latest answer (read in the same snapshot).
fn load_record(
    tx: &mut dyn engine::ServerTx,
    r: &crate::domain::Request,
    catalog: &crate::domain::Catalog,
    tz: chrono_tz::Tz,
    private: bool,
) -> Result<Value, ServerError> {
    let reply = if private {
        query::latest_reply(&tx.rows_of(crate::wire::sync::Entity::Message, r.id)?)
    } else {
        None
    };
    Ok(query::record(r, reply, catalog, tz, private))
}

pub(super) async fn read_one<S: Backend>(
    o: &O<S>,
    id: String,
    private: bool,
    owner: Option<String>,
) -> Result<Value, O311Error> {
    let app = o.app.clone();
    let found = blocking(move || {
        app.store.in_snapshot(|tx| {
            let r = tx.request_by_number(&app.opts.open311.scope, &id)?;
            match r.filter(|r| visible(r, owner.as_deref())) {
                Some(r) => {
                    load_record(tx, &r, &app.catalog, app.policy.calendar.tz(), private).map(Some)
                }
                None => Ok(None),
            }
        })
    })
    .await?;
    found.ok_or_else(|| O311Error::not_found("нет обращения с таким номером"))
}

pub(super) async fn read_many<S: Backend>(o: &O<S>, call: &Call) -> Result<Value, O311Error> {
    let app = o.app.clone();
    let q = query::parse(&call.params, app.policy.calendar.tz(), Utc::now())?;
    let private = call.who.is_some();
    let owner = call.reads_only(&app.opts.open311.config);
    let records = blocking(move || {
        app.store.in_snapshot(|tx| {
            let scope = &app.opts.open311.scope;
            let tz = app.policy.calendar.tz();
            let mut out = vec![];
            match q {
                query::Query::Ids(ids) => {
                    for id in ids {
                        if let Some(r) = tx.request_by_number(scope, &id)?
                            && visible(&r, owner.as_deref())
                        {
                            out.push(load_record(tx, &r, &app.catalog, tz, private)?);
                        }
                    }
                }
                query::Query::Window {
                    from,
                    to,
                    codes,
                    open,
                } => {
                    let rows = tx.channel_requests(
                        scope,
                        Channel::Open311.as_str(),
                        from,
                        to,
                        query::SCAN_LIMIT,
                    )?;
                    for r in rows
                        .iter()
                        .filter(|r| visible(r, owner.as_deref()))
                        .filter(|r| query::matches(r, &codes, open))
                    {
                        if out.len() == query::MAX_RESULTS {
                            break;
                        }
                        out.push(load_record(tx, r, &app.catalog, tz, private)?);
                    }
                }
            }
            Ok(out)
        })
    })
    .await?;
    Ok(Value::Array(records))
}
