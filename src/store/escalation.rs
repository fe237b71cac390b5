//! The Telegram gateway's sweep of breached requests — and at-risk ones, where the city asks
//! to be warned: each the shift leads have not been told of (`domain::escalation`) is told to
//! their chat, applied like any other action so it is audited and syncs. Reads the open
//! requests past their due (or their at-risk time) from its index, not the queue.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::StoreError;
use super::db::{self, Env};
use super::rows::{self, NO_DUE, RawRequest, ms};
use crate::domain::Channel;
use crate::domain::escalation;
use crate::domain::request::ClockKind;
use crate::templates::{BotTexts, render};

/// The most breaches told in one sweep: a backlog found at start goes out over a few sweeps,
/// not as one flood the channel's rate limit would hold up anyway.
const PER_SWEEP: usize = 50;

/// Tells the leads' `chat` of the breaches (and with `warn`, the clocks at risk) not yet
/// told; how many it told.
pub fn sweep(
    conn: &mut Connection,
    env: &Env,
    chat: &str,
    texts: &BotTexts,
    warn: bool,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let breached = {
        // `due_key` is the running clock's due and `risk_key` its at-risk time, both indexed
        // (held and closed ones sort above `NO_DUE`); a breached clock is at risk too.
        let key = if warn { "risk_key" } else { "due_key" };
        let sql = format!(
            "SELECT {} FROM request WHERE status != 'closed' AND {key} <= ?1 AND {key} < ?2
               AND incident_id IS NULL ORDER BY {key}",
            rows::REQUEST_COLUMNS
        );
        let mut st = conn.prepare_cached(&sql)?;
        st.query_map(params![ms(now), NO_DUE - 1], RawRequest::from_row)?
            .collect::<Result<Vec<_>, _>>()?
    };
    let tz = env.policy.calendar.tz();
    let mut told = 0;
    for raw in breached {
        if told == PER_SWEEP {
            break;
        }
        // A row that does not read is `mcu repair`'s, not a reason to stop the others.
        let Ok(r) = raw.into_request(vec![]) else {
            continue;
        };
        let Some(due_now) = escalation::due(&r, warn, now) else {
            continue;
        };
        let (template, what) = match (due_now.at_risk, due_now.level) {
            (false, ClockKind::FirstResponse) => {
                (&texts.escalation, &texts.escalation_first_response)
            }
            (false, ClockKind::Department) => (&texts.escalation, &texts.escalation_department),
            (false, ClockKind::Resolution) => (&texts.escalation, &texts.escalation_resolution),
            (true, ClockKind::FirstResponse) => (&texts.at_risk, &texts.at_risk_first_response),
            (true, ClockKind::Department) => (&texts.at_risk, &texts.at_risk_department),
            (true, ClockKind::Resolution) => (&texts.at_risk, &texts.at_risk_resolution),
        };
        let due = r
            .active_clock()
            .map(|(_, c)| c.due.with_timezone(&tz).format("%d.%m %H:%M").to_string())
            .unwrap_or_default();
        let topic = r
            .topic
            .as_deref()
            .map(|t| env.catalog.topic(t).map_or(t, |t| t.name.as_str()))
            .unwrap_or("—");
        let text: String = r.text.chars().take(300).collect();
        let body = render(
            template,
            &[
                ("what", what),
                ("number", &r.number.to_string()),
                ("topic", topic),
                ("channel", r.channel.as_str()),
                ("assignee", r.assignee.as_deref().unwrap_or("—")),
                ("due", &due),
                ("text", &text),
            ],
        );
        let m = escalation::mutation(&r, due_now, chat, body, Channel::Telegram.as_str(), now);
        let applied = db::apply(conn, env, &m)?;
        if applied.changed && !applied.events.is_empty() {
            told += 1;
        }
    }
    Ok(told)
}
