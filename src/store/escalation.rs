//! The Telegram gateway's sweep of breached requests: each breach the shift leads have not
//! been told of (`domain::escalation`) is told to their chat, applied like any other action so
//! it is audited and syncs. Reads the breached open requests from the due index, not the queue.

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

/// Tells the leads' `chat` of the breaches not yet told; how many it told.
pub fn sweep(
    conn: &mut Connection,
    env: &Env,
    chat: &str,
    texts: &BotTexts,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let breached = {
        // `due_key` is the running clock's due (held and closed ones sort above `NO_DUE`).
        let sql = format!(
            "SELECT {} FROM request WHERE status != 'closed' AND due_key <= ?1 AND due_key < ?2
               AND incident_id IS NULL ORDER BY due_key",
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
        let Some(level) = escalation::due(&r, now) else {
            continue;
        };
        let what = match level {
            ClockKind::FirstResponse => &texts.escalation_first_response,
            ClockKind::Department => &texts.escalation_department,
            ClockKind::Resolution => &texts.escalation_resolution,
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
            &texts.escalation,
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
        let m = escalation::mutation(&r, level, chat, body, Channel::Telegram.as_str(), now);
        let applied = db::apply(conn, env, &m)?;
        if applied.changed && !applied.events.is_empty() {
            told += 1;
        }
    }
    Ok(told)
}
