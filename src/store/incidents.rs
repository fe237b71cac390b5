//! Incidents among this file's requests: the confirmed ones with their members, and the
//! candidate groups: each open request received within the window, in no incident and not in a
//! dismissed group, is placed (coordinates, else the address key of its address or text), given
//! its topic (set, else suggested), and grouped by the rule in `incidents::rule` with the
//! requests near it in space and time; overlapping groups are one. A free request that belongs
//! with a member of a confirmed incident is suggested for that incident instead.
//! Neighbours come from a grid of cells about the radius wide (or the same address key), so a
//! request is compared with the handful near it, never with the whole window.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use serde::Serialize;

use super::StoreError;
use super::rows::{ms, time};
use crate::incidents::{Place, Report, Rules, Words, address_key, candidate};

/// A confirmed incident or a candidate group, as `mcu incidents` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The incident's id; a candidate's is its earliest member's (stable while it grows).
    pub id: uuid::Uuid,
    /// The incident's number; none for a candidate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The incident's status, or `candidate`.
    pub status: String,
    pub candidate: bool,
    pub topic: String,
    /// The address key, or `lat,lon` of the earliest member.
    pub place: String,
    pub citizens: usize,
    /// Request numbers, earliest first.
    pub members: Vec<String>,
    #[serde(skip)]
    pub member_ids: Vec<uuid::Uuid>,
    /// Open requests in no incident that match a confirmed incident's members, to add.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggested: Vec<String>,
    pub first_at: DateTime<Utc>,
}

struct Row {
    number: String,
    report: Report,
    incident: Option<uuid::Uuid>,
}

/// Open requests received since `since`, as reports.
fn open_reports(conn: &Connection, since: DateTime<Utc>) -> Result<Vec<Row>, StoreError> {
    let sql = format!(
        "SELECT {REPORT_COLUMNS}, r.number, r.incident_id
         FROM request r LEFT JOIN triage_suggestion s ON s.request_rid = r.rid
         WHERE r.status <> 'closed' AND r.received_at >= ?1 AND r.is_incident = 0
           AND r.ungrouped = 0
         ORDER BY r.received_at, r.rid"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let mut q = st.query([ms(since)])?;
    let mut out = Vec::new();
    while let Some(row) = q.next()? {
        let Some(report) = report_from(row)? else {
            continue;
        };
        let incident: Option<String> = row.get(11)?;
        out.push(Row {
            number: row.get(10)?,
            incident: incident.and_then(|i| uuid::Uuid::parse_str(&i).ok()),
            report,
        });
    }
    Ok(out)
}

/// The columns `report_from` reads, first in a query over `request r` joined with its
/// suggestion `s`.
pub(super) const REPORT_COLUMNS: &str = "r.id, r.channel, r.chat_ref, r.citizen, r.text, \
    r.address, r.lat, r.lon, r.received_at, COALESCE(r.topic, s.topic)";

/// A request as the rule sees it, from a row that starts with `REPORT_COLUMNS`: its places (the
/// point, and the address key of its address or text with a house), its topic (set, else
/// suggested), its citizen and its words. None when its id does not read.
pub(super) fn report_from(r: &rusqlite::Row) -> Result<Option<Report>, StoreError> {
    let id: String = r.get(0)?;
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return Ok(None);
    };
    let (channel, chat, citizen): (String, Option<String>, Option<String>) =
        (r.get(1)?, r.get(2)?, r.get(3)?);
    let text: String = r.get(4)?;
    let address: Option<String> = r.get(5)?;
    let mut places: Vec<Place> = match (r.get::<_, Option<f64>>(6)?, r.get::<_, Option<f64>>(7)?) {
        (Some(lat), Some(lon)) => vec![Place::Point { lat, lon }],
        _ => vec![],
    };
    let (named, words) = read(&text, address.as_deref());
    places.extend(named);
    Ok(Some(Report {
        id,
        citizen: citizen_key(&channel, chat.as_deref(), citizen.as_deref(), id),
        at: time(r.get(8)?)?,
        topic: r.get(9)?,
        places,
        words,
        open: true,
    }))
}

