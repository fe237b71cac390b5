-- The channel gateways' state (docs/sync-protocol.md §7): leases with their fencing epoch, channel
-- cursors, and one row per outbound part that a gateway claimed. Kept as small JSON documents
-- under (kind, name): the rules live in `server/fence.rs`, once for both stores.
CREATE TABLE gateway_state(
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY(kind, name)
) WITHOUT ROWID;
