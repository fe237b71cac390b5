//! What the console knows about its channel from the gateway's events: up or down, when it
//! last took in and sent, and the last trouble. The status bar shows a badge; `!` the rest.

use chrono::{DateTime, Duration, Utc};

use super::strings::Lang;
use crate::channels::gateway::GatewayEvent;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelHealth {
    pub channel: String,
    pub account: Option<String>,
    pub up: bool,
    pub since: Option<DateTime<Utc>>,
    pub last_in: Option<DateTime<Utc>>,
    pub last_out: Option<DateTime<Utc>>,
    pub received: u64,
    pub sent: u64,
    pub retries: u64,
    pub unknown: u64,
    pub failed: u64,
    pub malformed: u64,
    pub last_problem: Option<(DateTime<Utc>, String)>,
}

/// A retry or a warning this recent turns the badge from ✓ to ⚠.
const TROUBLE_FOR: i64 = 60;

impl ChannelHealth {
    pub fn new(channel: &str) -> ChannelHealth {
        ChannelHealth {
            channel: channel.to_string(),
            ..Default::default()
        }
    }

    pub fn on_event(&mut self, e: &GatewayEvent, now: DateTime<Utc>) {
        let mut problem = |text: String| self.last_problem = Some((now, text));
        match e {
            GatewayEvent::Started { account, .. } => {
                self.account = Some(account.clone());
                self.up = true;
                self.since = Some(now);
            }
            GatewayEvent::Stopped => {
                self.up = false;
                self.since = Some(now);
            }
            GatewayEvent::Ingested(r) => {
                self.last_in = Some(now);
                self.received += (r.created.len() + r.appended + r.edited) as u64;
                self.malformed += r.malformed as u64;
            }
            GatewayEvent::Sent { .. } => {
                self.last_out = Some(now);
                self.sent += 1;
            }
            GatewayEvent::Retry { reason, .. } => {
                self.retries += 1;
                problem(reason.clone());
            }
            GatewayEvent::Unknown { reason, .. } => {
                self.unknown += 1;
                problem(reason.clone());
            }
            GatewayEvent::Failed { reason, .. } => {
                self.failed += 1;
                problem(reason.clone());
            }
            GatewayEvent::Warning(w) | GatewayEvent::Alarm(w) => problem(w.clone()),
            GatewayEvent::File { .. } => {}
        }
    }

    /// `TG ✓`, `TG ⚠` (trouble in the last minute), `TG ✗` (stopped).
    pub fn badge(&self, now: DateTime<Utc>) -> String {
        let mark = if !self.up {
            "✗"
        } else if self
            .last_problem
            .as_ref()
            .is_some_and(|(at, _)| now - *at < Duration::seconds(TROUBLE_FOR))
        {
            "⚠"
        } else {
            "✓"
        };
        format!("{} {mark}", self.channel)
    }

    /// Lines for the alarms window.
    pub fn describe(&self, lang: Lang, tz: chrono_tz::Tz) -> Vec<String> {
        let en = lang == Lang::En;
        let t = |at: &Option<DateTime<Utc>>| {
            at.map(|a| a.with_timezone(&tz).format("%H:%M:%S").to_string())
                .unwrap_or_else(|| "—".into())
        };
        let account = self.account.as_deref().unwrap_or("");
        let state = match (self.up, en) {
            (true, false) => "работает",
            (false, false) => "остановлен",
            (true, true) => "running",
            (false, true) => "stopped",
        };
        let mut out = vec![
            format!(
                "{} {account}: {state} {} {}",
                self.channel,
                if en { "since" } else { "с" },
                t(&self.since)
            ),
            {
                let words: [&str; 7] = if en {
                    [
                        "in",
                        "last",
                        "out",
                        "retries",
                        "unknown",
                        "failed",
                        "malformed",
                    ]
                } else {
                    [
                        "принято",
                        "последнее",
                        "отправлено",
                        "повторов",
                        "неизвестно",
                        "не доставлено",
                        "битых",
                    ]
                };
                let [inn, last, out, retries, unknown, failed, malformed] = words;
                format!(
                    "  {inn}: {} ({last} {}) · {out}: {} ({last} {}) · {retries} {} · {unknown} {} · {failed} {} · {malformed} {}",
                    self.received,
                    t(&self.last_in),
                    self.sent,
                    t(&self.last_out),
                    self.retries,
                    self.unknown,
                    self.failed,
                    self.malformed
                )
            },
        ];
        if let Some((at, text)) = &self.last_problem {
            out.push(format!(
                "  {} {}: {}",
                if en {
                    "last trouble"
                } else {
                    "последняя проблема"
                },
                t(&Some(*at)),
                crate::sanitize::line(text)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn badge_follows_the_events() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        let mut h = ChannelHealth::new("TG");
        assert_eq!(h.badge(t0), "TG ✗");
        h.on_event(
            &GatewayEvent::Started {
                account: "@mcu_bot".into(),
                epoch: 1,
            },
            t0,
        );
        assert_eq!(h.badge(t0), "TG ✓");
        let retry = GatewayEvent::Retry {
            chat: "1".into(),
            reason: "429 Too Many Requests".into(),
            after: std::time::Duration::from_secs(3),
        };
        h.on_event(&retry, t0);
        assert_eq!(h.badge(t0 + Duration::seconds(30)), "TG ⚠");
        assert_eq!(h.badge(t0 + Duration::seconds(61)), "TG ✓");
        h.on_event(
            &GatewayEvent::Sent {
                chat: "1".into(),
                part: 0,
                message_id: "5".into(),
            },
            t0,
        );
        let lines = h.describe(Lang::Ru, chrono_tz::Europe::Moscow);
        assert!(
            lines[1].contains("отправлено: 1") && lines[1].contains("повторов 1"),
            "{lines:?}"
        );
        assert!(lines[2].contains("429"), "{lines:?}");
        h.on_event(&GatewayEvent::Stopped, t0);
        assert_eq!(h.badge(t0), "TG ✗");
    }
}
