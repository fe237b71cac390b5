//! The Bot API surface: `/bot{token}/{method}` and `/file/bot{token}/{path}`, with Telegram's
//! envelopes, statuses and error descriptions, and the configured faults in front of it.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Value, json};

use super::control;
use super::params::Params;
use super::state::{Poll, SendRequest, Shared};

/// Long polls are capped so a client's typo cannot pin a request for days.
const MAX_POLL_TIMEOUT_S: u64 = 600;

/// `{"ok":false,...}` with the HTTP status equal to `error_code`, as Telegram answers.
#[derive(Debug)]
pub(super) struct ApiError {
    pub code: u16,
    pub description: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: u16, description: &str) -> ApiError {
        ApiError {
            code,
            description: description.to_owned(),
            retry_after: None,
        }
    }

    pub fn bad_request(what: &str) -> ApiError {
        ApiError::new(400, &format!("Bad Request: {what}"))
    }

    pub fn poller_conflict() -> ApiError {
        ApiError::new(
            409,
            "Conflict: terminated by other getUpdates request; make sure that only one bot \
             instance is running",
        )
    }

    pub fn webhook_conflict() -> ApiError {
        ApiError::new(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to \
             delete the webhook first",
        )
    }

    fn not_found() -> ApiError {
        ApiError::new(404, "Not Found")
    }

    fn too_many(retry_after: u64) -> ApiError {
        ApiError {
            code: 429,
            description: format!("Too Many Requests: retry after {retry_after}"),
            retry_after: Some(retry_after),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body =
            json!({"ok": false, "error_code": self.code, "description": self.description});
        if let (Some(secs), Some(obj)) = (self.retry_after, body.as_object_mut()) {
            obj.insert("parameters".into(), json!({ "retry_after": secs }));
        }
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        json_response(status, body.to_string())
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

fn ok(result: Value) -> Response {
    json_response(
        StatusCode::OK,
        json!({"ok": true, "result": result}).to_string(),
    )
}

/// Updates are stored as the exact text to serve, so malformed ones reach the client verbatim.
fn updates_response(items: &[String]) -> Response {
    let mut body = String::with_capacity(24 + items.iter().map(|i| i.len() + 1).sum::<usize>());
    body.push_str(r#"{"ok":true,"result":["#);
    body.push_str(&items.join(","));
    body.push_str("]}");
    json_response(StatusCode::OK, body)
}

pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(control::routes())
        .merge(super::vk_api::routes())
        .route("/{bot}/{method}", any(bot_method))
        .route("/file/{bot}/{*path}", get(download))
        .with_state(shared)
}

/// Telegram answers 401 for a well-formed but wrong token and 404 for anything else.
fn check_token(shared: &Shared, segment: &str) -> Result<(), ApiError> {
    match segment.strip_prefix("bot") {
        Some(token) if token == shared.opts.token => Ok(()),
        Some(_) => Err(ApiError::new(401, "Unauthorized")),
        None => Err(ApiError::not_found()),
    }
}

async fn bot_method(
    State(shared): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let resp = match call(&shared, &bot, &method, uri.query(), &content_type, &body).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    };
    if !shared.opts.latency.is_zero() {
        tokio::time::sleep(shared.opts.latency).await;
    }
    resp
}

const METHODS: [&str; 9] = [
    "getme",
    "getupdates",
    "sendmessage",
    "sendphoto",
    "senddocument",
    "getfile",
    "deletewebhook",
    "setwebhook",
    "getwebhookinfo",
];

async fn call(
    shared: &Arc<Shared>,
    bot: &str,
    method: &str,
    query: Option<&str>,
    content_type: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    check_token(shared, bot)?;
    // Method names are case-insensitive on Telegram's side.
    let method = method.to_ascii_lowercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(ApiError::not_found());
    }
    let params = Params::parse(query, content_type, body)?;
    {
        let mut inner = shared.lock();
        let w = &mut inner.world;
        if w.faults.chance(shared.opts.fail_rate) {
            if method.starts_with("send") {
                w.counters.send.failed += 1;
            }
            return Err(if w.faults.chance(0.5) {
                ApiError::new(500, "Internal Server Error")
            } else {
                ApiError::new(502, "Bad Gateway")
            });
        }
    }
    match method.as_str() {
        "getme" => Ok(ok(shared.lock().world.bot_user.clone())),
        "getupdates" => get_updates(shared, &params).await,
        "sendmessage" => send_message(shared, &params, Sending::Text).await,
        "sendphoto" => send_message(shared, &params, Sending::Photo).await,
        "senddocument" => send_message(shared, &params, Sending::Document).await,
        // The spinner stops; nothing else to keep.
        "answercallbackquery" => Ok(ok(json!(true))),
        "getfile" => {
            let file_id = params.text("file_id").unwrap_or_default();
            let result = shared.lock().world.files.get_file(&file_id);
            result.map(ok)
        }
        "deletewebhook" => {
            let mut inner = shared.lock();
            inner.world.set_webhook(false);
            if params.flag("drop_pending_updates") {
                inner.world.drop_pending();
            }
            Ok(ok(json!(true)))
        }
        "setwebhook" => {
            // Telegram treats an empty url as "remove the webhook".
            let set = params.text("url").is_some_and(|u| !u.trim().is_empty());
            shared.lock().world.set_webhook(set);
            Ok(ok(json!(true)))
        }
        _ => {
            let (stats, webhook) = {
                let w = &shared.lock().world;
                (w.stats(), w.webhook)
            };
            Ok(ok(json!({
                "url": if webhook { "https://example.invalid/webhook" } else { "" },
                "has_custom_certificate": false,
                "pending_update_count": stats.updates_pending,
            })))
        }
    }
}

