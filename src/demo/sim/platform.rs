//! The simulator as a regional feedback platform speaking Open311 GeoReport v2: citizens' requests
//! appear on it (from the corpus generator, at the simulator's rate), `GET requests.json`
//! lists them by `updated_after` or `start_date`, and `POST servicerequestupdates.json` (the
//! FixMyStreet extension) takes our replies, deduplicated by `update_id`, as a platform that
//! keeps its promises would. What it took is listed for `/_sim/sent`.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::demo::corpus::Generator;

/// One request as the platform holds it.
#[derive(Debug, Clone, PartialEq)]
struct Held {
    id: u64,
    service_code: String,
    service_name: String,
    description: String,
    address: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    requested: DateTime<Utc>,
    updated: DateTime<Utc>,
    status_notes: Option<String>,
}

/// A reply the platform took from us.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformUpdate {
    pub update_id: String,
    pub service_request_id: String,
    pub description: String,
    pub at: DateTime<Utc>,
}

#[derive(Default)]
struct Inner {
    requests: Vec<Held>,
    updates: Vec<PlatformUpdate>,
    /// POSTs of an `update_id` already taken (a client's retry): answered, not taken again.
    repeats: usize,
    next_id: u64,
}

/// The platform's state; cheap to clone.
#[derive(Clone, Default)]
pub struct Platform {
    inner: Arc<Mutex<Inner>>,
    /// The only key accepted (empty: any).
    key: Arc<String>,
}

impl Platform {
    pub fn new(key: &str) -> Platform {
        Platform {
            inner: Arc::new(Mutex::new(Inner {
                next_id: 5_000_001,
                ..Default::default()
            })),
            key: Arc::new(key.to_string()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A citizen files the next generated request; returns its id on the platform.
    pub fn file(&self, generator: &mut Generator, at: DateTime<Utc>) -> u64 {
        self.file_sample(generator.next_request(), at)
    }

    /// A citizen files `s`; returns its id on the platform.
    pub fn file_sample(&self, s: crate::demo::corpus::SampleRequest, at: DateTime<Utc>) -> u64 {
        let mut inner = self.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        // The platform's own names for its services, as a citizen picked one.
        let service_name = crate::domain::Catalog::krasnodar()
            .topic(s.topic)
            .map_or_else(|| s.topic.to_string(), |t| t.name.clone());
        inner.requests.push(Held {
            id,
            service_code: s.topic.to_string(),
            service_name,
            description: s.text,
            address: s.address,
            lat: s.lat,
            lon: s.lon,
            requested: at,
            updated: at,
            status_notes: None,
        });
        id
    }

    pub fn updates(&self) -> Vec<PlatformUpdate> {
        self.lock().updates.clone()
    }

    pub fn repeats(&self) -> usize {
        self.lock().repeats
    }

    /// Routes under `/open311/v2/`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/open311/v2/requests.json", get(list))
            .route("/open311/v2/servicerequestupdates.json", post(take_update))
            .with_state(self.clone())
    }

    fn allowed(&self, key: Option<&String>) -> bool {
        self.key.is_empty() || key.is_some_and(|k| k == self.key.as_str())
    }
}

fn error(status: StatusCode, text: &str) -> Response {
    (
        status,
        axum::Json(json!([{ "code": status.as_u16(), "description": text }])),
    )
        .into_response()
}

/// A W3C date-time argument; Err names the argument that is not one.
fn when(q: &HashMap<String, String>, name: &str) -> Result<Option<DateTime<Utc>>, String> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| format!("{name}: not a W3C date-time")),
    }
}

fn w3c(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn list(State(p): State<Platform>, Query(q): Query<HashMap<String, String>>) -> Response {
    if !p.allowed(q.get("api_key")) {
        return error(StatusCode::UNAUTHORIZED, "api_key is not valid");
    }
    let (after, from) = match (when(&q, "updated_after"), when(&q, "start_date")) {
        (Ok(a), Ok(f)) => (a, f),
        (Err(e), _) | (_, Err(e)) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let size = q
        .get("page_size")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1000)
        .clamp(1, 1000);
    let inner = p.lock();
    let mut rows: Vec<&Held> = inner
        .requests
        .iter()
        .filter(|r| after.is_none_or(|a| r.updated > a) && from.is_none_or(|f| r.requested >= f))
        .collect();
    rows.sort_by_key(|r| (r.updated, r.id));
    let out: Vec<Value> = rows
        .into_iter()
        .take(size)
        .map(|r| {
            json!({
                "service_request_id": r.id.to_string(),
                "status": "open",
                "status_notes": r.status_notes,
                "service_code": r.service_code,
                "service_name": r.service_name,
                "description": r.description,
                "agency_responsible": null,
                "service_notice": null,
                "requested_datetime": w3c(r.requested),
                "updated_datetime": w3c(r.updated),
                "expected_datetime": null,
                "address": r.address,
                "address_id": null,
                "zipcode": null,
                "lat": r.lat,
                "long": r.lon,
                "media_url": null,
            })
        })
        .collect();
    axum::Json(Value::Array(out)).into_response()
}

async fn take_update(
    State(p): State<Platform>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    if !p.allowed(form.get("api_key")) {
        return error(StatusCode::UNAUTHORIZED, "api_key is not valid");
    }
    let (Some(id), Some(update_id), Some(text)) = (
        form.get("service_request_id"),
        form.get("update_id"),
        form.get("description"),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "service_request_id, update_id and description are required",
        );
    };
    let now = Utc::now();
    let mut inner = p.lock();
    if inner.updates.iter().any(|u| &u.update_id == update_id) {
        inner.repeats += 1;
        return axum::Json(json!([{ "update_id": update_id }])).into_response();
    }
    let Some(held) = inner.requests.iter_mut().find(|r| &r.id.to_string() == id) else {
        return error(StatusCode::NOT_FOUND, "service_request_id not found");
    };
    held.status_notes = Some(text.clone());
    held.updated = now;
    inner.updates.push(PlatformUpdate {
        update_id: update_id.clone(),
        service_request_id: id.clone(),
        description: text.clone(),
        at: now,
    });
    axum::Json(json!([{ "update_id": update_id }])).into_response()
}

