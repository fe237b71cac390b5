//! Removing one request and everything filed under it from a console's file: a document set
//! aside as unreadable (`quarantine`), or a request the server withdrew from this console
//! (a department's request that went elsewhere, `mirror`). One list, so a new table filed
//! under requests is forgotten everywhere at once.

use rusqlite::Connection;

use super::StoreError;

/// Deletes the request `rid` and its rows. A sent part's outbox record stays (unlinked):
/// should the reply come back, it is not sent twice.
pub(super) fn request(tx: &Connection, rid: i64) -> Result<(), StoreError> {
    tx.execute_batch(&format!(
        "DELETE FROM request_fts WHERE rowid = {rid};
         DELETE FROM request_tag WHERE request_rid = {rid};
         DELETE FROM channel_message WHERE request_rid = {rid};
         DELETE FROM file_job WHERE request_rid = {rid};
         DELETE FROM triage_suggestion WHERE request_rid = {rid};
         UPDATE outbox SET request_rid = NULL WHERE request_rid = {rid};
         UPDATE inbound_event SET request_rid = NULL WHERE request_rid = {rid};
         DELETE FROM message WHERE request_rid = {rid};
         DELETE FROM note WHERE request_rid = {rid};
         DELETE FROM event WHERE request_rid = {rid};
         DELETE FROM request WHERE rid = {rid};"
    ))?;
    Ok(())
}
