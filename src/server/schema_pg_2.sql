-- The channel gateways' state (docs/sync-protocol.md §7): leases with their fencing epoch, channel
-- cursors, and one row per outbound part that a gateway claimed (see schema_sqlite_2.sql).
CREATE TABLE gateway_state(
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  doc JSONB NOT NULL,
  PRIMARY KEY(kind, name)
);
