//! The file's own settings and counters (`meta`): one reader and one writer for every key,
//! and the keys themselves, so no caller spells a key or its SQL twice.

use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;
use super::rows::Cached;

/// Where the console is in the server's history (a `Cookie` as JSON).
pub const COOKIE: &str = "sync_cookie";
/// Set in the server gateway's working file: replies pulled from the server go to its outbox.
pub const SENDS: &str = "sends";
/// The id the sync server knows this file by; it belongs to the file, not the program.
pub const CLIENT_ID: &str = "sync_client_id";
/// Journal row number minus this is the id the server sees: after a restore the console
/// takes a new client id and numbers its unsent actions from 1 again.
pub const ID_BASE: &str = "sync_id_base";

pub fn meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.exec(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}
