//! How a channel's health looks: a badge in the console's status bar, lines in its `!` and in
//! `mcu shift`. The health itself is read from gateway events (`channels::health`), in the
//! console or on the server (`/v1/team`).

use chrono::{DateTime, Duration, Utc};

use crate::lang::Lang;
use crate::wire::team::ChannelHealth;

/// A retry or a warning this recent turns the badge from ✓ to ⚠.
const TROUBLE_FOR: i64 = 60;

/// The status bar's word for a channel: the same short name the rows use.
pub fn label(h: &ChannelHealth, lang: Lang) -> &'static str {
    super::channel::name(h.channel, super::channel::Width::Badge, lang)
}

/// `TG ✓`, `TG ⚠` (trouble in the last minute), `TG ✗` (stopped).
pub fn badge(h: &ChannelHealth, now: DateTime<Utc>, lang: Lang) -> String {
    let mark = if !h.up {
        "✗"
    } else if h
        .last_problem
        .as_ref()
        .is_some_and(|(at, _)| now - *at < Duration::seconds(TROUBLE_FOR))
    {
        "⚠"
    } else {
        "✓"
    };
    format!("{} {mark}", label(h, lang))
}

/// Lines for the console's alarms window and `mcu shift`.
pub fn describe(h: &ChannelHealth, lang: Lang, tz: chrono_tz::Tz) -> Vec<String> {
    let en = lang == Lang::En;
    let t = |at: &Option<DateTime<Utc>>| {
        at.map(|a| a.with_timezone(&tz).format("%H:%M:%S").to_string())
            .unwrap_or_else(|| "—".into())
    };
    let account = h
        .account
        .as_deref()
        .map(|a| format!(" {}", crate::sanitize::line(a)))
        .unwrap_or_default();
    let state = match (h.up, en) {
        (true, false) => "работает",
        (false, false) => "остановлен",
        (true, true) => "running",
        (false, true) => "stopped",
    };
    let mut out = vec![
        match h.since {
            Some(_) => format!(
                "{}{account}: {state} {} {}",
                label(h, lang),
                if en { "since" } else { "с" },
                t(&h.since)
            ),
            None => format!("{}{account}: {state}", label(h, lang)),
        },
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
                h.received,
                t(&h.last_in),
                h.sent,
                t(&h.last_out),
                h.retries,
                h.unknown,
                h.failed,
                h.malformed
            )
        },
    ];
    if let Some((at, text)) = &h.last_problem {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::gateway::GatewayEvent;
    use crate::channels::health::observe;
    use crate::domain::Channel;
    use chrono::TimeZone;

    #[test]
    fn badge_follows_the_events() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        let mut h = ChannelHealth::new(Channel::Telegram);
        let badge = |h: &ChannelHealth, at| badge(h, at, Lang::Ru);
        assert_eq!(badge(&h, t0), "TG ✗");
        observe(
            &mut h,
            &GatewayEvent::Started {
                account: "@mcu_bot".into(),
                epoch: 1,
            },
            t0,
        );
        assert_eq!(badge(&h, t0), "TG ✓");
        let retry = GatewayEvent::Retry {
            chat: "1".into(),
            reason: "429 Too Many Requests".into(),
            after: std::time::Duration::from_secs(3),
        };
        observe(&mut h, &retry, t0);
        assert_eq!(badge(&h, t0 + Duration::seconds(30)), "TG ⚠");
        assert_eq!(badge(&h, t0 + Duration::seconds(61)), "TG ✓");
        observe(
            &mut h,
            &GatewayEvent::Sent {
                chat: "1".into(),
                part: 0,
                message_id: "5".into(),
            },
            t0,
        );
        let lines = describe(&h, Lang::Ru, chrono_tz::Europe::Moscow);
        assert!(
            lines[1].contains("отправлено: 1") && lines[1].contains("повторов 1"),
            "{lines:?}"
        );
        assert!(lines[2].contains("429"), "{lines:?}");
        observe(&mut h, &GatewayEvent::Stopped, t0);
        assert_eq!(badge(&h, t0), "TG ✗");
    }
}
