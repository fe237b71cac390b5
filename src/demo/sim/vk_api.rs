//! VK's surface in the simulator: `/method/{name}` (the API methods a community bot uses, each
//! answered HTTP 200 with `{"response":...}` or `{"error":{...}}` as VK does), the long-poll
//! endpoint `/vk_lp`, and `/_vk/photo/{name}` serving the photos citizens attached.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};

use super::params::Params;
use super::state::Shared;
use super::vk::{Keyboard, MAX_WAIT, SendError};

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/method/{name}", any(method))
        .route("/vk_lp", get(long_poll))
        .route("/_vk/photo/{name}", get(photo))
}

fn json_ok(body: Value) -> Response {
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// VK's errors come with HTTP 200 and echo the request's parameters (never the token).
fn error(code: i64, msg: &str, method: &str) -> Response {
    json_ok(json!({"error": {"error_code": code, "error_msg": msg,
        "request_params": [{"key": "method", "value": method}, {"key": "v", "value": "5.199"}]}}))
}

fn response(v: Value) -> Response {
    json_ok(json!({ "response": v }))
}

const BACKFILL: [&str; 4] = [
    "messages.getconversations",
    "messages.gethistory",
    "wall.get",
    "wall.getcomments",
];

async fn method(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let params = match Params::parse(uri.query(), &content_type, &body) {
        Ok(p) => p,
        Err(_) => {
            return error(
                100,
                "One of the parameters specified was missing or invalid",
                &name,
            );
        }
    };
    let resp = call(&shared, &name, &params).await;
    if !shared.opts.latency.is_zero() {
        tokio::time::sleep(shared.opts.latency).await;
    }
    resp
}

fn int(p: &Params, key: &str) -> Option<i64> {
    p.int(key).ok().flatten()
}

async fn call(shared: &Arc<Shared>, name: &str, p: &Params) -> Response {
    let lower = name.to_ascii_lowercase();
    if p.text("access_token").as_deref() != Some(shared.opts.vk.token.as_str()) {
        return error(
            5,
            "User authorization failed: invalid access_token (4).",
            name,
        );
    }
    if p.text("v").is_none() {
        return error(8, "Invalid request: v (version) is required", name);
    }
    let sending = lower == "messages.send" || lower == "wall.createcomment";
    {
        let mut inner = shared.lock();
        let inner = &mut *inner;
        if BACKFILL.contains(&lower.as_str()) {
            inner.vk.stats.backfill_calls += 1;
        }
        if inner.world.faults.chance(shared.opts.vk.error_rate) {
            inner.vk.stats.errors += 1;
            return if inner.world.faults.chance(0.5) {
                error(6, "Too many requests per second", name)
            } else {
                error(10, "Internal server error: Unknown error, try later", name)
            };
        }
    }
    let group = shared.opts.vk.group_id;
    let count = |d: i64| int(p, "count").unwrap_or(d).clamp(0, 200) as usize;
    let offset = int(p, "offset").unwrap_or(0).max(0) as usize;
    let result = {
        let mut inner = shared.lock();
        let inner = &mut *inner;
        let vk = &mut inner.vk;
        match lower.as_str() {
            "groups.getlongpollserver" => {
                if int(p, "group_id") != Some(group) {
                    return error(
                        100,
                        "One of the parameters specified was missing or invalid: group_id",
                        name,
                    );
                }
                Ok((
                    json!({"server": vk.lp_url, "key": vk.key, "ts": vk.ts().to_string()}),
                    false,
                ))
            }
            "messages.send" => {
                let Some(peer) = int(p, "peer_id").or_else(|| int(p, "user_id")) else {
                    return error(
                        100,
                        "One of the parameters specified was missing or invalid: peer_id",
                        name,
                    );
                };
                let Some(random_id) = p.text("random_id") else {
                    return error(
                        100,
                        "One of the parameters specified was missing or invalid: random_id is a required parameter",
                        name,
                    );
                };
                let keyboard = match keyboard(p) {
                    Ok(k) => k,
                    Err(why) => return error(911, why, name),
                };
                let text = p.text("message").unwrap_or_default();
                vk.send_message(peer, &text, &random_id, int(p, "reply_to"), keyboard)
                    .map(|(id, new)| (json!(id), new))
            }
            "wall.createcomment" => {
                if int(p, "owner_id") != Some(-group) {
                    return error(
                        15,
                        "Access denied: the community may comment only its own wall",
                        name,
                    );
                }
                let Some(post) = int(p, "post_id") else {
                    return error(
                        100,
                        "One of the parameters specified was missing or invalid: post_id",
                        name,
                    );
                };
                let text = p.text("message").unwrap_or_default();
                let guid = p.text("guid");
                vk.create_comment(post, &text, guid.as_deref(), int(p, "reply_to_comment"))
                    .map(|(id, new)| (json!({"comment_id": id, "parents_stack": []}), new))
            }
            "messages.getconversations" => return response(vk.conversations(count(20))),
            "users.get" => {
                let ids = p.text("user_ids").unwrap_or_default();
                return response(Value::Array(
                    ids.split(',')
                        .filter_map(|s| s.trim().parse::<i64>().ok())
                        .filter(|id| *id > 0)
                        .map(super::vk::user)
                        .collect(),
                ));
            }
            "messages.gethistory" => {
                let peer = int(p, "peer_id").unwrap_or(0);
                return response(vk.history(peer, count(20), offset));
            }
            "wall.get" => return response(vk.wall(count(20), offset)),
            "wall.getcomments" => {
                let post = int(p, "post_id").unwrap_or(0);
                let desc = p.text("sort").as_deref() == Some("desc");
                return match vk.comments(post, count(10), offset, desc) {
                    Some(v) => response(v),
                    None => error(
                        100,
                        "One of the parameters specified was missing or invalid: post not found",
                        name,
                    ),
                };
            }
            _ => return error(3, "Unknown method passed", name),
        }
    };
    let (answer, new) = match result {
        Ok(r) => r,
        Err(SendError::Api(code, msg)) => {
            shared.lock().vk.stats.rejected += 1;
            return error(code, msg, name);
        }
    };
    if sending && new {
        let hold = {
            let mut inner = shared.lock();
            let inner = &mut *inner;
            let hold = if inner.vk.hold_sends > 0 {
                inner.vk.hold_sends -= 1;
                true
            } else {
                inner.world.faults.chance(shared.opts.vk.ambiguous_rate)
            };
            if hold {
                inner.vk.note_held();
            }
            hold
        };
        if hold {
            // Sent, and the answer is lost: only the random_id keeps the retry from sending twice.
            return super::api::never_answer(shared).await;
        }
    }
    response(answer)
}

/// `keyboard` (a JSON object, given serialized): the keyboard as sent and its text buttons'
/// (label, payload); error 911 when it does not read as VK's keyboard does.
fn keyboard(p: &Params) -> Result<Option<Keyboard>, &'static str> {
    const BAD: &str = "Keyboard format is invalid";
    let Some(k) = p.object("keyboard").map_err(|_| BAD)? else {
        return Ok(None);
    };
    let k = k.into_value();
    let rows = k.get("buttons").and_then(Value::as_array).ok_or(BAD)?;
    let mut buttons = vec![];
    for b in rows.iter().map(|r| r.as_array().ok_or(BAD)) {
        for b in b? {
            let action = b.get("action").ok_or(BAD)?;
            if action.get("type").and_then(Value::as_str) != Some("text") {
                continue;
            }
            let label = action.get("label").and_then(Value::as_str).ok_or(BAD)?;
            let payload = match action.get("payload") {
                None => String::new(),
                Some(Value::String(s)) if s.len() <= 255 => s.clone(),
                Some(_) => return Err(BAD),
            };
            if label.chars().count() > 40 {
                return Err(BAD);
            }
            buttons.push((label.to_string(), payload));
        }
    }
    Ok(Some((k, buttons)))
}

