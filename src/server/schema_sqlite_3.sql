-- Accounts reach only their scopes (cities), can be disabled, and say when they were last seen
-- (`mcu user`). Accounts made before keep every scope that exists, so an upgrade locks nobody
-- out; an admin reaches every scope whatever is listed.
ALTER TABLE account ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE account ADD COLUMN last_seen INTEGER;
CREATE TABLE account_scope(
  name TEXT NOT NULL,
  scope_id TEXT NOT NULL,
  PRIMARY KEY(name, scope_id)
) WITHOUT ROWID;
INSERT INTO account_scope(name, scope_id) SELECT a.name, s.scope_id FROM account a, sync_scope s;
