//! The gateway's sweep of open questions on its channel: the reminders and polite closes that
//! `domain::waiting` says are due, applied like any other action. Only the few requests that
//! wait are read (`request_waiting`), never the queue.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::StoreError;
use super::db::{self, Env};
use super::rows::{self, RawRequest, ms};
use crate::domain::Channel;
use crate::domain::waiting::{self, Step};
use crate::templates::{BotTexts, render};

/// How many reminders and closes went out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub reminded: usize,
    pub closed: usize,
}

pub fn sweep(
    conn: &mut Connection,
    env: &Env,
    channel: Channel,
    texts: &BotTexts,
    now: DateTime<Utc>,
) -> Result<Swept, StoreError> {
    let policy = &env.policy;
    // Nothing is due on a question younger than the shorter of the two waits.
    let cutoff = now - policy.waiting_reminder.min(policy.waiting_close);
    let waiting = {
        let sql = format!(
            "SELECT {} FROM request WHERE channel = ?1 AND waiting_since IS NOT NULL
               AND waiting_since <= ?2",
            rows::REQUEST_COLUMNS
        );
        let mut st = conn.prepare_cached(&sql)?;
        st.query_map(params![channel.as_str(), ms(cutoff)], RawRequest::from_row)?
            .collect::<Result<Vec<_>, _>>()?
    };
    let tz = policy.calendar.tz();
    let mut swept = Swept::default();
    for raw in waiting {
        // A row that does not read is `mcu repair`'s, not a reason to stop the others.
        let Ok(r) = raw.into_request(vec![]) else {
            continue;
        };
        let Some(step) = waiting::due(&r, policy, now) else {
            continue;
        };
        let number = r.number.to_string();
        let body = match step {
            Step::Remind => {
                let close_at = r
                    .waiting
                    .map(|w| (w.since + policy.waiting_close).with_timezone(&tz))
                    .map(|t| t.format("%d.%m.%Y").to_string())
                    .unwrap_or_default();
                render(
                    &texts.waiting_reminder,
                    &[("number", &number), ("close_at", &close_at)],
                )
            }
            Step::Close => render(&texts.waiting_closed, &[("number", &number)]),
        };
        let m = waiting::mutation(&r, step, body, channel.as_str(), now);
        // Overtaken (answered meanwhile, or decided before): applied, but nothing happened.
        let applied = db::apply(conn, env, &m)?;
        if applied.changed && !applied.events.is_empty() {
            match step {
                Step::Remind => swept.reminded += 1,
                Step::Close => swept.closed += 1,
            }
        }
    }
    Ok(swept)
}
