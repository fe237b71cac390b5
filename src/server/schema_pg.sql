-- The sync server's store in PostgreSQL; the same tables and rules as schema_sqlite.sql.
CREATE TABLE sync_scope(
  scope_id TEXT PRIMARY KEY,
  seq BIGINT NOT NULL,
  epoch TEXT NOT NULL
);

CREATE TABLE client(
  client_id TEXT PRIMARY KEY,
  scope_id TEXT NOT NULL,
  user_name TEXT NOT NULL,
  last_mutation_id BIGINT NOT NULL,
  last_seen BIGINT
);

CREATE TABLE processed_mutation(
  mutation_uuid TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  mutation_id BIGINT NOT NULL,
  result JSONB NOT NULL,
  at BIGINT NOT NULL
);

CREATE TABLE change_log(
  scope_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  entity TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  PRIMARY KEY(scope_id, seq)
);

CREATE TABLE request_doc(
  id TEXT PRIMARY KEY,
  scope_id TEXT NOT NULL,
  number TEXT NOT NULL,
  channel TEXT NOT NULL,
  external_id TEXT,
  doc JSONB NOT NULL,
  version BIGINT NOT NULL,
  department_seq BIGINT NOT NULL,
  assignee_seq BIGINT NOT NULL,
  UNIQUE(scope_id, number)
);
CREATE UNIQUE INDEX request_doc_external ON request_doc(channel, external_id)
  WHERE external_id IS NOT NULL;

CREATE TABLE row_doc(
  entity TEXT NOT NULL,
  id TEXT NOT NULL,
  scope_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  doc JSONB NOT NULL,
  PRIMARY KEY(entity, id)
);
CREATE INDEX row_doc_request ON row_doc(request_id);

CREATE TABLE number_seq(
  scope_id TEXT NOT NULL,
  year INTEGER NOT NULL,
  last BIGINT NOT NULL,
  PRIMARY KEY(scope_id, year)
);

CREATE TABLE account(
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL
);