/// Citizens filing on the platform at `per_minute` on average (Poisson arrivals, like the
/// simulator's other channels), `burst` of them at once first, until `stop`.
pub async fn traffic(
    platform: Platform,
    per_minute: f64,
    burst: usize,
    seed: u64,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut g = Generator::new(seed ^ 0x0311_0311);
    for _ in 0..burst {
        platform.file(&mut g, Utc::now());
    }
    if !(per_minute > 0.0 && per_minute.is_finite()) {
        return;
    }
    let mean = 60.0 / per_minute;
    loop {
        let u = g.below(1 << 53) as f64 / (1u64 << 53) as f64;
        let gap = (-(1.0 - u).ln() * mean).min(mean * 10.0);
        let gap = std::time::Duration::try_from_secs_f64(gap).unwrap_or(std::time::Duration::MAX);
        tokio::select! {
            () = tokio::time::sleep(gap) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        platform.file(&mut g, Utc::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::Adapter;
    use crate::channels::open311::{Open311Client, Options, Publish};

    async fn serve(p: &Platform) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = p.router();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/open311/v2")
    }

    #[tokio::test]
    async fn our_client_takes_each_request_once_and_its_replies_land_once() {
        let p = Platform::new("k");
        let mut g = Generator::new(3);
        let t0 = Utc::now() - chrono::Duration::hours(1);
        for i in 0..5 {
            p.file(&mut g, t0 + chrono::Duration::minutes(i));
        }
        let url = serve(&p).await;
        let c = Open311Client::new(Options {
            url,
            api_key: "k".into(),
            jurisdiction: String::new(),
            publish: Publish::Updates,
            every: std::time::Duration::from_millis(1),
            backfill: chrono::Duration::days(3650),
        })
        .unwrap();
        let first = c.poll(None).await.unwrap();
        assert_eq!(first.events.len(), 5, "{:?}", first.malformed);
        let seen: Vec<String> = first.events.iter().map(|e| e.external_id.clone()).collect();
        let again = c.poll(first.next_cursor.clone()).await.unwrap();
        // The look overlaps the last one by seconds: only requests already seen come again.
        assert!(
            again.events.iter().all(|e| seen.contains(&e.external_id)),
            "{again:?}"
        );
        let part = crate::channels::OutboundPart {
            key: "0190aa:0".into(),
            chat: first.events[0].external_id.clone(),
            reply_to: None,
            text: "Бригада выехала".into(),
            buttons: vec![],
            files: vec![],
        };
        let sent = c.send(&part).await;
        assert!(
            matches!(sent, crate::channels::SendOutcome::Sent { .. }),
            "{sent:?}"
        );
        // A retry of the same part: the platform answers, and keeps one.
        c.send(&part).await;
        assert_eq!(p.updates().len(), 1);
        assert_eq!(p.repeats(), 1);
        // Our reply changed the request there: the next look sees it, and stores nothing new.
        let after = c.poll(again.next_cursor.clone()).await.unwrap();
        assert!(after.events.iter().any(|e| e.external_id == part.chat));
        assert!(after.events.iter().all(|e| seen.contains(&e.external_id)));
    }

    #[tokio::test]
    async fn a_wrong_key_and_a_bad_date_are_refused_in_the_open311_format() {
        let p = Platform::new("k");
        let url = serve(&p).await;
        let body = reqwest::get(format!("{url}/requests.json?api_key=x"))
            .await
            .unwrap();
        assert_eq!(body.status().as_u16(), 401);
        let v: Value = body.json().await.unwrap();
        assert_eq!(v[0]["code"], 401);
        let bad = reqwest::get(format!("{url}/requests.json?api_key=k&start_date=вчера"))
            .await
            .unwrap();
        assert_eq!(bad.status().as_u16(), 400);
    }
}