/// Texts read and remembered per thread before the memory starts over.
const READ_CACHE: usize = 100_000;

thread_local! {
    static READ: std::cell::RefCell<HashMap<u64, (Option<Place>, Words)>> = Default::default();
}

/// The address key a request names (its address, else its text; with a house) and its
/// words, remembered: the window search reads the same few thousand requests every half
/// minute, and stemming and parsing them anew was most of its time.
fn read(text: &str, address: Option<&str>) -> (Option<Place>, Words) {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (text, address).hash(&mut h);
    let key = h.finish();
    if let Some(hit) = READ.with(|c| c.borrow().get(&key).cloned()) {
        return hit;
    }
    let named = address
        .and_then(address_key)
        .or_else(|| address_key(text))
        // A street without a house is too coarse to be one place.
        .filter(|k| k.house.is_some())
        .map(Place::Address);
    let read = (named, Words::of(text));
    READ.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= READ_CACHE {
            c.clear();
        }
        c.insert(key, read.clone());
    });
    read
}

/// Who wrote a request as the channel knows them; one with neither chat nor name (a phone
/// call typed in) is its own citizen.
pub(super) fn citizen_key(
    channel: &str,
    chat: Option<&str>,
    citizen: Option<&str>,
    id: uuid::Uuid,
) -> String {
    match (chat, citizen) {
        (Some(c), _) => format!("{channel}:{c}"),
        (None, Some(n)) => format!("{channel}:name:{n}"),
        (None, None) => id.to_string(),
    }
}

/// Where a place falls for finding neighbours: an address key, or a grid cell about
/// `radius_m` wide (its eight neighbours are searched too).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Cell {
    Address(String),
    Grid(i64, i64),
}

fn cell(place: &Place, radius_m: f64) -> Cell {
    match place {
        Place::Address(k) => Cell::Address(k.to_string()),
        Place::Point { lat, lon } => {
            let dlat = radius_m.max(1.0) / 111_195.0;
            let dlon = dlat / lat.to_radians().cos().abs().max(0.01);
            Cell::Grid((lat / dlat).floor() as i64, (lon / dlon).floor() as i64)
        }
    }
}

