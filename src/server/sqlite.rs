//! The server's store in one SQLite file (the default, for a city's five operators): the same
//! tables and rules as the PostgreSQL store, one writer thread, `BEGIN IMMEDIATE` per mutation.

mod accounts;
mod store;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use uuid::Uuid;

use super::engine::{ClientRow, ServerError, ServerTx};
use crate::wire::sync::{Doc, Entity, MutationResult, RequestDoc};
pub use store::{STORE_VERSION, SqliteStore, in_snapshot, in_tx, open};

fn err(e: impl std::fmt::Display) -> ServerError {
    ServerError::Storage(e.to_string())
}

struct Tx<'a>(&'a Connection);

/// A string as an SQL literal, for the one batch that can't take parameters.
fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, ServerError> {
    serde_json::from_str(text).map_err(|e| ServerError::Corrupt(format!("{what}: {e}")))
}

impl ServerTx for Tx<'_> {
    fn scope(&mut self, scope: &str) -> Result<(i64, Uuid), ServerError> {
        self.0
            .execute(
                "INSERT INTO sync_scope(scope_id, seq, epoch) VALUES (?1, 0, ?2) ON CONFLICT DO NOTHING",
                params![scope, Uuid::now_v7().to_string()],
            )
            .map_err(err)?;
        let (seq, epoch): (i64, String) = self
            .0
            .query_row(
                "SELECT seq, epoch FROM sync_scope WHERE scope_id = ?1",
                [scope],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err)?;
        Ok((seq, epoch.parse().map_err(err)?))
    }

    fn lock_client(&mut self, id: Uuid) -> Result<Option<ClientRow>, ServerError> {
        self.0
            .query_row(
                "SELECT scope_id, user_name, last_mutation_id FROM client WHERE client_id = ?1",
                [id.to_string()],
                |r| {
                    Ok(ClientRow {
                        client_id: id,
                        scope_id: r.get(0)?,
                        user: r.get(1)?,
                        last_mutation_id: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(err)
    }

    fn read_client(&mut self, id: Uuid) -> Result<Option<ClientRow>, ServerError> {
        // One writer: nothing to lock.
        self.lock_client(id)
    }

    fn save_client(&mut self, c: &ClientRow, now: DateTime<Utc>) -> Result<(), ServerError> {
        // Never backwards: a new client's registration racing its own first push (two
        // connections) must not undo what that push recorded.
        self.0
            .execute(
                "INSERT INTO client(client_id, scope_id, user_name, last_mutation_id, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(client_id) DO UPDATE SET last_mutation_id = max(client.last_mutation_id, excluded.last_mutation_id),
                   last_seen = excluded.last_seen",
                params![
                    c.client_id.to_string(),
                    c.scope_id,
                    c.user,
                    c.last_mutation_id,
                    ms(now)
                ],
            )
            .map_err(err)?;
        Ok(())
    }

    fn processed(&mut self, uuid: Uuid) -> Result<Option<MutationResult>, ServerError> {
        let text: Option<String> = self
            .0
            .query_row(
                "SELECT result FROM processed_mutation WHERE mutation_uuid = ?1",
                [uuid.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        text.map(|t| parse("processed mutation", &t)).transpose()
    }

    fn record_processed(
        &mut self,
        client: Uuid,
        r: &MutationResult,
        now: DateTime<Utc>,
    ) -> Result<(), ServerError> {
        let text = serde_json::to_string(r).map_err(err)?;
        self.0
            .execute(
                "INSERT INTO processed_mutation(mutation_uuid, client_id, mutation_id, result, at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![r.uuid.to_string(), client.to_string(), r.id, text, ms(now)],
            )
            .map_err(err)?;
        Ok(())
    }

    fn load_request(&mut self, id: Uuid) -> Result<Option<RequestDoc>, ServerError> {
        let row: Option<(String, i64, i64, i64)> = self
            .0
            .query_row(
                "SELECT doc, version, department_seq, assignee_seq FROM request_doc WHERE id = ?1",
                [id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(err)?;
        row.map(|(doc, version, department_seq, assignee_seq)| {
            Ok(RequestDoc {
                request: parse("request", &doc)?,
                version,
                department_seq,
                assignee_seq,
            })
        })
        .transpose()
    }

    fn find_external(
        &mut self,
        channel: &str,
        external_id: &str,
    ) -> Result<Option<String>, ServerError> {
        self.0
            .query_row(
                "SELECT number FROM request_doc WHERE channel = ?1 AND external_id = ?2",
                [channel, external_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)
    }

    fn next_number(&mut self, scope: &str, year: i32) -> Result<i64, ServerError> {
        self.0
            .query_row(
                "INSERT INTO number_seq(scope_id, year, last) VALUES (?1, ?2, 1)
                 ON CONFLICT(scope_id, year) DO UPDATE SET last = last + 1 RETURNING last",
                params![scope, year],
                |r| r.get(0),
            )
            .map_err(err)
    }

    fn bump_seq(&mut self, scope: &str, n: i64) -> Result<i64, ServerError> {
        self.0
            .query_row(
                "UPDATE sync_scope SET seq = seq + ?2 WHERE scope_id = ?1 RETURNING seq",
                params![scope, n],
                |r| r.get(0),
            )
            .map_err(err)
    }

    fn save_request(&mut self, scope: &str, doc: &RequestDoc) -> Result<(), ServerError> {
        let r = &doc.request;
        let text = serde_json::to_string(r).map_err(err)?;
        self.0
            .execute(
                "INSERT INTO request_doc(id, scope_id, number, channel, external_id, doc, version,
                   department_seq, assignee_seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, version = excluded.version,
                   department_seq = excluded.department_seq, assignee_seq = excluded.assignee_seq",
                params![
                    r.id.to_string(),
                    scope,
                    r.number.to_string(),
                    r.channel.as_str(),
                    r.external_id,
                    text,
                    doc.version,
                    doc.department_seq,
                    doc.assignee_seq
                ],
            )
            .map_err(err)?;
        Ok(())
    }

    fn append(
        &mut self,
        scope: &str,
        entity: Entity,
        id: &str,
        request_id: Uuid,
        value: &Value,
    ) -> Result<(), ServerError> {
        self.0
            .execute(
                "INSERT INTO row_doc(entity, id, scope_id, request_id, doc) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT DO NOTHING",
                params![
                    entity.as_str(),
                    id,
                    scope,
                    request_id.to_string(),
                    value.to_string()
                ],
            )
            .map_err(err)?;
        Ok(())
    }

    fn log_change(
        &mut self,
        scope: &str,
        seq: i64,
        entity: Entity,
        id: &str,
    ) -> Result<(), ServerError> {
        self.0
            .execute(
                "INSERT INTO change_log(scope_id, seq, entity, entity_id) VALUES (?1, ?2, ?3, ?4)",
                params![scope, seq, entity.as_str(), id],
            )
            .map_err(err)?;
        Ok(())
    }

    fn last_mutation_id(&mut self, client: Uuid) -> Result<i64, ServerError> {
        Ok(self.lock_client(client)?.map_or(0, |c| c.last_mutation_id))
    }

    fn changes_since(
        &mut self,
        scope: &str,
        seq: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Entity, String)>, ServerError> {
        let mut st = self
            .0
            .prepare_cached(
                "SELECT seq, entity, entity_id FROM change_log WHERE scope_id = ?1 AND seq > ?2
                 ORDER BY seq LIMIT ?3",
            )
            .map_err(err)?;
        let rows = st
            .query_map(params![scope, seq, limit as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })
            .map_err(err)?;
        let mut out = vec![];
        for row in rows {
            let (seq, entity, id) = row.map_err(err)?;
            let entity = Entity::parse(&entity)
                .ok_or_else(|| ServerError::Corrupt(format!("change_log entity `{entity}`")))?;
            out.push((seq, entity, id));
        }
        Ok(out)
    }

    fn docs(&mut self, entity: Entity, ids: &[String]) -> Result<Vec<(String, Doc)>, ServerError> {
        // The ids go in as one JSON array; CROSS JOIN keeps it the outer loop, so each id is
        // one primary-key lookup however large the table.
        let list = serde_json::to_string(ids).map_err(err)?;
        let mut out = Vec::with_capacity(ids.len());
        if entity == Entity::Request {
            let mut st = self
                .0
                .prepare_cached(
                    "SELECT r.id, r.doc, r.version FROM json_each(?1) AS j
                     CROSS JOIN request_doc AS r ON r.id = j.value",
                )
                .map_err(err)?;
            let mut rows = st.query(params![list]).map_err(err)?;
            while let Some(r) = rows.next().map_err(err)? {
                let doc: &str = r.get_ref(1).and_then(|v| Ok(v.as_str()?)).map_err(err)?;
                let version: i64 = r.get(2).map_err(err)?;
                out.push((
                    r.get(0).map_err(err)?,
                    super::engine::request_doc(doc, version)?,
                ));
            }
        } else {
            let mut st = self
                .0
                .prepare_cached(
                    "SELECT r.id, r.doc FROM json_each(?1) AS j CROSS JOIN row_doc AS r
                     ON r.entity = ?2 AND r.id = j.value",
                )
                .map_err(err)?;
            let mut rows = st.query(params![list, entity.as_str()]).map_err(err)?;
            while let Some(r) = rows.next().map_err(err)? {
                let doc: String = r.get(1).map_err(err)?;
                let doc = Doc::from_text(doc)
                    .map_err(|e| ServerError::Corrupt(format!("{}: {e}", entity.as_str())))?;
                out.push((r.get(0).map_err(err)?, doc));
            }
        }
        Ok(out)
    }

    fn compact_log(&mut self, scope: &str) -> Result<usize, ServerError> {
        let gone = self
            .0
            .execute(
                "DELETE FROM change_log WHERE scope_id = ?1 AND EXISTS (
                   SELECT 1 FROM change_log n WHERE n.scope_id = change_log.scope_id
                     AND n.entity = change_log.entity AND n.entity_id = change_log.entity_id
                     AND n.seq > change_log.seq)",
                [scope],
            )
            .map_err(err)?;
        self.0
            .execute(
                "UPDATE sync_scope SET compacted_to = seq WHERE scope_id = ?1",
                [scope],
            )
            .map_err(err)?;
        Ok(gone)
    }

    fn compacted_to(&mut self, scope: &str) -> Result<i64, ServerError> {
        self.0
            .query_row(
                "SELECT compacted_to FROM sync_scope WHERE scope_id = ?1",
                [scope],
                |r| r.get(0),
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(err)
    }

    fn request_texts(&mut self, scope: &str) -> Result<Vec<(String, String)>, ServerError> {
        let mut st = self
            .0
            .prepare("SELECT id, doc FROM request_doc WHERE scope_id = ?1")
            .map_err(err)?;
        let rows = st
            .query_map([scope], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    fn drop_request(&mut self, scope: &str, id: &str) -> Result<(), ServerError> {
        self.0
            .execute_batch(&format!(
                "DELETE FROM change_log WHERE scope_id = {s} AND ((entity = 'request' AND entity_id = {i})
                   OR entity_id IN (SELECT id FROM row_doc WHERE request_id = {i}));
                 DELETE FROM row_doc WHERE request_id = {i};
                 DELETE FROM request_doc WHERE id = {i};",
                s = sql_text(scope),
                i = sql_text(id)
            ))
            .map_err(err)
    }

    fn parents(&mut self, entity: Entity, ids: &[String]) -> Result<Vec<String>, ServerError> {
        let list = serde_json::to_string(ids).map_err(err)?;
        let mut st = self
            .0
            .prepare_cached(
                "SELECT DISTINCT r.request_id FROM json_each(?1) AS j CROSS JOIN row_doc AS r
                 ON r.entity = ?2 AND r.id = j.value",
            )
            .map_err(err)?;
        let rows = st
            .query_map(params![list, entity.as_str()], |r| r.get(0))
            .map_err(err)?;
        rows.collect::<Result<_, _>>().map_err(err)
    }

    fn replace_row(
        &mut self,
        scope: &str,
        entity: Entity,
        id: &str,
        request_id: Uuid,
        value: &Value,
    ) -> Result<(), ServerError> {
        self.0
            .execute(
                "INSERT INTO row_doc(entity, id, scope_id, request_id, doc) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(entity, id) DO UPDATE SET doc = excluded.doc",
                params![
                    entity.as_str(),
                    id,
                    scope,
                    request_id.to_string(),
                    value.to_string()
                ],
            )
            .map_err(err)?;
        Ok(())
    }

    fn gw_get(&mut self, kind: &str, name: &str) -> Result<Option<Value>, ServerError> {
        let text: Option<String> = self
            .0
            .query_row(
                "SELECT doc FROM gateway_state WHERE kind = ?1 AND name = ?2",
                [kind, name],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        text.map(|t| parse(kind, &t)).transpose()
    }

    fn gw_put(&mut self, kind: &str, name: &str, doc: &Value) -> Result<(), ServerError> {
        self.0
            .execute(
                "INSERT INTO gateway_state(kind, name, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT(kind, name) DO UPDATE SET doc = excluded.doc",
                params![kind, name, doc.to_string()],
            )
            .map_err(err)?;
        Ok(())
    }

    fn gw_del(&mut self, kind: &str, name: &str) -> Result<(), ServerError> {
        self.0
            .execute(
                "DELETE FROM gateway_state WHERE kind = ?1 AND name = ?2",
                [kind, name],
            )
            .map_err(err)?;
        Ok(())
    }

    fn gw_list(&mut self, kind: &str) -> Result<Vec<(String, Value)>, ServerError> {
        let mut st = self
            .0
            .prepare("SELECT name, doc FROM gateway_state WHERE kind = ?1 ORDER BY name")
            .map_err(err)?;
        let rows = st
            .query_map([kind], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        rows.into_iter()
            .map(|(n, d)| Ok((n, parse(kind, &d)?)))
            .collect()
    }

    fn new_epochs(&mut self) -> Result<usize, ServerError> {
        let scopes: Vec<String> = {
            let mut st = self
                .0
                .prepare("SELECT scope_id FROM sync_scope")
                .map_err(err)?;
            st.query_map([], |r| r.get(0))
                .map_err(err)?
                .collect::<Result<_, _>>()
                .map_err(err)?
        };
        for scope in &scopes {
            self.0
                .execute(
                    "UPDATE sync_scope SET epoch = ?2 WHERE scope_id = ?1",
                    params![scope, Uuid::now_v7().to_string()],
                )
                .map_err(err)?;
        }
        Ok(scopes.len())
    }

    fn scope_seqs(&mut self) -> Result<Vec<(String, i64)>, ServerError> {
        let mut st = self
            .0
            .prepare("SELECT scope_id, seq FROM sync_scope")
            .map_err(err)?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)
    }

    fn channel_requests(
        &mut self,
        scope: &str,
        channel: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<crate::domain::Request>, ServerError> {
        // julianday, not text order: chrono writes a varying number of fractional digits,
        // so "…:20Z" would sort after "…:20.5Z". `external_id IS NOT NULL` lets the partial
        // index on (channel, external_id) find the channel's rows (channels' requests all
        // carry one) instead of reading every request.
        let mut st = self
            .0
            .prepare_cached(
                "SELECT doc FROM request_doc WHERE scope_id = ?1 AND channel = ?2
                   AND external_id IS NOT NULL
                   AND julianday(json_extract(doc, '$.received_at')) >= julianday(?3)
                   AND julianday(json_extract(doc, '$.received_at')) < julianday(?4)
                 ORDER BY julianday(json_extract(doc, '$.received_at')) DESC LIMIT ?5",
            )
            .map_err(err)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = st
            .query_map(
                params![scope, channel, from.to_rfc3339(), to.to_rfc3339(), limit],
                |r| r.get::<_, String>(0),
            )
            .map_err(err)?;
        let mut out = vec![];
        for row in rows {
            out.push(parse("request", &row.map_err(err)?)?);
        }
        Ok(out)
    }

    fn request_by_number(
        &mut self,
        scope: &str,
        number: &str,
    ) -> Result<Option<crate::domain::Request>, ServerError> {
        let doc: Option<String> = self
            .0
            .query_row(
                "SELECT doc FROM request_doc WHERE scope_id = ?1 AND number = ?2",
                [scope, number],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        doc.map(|d| parse("request", &d)).transpose()
    }

    fn rows_of(&mut self, entity: Entity, request_id: Uuid) -> Result<Vec<Value>, ServerError> {
        let mut st = self
            .0
            .prepare_cached("SELECT doc FROM row_doc WHERE entity = ?1 AND request_id = ?2")
            .map_err(err)?;
        let rows = st
            .query_map(params![entity.as_str(), request_id.to_string()], |r| {
                r.get::<_, String>(0)
            })
            .map_err(err)?;
        let mut out = vec![];
        for row in rows {
            out.push(parse(entity.as_str(), &row.map_err(err)?)?);
        }
        Ok(out)
    }

    fn invariant_violations(&mut self) -> Result<Vec<String>, ServerError> {
        let query = |sql: &str| -> Result<Vec<Option<String>>, ServerError> {
            let mut st = self.0.prepare(sql).map_err(err)?;
            let rows = st.query_map([], |r| r.get(0)).map_err(err)?;
            rows.collect::<Result<_, _>>().map_err(err)
        };
        let mut out = super::invariants::run(query)?;
        for line in query("PRAGMA integrity_check")? {
            if line.as_deref() != Some("ok") {
                out.push(format!("integrity_check: {}", line.unwrap_or_default()));
            }
        }
        Ok(out)
    }
}
