//! `/_sim/*`: what a test or an operator running `mcu simulate` needs beyond the Bot API, to see
//! what the bot really sent and to steer the fake from another process.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::MalformedKind;
use super::api::ApiError;
use super::state::Shared;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim/sent", get(sent))
        .route("/_sim/stats", get(stats))
        .route("/_sim/updates", get(updates))
        .route("/_sim/inject", post(inject))
        .route("/_sim/generate", post(generate))
        .route("/_sim/webhook", post(webhook))
        .route("/_sim/block", post(block))
        .route("/_sim/expire_files", post(expire_files))
}

fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(&e.to_string()))
}

async fn sent(State(shared): State<Arc<Shared>>) -> Response {
    let inner = shared.lock();
    let mut log = inner.world.sent.clone();
    log.vk = inner.vk.sent.clone();
    log.platform = shared.platform.updates();
    Json(log).into_response()
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.lock().world.stats()).into_response()
}

async fn updates(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.lock().world.queue.history.clone()).into_response()
}

/// One of: `{"chat_id":N,"text":"..."}`, `{"raw":{...update without id...}}`,
/// `{"malformed":"lone_surrogate"}`.
#[derive(Deserialize)]
struct Inject {
    chat_id: Option<i64>,
    text: Option<String>,
    raw: Option<Value>,
    malformed: Option<MalformedKind>,
}

async fn inject(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let req: Inject = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let mut inner = shared.lock();
    let inner = &mut *inner;
    let update_id = match req {
        Inject {
            chat_id: Some(chat_id),
            text: Some(text),
            ..
        } => inner.world.inject_text(chat_id, &text),
        Inject { raw: Some(raw), .. } => inner.world.inject_raw(raw),
        Inject {
            malformed: Some(kind),
            ..
        } => inner.traffic.malformed(&mut inner.world, kind),
        _ => {
            return ApiError::bad_request("expected chat_id and text, raw, or malformed")
                .into_response();
        }
    };
    Json(json!({ "update_id": update_id })).into_response()
}

/// Generation runs under the world's lock; one request must not stall the API for long.
const MAX_GENERATE: usize = 100_000;

#[derive(Deserialize)]
struct Generate {
    n: usize,
}

async fn generate(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    match body::<Generate>(&bytes) {
        Ok(g) => {
            Json(json!({ "generated": shared.generate(g.n.min(MAX_GENERATE)) })).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct Webhook {
    set: bool,
}

async fn webhook(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    match body::<Webhook>(&bytes) {
        Ok(w) => {
            shared.lock().world.set_webhook(w.set);
            Json(json!({ "webhook": w.set })).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct Block {
    chat_id: i64,
    #[serde(default = "yes")]
    blocked: bool,
}

fn yes() -> bool {
    true
}

async fn block(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    match body::<Block>(&bytes) {
        Ok(b) => {
            shared.lock().world.set_blocked(b.chat_id, b.blocked);
            Json(json!({ "chat_id": b.chat_id, "blocked": b.blocked })).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn expire_files(State(shared): State<Arc<Shared>>) -> Response {
    shared.lock().world.files.expire_all();
    Json(json!({ "expired": true })).into_response()
}