async fn long_poll(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if q.get("act").map(String::as_str) != Some("a_check") {
        return json_ok(json!({"failed": 4}));
    }
    let key = q.get("key").cloned().unwrap_or_default();
    let Some(ts) = q.get("ts").and_then(|t| t.parse::<u64>().ok()) else {
        return json_ok(json!({"failed": 1, "ts": shared.lock().vk.ts().to_string()}));
    };
    let wait = q
        .get("wait")
        .and_then(|w| w.parse::<u64>().ok())
        .map_or(
            std::time::Duration::from_secs(25),
            std::time::Duration::from_secs,
        )
        .min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    let mut stop = shared.stop.clone();
    let wake = shared.lock().vk.wake.clone();
    let mut first = true;
    loop {
        // Registered before looking, so an event pushed in between still wakes this poll.
        let notified = wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut inner = shared.lock();
            let inner = &mut *inner;
            let answer = if first {
                inner.vk.check(&key, ts, &mut inner.world.faults)
            } else {
                inner.vk.recheck(&key, ts)
            };
            if let Some(a) = answer {
                return json_ok(a);
            }
        }
        first = false;
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep_until(deadline) => break,
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    let idle = shared.lock().vk.idle(ts);
    json_ok(idle)
}

async fn photo(Path(name): Path<String>) -> Response {
    let bytes = super::files::picture_of_size(&name, 30_000);
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    resp
}
