-- Change-log compaction (see schema_sqlite_4.sql).
ALTER TABLE sync_scope ADD COLUMN compacted_to BIGINT NOT NULL DEFAULT 0;
CREATE INDEX change_log_row ON change_log(scope_id, entity, entity_id, seq);
