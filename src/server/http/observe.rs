//! What a server says about itself: `GET /health` (the store answers, where the new consoles'
//! files stand) and `GET /metrics` (Prometheus text: pushes, pulls, each scope's seq, the
//! channels', Open311's and the seed files' own counters), from a recorder of its own.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Gauge, Key, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use serde_json::json;

use super::{Backend, Server, blocking};

pub(super) async fn health<S: Backend>(State(app): State<Server<S>>) -> Response {
    let a = app.clone();
    // A lookup that can't match: it reads the store's tables and writes nothing.
    let read = blocking(move || {
        a.store
            .in_snapshot(|tx| tx.account_by_token_hash("").map(|_| ()))
    });
    // A store that hangs is as unhealthy as one that fails.
    match tokio::time::timeout(Duration::from_secs(5), read).await {
        Ok(Ok(())) => {
            // Where the new consoles' files are: tools wait for them to catch up after a
            // start (`seed_seq` is the server's own scope's, `seed_seqs` every open one's).
            let (home, all) = match &app.opts.seed {
                Some(seeds) => (seeds.home().await, seeds.all().await),
                None => (None, vec![]),
            };
            let seqs: serde_json::Map<String, serde_json::Value> = all
                .iter()
                .map(|s| (s.scope().to_string(), json!(s.seq())))
                .collect();
            (
                StatusCode::OK,
                axum::Json(json!({
                    "status": "ok",
                    "seed_seq": home.and_then(|s| s.seq()),
                    "seed_seqs": seqs,
                })),
            )
                .into_response()
        }
        Ok(Err(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "status": "unavailable", "error": e.message.unwrap_or_default() })),
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(
                json!({ "status": "unavailable", "error": "the store did not answer in 5 s" }),
            ),
        )
            .into_response(),
    }
}

pub(super) async fn metrics_text<S: Backend>(State(app): State<Server<S>>) -> Response {
    let seeds = match &app.opts.seed {
        Some(seeds) => Some(seeds.all().await),
        None => None,
    };
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        {
            let mut text = app.metrics.recorder.handle().render();
            for c in &app.opts.channels {
                c.render(&mut text);
            }
            text.push_str(&app.opts.open311.metrics.render());
            if let Some(seeds) = &seeds {
                text.push_str(&format!(
                    "# HELP mcu_seed_quarantined Documents of the store the new consoles' files set aside: they don't read (`mcu repair` lists them on a console).\n\
                     # TYPE mcu_seed_quarantined gauge\nmcu_seed_quarantined {}\n",
                    seeds.iter().map(|s| s.quarantined()).sum::<i64>()
                ));
            }
            text
        },
    )
        .into_response()
}

/// The server's metrics in its own recorder, not the process-global one: tests run several
/// servers in one process, and each `/metrics` must show only its own server.
pub(super) struct Metrics {
    pub(super) recorder: PrometheusRecorder,
    pub(super) push_requests: Counter,
    pub(super) mutations_applied: Counter,
    pub(super) mutations_rejected: Counter,
    pub(super) pull_requests: Counter,
    pub(super) last_push: Gauge,
    pub(super) last_pull: Gauge,
}

static META: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

impl Metrics {
    pub(super) fn new() -> Metrics {
        let recorder = PrometheusBuilder::new().build_recorder();
        let counter = |name: &'static str, help: &'static str| {
            recorder.describe_counter(name.into(), None, help.into());
            recorder.register_counter(&Key::from_static_name(name), &META)
        };
        let push_requests = counter(
            "mcu_push_requests_total",
            "Push requests accepted for processing.",
        );
        let mutations_applied = counter(
            "mcu_mutations_applied_total",
            "Mutations applied (retries of taken ones not counted).",
        );
        let mutations_rejected = counter(
            "mcu_mutations_rejected_total",
            "Mutations rejected for good (stale_base, already_claimed, ...).",
        );
        let pull_requests = counter(
            "mcu_pull_requests_total",
            "Pull requests accepted for processing.",
        );
        let gauge = |name: &'static str, help: &'static str| {
            recorder.describe_gauge(name.into(), Some(Unit::Seconds), help.into());
            recorder.register_gauge(&Key::from_static_name(name), &META)
        };
        let last_push = gauge(
            "mcu_last_push_timestamp_seconds",
            "Unix time of the last push answered.",
        );
        let last_pull = gauge(
            "mcu_last_pull_timestamp_seconds",
            "Unix time of the last pull answered.",
        );
        recorder.describe_gauge(
            "mcu_scope_seq".into(),
            None,
            "The latest change number of each sync scope.".into(),
        );
        Metrics {
            recorder,
            push_requests,
            mutations_applied,
            mutations_rejected,
            pull_requests,
            last_push,
            last_pull,
        }
    }

    pub(super) fn scope_seq(&self, scope: &str) -> Gauge {
        let key = Key::from_parts("mcu_scope_seq", vec![Label::new("scope", scope.to_owned())]);
        self.recorder.register_gauge(&key, &META)
    }
}
