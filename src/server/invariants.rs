//! What must hold in the server's tables whatever consoles did (docs/sync-protocol.md, I5: "the
//! invariant queries return 0 rows"). Each query selects one line of text per offending row;
//! the SQL is written once for both backends (plain joins, `||`, `CAST … AS TEXT`).

/// (what the rows break, query).
pub const QUERIES: &[(&str, &str)] = &[
    (
        // Every transaction takes its seqs from the scope's counter and logs one row per seq,
        // so above the compaction horizon the log is exactly horizon+1..seq: a hole means a
        // lost change, a surplus a double one.
        "change_log is not exactly compacted_to+1..seq of its scope",
        "SELECT s.scope_id || ': seq ' || CAST(s.seq AS TEXT) || ' (compacted to '
            || CAST(s.compacted_to AS TEXT) || '), log has ' || CAST(count(c.seq) AS TEXT)
            || ' rows above it from ' || CAST(COALESCE(min(c.seq), 0) AS TEXT)
            || ' to ' || CAST(COALESCE(max(c.seq), 0) AS TEXT)
         FROM sync_scope s LEFT JOIN change_log c
           ON c.scope_id = s.scope_id AND c.seq > s.compacted_to
         GROUP BY s.scope_id, s.seq, s.compacted_to
         HAVING count(c.seq) <> s.seq - s.compacted_to
            OR (s.seq > s.compacted_to
                AND (COALESCE(max(c.seq), 0) <> s.seq OR COALESCE(min(c.seq), 0) <> s.compacted_to + 1))",
    ),
    (
        // Compaction keeps each row's latest change only, and never one past the head.
        "change_log at or below the compaction horizon logs a row twice, or past the head",
        "SELECT c.scope_id || ': ' || c.entity || ' ' || c.entity_id || ' logged '
            || CAST(count(*) AS TEXT) || ' times at or below ' || CAST(s.compacted_to AS TEXT)
         FROM change_log c JOIN sync_scope s ON s.scope_id = c.scope_id
         WHERE c.seq <= s.compacted_to
         GROUP BY c.scope_id, c.entity, c.entity_id, s.compacted_to, s.seq
         HAVING count(*) > 1 OR max(c.seq) > s.seq",
    ),
    (
        // A mutation is recorded in the transaction that advances its client past it.
        "processed mutation beyond its client's last_mutation_id, or of no client",
        "SELECT p.mutation_uuid || ' (client ' || p.client_id || ', id '
            || CAST(p.mutation_id AS TEXT) || ', client at '
            || COALESCE(CAST(c.last_mutation_id AS TEXT), 'none') || ')'
         FROM processed_mutation p LEFT JOIN client c ON c.client_id = p.client_id
         WHERE c.client_id IS NULL OR p.mutation_id > c.last_mutation_id OR p.mutation_id < 1",
    ),
    (
        // One client id number is one action; two would mean a restored file was believed.
        "two processed mutations under one client's id number",
        "SELECT client_id || ' id ' || CAST(mutation_id AS TEXT) || ': '
            || CAST(count(*) AS TEXT) || ' mutations'
         FROM processed_mutation GROUP BY client_id, mutation_id HAVING count(*) > 1",
    ),
    (
        // A client's base_seq is compared with these: a version that is not the seq of the
        // request's last logged change makes compare-and-set decide on a wrong history.
        "request version is not the seq of its last logged change",
        "SELECT r.id || ': version ' || CAST(r.version AS TEXT) || ', department_seq '
            || CAST(r.department_seq AS TEXT) || ', assignee_seq ' || CAST(r.assignee_seq AS TEXT)
            || ', last logged ' || COALESCE(CAST(l.last AS TEXT), 'never')
         FROM request_doc r LEFT JOIN (
            SELECT scope_id, entity_id, max(seq) AS last FROM change_log
            WHERE entity = 'request' GROUP BY scope_id, entity_id
         ) l ON l.scope_id = r.scope_id AND l.entity_id = r.id
         WHERE l.last IS NULL OR r.version <> l.last OR r.department_seq > r.version
            OR r.assignee_seq > r.version",
    ),
    (
        // A pull of a logged change that points nowhere would send consoles a delete.
        "change logged for a row that does not exist",
        "SELECT c.scope_id || ' seq ' || CAST(c.seq AS TEXT) || ': ' || c.entity || ' ' || c.entity_id
         FROM change_log c
         WHERE (c.entity = 'request'
                AND NOT EXISTS (SELECT 1 FROM request_doc r WHERE r.id = c.entity_id))
            OR (c.entity <> 'request'
                AND NOT EXISTS (SELECT 1 FROM row_doc d WHERE d.entity = c.entity AND d.id = c.entity_id))",
    ),
    (
        // Notes and audit events are append-only: logged once, when written (I2). A message is
        // logged again when the gateway moves its delivery state.
        "note or event logged more than once",
        "SELECT entity || ' ' || entity_id || ' logged ' || CAST(count(*) AS TEXT) || ' times'
         FROM change_log WHERE entity IN ('note', 'event')
         GROUP BY scope_id, entity, entity_id HAVING count(*) > 1",
    ),
    (
        "message, note or event of a request that does not exist",
        "SELECT d.entity || ' ' || d.id || ' of request ' || d.request_id FROM row_doc d
         WHERE NOT EXISTS (SELECT 1 FROM request_doc r WHERE r.id = d.request_id)",
    ),
];

/// The lines of every query that returned rows, each prefixed with what it breaks.
pub fn run(
    mut query: impl FnMut(&str) -> Result<Vec<Option<String>>, super::engine::ServerError>,
) -> Result<Vec<String>, super::engine::ServerError> {
    let mut out = vec![];
    for (what, sql) in QUERIES {
        for row in query(sql)? {
            out.push(format!("{what}: {}", row.as_deref().unwrap_or("(null)")));
        }
    }
    Ok(out)
}
