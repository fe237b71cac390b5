//! One request as its card shows it: the request, its thread (with the threads merged into it),
//! notes and audit, and what the card lists beside them — its incident or members, the
//! citizen's other requests, its duplicates, and triage's suggestion.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::StoreError;
use super::read::resolve;
use super::rows::{self, Cached, RawRequest, time};
use crate::domain::Request;
use crate::domain::request::{DeliveryState, Event, Message, Note, NoteKind};

#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    #[serde(skip)]
    pub request: Request,
    pub messages: Vec<Message>,
    pub notes: Vec<Note>,
    pub events: Vec<Event>,
    /// The number of the request this one duplicates, for people to read instead of its id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_number: Option<String>,
    /// Triage's suggestion while the request is open and has no topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<crate::triage::Suggestion>,
    /// The number of the citizen's own earlier open request this one repeats
    /// (`store::incidents::same_case_as`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_case_as: Option<String>,
    /// The incident this request is a member of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentRef>,
    /// An incident's members, earliest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberRef>,
    /// The same members whole: what one answer to all is written for.
    #[serde(skip)]
    pub member_requests: Vec<Request>,
    /// The citizen's other requests (same chat, or same phone), newest first
    /// (`store::citizen`).
    pub citizen_requests: Vec<super::citizen::CitizenRequest>,
    /// The numbers of the requests linked to this one as its duplicates, earliest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<String>,
    /// The requests whose threads were merged into this one (`domain::merge`), earliest
    /// first; their messages are in `messages`, each under its own `request_id`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<MemberRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentRef {
    pub id: uuid::Uuid,
    pub number: String,
    pub title: String,
}

/// One member of an incident as its card lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberRef {
    pub id: uuid::Uuid,
    pub number: String,
    pub channel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub citizen: Option<String>,
    pub status: String,
    /// The last reply's delivery (`queued`, `sent`, `failed`, …) while it matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
}

impl MemberRef {
    pub fn of(r: &Request) -> MemberRef {
        MemberRef {
            id: r.id,
            number: r.number.to_string(),
            channel: r.channel.as_str().to_string(),
            citizen: r.citizen.clone(),
            status: r.status.as_str().to_string(),
            reply: r.reply.as_ref().map(|p| p.state.as_str().to_string()),
        }
    }
}

impl Detail {
    /// The number of the merged request a message of this thread belongs to (None for the
    /// request's own): the card and `mcu show` put it beside the author.
    pub fn via(&self, m: &Message) -> Option<&str> {
        if m.request_id == self.request.id {
            return None;
        }
        self.merged
            .iter()
            .find(|r| r.id == m.request_id)
            .map(|r| r.number.as_str())
    }

    /// The department's return while it stands (open, no department, and no forward since):
    /// the department it came back from and the note with who and why.
    pub fn returned(&self) -> Option<(Option<&str>, &Note)> {
        if !self.request.status.is_open() || self.request.department.is_some() {
            return None;
        }
        let last = self
            .notes
            .iter()
            .filter(|n| matches!(n.kind, NoteKind::Forward | NoteKind::Returned))
            .max_by_key(|n| n.at)
            .filter(|n| n.kind == NoteKind::Returned)?;
        let from = self
            .events
            .iter()
            .rev()
            .find(|e| e.field == "returned")
            .and_then(|e| e.old.as_deref());
        Some((from, last))
    }

    /// A message's author as the thread shows it: with the merged request it came through.
    pub fn author_of(&self, m: &Message) -> String {
        match self.via(m) {
            Some(n) => format!("{} · {n}", m.author),
            None => m.author.clone(),
        }
    }

    /// The reply the citizen did not get, from the thread: what `mcu resend` and the console's
    /// `R` send again.
    pub fn undelivered_reply(&self) -> Option<&Message> {
        let pending = self
            .request
            .reply
            .as_ref()
            .filter(|_| self.request.undelivered())?;
        self.messages.iter().find(|m| m.id == pending.message_id)
    }
}