/// Clears the held-poll slot however the request ends, including the client hanging up.
struct HeldGuard {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for HeldGuard {
    fn drop(&mut self) {
        self.shared.lock().world.poll_end(self.id);
    }
}

async fn get_updates(shared: &Arc<Shared>, params: &Params) -> Result<Response, ApiError> {
    let offset = params.int("offset")?;
    let limit = params.int("limit")?.unwrap_or(100).clamp(1, 100) as usize;
    let timeout = params
        .int("timeout")?
        .unwrap_or(0)
        .clamp(0, MAX_POLL_TIMEOUT_S as i64) as u64;
    let allowed = params.strings("allowed_updates")?;
    let step = shared
        .lock()
        .world
        .poll_begin(offset, limit, timeout, allowed)?;
    let (id, wake) = match step {
        Poll::Ready(items) => return Ok(updates_response(&items)),
        Poll::Wait { id, wake } => (id, wake),
    };
    let _guard = HeldGuard {
        shared: shared.clone(),
        id,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    let mut stop = shared.stop.clone();
    loop {
        tokio::select! {
            () = wake.notified() => {
                let step = shared.lock().world.poll_resume(id, limit);
                if let Some(items) = step? {
                    return Ok(updates_response(&items));
                }
            }
            () = tokio::time::sleep_until(deadline) => break,
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    // An update or a rival may have landed at the deadline: one last look decides.
    let step = shared.lock().world.poll_resume(id, limit);
    Ok(updates_response(&step?.unwrap_or_default()))
}

/// What a send method sends: sendPhoto and sendDocument carry a caption in place of the text.
#[derive(Clone, Copy, PartialEq)]
enum Sending {
    Text,
    Photo,
    Document,
}

/// sendMessage, sendPhoto (`photo`) or sendDocument (`document`).
async fn send_message(
    shared: &Arc<Shared>,
    params: &Params,
    sending: Sending,
) -> Result<Response, ApiError> {
    {
        let mut inner = shared.lock();
        let w = &mut inner.world;
        if w.faults.chance(shared.opts.rate_limit_rate) {
            w.counters.send.rate_limited += 1;
            return Err(ApiError::too_many(1 + w.faults.below(3)));
        }
    }
    let req = match send_request(params, sending) {
        Ok(req) => req,
        Err(e) => {
            shared.lock().world.counters.send.rejected += 1;
            return Err(e);
        }
    };
    let answer = shared
        .opts
        .answer_questions_after
        .and_then(|after| Some((after, super::traffic::answer_to(&req.text, req.chat_id)?)));
    let department = shared
        .opts
        .answer_questions_after
        .and_then(|after| Some((after, super::traffic::department_answer_to(&req.text)?)));
    let taps = req.buttons.clone();
    let chat = req.chat_id;
    let answered = {
        let mut inner = shared.lock();
        let w = &mut inner.world;
        match w.send_message(req) {
            Err(e) => {
                w.counters.send.rejected += 1;
                return Err(e);
            }
            Ok(_) if w.faults.chance(shared.opts.ambiguous_rate) => {
                w.counters.send.ambiguous += 1;
                None
            }
            Ok(msg) => {
                w.counters.send.ok += 1;
                Some(msg)
            }
        }
    };
    if let (Some(msg), Some((after, answer))) = (&answered, department) {
        let shared = shared.clone();
        let post = msg.get("message_id").and_then(Value::as_i64).unwrap_or(0);
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            super::traffic::push_reply(&mut shared.lock().world, chat, answer, post);
        });
    } else if let (Some(msg), Some((after, answer))) = (&answered, answer) {
        let shared = shared.clone();
        // Under «Вопрос решён?» the citizen taps the button that says what they would type.
        let tap = crate::domain::feedback::reading(answer).and_then(|yes| {
            let data = if yes { "fb:yes" } else { "fb:no" };
            taps.iter().any(|(_, t)| t == data).then_some(data)
        });
        let message_id = msg.get("message_id").and_then(Value::as_i64).unwrap_or(0);
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let w = &mut shared.lock().world;
            match tap {
                Some(data) => {
                    super::traffic::press(w, chat, message_id, data);
                }
                None => {
                    super::traffic::push_text(w, chat, answer);
                }
            }
        });
    }
    match answered {
        Some(msg) => Ok(ok(msg)),
        None => Ok(never_answer(shared).await),
    }
}

