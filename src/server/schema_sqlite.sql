-- The sync server's store (docs/sync-protocol.md §3), SQLite flavour; schema_pg.sql is the same in
-- PostgreSQL. Requests are whole JSON documents: the domain's `apply` decides, the store keeps.
CREATE TABLE sync_scope(
  scope_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  -- Changes when history is restored or reset: an old cookie then means "start over".
  epoch TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE client(
  client_id TEXT PRIMARY KEY,
  scope_id TEXT NOT NULL,
  user_name TEXT NOT NULL,
  last_mutation_id INTEGER NOT NULL,
  last_seen INTEGER
) WITHOUT ROWID;

CREATE TABLE processed_mutation(
  mutation_uuid TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  mutation_id INTEGER NOT NULL,
  result TEXT NOT NULL,
  at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE change_log(
  scope_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  PRIMARY KEY(scope_id, seq)
) WITHOUT ROWID;

CREATE TABLE request_doc(
  id TEXT PRIMARY KEY,
  scope_id TEXT NOT NULL,
  number TEXT NOT NULL,
  channel TEXT NOT NULL,
  external_id TEXT,
  doc TEXT NOT NULL,
  version INTEGER NOT NULL,
  department_seq INTEGER NOT NULL,
  assignee_seq INTEGER NOT NULL,
  UNIQUE(scope_id, number)
);
CREATE UNIQUE INDEX request_doc_external ON request_doc(channel, external_id)
  WHERE external_id IS NOT NULL;

-- Messages, notes and audit events: append-only, one row per id.
CREATE TABLE row_doc(
  entity TEXT NOT NULL,
  id TEXT NOT NULL,
  scope_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY(entity, id)
) WITHOUT ROWID;
CREATE INDEX row_doc_request ON row_doc(request_id);

CREATE TABLE number_seq(
  scope_id TEXT NOT NULL,
  year INTEGER NOT NULL,
  last INTEGER NOT NULL,
  PRIMARY KEY(scope_id, year)
) WITHOUT ROWID;

-- Only a hash of each token is kept; the token is shown once, by `mcu user add`.
CREATE TABLE account(
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
