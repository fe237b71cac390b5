//! The server's store in PostgreSQL (a region: many cities, several server replicas). The
//! rules are the engine's; here is only SQL. The engine is synchronous, so each statement is
//! driven with `Handle::block_on` from the blocking thread the caller runs it on
//! (`spawn_blocking` in the HTTP server, the test's own thread in tests).

mod accounts;
mod store;

use chrono::{DateTime, Utc};
use deadpool_postgres::Transaction;
use serde_json::Value;
use tokio::runtime::Handle;
use uuid::Uuid;

use super::engine::{ClientRow, ServerError, ServerTx};
use crate::wire::sync::{Doc, Entity, MutationResult, RequestDoc};
pub use store::{PgStore, STORE_VERSION};

fn err(e: impl std::fmt::Display) -> ServerError {
    ServerError::Storage(e.to_string())
}

/// tokio-postgres says only "db error"; the server's own words are in the source.
fn pg(e: tokio_postgres::Error) -> ServerError {
    match e.as_db_error() {
        // Class 22, data exceptions (a NUL in JSON, an invalid byte sequence): no retry helps.
        Some(d) if d.code().code().starts_with("22") => {
            ServerError::Unstorable(format!("{} ({})", d.message(), d.code().code()))
        }
        Some(d) => ServerError::Storage(format!("{} ({})", d.message(), d.code().code())),
        None => ServerError::Storage(e.to_string()),
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> ServerError {
    ServerError::Corrupt(format!("{what}: {e}"))
}

struct Tx<'a> {
    tx: Transaction<'a>,
    rt: Handle,
}

impl Tx<'_> {
    fn opt(
        &mut self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<tokio_postgres::Row>, ServerError> {
        self.rt.block_on(self.tx.query_opt(sql, params)).map_err(pg)
    }

    fn one(
        &mut self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<tokio_postgres::Row, ServerError> {
        self.rt.block_on(self.tx.query_one(sql, params)).map_err(pg)
    }

    fn exec(
        &mut self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, ServerError> {
        self.rt.block_on(self.tx.execute(sql, params)).map_err(pg)
    }
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

impl ServerTx for Tx<'_> {
    fn scope(&mut self, scope: &str) -> Result<(i64, Uuid), ServerError> {
        let select = "SELECT seq, epoch FROM sync_scope WHERE scope_id = $1";
        // Read first, insert only the first time: every push updates this row, and in a
        // pull's REPEATABLE READ snapshot an insert that meets a newer version of it fails
        // with a serialization error (40001).
        let row = match self.opt(select, &[&scope])? {
            Some(row) => row,
            None => {
                self.exec(
                    "INSERT INTO sync_scope(scope_id, seq, epoch) VALUES ($1, 0, $2) ON CONFLICT DO NOTHING",
                    &[&scope, &Uuid::now_v7().to_string()],
                )?;
                self.one(select, &[&scope])?
            }
        };
        let epoch: String = row.get(1);
        Ok((row.get(0), epoch.parse().map_err(|e| corrupt("epoch", e))?))
    }

    fn lock_client(&mut self, id: Uuid) -> Result<Option<ClientRow>, ServerError> {
        // FOR UPDATE serializes pushes from one client (a retry racing its original).
        let row = self.opt(
            "SELECT scope_id, user_name, last_mutation_id FROM client WHERE client_id = $1 FOR UPDATE",
            &[&id.to_string()],
        )?;
        Ok(row.map(|r| ClientRow {
            client_id: id,
            scope_id: r.get(0),
            user: r.get(1),
            last_mutation_id: r.get(2),
        }))
    }

    fn read_client(&mut self, id: Uuid) -> Result<Option<ClientRow>, ServerError> {
        let row = self.opt(
            "SELECT scope_id, user_name, last_mutation_id FROM client WHERE client_id = $1",
            &[&id.to_string()],
        )?;
        Ok(row.map(|r| ClientRow {
            client_id: id,
            scope_id: r.get(0),
            user: r.get(1),
            last_mutation_id: r.get(2),
        }))
    }

    fn save_client(&mut self, c: &ClientRow, now: DateTime<Utc>) -> Result<(), ServerError> {
        // Never backwards: a new client's registration racing its own first push (two
        // connections) must not undo what that push recorded.
        self.exec(
            "INSERT INTO client(client_id, scope_id, user_name, last_mutation_id, last_seen)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT(client_id) DO UPDATE SET last_mutation_id = GREATEST(client.last_mutation_id, excluded.last_mutation_id),
               last_seen = excluded.last_seen",
            &[
                &c.client_id.to_string(),
                &c.scope_id,
                &c.user,
                &c.last_mutation_id,
                &ms(now),
            ],
        )?;
        Ok(())
    }

    fn processed(&mut self, uuid: Uuid) -> Result<Option<MutationResult>, ServerError> {
        let row = self.opt(
            "SELECT result FROM processed_mutation WHERE mutation_uuid = $1",
            &[&uuid.to_string()],
        )?;
        row.map(|r| {
            serde_json::from_value(r.get::<_, Value>(0))
                .map_err(|e| corrupt("processed mutation", e))
        })
        .transpose()
    }

    fn record_processed(
        &mut self,
        client: Uuid,
        r: &MutationResult,
        now: DateTime<Utc>,
    ) -> Result<(), ServerError> {
        let v = serde_json::to_value(r).map_err(err)?;
        self.exec(
            "INSERT INTO processed_mutation(mutation_uuid, client_id, mutation_id, result, at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &r.uuid.to_string(),
                &client.to_string(),
                &r.id,
                &v,
                &ms(now),
            ],
        )?;
        Ok(())
    }

    fn load_request(&mut self, id: Uuid) -> Result<Option<RequestDoc>, ServerError> {
        // Locked until commit: two consoles changing one request apply one after the other.
        let row = self.opt(
            "SELECT doc, version, department_seq, assignee_seq FROM request_doc WHERE id = $1 FOR UPDATE",
            &[&id.to_string()],
        )?;
        row.map(|r| {
            Ok(RequestDoc {
                request: serde_json::from_value(r.get::<_, Value>(0))
                    .map_err(|e| corrupt("request", e))?,
                version: r.get(1),
                department_seq: r.get(2),
                assignee_seq: r.get(3),
            })
        })
        .transpose()
    }

    fn find_external(
        &mut self,
        channel: &str,
        external_id: &str,
    ) -> Result<Option<String>, ServerError> {
        Ok(self
            .opt(
                "SELECT number FROM request_doc WHERE channel = $1 AND external_id = $2",
                &[&channel, &external_id],
            )?
            .map(|r| r.get(0)))
    }

    fn next_number(&mut self, scope: &str, year: i32) -> Result<i64, ServerError> {
        Ok(self
            .one(
                "INSERT INTO number_seq(scope_id, year, last) VALUES ($1, $2, 1)
                 ON CONFLICT(scope_id, year) DO UPDATE SET last = number_seq.last + 1 RETURNING last",
                &[&scope, &year],
            )?
            .get(0))
    }

    fn bump_seq(&mut self, scope: &str, n: i64) -> Result<i64, ServerError> {
        Ok(self
            .one(
                "UPDATE sync_scope SET seq = seq + $2 WHERE scope_id = $1 RETURNING seq",
                &[&scope, &n],
            )?
            .get(0))
    }

    fn save_request(&mut self, scope: &str, doc: &RequestDoc) -> Result<(), ServerError> {
        let r = &doc.request;
        let v = serde_json::to_value(r).map_err(err)?;
        self.exec(
            "INSERT INTO request_doc(id, scope_id, number, channel, external_id, doc, version,
               department_seq, assignee_seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, version = excluded.version,
               department_seq = excluded.department_seq, assignee_seq = excluded.assignee_seq",
            &[
                &r.id.to_string(),
                &scope,
                &r.number.to_string(),
                &r.channel.as_str(),
                &r.external_id,
                &v,
                &doc.version,
                &doc.department_seq,
                &doc.assignee_seq,
            ],
        )?;
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
        self.exec(
            "INSERT INTO row_doc(entity, id, scope_id, request_id, doc) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
            &[
                &entity.as_str(),
                &id,
                &scope,
                &request_id.to_string(),
                value,
            ],
        )?;
        Ok(())
    }

    fn log_change(
        &mut self,
        scope: &str,
        seq: i64,
        entity: Entity,
        id: &str,
    ) -> Result<(), ServerError> {
        self.exec(
            "INSERT INTO change_log(scope_id, seq, entity, entity_id) VALUES ($1, $2, $3, $4)",
            &[&scope, &seq, &entity.as_str(), &id],
        )?;
        Ok(())
    }

    fn last_mutation_id(&mut self, client: Uuid) -> Result<i64, ServerError> {
        Ok(self
            .opt(
                "SELECT last_mutation_id FROM client WHERE client_id = $1",
                &[&client.to_string()],
            )?
            .map_or(0, |r| r.get(0)))
    }

    fn changes_since(
        &mut self,
        scope: &str,
        seq: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Entity, String)>, ServerError> {
        let rows = self
            .rt
            .block_on(self.tx.query(
                "SELECT seq, entity, entity_id FROM change_log WHERE scope_id = $1 AND seq > $2
                 ORDER BY seq LIMIT $3",
                &[&scope, &seq, &(limit as i64)],
            ))
            .map_err(err)?;
        rows.into_iter()
            .map(|r| {
                let entity: String = r.get(1);
                let e =
                    Entity::parse(&entity).ok_or_else(|| corrupt("change_log entity", &entity))?;
                Ok((r.get(0), e, r.get(2)))
            })
            .collect()
    }

    fn docs(&mut self, entity: Entity, ids: &[String]) -> Result<Vec<(String, Doc)>, ServerError> {
        // As text: the documents are passed on, not looked into.
        if entity == Entity::Request {
            let rows = self
                .rt
                .block_on(self.tx.query(
                    "SELECT id, doc::text, version FROM request_doc WHERE id = ANY($1)",
                    &[&ids],
                ))
                .map_err(pg)?;
            rows.into_iter()
                .map(|r| Ok((r.get(0), super::engine::request_doc(r.get(1), r.get(2))?)))
                .collect()
        } else {
            let rows = self
                .rt
                .block_on(self.tx.query(
                    "SELECT id, doc::text FROM row_doc WHERE entity = $1 AND id = ANY($2)",
                    &[&entity.as_str(), &ids],
                ))
                .map_err(pg)?;
            rows.into_iter()
                .map(|r| {
                    let doc = Doc::from_text(r.get(1)).map_err(|e| corrupt(entity.as_str(), e))?;
                    Ok((r.get(0), doc))
                })
                .collect()
        }
    }

    fn compact_log(&mut self, scope: &str) -> Result<usize, ServerError> {
        // The scope's row first: a push logging into it meanwhile waits, so the horizon is
        // the head of what was compacted.
        self.exec(
            "SELECT seq FROM sync_scope WHERE scope_id = $1 FOR UPDATE",
            &[&scope],
        )?;
        let gone = self.exec(
            "DELETE FROM change_log c WHERE c.scope_id = $1 AND EXISTS (
               SELECT 1 FROM change_log n WHERE n.scope_id = c.scope_id
                 AND n.entity = c.entity AND n.entity_id = c.entity_id AND n.seq > c.seq)",
            &[&scope],
        )?;
        self.exec(
            "UPDATE sync_scope SET compacted_to = seq WHERE scope_id = $1",
            &[&scope],
        )?;
        Ok(gone as usize)
    }

    fn compacted_to(&mut self, scope: &str) -> Result<i64, ServerError> {
        Ok(self
            .opt(
                "SELECT compacted_to FROM sync_scope WHERE scope_id = $1",
                &[&scope],
            )?
            .map(|r| r.get(0))
            .unwrap_or_default())
    }

    fn request_texts(&mut self, scope: &str) -> Result<Vec<(String, String)>, ServerError> {
        let rows = self
            .rt
            .block_on(self.tx.query(
                "SELECT id, doc::text FROM request_doc WHERE scope_id = $1",
                &[&scope],
            ))
            .map_err(pg)?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn drop_request(&mut self, scope: &str, id: &str) -> Result<(), ServerError> {
        self.exec(
            "DELETE FROM change_log WHERE scope_id = $1 AND ((entity = 'request' AND entity_id = $2)
               OR entity_id IN (SELECT id FROM row_doc WHERE request_id = $2))",
            &[&scope, &id],
        )?;
        self.exec("DELETE FROM row_doc WHERE request_id = $1", &[&id])?;
        self.exec("DELETE FROM request_doc WHERE id = $1", &[&id])?;
        Ok(())
    }

    fn parents(&mut self, entity: Entity, ids: &[String]) -> Result<Vec<String>, ServerError> {
        let rows = self
            .rt
            .block_on(self.tx.query(
                "SELECT DISTINCT request_id FROM row_doc WHERE entity = $1 AND id = ANY($2)",
                &[&entity.as_str(), &ids],
            ))
            .map_err(pg)?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    fn replace_row(
        &mut self,
        scope: &str,
        entity: Entity,
        id: &str,
        request_id: Uuid,
        value: &Value,
    ) -> Result<(), ServerError> {
        self.exec(
            "INSERT INTO row_doc(entity, id, scope_id, request_id, doc) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT(entity, id) DO UPDATE SET doc = excluded.doc",
            &[
                &entity.as_str(),
                &id,
                &scope,
                &request_id.to_string(),
                value,
            ],
        )?;
        Ok(())
    }

    fn gw_get(&mut self, kind: &str, name: &str) -> Result<Option<Value>, ServerError> {
        // Locked: two gateways racing for one lease or one part take turns.
        let row = self.opt(
            "SELECT doc FROM gateway_state WHERE kind = $1 AND name = $2 FOR UPDATE",
            &[&kind, &name],
        )?;
        Ok(row.map(|r| r.get(0)))
    }

    fn gw_put(&mut self, kind: &str, name: &str, doc: &Value) -> Result<(), ServerError> {
        self.exec(
            "INSERT INTO gateway_state(kind, name, doc) VALUES ($1, $2, $3)
             ON CONFLICT(kind, name) DO UPDATE SET doc = excluded.doc",
            &[&kind, &name, doc],
        )?;
        Ok(())
    }

    fn gw_del(&mut self, kind: &str, name: &str) -> Result<(), ServerError> {
        self.exec(
            "DELETE FROM gateway_state WHERE kind = $1 AND name = $2",
            &[&kind, &name],
        )?;
        Ok(())
    }

    fn gw_list(&mut self, kind: &str) -> Result<Vec<(String, Value)>, ServerError> {
        let rows = self
            .rt
            .block_on(self.tx.query(
                "SELECT name, doc FROM gateway_state WHERE kind = $1 ORDER BY name",
                &[&kind],
            ))
            .map_err(pg)?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn new_epochs(&mut self) -> Result<usize, ServerError> {
        let rows = self
            .rt
            .block_on(self.tx.query("SELECT scope_id FROM sync_scope", &[]))
            .map_err(pg)?;
        for row in &rows {
            let scope: String = row.get(0);
            self.exec(
                "UPDATE sync_scope SET epoch = $2 WHERE scope_id = $1",
                &[&scope, &Uuid::now_v7().to_string()],
            )?;
        }
        Ok(rows.len())
    }

    fn scope_seqs(&mut self) -> Result<Vec<(String, i64)>, ServerError> {
        let rows = self
            .rt
            .block_on(self.tx.query("SELECT scope_id, seq FROM sync_scope", &[]))
            .map_err(pg)?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn channel_requests(
        &mut self,
        scope: &str,
        channel: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<crate::domain::Request>, ServerError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .rt
            .block_on(self.tx.query(
                // `external_id IS NOT NULL`: the partial index on (channel, external_id)
                // then finds the channel's rows (sqlite.rs says more).
                "SELECT doc FROM request_doc WHERE scope_id = $1 AND channel = $2
                   AND external_id IS NOT NULL
                   AND (doc->>'received_at')::timestamptz >= $3
                   AND (doc->>'received_at')::timestamptz < $4
                 ORDER BY (doc->>'received_at')::timestamptz DESC LIMIT $5",
                &[&scope, &channel, &from, &to, &limit],
            ))
            .map_err(pg)?;
        rows.into_iter()
            .map(|r| {
                serde_json::from_value(r.get::<_, Value>(0)).map_err(|e| corrupt("request", e))
            })
            .collect()
    }

    fn request_by_number(
        &mut self,
        scope: &str,
        number: &str,
    ) -> Result<Option<crate::domain::Request>, ServerError> {
        let row = self.opt(
            "SELECT doc FROM request_doc WHERE scope_id = $1 AND number = $2",
            &[&scope, &number],
        )?;
        row.map(|r| serde_json::from_value(r.get::<_, Value>(0)).map_err(|e| corrupt("request", e)))
            .transpose()
    }

    fn rows_of(&mut self, entity: Entity, request_id: Uuid) -> Result<Vec<Value>, ServerError> {
        let rows = self
            .rt
            .block_on(self.tx.query(
                "SELECT doc FROM row_doc WHERE entity = $1 AND request_id = $2",
                &[&entity.as_str(), &request_id.to_string()],
            ))
            .map_err(pg)?;
        Ok(rows.into_iter().map(|r| r.get::<_, Value>(0)).collect())
    }

    fn invariant_violations(&mut self) -> Result<Vec<String>, ServerError> {
        // PostgreSQL checks its own pages; what can break here is ours, in the tables.
        let (rt, tx) = (&self.rt, &self.tx);
        super::invariants::run(|sql| {
            let rows = rt.block_on(tx.query(sql, &[])).map_err(pg)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }
}
