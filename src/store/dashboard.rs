//! The dashboard's facts: one compact row per request that can still move a number on it, read
//! on the store's thread; the numbers themselves are `domain::dashboard`'s.

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;
use rusqlite::Connection;
use std::collections::HashMap;
use uuid::Uuid;

use super::StoreError;
use super::rows::{NO_DUE, ms};
use crate::domain::dashboard::{self, Dashboard, Fact, NEVER, NOBODY, Names, Running};
use crate::domain::request::ClockKind;
use crate::domain::{Channel, Status};

/// How far before the month (or the week, or a week ago) a request may have arrived and still
/// be read for an answer or a closing in it: requests are read by receipt (an index), and
/// replies and closings have none. Open requests are always read.
pub const LOOKBACK_DAYS: i64 = 14;

/// How many requests the at-risk and breached lists name.
pub const LIST_LEN: usize = 20;

/// The dashboard and the ids of the requests its lists name (to open one from the screen).
#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    pub dashboard: Dashboard,
    pub ids: HashMap<u32, Uuid>,
    /// Requests the numbers were computed from.
    pub facts: usize,
    /// The open incidents: each counts once in the numbers above (its open members do not).
    pub incidents: Vec<OpenIncident>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OpenIncident {
    pub id: Uuid,
    pub number: String,
    pub title: String,
    pub members: usize,
    pub citizens: usize,
}

/// The open incidents, oldest first, with how many requests and distinct citizens each holds.
pub fn open_incidents(conn: &Connection) -> Result<Vec<OpenIncident>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT i.id, i.number, i.text, count(m.rid),
                count(DISTINCT COALESCE(m.channel || ':' || m.chat_ref, m.citizen, m.id))
         FROM request i LEFT JOIN request m ON m.incident_id = i.id
         WHERE i.is_incident = 1 AND i.status != 'closed'
         GROUP BY i.rid ORDER BY i.received_at, i.rid",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, number, title, members, citizens) = row?;
        out.push(OpenIncident {
            id: super::rows::parse("incident id", &id)?,
            number,
            title,
            members: members as usize,
            citizens: citizens as usize,
        });
    }
    Ok(out)
}

/// The earliest receipt that is read: the month's, the week's or a week ago's start, whichever
/// comes first, less the lookback.
pub fn since(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    let first = today.with_day(1).unwrap_or(today);
    let earliest = first.min(today - Duration::days(7));
    let start = earliest - Duration::days(LOOKBACK_DAYS);
    start
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .map_or(now - Duration::days(60), |t| t.with_timezone(&Utc))
}

/// Whole seconds, rounded down (deadlines, receipts) or up (replies, closings): see
/// `domain::dashboard` on why.
fn floor(ms: i64) -> u32 {
    ms.div_euclid(1000).clamp(0, (NEVER - 1) as i64) as u32
}

fn ceil(ms: i64) -> u32 {
    floor(ms.saturating_add(999))
}

#[derive(Default)]
struct Interner {
    ids: HashMap<String, u16>,
    names: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: Option<&str>) -> u16 {
        let Some(s) = s else { return NOBODY };
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        // More distinct names than ids (never in a real center) count as none.
        let Ok(id) = u16::try_from(self.names.len()) else {
            return NOBODY;
        };
        if id == NOBODY {
            return NOBODY;
        }
        self.ids.insert(s.to_string(), id);
        self.names.push(s.to_string());
        id
    }
}

/// A text column read in place (no copy for the thousands of repeated names).
fn text<'a>(r: &'a rusqlite::Row, i: usize) -> Result<Option<&'a str>, StoreError> {
    r.get_ref(i)?
        .as_str_or_null()
        .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
}

