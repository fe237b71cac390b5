//! Merging two requests' threads into one: the operator finds that two citizens (or one
//! citizen on two channels) are in the same conversation, so one request (`other`) becomes a
//! link to the one that handles it (`into`). The link forwards the citizen's follow-ups
//! (`store::ingest`), and every answer given on `into` is carried back (`Op::Relay`), so both
//! citizens keep being answered on their own channels. Pure: the store asks here what to do
//! and applies the mutations through `apply` like any other action.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::mutation::{Mutation, Op, merged_into};
use super::request::Request;

/// Why two requests cannot be merged; each names what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("a request cannot be merged into itself")]
    Same,
    #[error("an incident is not merged: its members join another incident")]
    Incident,
    #[error("{into} is itself merged into {target}: merge into {target}")]
    IntoMerged { into: String, target: String },
    #[error("{0} is already merged into {1}")]
    Already(String, String),
}

/// The batch that merges `other` into `into`: its citizen told `told` first (when the
/// request is open and their channel carries it; the words are `present::merge::told`), then
/// the merge. `into_target`: the number of the
/// request `into` is itself merged into, if it is (looked up by the caller).
pub fn merge(
    other: &Request,
    into: &Request,
    into_target: Option<String>,
    told: Option<String>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Mutation>, MergeError> {
    if other.id == into.id {
        return Err(MergeError::Same);
    }
    if other.is_incident || into.is_incident {
        return Err(MergeError::Incident);
    }
    if merged_into(into).is_some() {
        return Err(MergeError::IntoMerged {
            into: into.number.to_string(),
            target: into_target.unwrap_or_else(|| "—".into()),
        });
    }
    if merged_into(other) == Some(into.id) {
        return Err(MergeError::Already(
            other.number.to_string(),
            into.number.to_string(),
        ));
    }
    let mut out = vec![];
    if let Some(body) = told
        && other.status.is_open()
        && other.channel.delivers()
        && other.channel_ref.chat.is_some()
    {
        out.push(Mutation::new(
            other.id,
            actor,
            now,
            Op::Reply {
                message_id: Uuid::now_v7(),
                body,
            },
        ));
    }
    out.push(Mutation::new(
        other.id,
        actor,
        now,
        Op::Merge { into: into.id },
    ));
    Ok(out)
}

/// The answer a mutation gives the citizen, if it is one that a merged request's citizen
/// should get too: a reply, a question, or an answer relayed further down a chain of merges.
pub fn answer_of(op: &Op) -> Option<(Uuid, &str)> {
    match op {
        Op::Reply { message_id, body }
        | Op::Ask { message_id, body }
        | Op::Relay {
            message_id, body, ..
        } => Some((*message_id, body.as_str())),
        _ => None,
    }
}

/// The relay of `answer` (a mutation on request `from`) to the request `to` merged into it,
/// named by both so that a retried or replayed answer is relayed once.
pub fn relay(answer: &Mutation, to: Uuid, now: DateTime<Utc>) -> Option<Mutation> {
    let (message_id, body) = answer_of(&answer.op)?;
    Some(Mutation {
        id: super::ids::named(&[b"mcu-relay:", answer.id.as_bytes(), to.as_bytes()]),
        ..Mutation::new(
            to,
            &answer.actor,
            now,
            Op::Relay {
                from: answer.request_id,
                message_id: super::ids::named(&[
                    b"mcu-relay-message:",
                    message_id.as_bytes(),
                    to.as_bytes(),
                ]),
                body: body.to_string(),
            },
        )
    })
}

/// How a follow-up from a merged request's citizen is labelled in the thread it joins.
pub fn follow_up_author(merged: &Request) -> String {
    let who = merged
        .citizen
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .unwrap_or("—");
    format!("{who} · {}", merged.number)
}

/// The merged request's number a thread message came through, read off its author
/// (`follow_up_author`); None for the request's own citizen.
pub fn came_through(author: &str) -> Option<&str> {
    let (_, number) = author.rsplit_once(" · ")?;
    number.parse::<super::request::RequestNumber>().ok()?;
    Some(number)
}

#[cfg(test)]
mod tests;
