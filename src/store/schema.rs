//! Schema versions, in code. Times are INTEGER milliseconds since the epoch (UTC), so clock
//! predicates and keyset pages are plain integer comparisons on indexes.

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use super::StoreError;

const MIGRATIONS: &[M<'static>] = &[
    M::up(
        r#"
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE request(
    rid           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    number        TEXT NOT NULL UNIQUE,
    channel       TEXT NOT NULL,
    external_id   TEXT,
    chat_ref      TEXT,
    message_ref   TEXT,
    citizen       TEXT,
    text          TEXT NOT NULL,
    attachments   TEXT,
    lat           REAL,
    lon           REAL,
    address       TEXT,
    received_at   INTEGER NOT NULL,
    status        TEXT NOT NULL,
    topic         TEXT,
    department    TEXT,
    assignee      TEXT,
    priority      TEXT NOT NULL,
    parent_id     TEXT,
    close_reason  TEXT,
    closed_at     INTEGER,
    fr_started    INTEGER NOT NULL,
    fr_target     INTEGER NOT NULL,
    fr_due        INTEGER NOT NULL,
    fr_risk       INTEGER NOT NULL,
    fr_stopped    INTEGER,
    dep_started   INTEGER,
    dep_target    INTEGER,
    dep_due       INTEGER,
    dep_risk      INTEGER,
    dep_stopped   INTEGER,
    res_started   INTEGER NOT NULL,
    res_target    INTEGER NOT NULL,
    res_due       INTEGER NOT NULL,
    res_risk      INTEGER NOT NULL,
    res_stopped   INTEGER,
    -- The active clock's due and at-risk instants; NULL-free so keyset pages stay simple:
    -- a closed request sorts last with the largest integer.
    due_key       INTEGER NOT NULL,
    risk_key      INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX request_external ON request(channel, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX request_due ON request(due_key, rid);
CREATE INDEX request_received ON request(received_at, rid);
CREATE INDEX request_status_due ON request(status, due_key, rid);
CREATE INDEX request_assignee_due ON request(assignee, due_key, rid);
CREATE INDEX request_topic_due ON request(topic, due_key, rid);
CREATE INDEX request_department_due ON request(department, due_key, rid);

CREATE TABLE request_tag(
    request_rid INTEGER NOT NULL REFERENCES request(rid),
    tag         TEXT NOT NULL,
    PRIMARY KEY(request_rid, tag)
) WITHOUT ROWID;
CREATE INDEX request_tag_tag ON request_tag(tag, request_rid);

CREATE TABLE message(
    id          TEXT PRIMARY KEY,
    request_rid INTEGER NOT NULL REFERENCES request(rid),
    direction   TEXT NOT NULL,
    author      TEXT NOT NULL,
    body        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    delivery    TEXT
);
CREATE INDEX message_request ON message(request_rid, at);

CREATE TABLE note(
    id          TEXT PRIMARY KEY,
    request_rid INTEGER NOT NULL REFERENCES request(rid),
    kind        TEXT NOT NULL,
    author      TEXT NOT NULL,
    body        TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX note_request ON note(request_rid, at);

CREATE TABLE event(
    seq         INTEGER PRIMARY KEY,
    request_rid INTEGER NOT NULL REFERENCES request(rid),
    mutation_id TEXT NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    field       TEXT NOT NULL,
    old         TEXT,
    new         TEXT
);
CREATE INDEX event_request ON event(request_rid, seq);

-- Every mutation applied here, by its idempotency key: a repeat is recognised and skipped.
-- `acked_at` stays NULL until a sync server has it (team mode).
CREATE TABLE pending_mutation(
    mutation_id   INTEGER PRIMARY KEY,
    mutation_uuid TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    args          TEXT NOT NULL,
    client_time   TEXT NOT NULL,
    acked_at      TEXT
);

-- Stems of the request text, address, citizen, messages and notes; rowid = request.rid.
CREATE VIRTUAL TABLE request_fts USING fts5(
    words,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
"#,
    ),
    M::up(
        r#"
CREATE INDEX request_chat ON request(channel, chat_ref, rid);

-- An edited citizen message is a new row pointing at the one it revises.
ALTER TABLE message ADD COLUMN edit_of TEXT;

-- Every update a channel delivered, by the channel's id: a repeat is recognised and skipped.
CREATE TABLE inbound_event(
    channel     TEXT NOT NULL,
    account     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    outcome     TEXT NOT NULL,
    request_rid INTEGER REFERENCES request(rid),
    payload     TEXT NOT NULL,
    PRIMARY KEY(channel, account, external_id)
) WITHOUT ROWID;

-- Where each channel account's poller continues; written in the transaction that stores the
-- events it covers.
CREATE TABLE channel_cursor(
    channel    TEXT NOT NULL,
    account    TEXT NOT NULL,
    cursor     TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY(channel, account)
) WITHOUT ROWID;

-- Channel messages (the citizen's and ours) mapped to our messages and requests: edits,
-- replies to our acknowledgement and albums find their request here.
CREATE TABLE channel_message(
    channel     TEXT NOT NULL,
    chat        TEXT NOT NULL,
    external_id TEXT NOT NULL,
    message_id  TEXT,
    request_rid INTEGER NOT NULL REFERENCES request(rid),
    PRIMARY KEY(channel, chat, external_id)
) WITHOUT ROWID;

-- Replies waiting for, or done with, the gateway: one row per part the channel accepts.
CREATE TABLE outbox(
    id              INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL,
    part_no         INTEGER NOT NULL,
    parts           INTEGER NOT NULL,
    request_rid     INTEGER REFERENCES request(rid),
    channel         TEXT NOT NULL,
    chat            TEXT NOT NULL,
    reply_to        TEXT,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    holder_epoch    INTEGER,
    external_id     TEXT,
    error           TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE(message_id, part_no)
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at, id);
CREATE INDEX outbox_chat ON outbox(channel, chat, id);

-- One gateway per channel account: the holder renews, the epoch fences a paused old holder.
CREATE TABLE lease(
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    epoch      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Files citizens sent that the gateway still has to fetch.
CREATE TABLE file_job(
    channel         TEXT NOT NULL,
    source          TEXT NOT NULL,
    request_rid     INTEGER NOT NULL REFERENCES request(rid),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    PRIMARY KEY(channel, source)
) WITHOUT ROWID;

-- Citizens a channel can no longer reach (they blocked the bot).
CREATE TABLE unreachable(
    channel TEXT NOT NULL,
    chat    TEXT NOT NULL,
    at      INTEGER NOT NULL,
    reason  TEXT NOT NULL,
    PRIMARY KEY(channel, chat)
) WITHOUT ROWID;

-- What operators must see: a second poller on the token (409), a revoked token, a stalled poller.
CREATE TABLE alarm(
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    source     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    text       TEXT NOT NULL,
    cleared_at INTEGER
);
"#,
    ),
    // The sender's claim walks pending parts in id order and stops at a page; without this it
    // scanned and sorted the whole backlog on every claim.
    M::up("CREATE INDEX outbox_pending ON outbox(channel, id) WHERE state = 'pending';"),
    // Team mode: the server's version of each request (what a change was based on), the
    // version seen when each journaled action was taken, and the server's refusals.
    M::up(
        r#"
ALTER TABLE request ADD COLUMN server_version INTEGER;
ALTER TABLE pending_mutation ADD COLUMN base_seq INTEGER;
CREATE TABLE sync_rejection(
    mutation_uuid TEXT PRIMARY KEY,
    request_id    TEXT NOT NULL,
    code          TEXT NOT NULL,
    message       TEXT NOT NULL,
    current       TEXT,
    at            INTEGER NOT NULL,
    seen          INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
"#,
    ),
    // The resolution clock is held while the department has the request.
    M::up("ALTER TABLE request ADD COLUMN res_paused INTEGER;"),
    // Team mode: the server's id of each audit line that came from it. The console's own lines
    // for an action stand in for the server's until those arrive (they may differ: the number
    // the server gave, what the request was when the server applied it) or the server refuses
    // it. Lines of actions already settled before this version are kept as they are.
    M::up(
        r#"
ALTER TABLE event ADD COLUMN server_id TEXT;
UPDATE event SET server_id = 'kept:' || seq WHERE mutation_id NOT IN
    (SELECT mutation_uuid FROM pending_mutation WHERE acked_at IS NULL);
CREATE UNIQUE INDEX event_server_id ON event(server_id);
"#,
    ),
    // The console's alerts look for requests whose at-risk instant fell in the last second.
    M::up("CREATE INDEX request_risk ON request(risk_key, rid);"),
    // Team mode: what a reset pull (a server restored to an earlier point) has brought so far,
    // so what the server no longer has can go when it is complete (store/reset.rs).
    M::up(
        "CREATE TABLE reset_seen(kind TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY(kind, id)) WITHOUT ROWID;",
    ),
    // A reply counts for the first-response clock when the channel has it: the latest reply
    // on its way or undelivered (`Request::reply`). The undelivered queue reads the index.
    M::up(
        r#"
ALTER TABLE request ADD COLUMN reply_id TEXT;
ALTER TABLE request ADD COLUMN reply_state TEXT;
ALTER TABLE request ADD COLUMN reply_at INTEGER;
CREATE INDEX request_undelivered ON request(reply_at, rid) WHERE reply_state IN ('failed', 'unknown');
"#,
    ),
    // Team mode: an action the server refuses comes off this file. The request as it was
    // before the action is kept with it (dropped once the server answered), for a refusal
    // that brings no current state of its own (a view-only account's); a refused reply's
    // text is kept for the operator as a draft.
    M::up(
        r#"
ALTER TABLE pending_mutation ADD COLUMN before TEXT;
ALTER TABLE sync_rejection ADD COLUMN draft TEXT;
"#,
    ),
    // Team mode: who made the value a refusal ran into, and when (milliseconds, the server's
    // clock), so the refusal list names the colleague to ask. Empty for refusals kept before
    // and for those from an older server.
    M::up(
        r#"
ALTER TABLE sync_rejection ADD COLUMN changed_by TEXT;
ALTER TABLE sync_rejection ADD COLUMN changed_at INTEGER;
"#,
    ),
    // Documents that don't read as their entity are set aside here, never a reason to stop a
    // pull or a list (`store::quarantine`, `mcu repair`).
    M::up(
        r#"
CREATE TABLE quarantine(
    kind   TEXT NOT NULL,
    id     TEXT NOT NULL,
    reason TEXT NOT NULL,
    doc    TEXT NOT NULL,
    at     INTEGER NOT NULL,
    PRIMARY KEY(kind, id)
) WITHOUT ROWID;
"#,
    ),
    // Triage (`store::triage`): the model this file suggests with (one row; its weights as a
    // blob), and each open untagged request's suggestion, kept as the request is written so
    // lists filter and show it without scoring anything.
    M::up(
        r#"
CREATE TABLE triage_model(
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    version    TEXT NOT NULL,
    method     TEXT NOT NULL,
    format     INTEGER NOT NULL,
    labels     INTEGER NOT NULL,
    trained_at INTEGER NOT NULL,
    train_ms   INTEGER NOT NULL,
    model      BLOB NOT NULL
);
CREATE TABLE triage_suggestion(
    request_rid INTEGER PRIMARY KEY,
    version     TEXT NOT NULL,
    topic       TEXT NOT NULL,
    probability REAL NOT NULL,
    department  TEXT,
    department_probability REAL NOT NULL,
    top         TEXT NOT NULL
);
CREATE INDEX triage_suggestion_topic ON triage_suggestion(topic);
"#,
    ),
    // Mass incidents (`Request::is_incident`, `incident_id`, `ungrouped`); members are found
    // by their incident, and the candidate search reads open requests by place and time.
    M::up(
        r#"
ALTER TABLE request ADD COLUMN is_incident INTEGER NOT NULL DEFAULT 0;
ALTER TABLE request ADD COLUMN incident_id TEXT;
ALTER TABLE request ADD COLUMN ungrouped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE request ADD COLUMN place_key TEXT;
ALTER TABLE request ADD COLUMN cell_x INTEGER;
ALTER TABLE request ADD COLUMN cell_y INTEGER;
CREATE INDEX request_incident ON request(incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX request_place ON request(place_key, received_at) WHERE place_key IS NOT NULL;
CREATE INDEX request_cell ON request(cell_x, cell_y, received_at) WHERE cell_x IS NOT NULL;
"#,
    ),
    // The citizen's phone (E.164), and their other requests found by it on the card.
    M::up(
        r#"
ALTER TABLE request ADD COLUMN phone TEXT;
CREATE INDEX request_phone ON request(phone, rid) WHERE phone IS NOT NULL;
"#,
    ),
    // A request's duplicates, listed on its card.
    M::up("CREATE INDEX request_parent ON request(parent_id, rid) WHERE parent_id IS NOT NULL;"),
    // A question to the citizen (`Request::waiting`): the gateway finds the reminders and
    // closes due on its channel from the few requests that wait, not from the queue.
    M::up(
        r#"
ALTER TABLE request ADD COLUMN waiting_since INTEGER;
ALTER TABLE request ADD COLUMN waiting_reminded INTEGER;
CREATE INDEX request_waiting ON request(channel, waiting_since) WHERE waiting_since IS NOT NULL;
"#,
    ),
    // The clocks whose breach the shift leads were told of (`Request::escalated`), one bit each
    // (warnings, `Request::warned`, later took the bits above: `rows::WARNED_SHIFT`).
    M::up("ALTER TABLE request ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0;"),
    // Saved views (`store::views`): each operator's own, and a copy of the team's shared ones
    // (`shared` = 1, `owner` empty) so they list at once and offline. One view per name
    // whatever its case (`key`); `since` orders them, so their numbers stay put.
    M::up(
        r#"
CREATE TABLE saved_view(
    shared INTEGER NOT NULL,
    owner  TEXT NOT NULL,
    key    TEXT NOT NULL,
    since  INTEGER NOT NULL,
    doc    TEXT NOT NULL,
    PRIMARY KEY(shared, owner, key)
) WITHOUT ROWID;
"#,
    ),
    // «Вопрос решён?» (`Request::feedback`): when asked, the answer (1 «да», 0 «нет») and when.
    // The gateway finds the requests to ask among those closed as resolved and never asked.
    // An outbox part may carry one-tap answers (`outbox.buttons`, JSON [[label, data], ...]).
    M::up(
        r#"
ALTER TABLE request ADD COLUMN feedback_asked INTEGER;
ALTER TABLE request ADD COLUMN feedback_helped INTEGER;
ALTER TABLE request ADD COLUMN feedback_at INTEGER;
CREATE INDEX request_feedback_due ON request(channel, closed_at)
    WHERE close_reason = 'resolved' AND feedback_asked IS NULL;
ALTER TABLE outbox ADD COLUMN buttons TEXT;
"#,
    ),
    // Files sent with a part (`outbox.files`, one per line): a photo with the text as its
    // caption in a department's Telegram group (a file_id or a URL), or a forward mail's
    // attachments (the gateway's own paths).
    M::up("ALTER TABLE outbox ADD COLUMN files TEXT;"),
];

pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

fn migrations() -> Migrations<'static> {
    Migrations::from_slice(MIGRATIONS)
}

/// Brings the file to our schema; refuses a file written by a newer program rather than
/// guessing at columns it does not know.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION as i64 {
        return Err(StoreError::TooNew {
            found,
            ours: SCHEMA_VERSION as i64,
        });
    }
    migrations()
        .to_latest(conn)
        .map_err(|e| StoreError::Migration(e.to_string()))?;
    // A file from before the place index: its open requests are placed once (closed ones
    // never group again).
    if found > 0 && (found as usize) < PLACES_FROM {
        super::places::backfill(conn)?;
    }
    Ok(())
}

/// The schema version that brought the place index (`request.place_key`, `cell_x`, `cell_y`).
const PLACES_FROM: usize = 14;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }

    #[test]
    fn the_place_index_comes_with_its_migration() {
        let mut c = Connection::open_in_memory().unwrap();
        migrations().to_version(&mut c, PLACES_FROM - 1).unwrap();
        let has = |c: &Connection| c.prepare("SELECT place_key FROM request").is_ok();
        assert!(!has(&c));
        migrations().to_version(&mut c, PLACES_FROM).unwrap();
        assert!(has(&c));
    }

    #[test]
    fn an_upgrade_keeps_the_audit_lines_of_settled_actions() {
        let mut c = Connection::open_in_memory().unwrap();
        // The version before `event.server_id` (sixteen more came after it).
        migrations()
            .to_version(&mut c, SCHEMA_VERSION - 16)
            .unwrap();
        c.execute_batch(
            "INSERT INTO request(rid, id, number, channel, text, received_at, status, priority,
               fr_started, fr_target, fr_due, fr_risk, res_started, res_target, res_due, res_risk,
               due_key, risk_key, updated_at)
             VALUES (1, 'r', '2026-000001', 'phone', 't', 0, 'new', 'normal', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
             INSERT INTO pending_mutation(mutation_uuid, name, args, client_time, acked_at)
               VALUES ('sent', 'tag', '{}', '', '1'), ('waiting', 'tag', '{}', '', NULL);
             INSERT INTO event(request_rid, mutation_id, at, actor, field, new) VALUES
               (1, 'sent', 0, 'a', 'tag', 'x'), (1, 'waiting', 0, 'a', 'tag', 'y'),
               (1, 'theirs', 0, 'b', 'tag', 'z');",
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let mut st = c
            .prepare("SELECT mutation_id, server_id IS NULL FROM event ORDER BY seq")
            .unwrap();
        let provisional: Vec<(String, bool)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // Only the line of the action still waiting stands in for the server's.
        assert_eq!(
            provisional,
            [
                ("sent".to_string(), false),
                ("waiting".to_string(), true),
                ("theirs".to_string(), false)
            ]
        );
    }

    #[test]
    fn newer_database_is_refused() {
        let mut c = Connection::open_in_memory().unwrap();
        migrate(&mut c).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        let e = migrate(&mut c).unwrap_err();
        assert!(matches!(e, StoreError::TooNew { found: 99, .. }), "{e}");
        assert!(e.to_string().contains("newer"), "{e}");
    }
}
