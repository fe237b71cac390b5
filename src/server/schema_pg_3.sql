-- Accounts reach only their scopes (cities), can be disabled, and say when they were last seen
-- (`mcu user`; see schema_sqlite_3.sql). Accounts made before keep every scope that exists.
ALTER TABLE account ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE account ADD COLUMN last_seen BIGINT;
CREATE TABLE account_scope(
  name TEXT NOT NULL,
  scope_id TEXT NOT NULL,
  PRIMARY KEY(name, scope_id)
);
INSERT INTO account_scope(name, scope_id) SELECT a.name, s.scope_id FROM account a, sync_scope s;