/// Open requests and those received since `since`.
pub fn facts(conn: &Connection, since: DateTime<Utc>) -> Result<(Vec<Fact>, Names), StoreError> {
    // Two index range reads (status, receipt) rather than one OR over the whole table.
    let sql = "SELECT rid, number, received_at, status, channel, topic, department, assignee, \
               fr_due, fr_stopped, due_key, risk_key, closed_at, dep_started, dep_stopped, dep_due, dep_risk \
               FROM request WHERE status IN ('new', 'in_work', 'waiting_department', 'answered') \
               AND (incident_id IS NULL OR NOT EXISTS (SELECT 1 FROM request i \
                    WHERE i.id = request.incident_id AND i.status != 'closed')) \
               UNION ALL \
               SELECT rid, number, received_at, status, channel, topic, department, assignee, \
               fr_due, fr_stopped, due_key, risk_key, closed_at, dep_started, dep_stopped, dep_due, dep_risk \
               FROM request WHERE received_at >= ?1 AND status = 'closed'";
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query([ms(since)])?;
    let (mut topics, mut departments, mut operators) = (
        Interner::default(),
        Interner::default(),
        Interner::default(),
    );
    let mut out = Vec::new();
    let corrupt = |what: &str, v: &str| StoreError::Corrupt(format!("{what} `{v}`"));
    while let Some(r) = rows.next()? {
        let rid: i64 = r.get(0)?;
        let number = text(r, 1)?.unwrap_or_default();
        let (year, seq) = number
            .split_once('-')
            .and_then(|(y, s)| Some((y.parse::<u16>().ok()?, s.parse::<u32>().ok()?)))
            .ok_or_else(|| corrupt("request number", number))?;
        let status: Status = text(r, 3)?
            .unwrap_or_default()
            .parse()
            .map_err(StoreError::Corrupt)?;
        let channel: Channel = text(r, 4)?
            .unwrap_or_default()
            .parse()
            .map_err(StoreError::Corrupt)?;
        let fr_stopped: Option<i64> = r.get(9)?;
        let due_key: i64 = r.get(10)?;
        let risk_key: i64 = r.get(11)?;
        let closed_at: Option<i64> = r.get(12)?;
        let dep_running =
            r.get::<_, Option<i64>>(13)?.is_some() && r.get::<_, Option<i64>>(14)?.is_none();
        // The store's own keys say when the running clock warns and breaches
        // (`rows::write_request`); which clock it is, `ClockKind::running` says.
        let running = if due_key >= NO_DUE {
            Running::None
        } else if due_key == NO_DUE - 1 {
            Running::Held
        } else {
            match ClockKind::running(status, fr_stopped.is_some(), dep_running) {
                None => Running::None,
                Some(ClockKind::FirstResponse) => Running::FirstResponse,
                Some(ClockKind::Department) => Running::Department,
                Some(ClockKind::Resolution) => Running::Resolution,
            }
        };
        let (due, risk) = match running {
            Running::None | Running::Held => (NEVER, NEVER),
            _ => (floor(due_key), floor(risk_key)),
        };
        // A department's own clock runs while it has the request, whichever clock the
        // inbox shows (the citizen's comes first until answered).
        let (dep_due, dep_risk) = match (
            dep_running,
            r.get::<_, Option<i64>>(15)?,
            r.get::<_, Option<i64>>(16)?,
        ) {
            (true, Some(d), Some(k)) => (floor(d), floor(k)),
            _ => (NEVER, NEVER),
        };
        out.push(Fact {
            key: u32::try_from(rid).map_err(|_| corrupt("row id", &rid.to_string()))?,
            seq,
            received: floor(r.get(2)?),
            answered: fr_stopped.map_or(NEVER, ceil),
            first_due: floor(r.get(8)?),
            due,
            risk,
            dep_due,
            dep_risk,
            closed: closed_at.map_or(NEVER, ceil),
            year,
            topic: topics.id(text(r, 5)?),
            department: departments.id(text(r, 6)?),
            assignee: operators.id(text(r, 7)?),
            status,
            channel,
            running,
        });
    }
    Ok((
        out,
        Names {
            topics: topics.names,
            departments: departments.names,
            operators: operators.names,
        },
    ))
}

/// Reads the facts and computes the dashboard, with the ids of the listed requests.
pub fn board(conn: &Connection, now: DateTime<Utc>, tz: Tz) -> Result<Board, StoreError> {
    let (facts, names) = facts(conn, since(now, tz))?;
    let dashboard = dashboard::compute(&facts, &names, now, tz, LIST_LEN);
    let mut ids = HashMap::new();
    let mut st = conn.prepare_cached("SELECT id FROM request WHERE rid = ?1")?;
    for item in dashboard
        .at_risk_list
        .iter()
        .chain(&dashboard.breached_list)
    {
        let id: String = st.query_row([item.key as i64], |r| r.get(0))?;
        ids.insert(item.key, super::rows::parse("request id", &id)?);
    }
    Ok(Board {
        dashboard,
        ids,
        facts: facts.len(),
        incidents: open_incidents(conn)?,
    })
}
