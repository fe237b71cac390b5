-- Change-log compaction (docs/sync-protocol.md §5): a change superseded by a later one of the
-- same row goes, so the log stays as long as the store has rows, not as long as it has had
-- changes. `compacted_to` is the head when compaction last ran: below it each row is logged
-- once; above it the log is every seq.
ALTER TABLE sync_scope ADD COLUMN compacted_to INTEGER NOT NULL DEFAULT 0;
CREATE INDEX change_log_row ON change_log(scope_id, entity, entity_id, seq);
