//! The gateway's sweep for «Вопрос решён?»: the requests on its channel closed as resolved
//! lately and never asked (`domain::feedback::due`), asked like any other action. Only the
//! few closed in the last day are read (`request_feedback_due`), never the archive.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, params};

use super::StoreError;
use super::db::{self, Env};
use super::rows::{self, RawRequest, ms};
use crate::domain::Channel;
use crate::domain::feedback;
use crate::templates::{BotTexts, render};

/// Asks every request due on `channel`; how many were asked. `after`: how long after the
/// close (a close undone at once is not asked about).
pub fn sweep(
    conn: &mut Connection,
    env: &Env,
    channel: Channel,
    texts: &BotTexts,
    after: Duration,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let closed = {
        let sql = format!(
            "SELECT {} FROM request WHERE channel = ?1 AND close_reason = 'resolved'
               AND feedback_asked IS NULL AND closed_at >= ?2 AND closed_at <= ?3",
            rows::REQUEST_COLUMNS
        );
        let mut st = conn.prepare_cached(&sql)?;
        let from = ms(now - feedback::ASK_WITHIN);
        st.query_map(
            params![channel.as_str(), from, ms(now - after)],
            RawRequest::from_row,
        )?
        .collect::<Result<Vec<_>, _>>()?
    };
    let mut asked = 0;
    for raw in closed {
        // A row that does not read is `mcu repair`'s, not a reason to stop the others.
        let Ok(r) = raw.into_request(vec![]) else {
            continue;
        };
        if !feedback::due(&r, after, now) {
            continue;
        }
        let body = render(
            &texts.feedback_question,
            &[("number", &r.number.to_string())],
        );
        let m = feedback::ask(&r, body, channel.as_str(), now);
        // Overtaken (reopened meanwhile, or decided before): applied, but nothing happened.
        let applied = db::apply(conn, env, &m)?;
        if applied.changed && !applied.events.is_empty() {
            asked += 1;
        }
    }
    Ok(asked)
}
