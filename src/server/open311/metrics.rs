//! Open311's counters on `/metrics`: answers per key and status, and submissions per key
//! (new requests vs retries answered with an earlier number). In a recorder of their own, as
//! the server's other metrics are (tests run several servers in one process).

use metrics::{Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};

static META: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The `key` label of calls made without a (valid) key.
pub const NO_KEY: &str = "-";

pub struct Open311Metrics {
    recorder: PrometheusRecorder,
}

impl std::fmt::Debug for Open311Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Open311Metrics")
    }
}

impl Default for Open311Metrics {
    fn default() -> Self {
        let recorder = PrometheusBuilder::new().build_recorder();
        recorder.describe_counter(
            "mcu_open311_requests_total".into(),
            None,
            "Open311 calls answered, by integration key (`-`: none or unknown) and HTTP status."
                .into(),
        );
        recorder.describe_counter(
            "mcu_open311_submissions_total".into(),
            None,
            "Open311 POSTs taken, by key: `created` a new request, `retry` an earlier one's number."
                .into(),
        );
        Open311Metrics { recorder }
    }
}

impl Open311Metrics {
    pub fn answered(&self, key: &str, status: u16) {
        let labels = vec![
            Label::new("key", key.to_owned()),
            Label::new("status", status.to_string()),
        ];
        self.recorder
            .register_counter(
                &Key::from_parts("mcu_open311_requests_total", labels),
                &META,
            )
            .increment(1);
    }

    pub fn submitted(&self, key: &str, created: bool) {
        let labels = vec![
            Label::new("key", key.to_owned()),
            Label::new("outcome", if created { "created" } else { "retry" }),
        ];
        self.recorder
            .register_counter(
                &Key::from_parts("mcu_open311_submissions_total", labels),
                &META,
            )
            .increment(1);
    }

    pub fn render(&self) -> String {
        self.recorder.handle().render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_status() {
        let m = Open311Metrics::default();
        m.answered("portal", 200);
        m.answered("portal", 200);
        m.answered(NO_KEY, 401);
        m.submitted("portal", true);
        let text = m.render();
        assert!(
            text.contains("mcu_open311_requests_total{key=\"portal\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("mcu_open311_requests_total{key=\"-\",status=\"401\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("mcu_open311_submissions_total{key=\"portal\",outcome=\"created\"} 1"),
            "{text}"
        );
        // Each server's own: a fresh one has counted nothing.
        assert!(!Open311Metrics::default().render().contains("portal"));
    }
}