fn send_request(params: &Params, sending: Sending) -> Result<SendRequest, ApiError> {
    let reply = params.object("reply_parameters")?;
    let reply_to = match &reply {
        Some(r) => r.int("message_id")?,
        None => params.int("reply_to_message_id")?,
    };
    Ok(SendRequest {
        // "@username" chats are channels and groups, which this fake has none of.
        chat_id: params
            .int("chat_id")
            .map_err(|_| ApiError::bad_request("chat not found"))?
            .ok_or_else(|| ApiError::bad_request("chat_id is empty"))?,
        text: params
            .text(if sending == Sending::Text {
                "text"
            } else {
                "caption"
            })
            .unwrap_or_default(),
        photo: match params.text("photo") {
            Some(p) if sending == Sending::Photo => Some(p),
            _ if sending == Sending::Photo => {
                return Err(ApiError::bad_request("there is no photo in the request"));
            }
            _ => None,
        },
        document: match params.text("document") {
            Some(d) if sending == Sending::Document => Some(d),
            _ if sending == Sending::Document => {
                return Err(ApiError::bad_request("there is no document in the request"));
            }
            _ => None,
        },
        buttons: params.callback_data()?,
        reply_to,
        reply_chat: reply
            .as_ref()
            .map(|r| r.int("chat_id"))
            .transpose()?
            .flatten(),
        allow_without_reply: reply
            .as_ref()
            .is_some_and(|r| r.flag("allow_sending_without_reply"))
            || params.flag("allow_sending_without_reply"),
    })
}

/// The message is already recorded; hold the request, then close the connection without a
/// response, so the client cannot learn the outcome whatever its timeout.
pub(super) async fn never_answer(shared: &Shared) -> Response {
    let mut stop = shared.stop.clone();
    tokio::select! {
        () = tokio::time::sleep(shared.opts.ambiguous_delay) => {}
        _ = stop.wait_for(|s| *s) => {}
    }
    // hyper refuses to encode a head whose Content-Length it cannot parse when the body length
    // is unknown (a stream), and then drops the connection without writing a byte.
    let body = Body::from_stream(Body::from("{").into_data_stream());
    let mut resp = Response::new(body);
    resp.headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from_static("unknown"));
    resp
}

async fn download(
    State(shared): State<Arc<Shared>>,
    Path((bot, path)): Path<(String, String)>,
) -> Response {
    let found = check_token(&shared, &bot).map(|()| shared.lock().world.files.download(&path));
    if !shared.opts.latency.is_zero() {
        tokio::time::sleep(shared.opts.latency).await;
    }
    match found {
        Ok(Some((bytes, content_type))) => {
            let mut resp = (StatusCode::OK, bytes).into_response();
            resp.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            resp
        }
        Ok(None) => ApiError::not_found().into_response(),
        Err(e) => e.into_response(),
    }
}
