//! What consoles and the server say to each other when they sync (docs/sync-protocol.md). JSON over HTTP;
//! the same types on both sides, so a field can't be spelled two ways. Kept on the floor below
//! `sync`, `server` and `store` because all three read and write these shapes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::fence::Fence;
use crate::domain::mutation::Mutation;

/// Bumped when a mutation or patch changes shape; the server refuses what it can't read
/// instead of guessing (docs/sync-protocol.md, scenario 28).
pub const SCHEMA_VERSION: u32 = 1;

/// One journaled operator action on its way to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushMutation {
    /// Strictly +1 per client: the server refuses gaps, so nothing is skipped silently.
    pub id: i64,
    /// The request's `version` the operator saw; compare-and-set fields (department,
    /// assignment by a lead) are refused as `stale_base` when it changed since.
    #[serde(default)]
    pub base_seq: Option<i64>,
    /// The action itself; its `id` is the global idempotency key and its `at` the writer's
    /// clock, kept for audit only.
    pub mutation: Mutation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub client_id: Uuid,
    pub schema_version: u32,
    pub scope_id: String,
    pub mutations: Vec<PushMutation>,
    /// A channel gateway's lease: its pushes count only while it still holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence: Option<Fence>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Applied,
    /// A permanent refusal: recorded, and the client's queue moves on past it.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutationResult {
    pub id: i64,
    pub uuid: Uuid,
    pub status: Verdict,
    /// Stable refusal code (`already_claimed`, `stale_base`, `invalid_transition`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The refusal in words, for the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The request as it is on the server, so the console can show the current value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<serde_json::Value>,
    /// Who made the current value and when (the server's clock), from the request's audit
    /// trail, so the operator knows whom to ask. Absent from older servers, and read as
    /// absent by older consoles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub last_mutation_id: i64,
    pub results: Vec<MutationResult>,
    /// Set when a mutation's id skipped ahead: the server expects this id next and took
    /// nothing from that one on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap_expected: Option<i64>,
}

/// Where a console is in the server's history of its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cookie {
    /// Changes when the server's history was restored or reset: an old cookie then means
    /// "start over", never "you are up to date".
    pub epoch: Uuid,
    pub seq: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    pub client_id: Uuid,
    pub schema_version: u32,
    pub scope_id: String,
    #[serde(default)]
    pub cookie: Option<Cookie>,
    /// At most this many changes per answer (the server caps it).
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum PatchOp {
    Put {
        entity: Entity,
        id: String,
        value: Doc,
    },
    Del {
        entity: Entity,
        id: String,
    },
}

/// By hand: serde's derive for an internally tagged enum buffers the fields first, and a
/// buffered field can't be a `RawValue` (`Doc`).
impl<'de> Deserialize<'de> for PatchOp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PatchOp, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = PatchOp;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a patch entry: op, entity, id and (for put) value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<PatchOp, A::Error> {
                use serde::de::Error;
                let (mut op, mut entity, mut id, mut value) = (None, None, None, None);
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match key.as_ref() {
                        "op" => {
                            op = Some(map.next_value::<std::borrow::Cow<'de, str>>()?.into_owned())
                        }
                        "entity" => entity = Some(map.next_value::<Entity>()?),
                        "id" => id = Some(map.next_value::<String>()?),
                        "value" => value = Some(map.next_value::<Doc>()?),
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                let entity = entity.ok_or_else(|| A::Error::missing_field("entity"))?;
                let id = id.ok_or_else(|| A::Error::missing_field("id"))?;
                match op.as_deref() {
                    Some("put") => Ok(PatchOp::Put {
                        entity,
                        id,
                        value: value.ok_or_else(|| A::Error::missing_field("value"))?,
                    }),
                    Some("del") => Ok(PatchOp::Del { entity, id }),
                    Some(other) => Err(A::Error::unknown_variant(other, &["put", "del"])),
                    None => Err(A::Error::missing_field("op")),
                }
            }
        }
        d.deserialize_map(Fields)
    }
}

/// A stored document as JSON text, passed through as it is: the server forwards what it
/// stored without parsing it, and the console parses it once, straight into its own types.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Doc(Box<serde_json::value::RawValue>);

impl Doc {
    /// Checks that `text` is one JSON value.
    pub fn from_text(text: String) -> Result<Doc, serde_json::Error> {
        serde_json::value::RawValue::from_string(text).map(Doc)
    }

    pub fn from_value(v: &serde_json::Value) -> Result<Doc, serde_json::Error> {
        serde_json::value::to_raw_value(v).map(Doc)
    }

    pub fn text(&self) -> &str {
        self.0.get()
    }

    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// The document as a tree, for tests and tools; the sync path parses into its own types.
    /// (The text was checked to be JSON when the `Doc` was made, so this never comes out
    /// `Null` for a document that isn't.)
    pub fn value(&self) -> serde_json::Value {
        self.parse().unwrap_or(serde_json::Value::Null)
    }
}

impl PartialEq for Doc {
    fn eq(&self, other: &Doc) -> bool {
        self.text() == other.text()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Request,
    Message,
    Note,
    Event,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Request => "request",
            Entity::Message => "message",
            Entity::Note => "note",
            Entity::Event => "event",
        }
    }

    pub fn parse(s: &str) -> Option<Entity> {
        Some(match s {
            "request" => Entity::Request,
            "message" => Entity::Message,
            "note" => Entity::Note,
            "event" => Entity::Event,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub cookie: Cookie,
    pub last_mutation_id: i64,
    /// The console must drop its mirror and take this patch as the whole state.
    pub reset: bool,
    pub patch: Vec<PatchOp>,
    /// More changes wait: pull again with the new cookie.
    pub more: bool,
}

/// A request on the server with the change counters its conflict rules need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestDoc {
    pub request: crate::domain::Request,
    /// The scope's seq of the request's last change: what a client's `base_seq` is
    /// compared with.
    pub version: i64,
    pub department_seq: i64,
    pub assignee_seq: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Who changed the value is new in the answer: an older server's answer still reads, and
    /// an answer without it reads as before to an older console (no new keys).
    #[test]
    fn who_changed_it_is_optional_both_ways() {
        let old = r#"{"id":3,"uuid":"018f0000-0000-7000-8000-000000000000","status":"rejected",
            "code":"already_claimed","message":"already claimed by boris"}"#;
        let r: MutationResult = serde_json::from_str(old).unwrap();
        assert_eq!((r.changed_by.as_deref(), r.changed_at), (None, None));
        let text = serde_json::to_string(&r).unwrap();
        assert!(!text.contains("changed_"), "{text}");
    }
}