/// The rows near any of `places`: the same address key, or the grid cells around a point;
/// each row once.
fn near(index: &HashMap<Cell, Vec<usize>>, places: &[Place], radius_m: f64) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for p in places {
        match cell(p, radius_m) {
            c @ Cell::Address(_) => out.extend(index.get(&c).into_iter().flatten()),
            Cell::Grid(a, b) => {
                for (da, db) in (-1..=1).flat_map(|da| (-1..=1).map(move |db| (da, db))) {
                    out.extend(index.get(&Cell::Grid(a + da, b + db)).into_iter().flatten());
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A group's place as people read it: the address key where there is one, else the point.
fn place_text(places: &[Place]) -> String {
    let address = places.iter().find_map(|p| match p {
        Place::Address(k) => Some(k.to_string()),
        Place::Point { .. } => None,
    });
    address
        .or_else(|| {
            places.iter().find_map(|p| match p {
                Place::Point { lat, lon } => Some(format!("{lat:.5},{lon:.5}")),
                Place::Address(_) => None,
            })
        })
        .unwrap_or_default()
}

/// What the window's open requests say: the candidate groups among those in no incident, and
/// for each confirmed incident the free requests that belong with one of its open members.
struct Found {
    candidates: Vec<Group>,
    suggested: HashMap<uuid::Uuid, Vec<String>>,
}

/// Reads the open requests received in the last two windows (a request at the window's start
/// still meets those up to a window before it) and groups them.
fn find(conn: &Connection, rules: &Rules, now: DateTime<Utc>) -> Result<Found, StoreError> {
    let window = Duration::milliseconds((rules.window_hours * 3_600_000.0) as i64);
    let mut rows = open_reports(conn, now - window - window)?;
    let idf = crate::incidents::Idf::learn(rows.iter().map(|r| &r.report.words));
    for r in &mut rows {
        r.report.words = std::mem::take(&mut r.report.words).weighted(&idf);
    }
    super::places::remember_idf(now, idf);
    let mut free: HashMap<Cell, Vec<usize>> = HashMap::new();
    let mut joined: HashMap<Cell, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let index = if r.incident.is_some() {
            &mut joined
        } else {
            &mut free
        };
        for p in &r.report.places {
            index.entry(cell(p, rules.radius_m)).or_default().push(i);
        }
    }
    // A free request that matches a confirmed incident's member is that incident's to take.
    let mut suggested: HashMap<uuid::Uuid, Vec<String>> = HashMap::new();
    let mut taken = vec![false; rows.len()];
    for (i, r) in rows.iter().enumerate() {
        if r.incident.is_some() || r.report.places.is_empty() {
            continue;
        }
        let matched = near(&joined, &r.report.places, rules.radius_m)
            .into_iter()
            .find(|&j| crate::incidents::belongs(&r.report, &rows[j].report, rules));
        if let Some(incident) = matched.and_then(|j| rows[j].incident) {
            suggested
                .entry(incident)
                .or_default()
                .push(r.number.clone());
            taken[i] = true;
        }
    }
    // Union-find over the rows: every group a row forms with its neighbours joins them.
    let mut parent: Vec<usize> = (0..rows.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut grouped = vec![false; rows.len()];
    for (i, r) in rows.iter().enumerate() {
        if r.incident.is_some() || taken[i] || r.report.places.is_empty() {
            continue;
        }
        let near: Vec<usize> = near(&free, &r.report.places, rules.radius_m)
            .into_iter()
            .filter(|&j| !taken[j])
            .collect();
        if let Some(members) = candidate(&r.report, near.iter().map(|&j| &rows[j].report), rules) {
            for id in members {
                if let Some(j) = near
                    .iter()
                    .copied()
                    .chain([i])
                    .find(|&j| rows[j].report.id == id)
                {
                    grouped[j] = true;
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in (0..rows.len()).filter(|&i| grouped[i]) {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let reports: Vec<&Report> = rows.iter().map(|r| &r.report).collect();
    let groups = crate::incidents::grow(
        groups.into_values().collect(),
        &reports,
        |m| {
            near(&free, &rows[m].report.places, rules.radius_m)
                .into_iter()
                .filter(|&j| !taken[j])
                .collect()
        },
        rules,
    );
    let candidates = groups
        .into_iter()
        .map(|members| {
            let first = &rows[members[0]].report;
            let citizens: std::collections::BTreeSet<&str> = members
                .iter()
                .map(|&i| rows[i].report.citizen.as_str())
                .collect();
            Group {
                id: first.id,
                number: None,
                title: None,
                status: "candidate".into(),
                candidate: true,
                topic: first.topic.clone().unwrap_or_default(),
                place: place_text(&first.places),
                citizens: citizens.len(),
                members: members.iter().map(|&i| rows[i].number.clone()).collect(),
                member_ids: members.iter().map(|&i| rows[i].report.id).collect(),
                suggested: vec![],
                first_at: first.at,
            }
        })
        .collect();
    Ok(Found {
        candidates,
        suggested,
    })
}

/// The candidate groups among the open requests in no incident.
pub fn candidates(
    conn: &Connection,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<Vec<Group>, StoreError> {
    Ok(find(conn, rules, now)?.candidates)
}

/// The open incidents (oldest first) with their members and suggested members, then the
/// candidate groups.
pub fn incidents(
    conn: &Connection,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Result<Vec<Group>, StoreError> {
    let found = find(conn, rules, now)?;
    let mut st = conn.prepare_cached(
        "SELECT id, number, text, status, COALESCE(topic, ''), address, lat, lon, received_at
         FROM request WHERE is_incident = 1 AND status <> 'closed' ORDER BY received_at, rid",
    )?;
    type Head = (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<f64>,
        Option<f64>,
        i64,
    );
    let heads: Vec<Head> = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for (id, number, title, status, topic, address, lat, lon, at) in heads {
        let Ok(id) = uuid::Uuid::parse_str(&id) else {
            continue;
        };
        let members = members(conn, id)?;
        let citizens: std::collections::BTreeSet<&str> =
            members.iter().map(|m| m.citizen.as_str()).collect();
        let place = match (lat, lon, address) {
            (_, _, Some(a)) => a,
            (Some(lat), Some(lon), _) => place_text(&[Place::Point { lat, lon }]),
            _ => String::new(),
        };
        out.push(Group {
            id,
            number: Some(number),
            title: Some(title),
            status,
            candidate: false,
            topic,
            place,
            citizens: citizens.len(),
            members: members.iter().map(|m| m.number.clone()).collect(),
            member_ids: members.iter().map(|m| m.id).collect(),
            suggested: found.suggested.get(&id).cloned().unwrap_or_default(),
            first_at: time(at)?,
        });
    }
    out.extend(found.candidates);
    Ok(out)
}

/// One member of an incident, as its card and the fan-out need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub id: uuid::Uuid,
    pub number: String,
    pub citizen: String,
}

/// The members of incident `id`, earliest first, whatever their status.
pub fn members(conn: &Connection, id: uuid::Uuid) -> Result<Vec<Member>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT id, number, channel, chat_ref, citizen FROM request
         WHERE incident_id = ?1 ORDER BY received_at, rid",
    )?;
    let rows = st.query_map([id.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mid, number, channel, chat, citizen) = row?;
        let Ok(mid) = uuid::Uuid::parse_str(&mid) else {
            continue;
        };
        out.push(Member {
            id: mid,
            number,
            citizen: citizen_key(&channel, chat.as_deref(), citizen.as_deref(), mid),
        });
    }
    Ok(out)
}

/// The citizen's own earlier open request that `rid` repeats (`incidents::repeat_of`): same
/// channel and chat, received within `repeat_days` before it, with similar text or at the same
/// place. Only a channel's chat says who wrote: a request typed in by hand has no repeats.
pub fn same_case_as(
    conn: &Connection,
    rid: i64,
    rules: &Rules,
) -> Result<Option<String>, StoreError> {
    use super::rows::Cached;
    use rusqlite::OptionalExtension;
    let this: Option<(String, String, Option<String>, String, i64)> = conn
        .row(
            "SELECT id, channel, chat_ref, text, received_at FROM request WHERE rid = ?1",
            [rid],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((id, channel, Some(chat), text, at)) = this else {
        return Ok(None);
    };
    let since = at - (rules.repeat_days * 86_400_000.0) as i64;
    let mut st = conn.prepare_cached(
        "SELECT id, number, text, received_at FROM request
         WHERE channel = ?1 AND chat_ref = ?2 AND rid <> ?3 AND status <> 'closed'
           AND received_at >= ?4 AND received_at <= ?5",
    )?;
    let rows = st.query_map(rusqlite::params![channel, chat, rid, since, at], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    let report = |id: &str, text: &str, at: i64| -> Result<Option<Report>, StoreError> {
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return Ok(None);
        };
        Ok(Some(Report {
            id,
            citizen: chat.clone(),
            at: time(at)?,
            topic: None,
            places: address_key(text).map(Place::Address).into_iter().collect(),
            words: Words::of(text),
            open: true,
        }))
    };
    let Some(new) = report(&id, &text, at)? else {
        return Ok(None);
    };
    let mut numbers = HashMap::new();
    let mut theirs = Vec::new();
    for row in rows {
        let (id, number, text, at) = row?;
        if let Some(r) = report(&id, &text, at)? {
            numbers.insert(r.id, number);
            theirs.push(r);
        }
    }
    Ok(crate::incidents::repeat_of(&new, &theirs, rules).and_then(|id| numbers.remove(&id)))
}