/// The messages of one request's thread, in order.
fn messages_of(
    conn: &Connection,
    rid: i64,
    request_id: uuid::Uuid,
) -> Result<Vec<Message>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT id, direction, author, body, at, delivery, edit_of FROM message WHERE request_rid = ?1 ORDER BY at, rowid",
    )?;
    let mut messages = vec![];
    let raw = st.query_map([rid], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    for row in raw {
        let (id, dir, author, body, at, delivery, edit_of) = row?;
        messages.push(Message {
            id: rows::parse("message id", &id)?,
            request_id,
            direction: rows::parse_direction(&dir),
            author,
            body,
            at: time(at)?,
            delivery: delivery
                .map(|d| rows::parse_json_enum::<DeliveryState>(&d))
                .transpose()?,
            edit_of: edit_of.map(|e| rows::parse("message id", &e)).transpose()?,
        });
    }
    Ok(messages)
}

pub fn detail(conn: &Connection, key: &str) -> Result<Detail, StoreError> {
    let (rid, request) = resolve(conn, key)?;
    let mut messages = messages_of(conn, rid, request.id)?;
    // A merged request's thread is part of this one (`domain::merge`): one conversation,
    // each message under the request it came through.
    let merged_requests = super::merge::merged_requests(conn, request.id)?;
    for (mrid, mr) in &merged_requests {
        messages.extend(messages_of(conn, *mrid, mr.id)?);
    }
    if !merged_requests.is_empty() {
        messages.sort_by_key(|m| m.at);
    }
    let merged = merged_requests
        .iter()
        .map(|(_, r)| MemberRef::of(r))
        .collect();
    let mut st = conn.prepare_cached(
        "SELECT id, kind, author, body, at FROM note WHERE request_rid = ?1 ORDER BY at, rowid",
    )?;
    let mut notes = vec![];
    let raw = st.query_map([rid], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    for row in raw {
        let (id, kind, author, body, at) = row?;
        notes.push(Note {
            id: rows::parse("note id", &id)?,
            request_id: request.id,
            kind: rows::parse_json_enum::<NoteKind>(&kind)?,
            author,
            body,
            at: time(at)?,
        });
    }
    let mut st =
        conn.prepare_cached("SELECT mutation_id, at, actor, field, old, new FROM event WHERE request_rid = ?1 ORDER BY seq")?;
    let mut events = vec![];
    let raw = st.query_map([rid], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })?;
    for row in raw {
        let (mid, at, actor, field, old, new) = row?;
        events.push(Event {
            request_id: request.id,
            mutation_id: rows::parse("mutation id", &mid)?,
            at: time(at)?,
            actor,
            field,
            old,
            new,
        });
    }
    let parent_number = match request.parent_id {
        Some(p) => conn
            .row(
                "SELECT number FROM request WHERE id = ?1",
                [p.to_string()],
                |r| r.get(0),
            )
            .optional()?,
        None => None,
    };
    // A citizen writing again about their own open request: one case (#18).
    let same_case_as = if request.status.is_open() {
        super::incidents::same_case_as(conn, rid, &crate::incidents::Rules::default())?
    } else {
        None
    };
    let incident = match request.incident_id {
        Some(i) => conn
            .row(
                "SELECT number, text FROM request WHERE id = ?1",
                [i.to_string()],
                |r| {
                    Ok(IncidentRef {
                        id: i,
                        number: r.get(0)?,
                        title: r.get(1)?,
                    })
                },
            )
            .optional()?,
        None => None,
    };
    let member_requests = if request.is_incident {
        let sql = format!(
            "SELECT {} FROM request WHERE incident_id = ?1 ORDER BY received_at, rid",
            rows::REQUEST_COLUMNS
        );
        let mut st = conn.prepare_cached(&sql)?;
        let raws = st
            .query_map([request.id.to_string()], RawRequest::from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(raws.len());
        for raw in raws {
            let tags = rows::tags(conn, raw.rid)?;
            out.push(raw.into_request(tags)?);
        }
        out
    } else {
        vec![]
    };
    let members = member_requests.iter().map(MemberRef::of).collect();
    let citizen_requests = super::citizen::other_requests(conn, rid, &request)?;
    let duplicates = conn
        .prepare_cached("SELECT number FROM request WHERE parent_id = ?1 AND close_reason IS NOT 'merged' ORDER BY rid LIMIT 200")?
        .query_map([request.id.to_string()], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(Detail {
        merged,
        duplicates,
        citizen_requests,
        request,
        messages,
        notes,
        events,
        parent_number,
        suggestion: super::triage::get(conn, rid)?,
        same_case_as,
        incident,
        members,
        member_requests,
    })
}
