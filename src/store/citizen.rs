//! A citizen's other requests, for the card: the same Telegram chat or VK dialogue (the
//! channel's own id for the person), or the same phone in any channel. Each is one read of an
//! index (`request_chat`, `request_phone`), newest first, so the card costs the same at a
//! million requests as at a hundred.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;

use super::StoreError;
use super::rows::time;
use crate::domain::{Channel, Request};

/// One of the citizen's other requests, as the card lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CitizenRequest {
    pub number: String,
    pub received_at: DateTime<Utc>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    pub channel: String,
}

/// The most the card lists; `mcu list --search` with the phone finds them all.
pub const SHOWN: usize = 20;

/// Channels whose chat is the person, not the request: on the platform and by phone a chat
/// (when there is one) is the request's own page.
fn chat_is_the_person(channel: Channel) -> bool {
    matches!(channel, Channel::Telegram | Channel::Vk)
}

const BY_CHAT: &str = "SELECT rid, number, received_at, status, topic, channel FROM request
     WHERE channel = ?1 AND chat_ref = ?2 AND rid <> ?3 AND is_incident = 0
     ORDER BY rid DESC LIMIT ?4";
const BY_PHONE: &str = "SELECT rid, number, received_at, status, topic, channel FROM request
     WHERE phone = ?1 AND rid <> ?2 AND is_incident = 0
     ORDER BY rid DESC LIMIT ?3";

/// The other requests of `r`'s citizen (its row is `rid`), newest received first.
pub fn other_requests(
    conn: &Connection,
    rid: i64,
    r: &Request,
) -> Result<Vec<CitizenRequest>, StoreError> {
    let mut found: Vec<(i64, i64, CitizenRequest)> = vec![];
    let mut read = |st: &mut rusqlite::CachedStatement<'_>,
                    args: &[&dyn rusqlite::ToSql]|
     -> Result<(), StoreError> {
        let rows = st.query_map(args, |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, String>(5)?,
            ))
        })?;
        for row in rows {
            let (other, number, at, status, topic, channel) = row?;
            if found.iter().any(|(seen, _, _)| *seen == other) {
                continue;
            }
            found.push((
                other,
                at,
                CitizenRequest {
                    number,
                    received_at: time(at)?,
                    status,
                    topic,
                    channel,
                },
            ));
        }
        Ok(())
    };
    let limit = SHOWN as i64;
    if let (true, Some(chat)) = (chat_is_the_person(r.channel), &r.channel_ref.chat) {
        let mut st = conn.prepare_cached(BY_CHAT)?;
        read(&mut st, params![r.channel.as_str(), chat, rid, limit])?;
    }
    if let Some(phone) = &r.phone {
        let mut st = conn.prepare_cached(BY_PHONE)?;
        read(&mut st, params![phone, rid, limit])?;
    }
    found.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    found.truncate(SHOWN);
    Ok(found.into_iter().map(|(_, _, c)| c).collect())
}

/// How SQLite reads a citizen's other requests, by chat and by phone (the benchmark and
/// docs/console.md show it: an index, never a scan).
pub fn plan(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut out = vec![];
    for (what, sql) in [("chat", BY_CHAT), ("phone", BY_PHONE)] {
        let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let n = st.parameter_count();
        let args: Vec<rusqlite::types::Value> =
            (0..n).map(|_| rusqlite::types::Value::Integer(1)).collect();
        let details: Vec<String> = st
            .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))?
            .collect::<Result<_, _>>()?;
        out.push(format!("{what}: {}", details.join("; ")));
    }
    Ok(out)
}
